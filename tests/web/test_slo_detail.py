"""The SLO detail page through its routes: the tiles show the status's figures and explain
them with its inputs, the burn-rate table is the status's, the spec and its versions are the
API's, the chart data is the history endpoint's, and unknown or hostile values are 404s."""

from __future__ import annotations

import re
from dataclasses import replace
from html import unescape

import pytest

from srekit.core.budget import ErrorBudget
from srekit.core.sli import EventCounts
from tests.web.conftest import Web

PAGE = "/ui/slos/checkout/availability"


def _text(html: str, pattern: str) -> str:
    found = re.search(pattern, html, re.S)
    assert found is not None, pattern
    return unescape(re.sub(r"<[^>]+>", "", found.group(1))).strip()


@pytest.fixture
def counted(web: Web) -> Web:
    """checkout/availability (objective 0.999, 30 days) with 600 bad events of 1,000,000,
    burning at 2 over the last hour."""
    statuses = web.evaluator.statuses
    index = next(
        i for i, s in enumerate(statuses) if s.slo == "availability" and s.service == "checkout"
    )
    base = statuses[index]
    burns: dict[str, float | None] = dict.fromkeys(base.burn_rates)
    burns.update({"1h": 2.0, "5m": 3.0, "6h": 1.5, "30m": 1.0, "1d": 0.5, "2h": 0.8, "3d": 0.4})
    statuses[index] = replace(
        base,
        sli=0.9994,
        counts=EventCounts(good=999_400, total=1_000_000),
        # hand-checked: allowed = 0.001 × 1e6 = 1000; remaining = 1 − 600/1000 = 0.4
        error_budget=ErrorBudget(remaining=0.4, consumed=0.6, allowed_bad_events=1000.0),
        burn_rates=burns,
        # 0.4 × 2 592 000 s / 2 = 518 400 s = 6.0 days
        time_to_exhaustion_s=518_400.0,
    )
    return web


def test_the_tiles_show_and_explain_the_status_figures(counted: Web) -> None:
    counted.login("viewer")
    page = counted.client.get(PAGE)
    assert page.status_code == 200
    html = page.text
    assert _text(html, r'data-field="objective">(.*?)</span>') == "99.900%"
    assert _text(html, r'data-field="sli">(.*?)</span>') == "99.940%"
    assert _text(html, r'data-field="remaining">(.*?)</span>') == "40.0%"
    assert _text(html, r'data-field="burn_1h">(.*?)</span>') == "2.00"
    assert _text(html, r'data-field="exhaustion">(.*?)</span>') == "6.0d"
    explained = _text(html, r'data-explain="remaining">(.*?)</p>')
    assert explained == "remaining = 1 − (600 / (1e+06 × (1 − 0.999))) = 1 − 600 / 1000 = 40.00%"
    assert "400 of 1000 allowed bad events left" in _text(html, r'data-note="remaining">(.*?)<')
    # 0.4 × 0.001 × 2 592 000 s = 1036.8 s = 17.28 minutes of full outage
    assert "17.3 minutes of full outage left" in html
    assert "= 518400 s" in _text(html, r'data-explain="exhaustion">(.*?)</p>')
    assert _text(html, r'data-explain="sli">(.*?)</p>') == "SLI = 999400 / 1e+06 = 99.9400%"
    gate = re.search(r'data-field="gate"><span class="pill gate-(\w+)">', html)
    listed = re.search(
        r'data-slo="checkout/availability">.*?class="pill gate-(\w+)"',
        counted.client.get("/ui/slos").text,
        re.S,
    )
    assert gate is not None
    assert listed is not None
    assert gate.group(1) == listed.group(1)
    assert "state " in _text(html, r'data-explain="gate">(.*?)</p>')


def test_the_burn_rate_table_is_the_status_alerts(counted: Web) -> None:
    counted.login("viewer")
    html = counted.client.get(PAGE).text
    status = next(
        s for s in counted.evaluator.statuses if s.service == "checkout" and s.slo == "availability"
    )
    rows = re.findall(r'<tr data-alert="([^"]+)">(.*?)</tr>', html, re.S)
    assert [key for key, _ in rows] == [f"{a.long_window}-{a.short_window}" for a in status.alerts]
    assert rows, "the status has burn-rate alerts"
    for (_, row), alert in zip(rows, status.alerts, strict=True):
        long = status.burn_rates.get(alert.long_window)
        assert _text(row, r'data-field="long">(.*?)</td>') == (
            "—" if long is None else f"{long:.2f}"
        )
        assert _text(row, r'data-field="factor">(.*?)</td>') == f"{alert.factor:.3g}"


def test_the_spec_and_versions_are_the_api_s(web: Web) -> None:
    web.login("viewer")
    html = web.client.get(PAGE).text
    stored = web.api("GET", "/api/v1/slos/checkout/availability").json()
    spec = _text(html, r'<pre id="slo-spec"><code>(.*?)</code></pre>')
    assert f"objective: {stored['spec']['objective']}" in spec
    versions = re.findall(r'<li data-version="(\d+)">', html)
    assert versions == [str(v["version"]) for v in reversed(stored["versions"])]


