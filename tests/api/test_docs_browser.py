"""The API documentation in a real browser: `srekit serve` as `make run` starts it, and a
headless Chromium that renders Swagger UI and ReDoc from what srekit serves, asking nothing of
any address but 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from tests.browser import BrowserPage, is_loopback
from tests.served import srekit_serve

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with srekit_serve(tmp_path_factory.mktemp("served-home")) as url:
        yield url


def _hosts(recorded: BrowserPage) -> set[str]:
    return {urlsplit(url).netloc for url in recorded.requests if urlsplit(url).netloc}


def test_swagger_ui_lists_srekit_operations(server: str, browser_page: BrowserPage) -> None:
    page = browser_page.page
    page.goto(f"{server}/docs", wait_until="networkidle")
    gate = page.locator(".opblock-summary-path[data-path='/api/v1/gate']")
    gate.wait_for(state="visible", timeout=30_000)
    block = page.locator(".opblock", has=gate)
    assert block.count() == 1
    assert block.locator(".opblock-summary-method").inner_text() == "GET"
    assert page.locator(".opblock-summary-path[data-path='/api/v1/status']").is_visible()
    assert "srekit" in page.locator(".info .title").inner_text()
    assert f"{server}/openapi.json" in browser_page.requests
    assert browser_page.failed == []
    assert browser_page.outside() == []
    assert _hosts(browser_page) == {urlsplit(server).netloc}


def test_redoc_renders_the_api(server: str, browser_page: BrowserPage) -> None:
    page = browser_page.page
    page.goto(f"{server}/redoc", wait_until="networkidle")
    title = page.locator("redoc h1, .api-info h1").first
    title.wait_for(state="visible", timeout=30_000)
    assert title.inner_text().startswith("srekit")
    gate = page.get_by_role("menuitem").filter(has_text="Gate").first
    assert gate.is_visible()
    assert f"{server}/openapi.json" in browser_page.requests
    assert browser_page.failed == []
    assert browser_page.outside() == []
    assert _hosts(browser_page) == {urlsplit(server).netloc}


def test_a_request_off_the_machine_is_recorded_and_never_sent(
    server: str, browser_page: BrowserPage
) -> None:
    """The fixture's guard: a page that asks for an outside address gets it aborted, and the
    test sees the attempt."""
    page = browser_page.page
    page.goto(f"{server}/docs", wait_until="domcontentloaded")
    page.evaluate("fetch('http://192.0.2.1/x').catch(() => null)")  # TEST-NET-1: nobody
    page.wait_for_timeout(500)
    assert browser_page.outside() == ["http://192.0.2.1/x"]
    assert browser_page.failed[-1][0] == "http://192.0.2.1/x"
    assert not is_loopback("http://192.0.2.1/x")
    assert is_loopback(f"{server}/docs")
    assert is_loopback("data:image/png;base64,AAAA")
