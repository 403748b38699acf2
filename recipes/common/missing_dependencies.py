"""Print the dependencies in pyproject.toml that this Python does not have installed, one per line.

A .venv made before a dependency was added (G722, say) still has tts-adapt itself, so env.sh
asks this script whether ``pip install -e .`` is needed again. The script works offline and
in well under a second.

    .venv/bin/python recipes/common/missing_dependencies.py pyproject.toml
"""

from __future__ import annotations

import re
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path


def missing_dependencies(pyproject: Path) -> list[str]:
    try:
        import tomllib
    except ImportError:  # Python 3.10: no TOML reader, no check (the venv is reused as it is)
        return []
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    missing = []
    for requirement in [project["name"], *project.get("dependencies", [])]:
        name = re.split(r"[\s<>=!~;\[(]", requirement.strip(), maxsplit=1)[0]
        try:
            version(name)
        except PackageNotFoundError:
            missing.append(name)
    return missing


if __name__ == "__main__":
    print("\n".join(missing_dependencies(Path(sys.argv[1]))))
