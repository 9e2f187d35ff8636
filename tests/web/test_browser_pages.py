"""The Incidents, On-call, Deployments, Load tests, Canary and Audit pages in a real browser, on
`srekit demo` then `srekit serve` as `make run` starts them (one server for the module, a
rotation, some gate answers and load-test runs added through the API, canary analyses kept in its
store): each page's figures
equal the API's, a filter lands in the URL, nothing logs an error, no request leaves
127.0.0.1, and axe-core finds no serious or critical violation."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from playwright.sync_api import Page

from tests.browser import BrowserPage
from tests.served import srekit_serve
from tests.web.test_browser import DOCS_IMG, Served, _axe, _demo, _login, watched

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
__all__ = ["watched"]  # the fixture, used here too


class Api:
    def __init__(self, served: Served) -> None:
        self.served = served

    def __call__(self, method: str, path: str, **kwargs: Any) -> Any:
        answer = httpx.request(
            method,
            f"{self.served.url}{path}",
            headers={"Authorization": f"Bearer {self.served.token}"},
            timeout=30,
            **kwargs,
        )
        assert answer.status_code < 300, answer.text
        return answer.json() if answer.content else None


@pytest.fixture(scope="module")
def pages_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The state directory of the module's server (its SQLite store is `srekit.db` there)."""
    return tmp_path_factory.mktemp("dashboard-pages-home")


@pytest.fixture(scope="module")
def served(pages_home: Path) -> Iterator[Served]:
    home = pages_home
    _demo(home)
    token = (home / "dashboard-admin.token").read_text(encoding="utf-8").strip()
    with srekit_serve(home) as url:
        found = Served(url, token)
        api = Api(found)
        document = yaml.safe_load((ROOT / "examples/oncall/payments.yaml").read_text())
        for layer in document["spec"]["layers"]:
            layer["start"] = str(layer["start"])
        api("PUT", "/api/v1/oncall/rotations/payments", json=document)
        for number in range(3):
            for service in ("checkout", "catalog"):
                api("GET", f"/api/v1/gate?service={service}&change_type=feature&version=v{number}")
        yield found


def _shoot(page: Page, tmp_path: Path, name: str, *, docs: str | None = None) -> None:
    """A full-page screenshot beside the test; with `SREKIT_DOCS_SCREENSHOTS=1`, the visible
    part written to docs/img/`docs` as well (the pictures in docs/web.md)."""
    page.screenshot(path=str(tmp_path / name), full_page=True)
    if docs is not None and os.environ.get("SREKIT_DOCS_SCREENSHOTS") == "1":
        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOCS_IMG / docs))


def _clean_page(recorded: BrowserPage, errors: list[str]) -> None:
    """No serious axe violation, no console error, nothing fetched off 127.0.0.1; then the
    page is loaded again, since axe leaves empty style attributes that htmx's settling would
    copy onto swapped elements (which the pages' CSP refuses, logging an error)."""
    assert _axe(recorded.page) == []
    assert errors == []
    assert recorded.outside() == []
    assert recorded.failed == []
    recorded.page.reload()


def test_incidents_list_and_detail_show_the_apis_figures(
    served: Served, watched: tuple[BrowserPage, list[str]], tmp_path: Path
) -> None:
    recorded, errors = watched
    page = recorded.page
    page.set_viewport_size({"width": 1280, "height": 900})
    api = Api(served)
    _login(page, served, "/ui/incidents?state=all")
    listed = api("GET", "/api/v1/incidents?state=all")
    assert len(listed) >= 2
    shown = page.locator("#incident-table tr[data-incident]").evaluate_all(
        "rows => rows.map(row => Number(row.dataset.incident))"
    )
    assert shown == [item["id"] for item in listed]
    page.screenshot(path=str(tmp_path / "incidents.png"), full_page=True)
    _clean_page(recorded, errors)
    # a filter lands in the URL, and the table shows the API's answer to it
    page.get_by_label("State").select_option("resolved")
    page.wait_for_url("**/ui/incidents?*state=resolved*")
    resolved = [item["id"] for item in api("GET", "/api/v1/incidents?state=resolved")]
    page.wait_for_function(
        "n => document.querySelectorAll('#incident-table tr[data-incident]').length === n"
        " || (n === 0 && !document.querySelector('#incident-table'))",
        arg=len(resolved),
    )
    # the detail of an incident that names an SLO and has ended: its budget is fixed
    ended = [item for item in listed if item["slos"] and item["resolved_at"]]
    assert ended  # the demo's checkout page fired and resolved
    chosen = ended[0]
    page.goto(f"{served.url}/ui/incidents/{chosen['id']}")
    detail = api("GET", f"/api/v1/incidents/{chosen['id']}")
    assert page.locator("#incident-state").inner_text() == detail["state"]
    assert page.locator("#incident-timeline li").count() == len(detail["timeline"])
    opened = datetime.fromisoformat(detail["opened_at"])
    stats = api(
        "GET",
        "/api/v1/incidents/stats",
        params={
            "from": detail["opened_at"],
            "to": (opened + timedelta(seconds=1)).isoformat(),
        },
    )
    budgets = [b for b in stats["budgets"] if b["incident_id"] == chosen["id"]]
    assert len(budgets) == len(chosen["slos"])
    for budget in budgets:
        cell = page.locator(
            f'#incident-budgets tr[data-slo="{budget["slo"]}"] [data-field="consumed"]'
        )
        consumed = budget["consumed"]
        assert cell.inner_text() == ("—" if consumed is None else f"{consumed:.2%}")
    assert any(b["consumed"] is not None for b in budgets)
    page.screenshot(path=str(tmp_path / "incident.png"), full_page=True)
    _clean_page(recorded, errors)


