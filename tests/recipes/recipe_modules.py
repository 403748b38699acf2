"""Load the recipes' local scripts (they live outside the package) as modules for the tests."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[2]
RECIPES = REPO / "recipes"


def load(relative: str) -> ModuleType:
    """Import ``recipes/<relative>`` once, under its file name (its siblings stay importable)."""
    path = RECIPES / relative
    name = f"recipe_{path.parent.parent.name}_{path.stem}"
    if name in sys.modules:
        return sys.modules[name]
    sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def debian_installed(*packages: str) -> bool:
    """Whether every Debian package is installed (a recipe stops when one is missing and it is not root)."""
    for package in packages:
        status = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True)
        if status.returncode != 0 or "install ok installed" not in status.stdout:
            return False
    return True
