"""The SLO detail page in a real browser: `srekit demo` then `srekit serve`, a headless
Chromium logged in with the demo's admin token opens checkout/availability from the SLO list:
the tiles show the API's figures, both uPlot charts draw (their canvases hold pixels),
"Explain this number" opens, nothing logs an error, no request leaves 127.0.0.1, and axe-core
finds no serious or critical violation."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import ConsoleMessage

from tests.browser import BrowserPage
from tests.served import srekit_serve
from tests.web.test_browser import Served, _axe, _demo, _login

pytestmark = pytest.mark.integration

_PAINTED = """(selector) => {
  const canvas = document.querySelector(selector + ' canvas');
  if (!canvas || !canvas.width || !canvas.height) { return 0; }
  const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < pixels.length; i += 4) { if (pixels[i] !== 0) { painted += 1; } }
  return painted;
}"""


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("detail-home")
    _demo(home)
    token = (home / "dashboard-admin.token").read_text(encoding="utf-8").strip()
    with srekit_serve(home) as url:
        yield Served(url, token)


def test_the_detail_page_draws_its_charts(served: Served, browser_page: BrowserPage) -> None:
    errors: list[str] = []

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    page = browser_page.page
    page.on("console", console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    _login(page, served, "/ui/slos")
    page.locator('tr[data-slo="checkout/availability"] a').first.click()
    page.wait_for_url(f"{served.url}/ui/slos/checkout/availability")
    page.wait_for_selector('#slo-charts[data-drawn="true"]', timeout=15_000)
    for chart in ("#chart-budget", "#chart-sli"):
        assert page.evaluate(_PAINTED, chart) > 0, chart

    status = next(
        s for s in served.statuses() if s["service"] == "checkout" and s["slo"] == "availability"
    )
    assert page.locator('[data-field="objective"]').inner_text() == f"{status['objective']:.3%}"
    remaining = status["error_budget"]["remaining"]
    shown = page.locator('[data-field="remaining"]').inner_text()
    assert shown == ("—" if remaining is None else f"{remaining:.1%}")

    tile = page.locator('[data-tile="remaining"] details')
    tile.locator("summary").click()
    assert page.locator('[data-explain="remaining"]').is_visible()

    assert _axe(page) == []
    assert errors == []
    assert browser_page.outside() == []
    assert any("/history.json?" in url for url in browser_page.requests)


_ALL_VIOLATIONS = """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
    .map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target)}))"""


def test_the_range_picker_redraws_the_charts_and_keeps_the_url(
    served: Served, browser_page: BrowserPage
) -> None:
    errors: list[str] = []

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    page = browser_page.page
    page.on("console", console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    _login(page, served, "/ui/slos/checkout/availability")
    page.wait_for_selector('#slo-charts[data-drawn="true"]', timeout=15_000)
    before = page.evaluate("() => document.querySelector('#chart-sli canvas').toDataURL()")
    page.select_option("#pick-range", "1d")
    page.wait_for_selector('#slo-charts[data-drawn="true"][data-range="1d"]', timeout=15_000)
    assert page.url == f"{served.url}/ui/slos/checkout/availability?range=1d&view=rolling"
    after = page.evaluate("() => document.querySelector('#chart-sli canvas').toDataURL()")
    assert after != before
    assert page.evaluate(_PAINTED, "#chart-sli") > 0
    assert page.locator("#chart-sli canvas").count() == 1  # redrawn, not stacked

    page.select_option("#pick-view", "month")
    page.wait_for_selector('#slo-charts[data-drawn="true"][data-view="month"]', timeout=15_000)
    assert page.url.endswith("?range=1d&view=month")
    # a deep link opens on the same choice
    page.goto(page.url)
    page.wait_for_selector('#slo-charts[data-drawn="true"][data-view="month"]', timeout=15_000)
    assert page.locator("#pick-range").input_value() == "1d"
    assert page.locator("#month-grid li").count() == 13

    _axe(page)  # loads axe-core
    assert page.evaluate(_ALL_VIOLATIONS) == []
    assert errors == []
    assert browser_page.outside() == []
    assert any(url.endswith("/history.json?range=1d&view=month") for url in browser_page.requests)
