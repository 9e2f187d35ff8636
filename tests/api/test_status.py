"""Statuses (latest, per SLO, history) and /metrics over HTTP, and the 422/404 shapes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from srekit.api import create_app
from srekit.config import Settings
from srekit.contracts import status_document
from srekit.store.database import transaction
from srekit.store.repo import record_snapshots
from tests.api.conftest import AVAILABILITY_SPEC, Api, TestClient, make_tokens, status_for


def test_status_lists_the_evaluators_latest_statuses(lite_api: Api) -> None:
    statuses = [status_for("checkout", "availability", 0.8), status_for("search", "latency", 0.3)]
    lite_api.evaluator.statuses = statuses
    body = lite_api.get("/api/v1/status", role="viewer").json()
    assert body == [status_document(s) for s in statuses]
    only = lite_api.get("/api/v1/status?service=search", role="viewer").json()
    assert [(s["service"], s["error_budget"]["remaining"]) for s in only] == [("search", 0.3)]


def test_one_slos_status_and_history(lite_api: Api) -> None:
    lite_api.put("/api/v1/slos/checkout/availability", json={"spec": AVAILABILITY_SPEC})
    unevaluated = lite_api.get("/api/v1/slos/checkout/availability/status").json()
    assert (unevaluated["data"], unevaluated["detail"]) == ("error", "not evaluated yet")
    assert lite_api.get("/api/v1/slos/checkout/none/status").status_code == 404
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    engine = lite_api.client.app.state.srekit.engine  # type: ignore[attr-defined]
    with transaction(engine) as session:
        for hours, remaining in enumerate((0.9, 0.8, 0.7)):
            at = t0 + timedelta(hours=hours)
            record_snapshots(
                session, statuses=[status_for("checkout", "availability", remaining, at=at)]
            )
    lite_api.evaluator.statuses = [status_for("checkout", "availability", 0.7)]
    now = lite_api.get("/api/v1/slos/checkout/availability/status").json()
    assert now["error_budget"]["remaining"] == 0.7
    history = lite_api.get("/api/v1/slos/checkout/availability/snapshots").json()
    assert [h["error_budget"]["remaining"] for h in history] == [0.9, 0.8, 0.7]
    assert history[0]["at"] == "2026-11-01T00:00:00Z"
    window = lite_api.get(
        "/api/v1/slos/checkout/availability/snapshots",
        params={"since": "2026-11-01T00:30:00Z", "until": "2026-11-01T01:30:00+00:00"},
    ).json()
    assert [h["error_budget"]["remaining"] for h in window] == [0.8]
    naive = lite_api.get("/api/v1/slos/checkout/availability/snapshots?since=2026-11-01T00:00:00")
    assert naive.status_code == 422
    assert naive.json()["detail"][0]["loc"] == ["query", "since"]
    assert lite_api.get("/api/v1/slos/checkout/none/snapshots").status_code == 404


def test_metrics_count_requests_by_route_template(lite_api: Api) -> None:
    lite_api.get("/api/v1/slos/checkout/none")
    lite_api.get("/api/v1/slos/search/none")
    lite_api.get("/no/such/path")
    text = lite_api.get("/metrics", role="viewer").text
    series = (
        'srekit_http_request_duration_seconds_count{method="GET",'
        'route="/api/v1/slos/{service}/{name}",status="404"} 2.0'
    )
    assert series in text
    assert 'route="unmatched"' in text
    assert "srekit_evaluation_rounds_total" in text


def test_error_shapes(lite_api: Api) -> None:
    missing = lite_api.get("/api/v1/services/none")
    assert (missing.status_code, missing.json()) == (
        404,
        {"detail": "no service 'none' in the store"},
    )
    extra = lite_api.put("/api/v1/services/s", json={"team": "t", "colour": "red"})
    assert extra.status_code == 422
    assert extra.json()["detail"][0]["loc"] == ["body", "colour"]
    both = lite_api.put("/api/v1/slos/s/n", json={"spec": AVAILABILITY_SPEC, "document": {}})
    assert both.status_code == 422
    bad = lite_api.put("/api/v1/slos/s/n", json={"spec": {**AVAILABILITY_SPEC, "objective": 1.5}})
    assert bad.json()["detail"][0]["loc"] == ["body", "spec", "objective"]
    no_timeslice = lite_api.put(
        "/api/v1/slos/s/n", json={"spec": {**AVAILABILITY_SPEC, "budgeting": "timeslices"}}
    )
    assert no_timeslice.status_code == 422
    assert "timeslice" in no_timeslice.json()["detail"][0]["msg"]
    not_json = lite_api.client.put(
        "/api/v1/services/s",
        content=b"{nope",
        headers={**lite_api.headers("admin"), "content-type": "application/json"},
    )
    assert not_json.status_code == 422
    long_name = lite_api.put("/api/v1/teams/" + "t" * 201)
    assert long_name.status_code == 422


def test_srekits_own_slos_read_series_its_metrics_expose(lite_api: Api) -> None:
    """examples/srekit measures srekit from its /metrics: the latency SLO's threshold must be
    a bucket bound of the request histogram, and the metric names must be what is served."""
    import re
    from pathlib import Path

    from srekit.core.promql import le_regex
    from srekit.core.slo import PromLatency, PromRatio
    from srekit.spec.loader import load_specs

    lite_api.get("/api/v1/status", role="viewer")  # one request, so the histogram has series
    metrics = lite_api.get("/metrics", role="viewer").text
    bounds = set(
        re.findall(r'srekit_http_request_duration_seconds_bucket\{[^}]*le="([^"]+)"', metrics)
    )
    specs = load_specs([Path(__file__).resolve().parents[2] / "examples" / "srekit"])
    (availability,) = [s for s in specs.slos if isinstance(s.indicator, PromRatio)]
    (latency,) = [s for s in specs.slos if isinstance(s.indicator, PromLatency)]
    assert isinstance(latency.indicator, PromLatency)
    assert (availability.objective, latency.objective) == (0.999, 0.95)
    matching = [b for b in bounds if re.fullmatch(le_regex(latency.indicator.threshold_s), b)]
    assert matching == ["0.2"]
    assert f"{latency.indicator.metric}_count" in metrics
    assert "srekit_http_request_duration_seconds_count" in str(availability.indicator)


def test_without_an_evaluator_old_snapshots_are_stale_and_unevaluated_slos_listed(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    """`serve --no-evaluate` reads the store's snapshots: another process evaluates, and when
    it falls behind or never reached an SLO, the status says so (and the gate fails closed)."""
    tokens = make_tokens(sqlite_engine)
    app = create_app(
        Settings(home=tmp_path, gate_max_status_age_s=300),
        engine=sqlite_engine,
        catalog_ttl_s=0,
        status_ttl_s=0,
    )
    headers = {"Authorization": f"Bearer {tokens['admin']}"}
    with TestClient(app) as client:
        for name in ("availability", "latency", "errors"):
            put = client.put(
                f"/api/v1/slos/checkout/{name}", json={"spec": AVAILABILITY_SPEC}, headers=headers
            )
            assert put.status_code in (200, 201), put.text
        now = datetime.now(UTC)
        with transaction(sqlite_engine) as session:
            record_snapshots(
                session,
                statuses=[
                    status_for("checkout", "availability", 0.9, at=now - timedelta(seconds=30)),
                    status_for("checkout", "latency", 0.8, at=now - timedelta(minutes=20)),
                ],
            )
        body = client.get("/api/v1/status", headers=headers).json()
        gate = client.get(
            "/api/v1/gate?change_type=feature&service=checkout", headers=headers
        ).json()
    by_name = {s["slo"]: s for s in body}
    assert sorted(by_name) == ["availability", "errors", "latency"]
    assert by_name["availability"]["data"] == "ok"
    assert by_name["availability"]["error_budget"]["remaining"] == 0.9
    assert by_name["latency"]["data"] == "stale"
    assert by_name["latency"]["detail"].startswith("last evaluated 20m")
    assert by_name["latency"]["error_budget"]["remaining"] == 0.8  # figures kept for people
    assert (by_name["errors"]["data"], by_name["errors"]["detail"]) == (
        "error",
        "not evaluated yet",
    )
    assert gate["allowed"] is False
    assert "SLI data could not be read and the gate fails closed" in gate["reasons"]


def test_a_deleted_slo_leaves_the_status_list(sqlite_engine: Engine, tmp_path: Path) -> None:
    """Deleting an SLO deletes its snapshots; SQLite then hands the next round's snapshot an id
    already seen, and a cache keyed on the newest snapshot id alone kept serving the deleted
    SLO when nothing read the statuses between the deletion and that round. The
    configuration's audit log moves too, so the list is read again."""
    tokens = make_tokens(sqlite_engine)
    headers = {"Authorization": f"Bearer {tokens['admin']}"}
    app = create_app(Settings(home=tmp_path), engine=sqlite_engine, status_ttl_s=0)
    now = datetime.now(UTC)
    with TestClient(app) as client:
        for name in ("availability", "latency"):
            client.put(
                f"/api/v1/slos/checkout/{name}", json={"spec": AVAILABILITY_SPEC}, headers=headers
            )
        with transaction(sqlite_engine) as session:
            record_snapshots(
                session,
                statuses=[
                    status_for("checkout", "availability", 0.9, at=now),
                    status_for("checkout", "latency", 0.4, at=now),
                ],
            )
        before = client.get("/api/v1/status", headers=headers).json()
        assert [s["slo"] for s in before] == ["availability", "latency"]
        client.delete("/api/v1/slos/checkout/latency", headers=headers)
        with transaction(sqlite_engine) as session:  # the next round: snapshot id 2 again
            record_snapshots(session, statuses=[status_for("checkout", "availability", 0.8)])
        after = client.get("/api/v1/status", headers=headers).json()
    assert [(s["slo"], s["error_budget"]["remaining"]) for s in after] == [("availability", 0.8)]
