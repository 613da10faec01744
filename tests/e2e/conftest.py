"""Browser acceptance: headless Debian Chromium driven by Playwright against the API and its
console on a real uvicorn (the API fixtures are shared with tests/api)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.api.conftest import _offline_planner, api, api_shared, demo_engagement  # noqa: F401

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
TIMEOUT_MS = 60_000  # generous: other test workers share two cores


@pytest.fixture
def browser() -> Iterator[object]:
    # Per test, not per session: Playwright's sync API keeps an event loop running in this
    # thread while it is open, which breaks every later test on the same xdist worker that
    # calls asyncio.run() or opens Playwright itself.
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def new_page(browser):  # noqa: ANN001, ANN201
    """Pages in fresh browser contexts (one cookie jar each), closed after the test."""
    contexts = []

    def make():  # noqa: ANN202
        context = browser.new_context()
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def log_in(page, base_url: str, token: str, start: str = "/console/") -> None:  # noqa: ANN001
    """Open a console page, get sent to the login form, paste the token, land back there."""
    from playwright.sync_api import expect

    page.goto(base_url + start)
    expect(page).to_have_url(re.compile(r"/console/login\?next="))
    page.fill("input[name=token]", token)
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(re.escape(start) + "$"))
