"""The history endpoints over HTTP: series across the raw/rollup seam, the budget lines,
overlays, the heatmap, hostile parameters and many clients at once."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from srekit.contracts import HeatmapOut, HistoryOut, OverlaysOut
from srekit.core.history import hour_floor
from srekit.core.incident import Severity
from srekit.core.policy import Decision, GateDecision, denied_decision
from srekit.flows.history import compact_history
from srekit.store import repo
from srekit.store.database import transaction
from tests.api.conftest import Api
from tests.store.repo.test_history import OTHER, SLO_, _record

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
PATH = "/api/v1/slos/checkout/availability"


def _engine(api: Api) -> Engine:
    return api.client.app.state.srekit.engine  # type: ignore[attr-defined,no-any-return]


def _history(api: Api) -> tuple[datetime, datetime]:
    """Both SLOs: two hours four days ago (rolled up, raw deleted) and the two hours before
    this one (rolled up, raw kept); returns (four days ago, this hour)."""
    engine = _engine(api)
    with transaction(engine) as session:
        for slo in (SLO_, OTHER):
            repo.apply_slo(session, slo=slo, actor="alice")
    this_hour = hour_floor(datetime.now(UTC))
    old = this_hour - 4 * DAY
    _record(engine, start=old, hours=2)
    _record(engine, start=this_hour - 2 * HOUR, hours=2)
    compact_history(
        engine, now=this_hour + 10 * timedelta(minutes=1), raw_s=2 * 86400, hourly_s=396 * 86400
    )
    return old, this_hour


def test_history_reads_rollups_then_raw_snapshots(api: Api) -> None:
    old, this_hour = _history(api)
    response = api.get(
        f"{PATH}/history",
        role="viewer",
        params={"from": old.isoformat(), "to": this_hour.isoformat(), "width": 96},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert HistoryOut.model_validate(body).model_dump(by_alias=True) == body
    assert (body["objective"], body["window"], body["window_s"]) == (0.99, "30d", 2592000)
    assert body["bucket_s"] == 3600.0  # 4 days in 96 buckets
    hours = [old, old + HOUR, this_hour - 2 * HOUR, this_hour - HOUR]
    sli = body["series"]["sli"]
    assert sli["t"] == [hour.timestamp() for hour in hours]
    # each hour: minutes :00…:50, SLI 1.0 down to 0.95; rollups and raw agree
    assert sli["min"] == [0.95] * 4
    assert sli["max"] == [1.0] * 4
    assert sli["first"] == [1.0] * 4
    assert sli["last"] == [0.95] * 4
    assert body["series"]["bad_events"]["max"] == [50.0] * 4
    assert list(body["burn_rates"]) == ["1h", "30d"]
    assert body["burn_rates"]["1h"]["max"] == [0.5] * 4
    # the ideal line over the 30 days before `to`; the burn-down spends 0.5 h / 720 h an hour
    assert body["ideal"] == {
        "t": [(this_hour - 30 * DAY).timestamp(), this_hour.timestamp()],
        "remaining": [1.0, 0.0],
    }
    assert body["burndown"]["t"] == [(hour + HOUR).timestamp() for hour in hours]
    assert body["burndown"]["remaining"] == pytest.approx([1 - n * 0.5 / 720 for n in (1, 2, 3, 4)])


def test_buckets_under_an_hour_read_the_raw_snapshots(api: Api) -> None:
    old, this_hour = _history(api)
    # 4 days in 4000 buckets of 86.4 s: the old hours from their rollups (their raw
    # snapshots are gone), the last two hours from raw snapshots, one every 10 minutes
    body = api.get(
        f"{PATH}/history",
        params={"from": old.isoformat(), "to": this_hour.isoformat(), "width": 4000},
    ).json()
    sli = body["series"]["sli"]
    raw = [this_hour - 2 * HOUR + n * 10 * timedelta(minutes=1) for n in range(12)]
    # each bucket starts at its edge: from + i × 86.4 s, i = floor((t − from) / 86.4 s)
    edges = [
        old.timestamp() + ((moment - old).total_seconds() // 86.4) * 86.4
        for moment in [old, old + HOUR, *raw]
    ]
    assert sli["t"] == pytest.approx(edges)
    assert sli["min"][:2] == [0.95, 0.95]  # a rollup keeps its hour's extremes
    assert sli["max"][:2] == [1.0, 1.0]
    assert sli["min"][2:] == [1 - minute / 1000 for minute in (0, 10, 20, 30, 40, 50) * 2]
    # burn(1h) = minute / 10 / 1000 / 0.01
    assert body["burn_rates"]["1h"]["last"][2:] == [m / 100 for m in (0, 10, 20, 30, 40, 50) * 2]


def test_the_default_range_is_the_last_30_days_at_600(api: Api) -> None:
    _history(api)
    body = api.get(f"{PATH}/history", role="viewer").json()
    start = datetime.fromisoformat(body["from"])
    end = datetime.fromisoformat(body["to"])
    assert end - start == 30 * DAY
    assert body["width"] == 600
    # 72-minute buckets from an edge that moves with the clock: buckets of an hour or more read
    # rollups, so each pair of stored hours is two points 60 minutes apart, in 1 or 2 buckets
    assert 2 <= len(body["series"]["sli"]["t"]) <= 4
    assert min(body["series"]["sli"]["min"]) == 0.95
    assert api.get("/api/v1/slos/checkout/nothing/history").status_code == 404
    assert api.get("/api/v1/slos/checkout/availability/history", role=None).status_code == 401


def test_overlays_show_deploys_denials_incidents_and_the_slos_alerts(api: Api) -> None:
    engine = _engine(api)
    now = hour_floor(datetime.now(UTC))
    with transaction(engine) as session:
        repo.apply_slo(session, slo=SLO_, actor="alice")
        allowed = GateDecision("checkout", "feature", True, Decision.ALLOW, "normal", ())
        repo.record_deployment(
            session,
            service="checkout",
            change_type="feature",
            decision=allowed,
            version="v2",
            now=now - 3 * HOUR,
        )
        repo.record_deployment(
            session,
            service="checkout",
            change_type="feature",
            decision=denied_decision("checkout", "feature", "budget spent"),
            now=now - 2 * HOUR,
        )
        repo.record_deployment(  # another service's
            session,
            service="search",
            change_type="feature",
            decision=denied_decision("search", "feature", "no"),
            now=now - 2 * HOUR,
        )
        repo.create_incident(
            session,
            title="checkout errors",
            severity=Severity("P1"),
            opened_at=now - HOUR,
            actor="alice",
            services=["checkout"],
        )
        labels = {"srekit_slo": "availability", "srekit_service": "checkout", "severity": "page"}
        rows = [
            ("a1", labels, now - 90 * timedelta(minutes=1)),
            ("a2", {**labels, "srekit_service": "search"}, now - HOUR),  # the other SLO's
            ("a3", {**labels, "srekit_slo": "availability2"}, now - HOUR),
        ]
        repo.insert_alerts(
            session,
            rows=[
                {
                    "fingerprint": fingerprint,
                    "starts_at": starts,
                    "ends_at": None,
                    "status": "firing",
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
                for fingerprint, alert_labels, starts in rows
            ],
        )
    body = api.get(
        f"{PATH}/overlays",
        role="viewer",
        params={"from": (now - DAY).isoformat(), "to": now.isoformat()},
    ).json()
    assert OverlaysOut.model_validate(body).model_dump(by_alias=True) == body
    assert [(d["version"], d["decision"]) for d in body["deployments"]] == [("v2", "allow")]
    assert [d["reasons"] for d in body["gate_denials"]] == [["budget spent"]]
    assert [(i["title"], i["resolved_at"]) for i in body["incidents"]] == [
        ("checkout errors", None)
    ]
    assert [(a["starts_at"], a["ends_at"], a["severity"]) for a in body["alerts"]] == [
        ((now - 90 * timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ"), None, "page")
    ]
    before = api.get(
        f"{PATH}/overlays",
        params={"from": (now - 3 * DAY).isoformat(), "to": (now - 2 * DAY).isoformat()},
    ).json()
    assert (before["deployments"], before["incidents"], before["alerts"]) == ([], [], [])


def test_the_heatmap_sums_each_days_hours(api: Api) -> None:
    old, this_hour = _history(api)
    body = api.get("/api/v1/history/heatmap", role="viewer", params={"days": 5}).json()
    assert HeatmapOut.model_validate(body).model_dump() == body
    days = [datetime.fromisoformat(day).replace(tzinfo=UTC) for day in body["days"]]
    assert days[-1] == this_hour.replace(hour=0)
    assert len(days) == 5
    # every rolled-up hour's last 1 h burn is 0.5: it spends 0.5 / 720 of a 30-day budget
    expected: list[float | None] = [None] * 5
    for hour in (old, old + HOUR, this_hour - 2 * HOUR, this_hour - HOUR):
        position = days.index(hour.replace(hour=0))
        expected[position] = (expected[position] or 0.0) + 0.5 / 720
    rows = {(row["service"], row["slo"]): row["burned"] for row in body["slos"]}
    assert set(rows) == {("checkout", "availability"), ("search", "availability")}
    for burned in rows.values():
        assert burned == [None if e is None else pytest.approx(e) for e in expected]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"width": "0"}, "width"),
        ({"width": "9"}, "width"),
        ({"width": "4001"}, "width"),
        ({"width": "1000000000"}, "width"),
        ({"width": "1e309"}, "width"),
        ({"width": "NaN"}, "width"),
        ({"from": "NaN"}, "from"),
        ({"from": "1e309"}, "from"),
        ({"from": "2026-11-01T00:00:00\x00Z"}, "from"),
        ({"from": "2026-11-01T00:00:00"}, "from"),
        ({"from": "2026-11-02T00:00:00Z", "to": "2026-11-01T00:00:00Z"}, "from"),
        ({"from": "2026-11-01T00:00:00Z", "to": "2026-11-01T00:00:00Z"}, "from"),
        ({"from": "2024-01-01T00:00:00Z", "to": "2026-11-01T00:00:00Z"}, "from"),
        ({"to": "0001-01-02T00:00:00Z"}, "to"),
        ({"from": "0001-01-01T00:00:00+05:00", "to": "0001-01-02T00:00:00Z"}, "from"),
    ],
)
def test_hostile_parameters_are_422_naming_the_parameter(
    lite_api: Api, params: dict[str, str], field: str
) -> None:
    with transaction(_engine(lite_api)) as session:
        repo.apply_slo(session, slo=SLO_, actor="alice")
    response = lite_api.get(f"{PATH}/history", params=params)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["query", field]
    if "width" not in params:
        overlays = lite_api.get(f"{PATH}/overlays", params=params)
        assert overlays.status_code == 422
        assert overlays.json()["detail"][0]["loc"] == ["query", field]


@pytest.mark.parametrize("days", ["0", "401", "-1", "NaN", "1e309", "3\x00"])
def test_the_heatmap_refuses_hostile_days(lite_api: Api, days: str) -> None:
    response = lite_api.get("/api/v1/history/heatmap", params={"days": days})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "days"]


def test_many_clients_at_once_get_the_same_answer(lite_api: Api) -> None:
    old, this_hour = _history(lite_api)
    params = {"from": old.isoformat(), "to": this_hour.isoformat(), "width": 200}

    def fetch(_: int) -> tuple[int, bytes]:
        response = lite_api.get(f"{PATH}/history", role="viewer", params=params)
        return response.status_code, response.content

    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(fetch, range(64)))
    assert {status for status, _ in answers} == {200}
    assert len({content for _, content in answers}) == 1
