"""The public status page in a real browser: `srekit demo` then `srekit serve` with
`SREKIT_STATUS_PAGE_SERVICES=checkout`, and a headless Chromium that opens /status without
logging in: the banner and the checkout section render, nothing logs an error, no request
leaves 127.0.0.1, and axe-core finds no serious or critical violation."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import ConsoleMessage

from tests.browser import BrowserPage
from tests.served import srekit_serve
from tests.web.test_browser import _axe, _demo

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def served_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home: Path = tmp_path_factory.mktemp("status-home")
    _demo(home)
    before = os.environ.get("SREKIT_STATUS_PAGE_SERVICES")
    os.environ["SREKIT_STATUS_PAGE_SERVICES"] = "checkout"
    try:
        with srekit_serve(home) as url:
            yield url
    finally:
        if before is None:
            os.environ.pop("SREKIT_STATUS_PAGE_SERVICES", None)
        else:
            os.environ["SREKIT_STATUS_PAGE_SERVICES"] = before


def test_status_page_without_login(served_url: str, browser_page: BrowserPage) -> None:
    errors: list[str] = []

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    page = browser_page.page
    page.on("console", console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    answer = page.goto(f"{served_url}/status")
    assert answer is not None
    assert answer.status == 200
    assert page.url == f"{served_url}/status"  # no login asked
    banner = page.locator(".banner").inner_text()
    assert banner in {
        "All systems operational",
        "Degraded performance",
        "Partial outage",
        "Major outage",
        "Status unavailable",
    }
    assert page.locator("section.service h2").all_inner_texts() == ["checkout"]
    assert "catalog" not in page.content()
    bars = page.locator("svg.days").count()
    assert bars >= 1
    assert page.locator("svg.days").first.locator("rect").count() == 90
    # the stylesheet applied: the banner has a background colour
    colour = page.locator(".banner").evaluate("node => getComputedStyle(node).backgroundColor")
    assert colour not in ("", "rgba(0, 0, 0, 0)")
    assert errors == []
    assert browser_page.outside() == []
    assert _axe(page) == []
