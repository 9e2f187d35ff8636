"""The dashboard in a real browser: `srekit demo` then `srekit serve`, as `make run` starts
them, and a headless Chromium that logs in with the demo's admin token, walks the Overview and
the SLO list, and checks what it shows against the API's `/api/v1/status`; that the SVG draws,
nothing logs an error, no request leaves 127.0.0.1, dark mode toggles and is remembered, a
filter change lands in the URL, the phone layout fits, and axe-core finds no serious or
critical accessibility violation.

Screenshots go to the test's artefacts directory (`tmp_path`); with
`SREKIT_DOCS_SCREENSHOTS=1` the two in docs/web.md are written to docs/img/ as well.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import ConsoleMessage, Page

from tests.browser import BrowserPage
from tests.served import srekit_serve

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
AXE = Path(__file__).parent / "vendor" / "axe-core-4.11.4" / "axe.min.js"
DOCS_IMG = ROOT / "docs" / "img"


@dataclass(frozen=True)
class Served:
    url: str
    token: str

    def statuses(self) -> list[dict[str, Any]]:
        answer = httpx.get(
            f"{self.url}/api/v1/status",
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=10,
        )
        assert answer.status_code == 200
        found: list[dict[str, Any]] = answer.json()
        return found


def _demo(home: Path) -> str:
    script = "import sys; from srekit.cli.main import main; sys.argv[0] = 'srekit'; main()"
    env = {**os.environ, "SREKIT_HOME": str(home)}
    env.pop("SREKIT_DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", script, "demo", "--examples", str(ROOT / "examples")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "/ui/ (log in with the admin token in" in done.stdout
    return done.stdout


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("dashboard-home")
    _demo(home)
    token_file = home / "dashboard-admin.token"
    assert token_file.stat().st_mode & 0o777 == 0o600  # the owner's only
    token = token_file.read_text(encoding="utf-8").strip()
    _demo(home)  # a second run keeps the token that works
    assert token_file.read_text(encoding="utf-8").strip() == token
    with srekit_serve(home) as url:
        yield Served(url, token)


@pytest.fixture
def watched(browser_page: BrowserPage) -> tuple[BrowserPage, list[str]]:
    """The page, and every console error or uncaught exception it produced."""
    errors: list[str] = []

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    browser_page.page.on("console", console)
    browser_page.page.on("pageerror", lambda error: errors.append(str(error)))
    return browser_page, errors


def _login(page: Page, served: Served, path: str = "/ui/") -> None:
    page.goto(f"{served.url}{path}")
    assert "/ui/login" in page.url
    page.get_by_label("API token").fill(served.token)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{served.url}{path}")


def _health(status: dict[str, Any]) -> str:
    """The health class, worked out here from the API's JSON (see core/dashboard.py)."""
    remaining = status["error_budget"]["remaining"]
    if remaining is None or status["data"] != "ok":
        return "no_data"
    if remaining <= 0:
        return "breached"
    if remaining < 0.25 or any(alert["firing"] for alert in status["alerts"]):
        return "at_risk"
    return "met"


def _axe(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now."""
    page.evaluate(AXE.read_text(encoding="utf-8") + "\n;0")
    found: list[dict[str, Any]] = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
            .filter(v => v.impact === 'serious' || v.impact === 'critical')
            .map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target)}))"""
    )
    return found


def _steady(served: Served, read: Any) -> tuple[list[dict[str, Any]], Any]:
    """What `read()` shows and the API's statuses, from one evaluation round (read again
    when a round landed in between)."""
    for _ in range(3):
        before = served.statuses()
        shown = read()
        if served.statuses() == before:
            return before, shown
    pytest.fail("the statuses kept changing while the page was read")