def test_an_editor_acknowledges_from_the_incident_page(
    served: Served, watched: tuple[BrowserPage, list[str]]
) -> None:
    recorded, errors = watched
    page = recorded.page
    api = Api(served)
    made = api(
        "POST",
        "/api/v1/incidents",
        json={"title": "browser check", "severity": "P3", "services": ["catalog"]},
    )
    _login(page, served, f"/ui/incidents/{made['id']}")
    page.get_by_role("button", name="Acknowledge").click()
    page.wait_for_load_state()
    assert page.locator("#incident-state").inner_text() == "acknowledged"
    assert api("GET", f"/api/v1/incidents/{made['id']}")["state"] == "acknowledged"
    page.get_by_label("Note").fill("looked at it <b>here</b>")
    page.get_by_role("button", name="Add note").click()
    page.wait_for_load_state()
    assert page.get_by_text("looked at it <b>here</b>").count() == 1
    _clean_page(recorded, errors)


def test_oncall_shows_the_apis_now(
    served: Served, watched: tuple[BrowserPage, list[str]], tmp_path: Path
) -> None:
    recorded, errors = watched
    page = recorded.page
    page.set_viewport_size({"width": 1280, "height": 900})
    _login(page, served, "/ui/oncall")
    who = Api(served)("GET", "/api/v1/oncall/rotations/payments/who")
    section = page.locator('section[data-rotation="payments"]')
    for layer, held in who["layers"].items():
        now = section.locator(f'tr[data-layer="{layer}"] [data-field="now"]').inner_text()
        assert now.split(" ")[0] == (held["member"] or "nobody")
    assert section.locator("table.calendar tbody tr").count() == 14
    assert section.locator("#handoff-checklist h2").count() >= 3
    page.screenshot(path=str(tmp_path / "oncall.png"), full_page=True)
    _clean_page(recorded, errors)


def test_deployments_show_the_gates_answers(
    served: Served, watched: tuple[BrowserPage, list[str]], tmp_path: Path
) -> None:
    recorded, errors = watched
    page = recorded.page
    api = Api(served)
    _login(page, served, "/ui/deployments?limit=500")
    listed = api("GET", "/api/v1/deployments?limit=500")
    assert len(listed) >= 6
    shown = page.locator("#deployment-table tr[data-deployment]").evaluate_all(
        "rows => rows.map(row => Number(row.dataset.deployment))"
    )
    assert shown == [item["id"] for item in listed]
    first = page.locator(f'tr[data-deployment="{listed[0]["id"]}"] ul.reasons li').all_inner_texts()
    assert first == listed[0]["reasons"]
    page.get_by_label("Answer").select_option("no")
    page.wait_for_url("**/ui/deployments?*allowed=no*")
    denied = [item["id"] for item in listed if not item["allowed"]]
    page.wait_for_function(
        "n => document.querySelectorAll('#deployment-table tr[data-deployment]').length === n",
        arg=len(denied),
    )
    _shoot(page, tmp_path, "deployments.png", docs="web-deployments.png")
    _clean_page(recorded, errors)


def test_audit_shows_the_change_log(
    served: Served, watched: tuple[BrowserPage, list[str]], tmp_path: Path
) -> None:
    recorded, errors = watched
    page = recorded.page
    api = Api(served)
    _login(page, served, "/ui/audit?limit=20")
    listed = api("GET", "/api/v1/audit?limit=20")
    shown = page.locator("#audit-table tr[data-audit]").evaluate_all(
        "rows => rows.map(row => Number(row.dataset.audit))"
    )
    assert shown == [item["id"] for item in listed]
    page.get_by_label("Kind").select_option("rotation")
    page.wait_for_url(re.compile(r".*/ui/audit\?.*kind=rotation.*"))
    rotations = api("GET", "/api/v1/audit?limit=20&entity_kind=rotation")
    page.wait_for_function(
        "n => document.querySelectorAll('#audit-table tr[data-audit]').length === n",
        arg=len(rotations),
    )
    page.locator("#audit-table summary").first.click()
    _shoot(page, tmp_path, "audit.png", docs="web-audit.png")
    _clean_page(recorded, errors)


