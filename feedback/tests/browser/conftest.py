"""Browser-test fixtures: one headless Debian Chromium for the browser tests, a fresh context per test, the live server
with the real shop catalog (feedback/tests/conftest.py `shop_catalog`), and console-error collection."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from feedback.tests.browser.pages import ShopPage

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "screenshots"
DESKTOP = {"viewport": {"width": 1280, "height": 900}, "device_scale_factor": 1}
# A small phone with a high-density screen: the mask must still come out in the photo's own pixels.
PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 3, "has_touch": True, "is_mobile": True}


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Headless Chromium, launched once for the browser tests (skipped when Debian's chromium is missing).

    Module-scoped (all browser tests live in test_shop.py, so it is still one browser per test session): Playwright's
    event loop stops with it, so the tests that run afterwards get Django's async-safety checks back.
    """
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found: install Debian's chromium package (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    # Playwright's sync API keeps an asyncio loop in this thread; Django's ORM (used by fixtures between browser
    # calls, never concurrently) would otherwise refuse to run, taking it for async code.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def storefront(settings, shop_catalog, live_server) -> str:
    """The live server's base URL, serving the real shop (with its product photos)."""
    settings.ROOT_URLCONF = "feedback.tests.browser.urls"
    return live_server.url


def _open(browser, storefront: str, options: dict) -> Iterator[ShopPage]:
    context = browser.new_context(base_url=storefront, **options)
    context.set_default_timeout(15_000)
    page = context.new_page()
    shop = ShopPage(page)
    try:
        yield shop
    finally:
        context.close()


@pytest.fixture
def desktop(browser, storefront) -> Iterator[ShopPage]:
    """A desktop-sized page (new browser context: its own cookies and sessionStorage)."""
    yield from _open(browser, storefront, DESKTOP)


@pytest.fixture
def phone(browser, storefront) -> Iterator[ShopPage]:
    """A 360 px wide touch phone page."""
    yield from _open(browser, storefront, PHONE)


@pytest.fixture
def screenshot_dir() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