def test_overview_and_slo_list_show_the_api_figures(
    served: Served, watched: tuple[BrowserPage, list[str]], tmp_path: Path
) -> None:
    recorded, errors = watched
    page = recorded.page
    page.set_viewport_size({"width": 1280, "height": 900})
    _login(page, served)

    def counts() -> dict[str, int]:
        page.reload()
        return {
            cell.get_attribute("data-health") or "": int(cell.inner_text())
            for cell in page.locator("#health-counts .count").all()
        }

    statuses, shown = _steady(served, counts)
    expected = dict.fromkeys(("met", "at_risk", "breached", "no_data"), 0)
    for status in statuses:
        expected[_health(status)] += 1
    assert shown == expected
    assert sum(shown.values()) == len(statuses) == 4
    cells = page.locator("#burn-heatmap svg rect")
    assert cells.count() == len(statuses) * 30
    box = page.locator("#burn-heatmap svg").bounding_box()
    assert box is not None
    assert box["width"] > 100
    assert box["height"] > 20
    assert page.locator("#open-incidents tbody tr").count() >= 1
    page.screenshot(path=str(tmp_path / "overview.png"), full_page=True)
    assert _axe(page) == []

    page.get_by_role("navigation", name="Main").get_by_role("link", name="SLOs").click()
    page.wait_for_url(f"{served.url}/ui/slos")

    def rows() -> dict[str, dict[str, str]]:
        page.reload()
        return {
            row.get_attribute("data-slo") or "": {
                name: row.locator(f'[data-field="{name}"]').inner_text()
                for name in ("remaining", "burn_1h", "burn_6h", "burn_3d")
            }
            for row in page.locator("#slo-table tbody tr[data-slo]").all()
        }

    statuses, table = _steady(served, rows)
    assert set(table) == {f"{s['service']}/{s['slo']}" for s in statuses}
    for status in statuses:
        row = table[f"{status['service']}/{status['slo']}"]
        remaining = status["error_budget"]["remaining"]
        assert row["remaining"] == ("—" if remaining is None else f"{remaining:.1%}")
        for window in ("1h", "6h", "3d"):
            burn = status["burn_rates"][window]
            assert row[f"burn_{window}"] == ("—" if burn is None else f"{burn:.2f}")
    shown_order = list(table)
    by_budget = sorted(
        statuses,
        key=lambda s: (
            s["error_budget"]["remaining"] is None,
            s["error_budget"]["remaining"] or 0,
            s["service"],
            s["slo"],
        ),
    )
    assert shown_order == [f"{s['service']}/{s['slo']}" for s in by_budget]  # worst first
    bars = page.locator("#slo-table .budget-cell svg rect")
    assert bars.count() >= len(statuses)  # a track each, and a fill where there is a figure
    first_bar = page.locator("#slo-table .budget-cell svg").first.bounding_box()
    assert first_bar is not None
    assert first_bar["width"] > 10
    page.screenshot(path=str(tmp_path / "slos.png"), full_page=True)
    assert _axe(page) == []
    if os.environ.get("SREKIT_DOCS_SCREENSHOTS") == "1":
        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOCS_IMG / "web-slos.png"))
        page.goto(f"{served.url}/ui/")
        page.screenshot(path=str(DOCS_IMG / "web-overview.png"))
    assert errors == []
    assert recorded.outside() == []
    assert recorded.failed == []


def test_filters_land_in_the_url_and_a_plain_get_shows_the_same(
    served: Served, watched: tuple[BrowserPage, list[str]]
) -> None:
    recorded, errors = watched
    page = recorded.page
    _login(page, served, "/ui/slos")
    page.get_by_label("Service").select_option("checkout")
    page.wait_for_url("**/ui/slos?*service=checkout*")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#slo-table tr[data-slo]')]"
        ".every(row => row.dataset.slo.startsWith('checkout/'))"
    )
    swapped = page.locator("#slo-table tr[data-slo]").evaluate_all(
        "rows => rows.map(row => row.dataset.slo)"
    )
    assert swapped
    assert all(key.startswith("checkout/") for key in swapped)
    assert page.locator("h1").count() == 1  # the view was swapped, not nested
    page.get_by_role("link", name="SLO", exact=True).click()
    page.wait_for_url("**sort=slo*")
    assert "service=checkout" in page.url
    page.goto(page.url)  # a plain GET of the deep link
    again = page.locator("#slo-table tr[data-slo]").evaluate_all(
        "rows => rows.map(row => row.dataset.slo)"
    )
    assert again == sorted(swapped, key=lambda key: key.split("/")[1])
    assert page.get_by_label("Service").input_value() == "checkout"
    assert errors == []
    assert recorded.outside() == []


