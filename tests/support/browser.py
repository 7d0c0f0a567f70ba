"""Headless Chromium for tests that look at pages: one browser per test session, pages kept offline.

Uses Debian's chromium (`apt-get install chromium`), never one downloaded by `playwright install`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Route

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
LOCAL_SCHEMES = frozenset({"file", "data", "about", "blob"})


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """A headless Chromium shared by the whole session (starting one costs about a second)."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def is_local(url: str) -> bool:
    """True for URLs a test may load: files, inline data and servers on loopback."""
    parts = urlsplit(url)
    if parts.scheme in LOCAL_SCHEMES:
        return True
    return parts.scheme in ("http", "https", "ws", "wss") and parts.hostname in LOOPBACK_HOSTS


@contextmanager
def offline_page(
    browser: Browser,
    *,
    width: int,
    height: int = 800,
    color_scheme: Literal["light", "dark", "no-preference"] = "light",
    blocked: list[str] | None = None,
) -> Iterator[Page]:
    """A page in a fresh context that aborts requests off loopback (listed in `blocked`)."""
    context = browser.new_context(
        viewport={"width": width, "height": height}, color_scheme=color_scheme
    )

    def guard(route: Route) -> None:
        url = route.request.url
        if is_local(url):
            route.continue_()
            return
        if blocked is not None:
            blocked.append(url)
        route.abort()

    context.route("**/*", guard)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def open_page(browser: Browser) -> Callable[..., AbstractContextManager[Page]]:
    """`offline_page` bound to the session's browser: `with open_page(width=375) as page: ...`."""
    return partial(offline_page, browser)
