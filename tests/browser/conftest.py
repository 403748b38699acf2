"""The browser: the system's Chromium (Debian ``chromium``) driven by Playwright, never a browser it downloads.

Without Chromium or Playwright the browser tests skip, except under ``CI=true``, where a skipped
browser test fails: the pages a user reads must have been read.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

HERE = Path(__file__).parent


@pytest.fixture(scope="session")
def browser():
    from tts_adapt.report.screenshot import installed_browser

    chromium = installed_browser()
    if chromium is None:
        pytest.skip("no Chromium: sudo apt-get install chromium (bash tests/run.sh installs it as root)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("no Playwright: .venv/bin/pip install -e '.[test]'")
    with sync_playwright() as playwright:
        # --no-sandbox: Chromium's sandbox refuses root (containers, CI); the pages are our own files
        launched = playwright.chromium.launch(executable_path=chromium, args=[
            "--no-sandbox", "--autoplay-policy=no-user-gesture-required"])
        yield launched
        launched.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.skipped and os.environ.get("CI") == "true" and HERE in Path(item.fspath).parents:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"a browser test skipped under CI=true, where it must run: {reason}"
