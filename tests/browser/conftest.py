"""Real Chromium (Debian's) driven by Playwright; never a downloaded browser. Phones are Playwright's device
profiles (viewport, pixel ratio, touch, mobile user agent) played by the same Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright
from tests.support.chromium import launch
from tests.support.server import ShopServer

from myclothes.client import PASSWORD

DESKTOP = "desktop"
# profile name (the screenshots' folder) -> Playwright device
PHONES = {"iphone-se": "iPhone SE", "pixel-7": "Pixel 7"}
PROFILES = (DESKTOP, *PHONES)
BROWSER_ADMIN = "browser-admin@example.com"


@pytest.fixture(scope="module")  # module scope: Playwright's sync loop must stop before async tests run
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = launch(playwright)
    yield browser
    browser.close()


def context_options(playwright: Playwright, profile: str) -> dict[str, Any]:
    """How a profile's browser context is made: a desktop window, or a phone from Playwright's device list."""
    if profile == DESKTOP:
        return {"viewport": {"width": 1280, "height": 900}}
    device = dict(playwright.devices[PHONES[profile]])
    device.pop("default_browser_type", None)  # the profile's screen and touch, played by Debian's Chromium
    return device


def open_page(context: BrowserContext) -> Page:
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    yield open_page(context)
    context.close()


@pytest.fixture(params=PROFILES)
def profile(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def profile_page(browser: Browser, playwright: Playwright, profile: str) -> Iterator[Page]:
    """A page in the desktop window or on one of the phones (the test runs once per profile)."""
    context = browser.new_context(**context_options(playwright, profile))
    yield open_page(context)
    context.close()


@pytest.fixture(scope="session")
def browser_admin(live_server: ShopServer) -> str:
    """An admin account for the admin pages (made with the CLI, as an operator would)."""
    live_server.create_admin(BROWSER_ADMIN, PASSWORD)
    return BROWSER_ADMIN