def test_dark_mode_toggles_and_is_remembered(
    served: Served, watched: tuple[BrowserPage, list[str]], tmp_path: Path
) -> None:
    recorded, errors = watched
    page = recorded.page
    _login(page, served)
    background = "() => getComputedStyle(document.body).backgroundColor"
    light = page.evaluate(background)
    toggle = page.get_by_role("button", name="Dark mode")
    assert toggle.get_attribute("aria-pressed") == "false"
    toggle.click()
    assert page.evaluate("() => document.documentElement.dataset.theme") == "dark"
    assert toggle.get_attribute("aria-pressed") == "true"
    dark = page.evaluate(background)
    assert dark != light
    page.reload()
    assert page.evaluate(background) == dark  # applied from localStorage before paint
    assert _axe(page) == []
    page.screenshot(path=str(tmp_path / "overview-dark.png"), full_page=True)
    page.get_by_role("button", name="Dark mode").click()
    assert page.evaluate(background) == light
    assert errors == []


def test_a_phone_gets_cards_without_sideways_scrolling(
    served: Served, watched: tuple[BrowserPage, list[str]], tmp_path: Path
) -> None:
    recorded, errors = watched
    page = recorded.page
    page.set_viewport_size({"width": 390, "height": 844})
    _login(page, served, "/ui/slos")
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390
    label = page.locator("#slo-table td[data-label='Budget left']").first
    before = label.evaluate("cell => getComputedStyle(cell, '::before').content")
    assert before == '"Budget left"'
    page.keyboard.press("Tab")  # the skip link comes first
    assert page.evaluate("() => document.activeElement.textContent") == "Skip to content"
    page.screenshot(path=str(tmp_path / "slos-phone.png"), full_page=True)
    assert _axe(page) == []
    assert errors == []
    assert shutil.which("chromium") is not None


def test_slo_detail_incidents_and_oncall_pages_draw(
    served: Served, watched: tuple[BrowserPage, list[str]], tmp_path: Path
) -> None:
    """The SLO detail (its charts drawn), incidents and on-call pages, each with its heading,
    without an error or a request leaving 127.0.0.1; screenshots of each, written to
    docs/img/ as well with `SREKIT_DOCS_SCREENSHOTS=1`."""
    import yaml

    recorded, errors = watched
    page = recorded.page
    rotation = yaml.safe_load((ROOT / "examples" / "oncall" / "payments.yaml").read_text())
    for layer in rotation["spec"]["layers"]:
        layer["start"] = str(layer["start"])  # JSON has no dates
    stored = httpx.put(
        f"{served.url}/api/v1/oncall/rotations/payments",
        json=rotation,
        headers={"Authorization": f"Bearer {served.token}"},
        timeout=10,
    )
    assert stored.status_code in (200, 201), stored.text
    first = served.statuses()[0]
    detail = f"/ui/slos/{first['service']}/{first['slo']}"
    _login(page, served, detail)
    page.wait_for_load_state("networkidle")  # the charts' fetches end before the page is left
    pages = {
        "web-slo-detail.png": (detail, f"{first['service']}/{first['slo']}"),
        "web-incidents.png": ("/ui/incidents", "Incidents"),
        "web-oncall.png": ("/ui/oncall", "On-call"),
    }
    for name, (path, heading) in pages.items():
        page.goto(f"{served.url}{path}")
        page.wait_for_load_state("networkidle")
        assert page.get_by_role("heading", level=1).first.inner_text() == heading
        if name == "web-slo-detail.png":
            page.wait_for_selector("canvas")  # uPlot drew the history charts
        if name == "web-oncall.png":
            link = page.locator("a.calendar-subscribe").first.get_attribute("href")
            assert link is not None
            assert "calendar.ics?sig=" in link
        page.screenshot(path=str(tmp_path / name), full_page=True)
        if os.environ.get("SREKIT_DOCS_SCREENSHOTS") == "1":
            DOCS_IMG.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(DOCS_IMG / name))
    assert errors == []
    assert recorded.outside() == []
    assert recorded.failed == []