def test_capacity_shows_the_recorded_plans(
    served: Served, watched: tuple[BrowserPage, list[str]], tmp_path: Path
) -> None:
    recorded, errors = watched
    page = recorded.page
    api = Api(served)
    plan = yaml.safe_load((ROOT / "examples/capacity/checkout.yaml").read_text())
    rows = (ROOT / "examples/capacity/checkout-cpu.csv").read_text().splitlines()[1:]
    series = [
        [datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp(), float(value)]
        for stamp, value in (row.split(",") for row in rows)
    ]
    body = {"plan": plan, "series": {"cpu": series}, "at": "2026-03-31T00:00:00Z", "record": True}
    api("POST", "/api/v1/capacity/forecast", json=body)
    (stored,) = api("GET", "/api/v1/capacity/plans?service=checkout")
    _login(page, served, "/ui/capacity")
    section = page.locator('section.capacity-plan[data-service="checkout"][data-resource="cpu"]')
    summary = stored["summary"]
    replicas = str(summary["recommendation"]["replicas"])
    assert section.locator('[data-field="replicas"]').inner_text().startswith(replicas)
    assert (
        summary["recommendation"]["scale_by"][:10]
        in section.locator('[data-field="recommendation"]').inner_text()
    )
    assert section.locator("svg polygon.band-95").count() == 1
    _shoot(page, tmp_path, "capacity.png", docs="web-capacity.png")
    _clean_page(recorded, errors)


def test_load_tests_show_the_apis_runs_and_baselines(
    served: Served, watched: tuple[BrowserPage, list[str]], tmp_path: Path
) -> None:
    recorded, errors = watched
    page = recorded.page
    api = Api(served)
    examples = ROOT / "examples" / "load"
    run = api(
        "POST",
        "/api/v1/load/checkout/results",
        content=(examples / "baseline-summary.json").read_bytes(),
    )
    api("POST", "/api/v1/load/checkout/baselines", json={"run_id": run["id"]})
    api("POST", "/api/v1/load/checkout/gate", content=(examples / "k6-summary.json").read_bytes())
    _login(page, served, "/ui/load?service=checkout")
    listed = api("GET", "/api/v1/load/checkout/results")
    shown = page.locator("#load-runs tr[data-run]").evaluate_all(
        "rows => rows.map(row => Number(row.dataset.run))"
    )
    assert shown == [item["id"] for item in listed]
    newest = page.locator(f'tr[data-run="{listed[0]["id"]}"]')
    assert newest.locator('[data-field="requests"]').inner_text() == str(
        listed[0]["summary"]["requests"]
    )
    assert newest.locator('[data-field="verdict"]').inner_text().startswith("pass")
    baselines = api("GET", "/api/v1/load/checkout/baselines")
    assert page.locator("#load-baselines tr[data-baseline]").count() == len(baselines)
    _shoot(page, tmp_path, "load.png", docs="web-load.png")
    _clean_page(recorded, errors)


def test_chaos_lists_the_apis_runs(
    served: Served, watched: tuple[BrowserPage, list[str]], tmp_path: Path
) -> None:
    recorded, errors = watched
    page = recorded.page
    listed = Api(served)("GET", "/api/v1/chaos/runs")
    _login(page, served, "/ui/chaos")
    assert page.get_by_role("heading", level=1).first.inner_text() == "Chaos experiments"
    runs = listed["runs"] if isinstance(listed, dict) else listed
    assert page.locator("tr[data-run]").count() == len(runs)
    _shoot(page, tmp_path, "chaos.png", docs="web-chaos.png")
    _clean_page(recorded, errors)


def test_canary_shows_the_apis_kept_analyses(
    served: Served, pages_home: Path, watched: tuple[BrowserPage, list[str]], tmp_path: Path
) -> None:
    from srekit.core.canary import Verdict
    from srekit.store.database import create_store_engine
    from tests.canary_records import AT, keep

    engine = create_store_engine(f"sqlite:///{pages_home / 'srekit.db'}")
    try:
        keep(engine, "checkout", Verdict.FAIL, (0.99991, 0.61))
        keep(engine, "checkout", Verdict.PASS, (0.2, None), now=AT + timedelta(days=1))
    finally:
        engine.dispose()
    recorded, errors = watched
    page = recorded.page
    api = Api(served)
    _login(page, served, "/ui/canary?service=checkout")
    listed = api("GET", "/api/v1/canary/analyses?service=checkout")
    shown = page.locator("#canary-analyses tr[data-analysis]").evaluate_all(
        "rows => rows.map(row => Number(row.dataset.analysis))"
    )
    assert shown == [item["id"] for item in listed]
    assert len(shown) == 2
    for item in listed:
        row = page.locator(f'tr[data-analysis="{item["id"]}"]')
        assert row.locator('[data-field="verdict"]').inner_text() == item["verdict"]
        assert row.locator('[data-field="confidence"]').inner_text() == f"{item['confidence']:.4f}"
    page.screenshot(path=str(tmp_path / "canary.png"), full_page=True)
    _clean_page(recorded, errors)
