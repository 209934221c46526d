"""Headless Chromium for the browser tests: Debian's `/usr/bin/chromium` driven by Playwright, never a
browser Playwright downloads. Missing: the tests skip locally and fail under CI=true (`.ci/run` installs it)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, sync_playwright

from tests.services import missing

CHROMIUM = Path(os.environ.get("PARAGRAPHS_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Screenshots go to docs/screenshots/ (shown in the README) only when asked, so a test run does not
# change tracked files; otherwise to the test's temporary directory.
SCREENSHOTS_ENV = "PARAGRAPHS_SCREENSHOTS"
DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@contextmanager
def chromium() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        missing("Chromium", str(CHROMIUM))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def screenshot_dir(fallback: Path) -> Path:
    if os.environ.get(SCREENSHOTS_ENV, "") in {"1", "true", "yes"}:
        DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        return DOCS_SCREENSHOTS
    return fallback
