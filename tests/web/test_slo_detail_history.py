"""The SLO detail page's history views: the month-by-month grid and the calendar burn-down
equal figures worked out here from the rollups inserted, the pickers live in the URL, and
hostile picker values are a 400 page."""

from __future__ import annotations

import calendar
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, insert

from srekit.core.history import Extent, HourRollup, hour_floor
from srekit.store.database import transaction
from srekit.store.repo import get_slo
from srekit.store.repo.history import _HOURS, _rollup_values
from tests.web.conftest import Web

PAGE = "/ui/slos/checkout/availability"
HOUR = timedelta(hours=1)


def _engine(web: Web) -> Engine:
    return web.client.app.state.srekit.engine  # type: ignore[attr-defined,no-any-return]


def _insert(web: Web, burns: dict[datetime, float]) -> None:
    """checkout/availability's rollups: one per hour, its 1h burn rate ending at `burn`."""
    engine = _engine(web)
    with transaction(engine) as session:
        slo_id = get_slo(session, service="checkout", name="availability").id
        rows = [
            _rollup_values(
                slo_id,
                HourRollup(
                    hour_start=hour,
                    samples=60,
                    objective=0.999,
                    window="30d",
                    window_s=30 * 86400,
                    sli=None,
                    remaining=None,
                    bad_events=None,
                    total_events=None,
                    burn_rates={"1h": Extent(0.0, 9.0, 0.0, burn)},
                ),
            )
            for hour, burn in burns.items()
        ]
        session.execute(insert(_HOURS), rows)


def _month_back(now: datetime, back: int) -> datetime:
    index = now.year * 12 + now.month - 1 - back
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


def _cell(html: str, key: str) -> str:
    found = re.search(rf'<li class="month[^"]*" data-month="{key}"(.*?)</li>', html, re.S)
    assert found is not None, key
    return found.group(0)


def _field(cell: str, name: str) -> str:
    found = re.search(rf'data-field="{name}">([^<]*)<', cell)
    assert found is not None, name
    return found.group(1)


def test_the_month_grid_is_the_rollups_month_by_month(web: Web) -> None:
    now = datetime.now(UTC)
    missed, met = _month_back(now, 2), _month_back(now, 1)
    missed_burns = [0.5, 1.0, 4.5]
    met_burns = [0.2, 0.4]
    _insert(
        web,
        {
            **{missed + index * HOUR: burn for index, burn in enumerate(missed_burns)},
            **{met + 24 * HOUR + index * HOUR: burn for index, burn in enumerate(met_burns)},
        },
    )
    web.login("viewer")
    page = web.client.get(PAGE)
    assert page.status_code == 200
    cells = re.findall(r'data-month="(\d{4}-\d\d)" data-state="([a-z-]+)"', page.text)
    assert len(cells) == 13
    assert cells[-1][0] == now.strftime("%Y-%m")
    states = dict(cells)
    # worked out by hand: mean burn 2.0 → error ratio 0.002 → SLI 99.800 %, 200 % of budget
    missed_mean = sum(missed_burns) / len(missed_burns)
    cell = _cell(page.text, missed.strftime("%Y-%m"))
    assert states[missed.strftime("%Y-%m")] == "missed"
    assert _field(cell, "sli") == f"{1 - missed_mean * 0.001:.3%}" == "99.800%"
    assert _field(cell, "consumed") == f"{missed_mean:.1%}" == "200.0%"
    met_mean = sum(met_burns) / len(met_burns)
    cell = _cell(page.text, met.strftime("%Y-%m"))
    assert states[met.strftime("%Y-%m")] == "met"
    assert _field(cell, "sli") == f"{1 - met_mean * 0.001:.3%}" == "99.970%"
    assert _field(cell, "consumed") == "30.0%"
    no_data = [key for key, state in cells if state == "no-data"]
    assert len(no_data) == 11
    assert "SLI" not in _cell(page.text, no_data[0])


