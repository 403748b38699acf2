"""A picture of a page's first screen, taken by the system's Chromium (Debian ``chromium``) when it is installed.

Why: a report is often judged from a glance in a chat or a README; the picture shows what the page
looked like when it was made, beside it.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
SCREEN = (1280, 800)


def installed_browser() -> str | None:
    return next((found for found in map(shutil.which, BROWSERS) if found), None)


def take_screenshot(page: Path, target: Path, screen: tuple[int, int] = SCREEN) -> Path | None:
    """``target`` (PNG) of ``page``'s first screen; None when no browser is installed or it failed."""
    browser = installed_browser()
    if browser is None:
        return None
    target.parent.mkdir(parents=True, exist_ok=True)
    # --no-sandbox: the sandbox refuses to start as root (containers); the page is our own local file
    command = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
               f"--window-size={screen[0]},{screen[1]}", f"--screenshot={target}", page.resolve().as_uri()]
    try:
        subprocess.run(command, capture_output=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return target if target.is_file() else None
