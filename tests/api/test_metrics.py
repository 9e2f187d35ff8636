"""`/metrics` exports every SLO's figures: the numbers `/api/v1/status` serves, hand-checked,
in Prometheus' text format; a deleted SLO leaves no series; unreadable statuses leave the rest
of the scrape intact."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine

from srekit.api import create_app
from srekit.config import Settings
from srekit.core.instant import parse_instant
from srekit.core.sli import EventCounts
from srekit.core.slo import SLO, EventsRatio
from srekit.core.status import DataState, evaluate_slo, unavailable_status
from srekit.core.window import CalendarWindow, RollingWindow
from srekit.errors import StoreUnavailable
from srekit.store.database import transaction
from srekit.store.repo import record_snapshots
from tests.api.conftest import AVAILABILITY_SPEC, Api, TestClient, make_tokens, status_for

AT = datetime(2026, 11, 1, 12, tzinfo=UTC)
THIRTY_DAYS_S = 30 * 86400
SLO_METRICS = {
    "srekit_slo_statuses_up": (),
    "srekit_slo_sli_ratio": ("service", "slo"),
    "srekit_slo_objective_ratio": ("service", "slo"),
    "srekit_slo_error_budget_remaining_ratio": ("service", "slo"),
    "srekit_slo_burn_rate_ratio": ("service", "slo", "window"),
    "srekit_slo_time_to_exhaustion_seconds": ("service", "slo"),
    "srekit_slo_policy_state": ("service", "slo", "state"),
    "srekit_slo_data_state": ("service", "slo", "state"),
    "srekit_slo_evaluation_timestamp_seconds": ("service", "slo"),
}


def _checkout() -> SLO:
    return SLO(
        service="checkout",
        name="availability",
        objective=0.99,
        window=RollingWindow(THIRTY_DAYS_S),
        indicator=EventsRatio(good="status < 500"),
    )


def _evaluated() -> Any:
    """30 days: 40 bad of 10,000 events; last hour: 10 bad of 100; last 5 minutes: none bad."""
    readings = {
        "30d": EventCounts(good=9960, total=10000),
        "1h": EventCounts(good=90, total=100),
        "5m": EventCounts(good=10, total=10),
    }
    return evaluate_slo(_checkout(), readings=readings, at=AT)


# By hand, for objective 99 % (1 % of events may fail) over 30 days:
#   SLI = 9960 / 10000 = 0.996; budget: 40 bad of 100 allowed, so 0.6 remains (policy normal:
#   above its 0.5 floor); burn(30d) = 0.004 / 0.01 = 0.4; burn(1h) = 0.1 / 0.01 = 10;
#   burn(5m) = 0; exhaustion at burn(1h) = 0.6 × 2,592,000 s / 10 = 155,520 s.
HAND = {
    "sli": 0.996,
    "objective": 0.99,
    "remaining": 0.6,
    "burn": {"30d": 0.4, "1h": 10.0, "5m": 0.0},
    "exhaustion_s": 155_520.0,
    "policy": "normal",
    "at": AT.timestamp(),
}


def _scrape(text: str) -> dict[str, dict[frozenset[tuple[str, str]], float]]:
    """metric name → {labels → value}, parsed by prometheus_client's own parser."""
    samples: dict[str, dict[frozenset[tuple[str, str]], float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.setdefault(sample.name, {})[frozenset(sample.labels.items())] = sample.value
    return samples


def _labels(**labels: str) -> frozenset[tuple[str, str]]:
    return frozenset(labels.items())


def _of(samples: dict[str, Any], name: str, service: str, slo: str, **more: str) -> float | None:
    value: float | None = samples.get(name, {}).get(_labels(service=service, slo=slo, **more))
    return value


def test_each_slos_figures_equal_the_status_json_and_the_hand_computed_ones(
    lite_api: Api,
) -> None:
    evaluated = _evaluated()
    never = unavailable_status(
        replace(_checkout(), name="latency"), at=AT, detail="not evaluated yet"
    )
    stale = replace(evaluated, slo="errors", data=DataState.STALE, detail="last evaluated 20m ago")
    lite_api.evaluator.statuses = [evaluated, never, stale]
    body = lite_api.get("/api/v1/status", role="viewer").json()
    samples = _scrape(lite_api.get("/metrics", role="viewer").text)

    assert samples["srekit_slo_statuses_up"] == {frozenset(): 1.0}
    by_slo = {document["slo"]: document for document in body}
    for name in ("availability", "errors"):
        document = by_slo[name]

        def value(metric: str, _slo: str = name, **more: str) -> float | None:
            return _of(samples, metric, "checkout", _slo, **more)

        assert value("srekit_slo_sli_ratio") == document["sli"] == pytest.approx(HAND["sli"])
        assert value("srekit_slo_objective_ratio") == document["objective"] == HAND["objective"]
        assert (
            value("srekit_slo_error_budget_remaining_ratio")
            == document["error_budget"]["remaining"]
            == pytest.approx(HAND["remaining"])
        )
        exported = {
            dict(labels)["window"]: rate
            for labels, rate in samples["srekit_slo_burn_rate_ratio"].items()
            if dict(labels)["slo"] == name
        }
        read = {w: r for w, r in document["burn_rates"].items() if r is not None}
        assert exported == read == pytest.approx(HAND["burn"])
        assert (
            value("srekit_slo_time_to_exhaustion_seconds")
            == document["time_to_exhaustion_s"]
            == pytest.approx(HAND["exhaustion_s"])
        )
        assert value("srekit_slo_policy_state", state=document["policy_state"]) == 1.0
        assert document["policy_state"] == HAND["policy"]
        assert value("srekit_slo_data_state", state=document["data"]) == 1.0
        assert parse_instant(document["at"]).timestamp() == HAND["at"]
        assert value("srekit_slo_evaluation_timestamp_seconds") == HAND["at"]
    assert by_slo["errors"]["data"] == "stale"  # stale figures are exported, and said stale
    assert _of(samples, "srekit_slo_data_state", "checkout", "errors", state="stale") == 1.0

    # never evaluated: the JSON's nulls are absent series; the states say why
    assert by_slo["latency"]["sli"] is None
    for absent in (
        "srekit_slo_sli_ratio",
        "srekit_slo_error_budget_remaining_ratio",
        "srekit_slo_time_to_exhaustion_seconds",
    ):
        assert _of(samples, absent, "checkout", "latency") is None, absent
    assert not any(
        dict(labels)["slo"] == "latency" for labels in samples["srekit_slo_burn_rate_ratio"]
    )
    assert _of(samples, "srekit_slo_objective_ratio", "checkout", "latency") == 0.99
    assert _of(samples, "srekit_slo_policy_state", "checkout", "latency", state="unknown") == 1.0
    assert _of(samples, "srekit_slo_data_state", "checkout", "latency", state="error") == 1.0
    # one state series per SLO, never one per state ever seen
    for states in ("srekit_slo_policy_state", "srekit_slo_data_state"):
        assert len(samples[states]) == 3


def test_every_slo_metric_has_help_a_type_and_its_labels(lite_api: Api) -> None:
    lite_api.evaluator.statuses = [_evaluated()]
    families = {
        family.name: family
        for family in text_string_to_metric_families(lite_api.get("/metrics", role="viewer").text)
        if family.name.startswith("srekit_slo_")
    }
    assert set(families) == set(SLO_METRICS)
    for name, labels in SLO_METRICS.items():
        family = families[name]
        assert family.type == "gauge", name
        assert len(family.documentation) > 20, name
        assert family.samples, name
        for sample in family.samples:
            assert tuple(sorted(sample.labels)) == tuple(sorted(labels)), (name, sample)


def test_calendar_windows_are_labelled_by_their_short_name(lite_api: Api) -> None:
    monthly = replace(_checkout(), window=CalendarWindow("month", time_zone="Europe/Paris"))
    status = evaluate_slo(
        monthly, readings={"month (Europe/Paris)": EventCounts(good=99, total=100)}, at=AT
    )
    assert status.burn_rates["month"] == pytest.approx(1.0)
    lite_api.evaluator.statuses = [status]
    samples = _scrape(lite_api.get("/metrics", role="viewer").text)
    windows = {dict(labels)["window"] for labels in samples["srekit_slo_burn_rate_ratio"]}
    assert windows == {"month"}


@pytest.mark.parametrize(
    "failure",
    [StoreUnavailable("database at /secret/path is locked"), RuntimeError("a bug")],
    ids=["store-unavailable", "bug"],
)
def test_unreadable_statuses_keep_the_rest_of_the_scrape(
    lite_api: Api, failure: Exception, caplog: pytest.LogCaptureFixture
) -> None:
    lite_api.evaluator.statuses = [_evaluated()]
    assert "srekit_slo_sli_ratio{" in lite_api.get("/metrics", role="viewer").text
    lite_api.evaluator.fail = failure
    response = lite_api.get("/metrics", role="viewer")
    assert response.status_code == 200
    samples = _scrape(response.text)
    assert samples["srekit_slo_statuses_up"] == {frozenset(): 0.0}
    assert not [name for name in samples if name.startswith("srekit_slo_") and "up" not in name]
    assert samples["srekit_evaluation_rounds_total"]  # the evaluator's own metrics remain
    assert "without SLO figures" in caplog.text
    lite_api.evaluator.fail = None
    assert _scrape(lite_api.get("/metrics", role="viewer").text)["srekit_slo_statuses_up"] == {
        frozenset(): 1.0
    }


def test_a_deleted_slo_leaves_no_series(sqlite_engine: Engine, tmp_path: Path) -> None:
    """On the server's own provider (the store's newest snapshots): after a deletion, the next
    evaluation round's statuses no longer hold the SLO, and neither does the scrape."""
    tokens = make_tokens(sqlite_engine)
    headers = {"Authorization": f"Bearer {tokens['admin']}"}
    app = create_app(Settings(home=tmp_path), engine=sqlite_engine, catalog_ttl_s=0, status_ttl_s=0)
    now = datetime.now(UTC)
    with TestClient(app) as client:
        for name in ("availability", "latency"):
            created = client.put(
                f"/api/v1/slos/checkout/{name}", json={"spec": AVAILABILITY_SPEC}, headers=headers
            )
            assert created.status_code == 201, created.text
        with transaction(sqlite_engine) as session:
            record_snapshots(
                session,
                statuses=[
                    status_for("checkout", "availability", 0.9, at=now),
                    status_for("checkout", "latency", 0.4, at=now),
                ],
            )
        before = _scrape(client.get("/metrics", headers=headers).text)
        remaining = before["srekit_slo_error_budget_remaining_ratio"]
        assert remaining == {
            _labels(service="checkout", slo="availability"): 0.9,
            _labels(service="checkout", slo="latency"): 0.4,
        }
        deleted = client.delete("/api/v1/slos/checkout/latency", headers=headers)
        assert deleted.status_code == 204, deleted.text
        with transaction(sqlite_engine) as session:  # the next round
            record_snapshots(
                session,
                statuses=[
                    status_for("checkout", "availability", 0.8, at=now + timedelta(minutes=1))
                ],
            )
        after = _scrape(client.get("/metrics", headers=headers).text)
        listed = client.get("/api/v1/status", headers=headers).json()
    assert [(s["slo"], s["error_budget"]["remaining"]) for s in listed] == [("availability", 0.8)]
    for name, series in after.items():
        if name.startswith("srekit_slo_") and name != "srekit_slo_statuses_up":
            assert {dict(labels)["slo"] for labels in series} == {"availability"}, name
    assert after["srekit_slo_error_budget_remaining_ratio"] == {
        _labels(service="checkout", slo="availability"): 0.8
    }


def test_a_scrape_renders_the_same_statuses_once(lite_api: Api) -> None:
    """The statuses are reloaded only when a round stored new ones; the text is kept for them."""
    state = lite_api.client.app.state.srekit  # type: ignore[attr-defined]
    statuses = [_evaluated()]
    first = state.metrics.slo_exposition(statuses)
    assert state.metrics.cached_slo_exposition(statuses) is first
    assert state.metrics.cached_slo_exposition(list(statuses)) is None  # another refresh