def test_the_month_burn_down_spends_the_calendar_month_s_budget(web: Web) -> None:
    now = datetime.now(UTC)
    this_hour = hour_floor(now)
    month_start = _month_back(now, 0)
    burns = {
        hour: 2.0 + index
        for index, hour in enumerate(this_hour - back * HOUR for back in (3, 2, 1))
        if hour >= month_start
    }
    burns[month_start - 5 * HOUR] = 100.0  # last month: outside the burn-down
    _insert(web, burns)
    web.login("viewer")
    answer = web.client.get(PAGE + "/history.json?range=7d&view=month")
    assert answer.status_code == 200, answer.text
    document = answer.json()
    assert (document["range"], document["view"]) == ("7d", "month")
    history = document["history"]
    days = calendar.monthrange(now.year, now.month)[1]
    period_s = days * 86400
    next_month = month_start + timedelta(days=days)
    assert history["ideal"] == {
        "t": [month_start.timestamp(), next_month.timestamp()],
        "remaining": [1.0, 0.0],
    }
    expected: list[tuple[float, float]] = []
    remaining = 1.0
    for hour in sorted(burns):
        if hour < month_start:
            continue
        remaining -= burns[hour] * 3600 / period_s
        expected.append(((hour + HOUR).timestamp(), remaining))
    got = list(zip(history["burndown"]["t"], history["burndown"]["remaining"], strict=True))
    assert len(got) == len(expected)
    for (t, value), (want_t, want) in zip(got, expected, strict=True):
        assert t == pytest.approx(min(want_t, now.timestamp()), abs=5)
        assert value == pytest.approx(want, rel=1e-6)
    # the range picker: the charts cover 7 days
    start = datetime.fromisoformat(history["from"].replace("Z", "+00:00"))
    end = datetime.fromisoformat(history["to"].replace("Z", "+00:00"))
    assert end - start == timedelta(days=7)


@pytest.mark.parametrize("choice", ["1d", "7d", "30d", "90d", "window"])
def test_every_range_is_served(web: Web, choice: str) -> None:
    web.login("viewer")
    answer = web.client.get(PAGE + f"/history.json?range={choice}")
    assert answer.status_code == 200
    document: dict[str, Any] = answer.json()
    span = datetime.fromisoformat(document["history"]["to"]) - datetime.fromisoformat(
        document["history"]["from"]
    )
    days = {"1d": 1, "7d": 7, "30d": 30, "90d": 90}.get(choice)
    # "window": the SLO's own (a rolling one here), as the document states its length
    want = timedelta(days=days) if days else timedelta(seconds=document["history"]["window_s"])
    assert span == pytest.approx(want, abs=timedelta(seconds=5))


def test_the_pickers_live_in_the_url(web: Web) -> None:
    web.login("viewer")
    page = web.client.get(PAGE + "?range=90d&view=quarter").text
    assert re.search(r'<option value="90d" selected>', page)
    assert re.search(r'<option value="quarter" selected>', page)
    assert 'data-src="/ui/slos/checkout/availability/history.json?range=90d&amp;view=quarter"' in (
        page
    )
    assert '<form method="get" id="chart-picker"' in page


@pytest.mark.parametrize(
    "query",
    [
        "?range=../",
        "?range=..%2F..%2Fetc",
        "?range=1e309",
        "?range=-1d",
        "?range=" + "9" * 5000,
        "?view=year",
        "?view=%00",
        "?view=rolling%0a",
        "?range=30d&view=1e309",
    ],
)
def test_hostile_picker_values_are_a_400_page(web: Web, query: str) -> None:
    web.login("viewer")
    for path in (PAGE, PAGE + "/history.json"):
        answer = web.client.get(path + query)
        assert answer.status_code == 400, (path, query)
        assert "expected one of" in answer.text


def test_the_alert_bands_are_the_slo_s_received_alerts(web: Web) -> None:
    import json

    from srekit.store import repo

    now = datetime.now(UTC).replace(microsecond=0)  # instants are written to the second
    labels = {"srekit_slo": "availability", "srekit_service": "checkout", "severity": "page"}
    rows = [
        ("mine", labels, now - 3 * HOUR, now - 2 * HOUR),
        ("still-firing", labels, now - HOUR, None),
        ("other-slo", {**labels, "srekit_slo": "latency"}, now - HOUR, None),
        ("before-the-range", labels, now - 3 * 24 * HOUR, now - 2 * 24 * HOUR),
    ]
    with transaction(_engine(web)) as session:
        repo.insert_alerts(
            session,
            rows=[
                {
                    "fingerprint": fingerprint,
                    "starts_at": starts,
                    "ends_at": ends,
                    "status": "firing" if ends is None else "resolved",
                    "alertname": "SloBurn",
                    "service": None,
                    "severity": None,
                    "labels_json": json.dumps(alert_labels, sort_keys=True, separators=(",", ":")),
                    "annotations_json": "{}",
                    "generator_url": None,
                    "route_index": None,
                    "incident_id": None,
                    "first_seen_at": starts,
                    "updated_at": starts,
                }
                for fingerprint, alert_labels, starts, ends in rows
            ],
        )
    web.login("viewer")
    alerts = web.client.get(PAGE + "/history.json?range=1d").json()["overlays"]["alerts"]
    got = [
        (
            datetime.fromisoformat(a["starts_at"]),
            a["ends_at"] and datetime.fromisoformat(a["ends_at"]),
        )
        for a in alerts
    ]
    assert sorted(got, key=lambda band: band[0]) == [
        (now - 3 * HOUR, now - 2 * HOUR),
        (now - HOUR, None),
    ]
