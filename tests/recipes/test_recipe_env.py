"""recipes/common/env.sh: Debian packages are checked, and a user who is not root is told what to run."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

import pytest

from tests.recipes.recipe_modules import RECIPES, debian_installed

SCRIPT = f"""
recipe=envtest
. {RECIPES / 'common' / 'stages.sh'}
. {RECIPES / 'common' / 'env.sh'}
ensure_debian_packages "$@"
echo all-present
"""

pytestmark = pytest.mark.skipif(shutil.which("dpkg-query") is None, reason="not a Debian system")


def _as_user() -> tuple[list[str], str]:
    """An unprivileged user (as root: nobody, through runuser) and a work folder it may use."""
    if os.geteuid() != 0:
        return [], tempfile.mkdtemp()
    if shutil.which("runuser") is None:
        pytest.skip("root without runuser: cannot test the non-root path")
    work = tempfile.mkdtemp()  # /tmp/..., not under pytest's root-only folder
    os.chmod(work, 0o777)
    return ["runuser", "-u", "nobody", "--"], work


def test_installed_packages_pass_quietly(tmp_path):
    if not debian_installed("bash", "coreutils"):
        pytest.skip("dpkg does not list bash and coreutils")
    env = {**os.environ, "TTS_ADAPT_WORK": str(tmp_path)}
    result = subprocess.run(["bash", "-c", SCRIPT, "x", "bash", "coreutils"], env=env, capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.strip() == "all-present" and result.stderr == ""


def test_missing_packages_give_the_exact_install_line_when_not_root():
    prefix, work = _as_user()
    env = {**os.environ, "TTS_ADAPT_WORK": work}
    command = prefix + ["bash", "-c", SCRIPT, "x", "bash", "no-such-package-tts-adapt", "another-missing-one"]
    try:
        result = subprocess.run(command, env=env, capture_output=True, text=True, cwd=work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    assert result.returncode == 1 and "all-present" not in result.stdout
    assert ("sudo apt-get update && sudo apt-get install -y --no-install-recommends "
            "no-such-package-tts-adapt another-missing-one") in result.stderr


def test_missing_dependencies_of_a_pyproject(tmp_path):
    from tests.recipes.recipe_modules import load

    checker = load("common/missing_dependencies.py")
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\nname = "tts-adapt"\n'
                         'dependencies = ["numpy>=1.26", "PyYAML", "no-such-dist-tts-adapt>=1 ; python_version >= \'3\'"]\n')
    assert checker.missing_dependencies(pyproject) == ["no-such-dist-tts-adapt"]
