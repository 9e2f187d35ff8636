"""A headless Chromium page for tests of what srekit serves to browsers: the API documentation
now, the dashboard's pages to come (`browser_page`, registered for every test by conftest).

The browser is Debian's `chromium` (the Makefile's `system-deps` installs it), driven by
Playwright through `executable_path`: Playwright's own browser builds are never downloaded
(`playwright install` is never run). Each test gets a fresh profile, with Chromium's own
background traffic (updates, sync, QUIC) turned off. Every request a page makes is recorded,
and any to an address other than the loopback is aborted before it leaves the machine, so a
test can assert that nothing tried to.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Request, Route, sync_playwright

__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "BrowserPage", "browser_page", "is_loopback"]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",  # tests run as root, where Chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
_LOCAL_SCHEMES = frozenset({"data", "blob", "about"})  # never the network


def is_loopback(url: str) -> bool:
    """Whether fetching `url` stays on this machine: a loopback host, or no host at all
    (`data:`, `blob:`, `about:`)."""
    parts = urlsplit(url)
    return parts.scheme in _LOCAL_SCHEMES or (parts.hostname or "") in _LOOPBACK


@dataclass
class BrowserPage:
    """A Playwright page and what it asked for: every request's URL, in order, and those that
    failed (with why), aborted ones included."""

    page: Page
    requests: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)

    def outside(self) -> list[str]:
        """The requests that tried to leave the machine."""
        return [url for url in self.requests if not is_loopback(url)]


@pytest.fixture
def browser_page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserPage]:
    """A page of a headless Chromium with a profile of its own; fails (never skips) when
    Debian's chromium is missing: `make test` installs it."""
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: `make system-deps` installs Debian's chromium")
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            headless=True,
            args=list(CHROMIUM_ARGS),
        )
        try:
            page = context.pages[0] if context.pages else context.new_page()
            recorded = BrowserPage(page)

            def keep_on_this_machine(route: Route, request: Request) -> None:
                if is_loopback(request.url):
                    route.continue_()
                else:
                    route.abort("addressunreachable")

            context.on("request", lambda request: recorded.requests.append(request.url))
            context.on(
                "requestfailed",
                lambda request: recorded.failed.append((request.url, request.failure or "")),
            )
            context.route("**/*", keep_on_this_machine)
            yield recorded
        finally:
            context.close()