def test_the_slo_list_links_to_the_page(web: Web) -> None:
    web.login("viewer")
    assert f'href="{PAGE}"' in web.client.get("/ui/slos").text


def _store_rollups(web: Web, hours: int) -> None:
    """checkout/availability's rollups of the last `hours` hours: SLI, budget, 1h and 6h
    burn rates that move hour by hour."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import insert

    from srekit.core.history import Extent, HourRollup, hour_floor
    from srekit.store.database import transaction
    from srekit.store.repo import get_slo
    from srekit.store.repo.history import _HOURS, _rollup_values

    engine = web.client.app.state.srekit.engine  # type: ignore[attr-defined]
    now = hour_floor(datetime.now(UTC))
    with transaction(engine) as session:
        slo_id = get_slo(session, service="checkout", name="availability").id
        rows = [
            _rollup_values(
                slo_id,
                HourRollup(
                    hour_start=now - timedelta(hours=back),
                    samples=60,
                    objective=0.999,
                    window="30d",
                    window_s=30 * 86400,
                    sli=Extent(0.998 - back / 1e5, 0.9995, 0.999, 0.9991),
                    remaining=Extent(0.5, 0.5 + back / 1e3, 0.51, 0.5),
                    bad_events=None,
                    total_events=None,
                    burn_rates={
                        "1h": Extent(0.0, back % 7, 0.5, 1.0),
                        "6h": Extent(0.1, 2.0, 0.2, 0.3),
                    },
                ),
            )
            for back in range(1, hours + 1)
        ]
        session.execute(insert(_HOURS), rows)


def test_the_chart_data_is_the_history_endpoint_s(web: Web) -> None:
    _store_rollups(web, 24 * 10)
    web.login("viewer")
    answer = web.client.get(PAGE + "/history.json")
    assert answer.status_code == 200
    document = answer.json()
    api = web.api("GET", "/api/v1/slos/checkout/availability/history").json()
    for field in ("service", "slo", "objective", "window", "window_s", "width"):
        assert document["history"][field] == api[field]
    # the series the charts draw, as the API has them, and no others
    assert set(api["series"]) == {"sli", "remaining"}
    assert set(api["burn_rates"]) == {"1h", "6h"}
    assert set(document["history"]["series"]) == {"sli", "remaining"}
    assert len(document["history"]["series"]["sli"]["t"]) >= 200
    # each asked at its own now: bucket starts differ by the time between the two requests
    for name, series in document["history"]["series"].items():
        for part in ("min", "max", "first", "last"):
            assert series[part] == api["series"][name][part]
        assert series["t"] == pytest.approx(api["series"][name]["t"], abs=5.0)
    assert document["history"]["burn_rates"] == {}
    burndown = document["history"]["burndown"]
    assert burndown["remaining"] == api["burndown"]["remaining"]
    assert burndown["t"] == pytest.approx(api["burndown"]["t"], abs=5.0)
    assert set(document["overlays"]) >= {"deployments", "gate_denials", "incidents", "alerts"}


def test_without_a_session_the_page_and_its_data_lead_to_login(web: Web) -> None:
    for path in (PAGE, PAGE + "/history.json"):
        answer = web.client.get(path, follow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/ui/login?next=/ui/slos/checkout/")


def test_an_slo_without_a_status_still_shows_its_spec(web: Web) -> None:
    web.evaluator.statuses = []
    web.login("viewer")
    page = web.client.get(PAGE)
    assert page.status_code == 200
    assert 'id="no-status"' in page.text
    assert 'id="slo-tiles"' not in page.text


@pytest.mark.parametrize(
    "path",
    [
        "/ui/slos/checkout/nope",
        "/ui/slos/nope/availability",
        "/ui/slos/checkout/nope/history.json",
        "/ui/slos/checkout/%00",
        "/ui/slos/%0a%0d/availability/history.json",
        "/ui/slos/" + "x" * 5000 + "/availability",
        "/ui/slos/checkout/%27%22%3E%3Cscript%3E",
        "/ui/slos/checkout/%F0%9F%92%A5",
    ],
)
def test_unknown_or_hostile_slos_are_a_404_page(web: Web, path: str) -> None:
    web.login("viewer")
    answer = web.client.get(path)
    assert answer.status_code == 404
    assert "No such SLO." in answer.text
    assert "<script>" not in answer.text


def test_an_escaped_slash_matches_no_page(web: Web) -> None:
    web.login("viewer")
    assert web.client.get("/ui/slos/..%2F..%2Fetc/passwd").status_code == 404


@pytest.mark.parametrize("query", ["?from=x&width=-1", "?%00=%ff", "?to=" + "9" * 5000])
def test_query_values_are_ignored(web: Web, query: str) -> None:
    web.login("viewer")
    assert web.client.get(PAGE + query).status_code == 200
    assert web.client.get(PAGE + "/history.json" + query).status_code == 200
