"""The incident figures document holds to `IncidentStatsOut` (its models have no defaults, and
a round trip through one drops what it does not know), and reads as the contract says:
snake_case, seconds, fractions without floating-point noise, integer counts, UTC times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from srekit.contracts import IncidentStatsOut, incident_stats_document
from srekit.core.incident import Incident, IncidentState, Severity
from srekit.core.incident_stats import IncidentBudget, incident_budget, incident_stats
from srekit.core.sli import EventCounts

T0 = datetime(2026, 11, 1, tzinfo=UTC)
END = T0 + timedelta(days=30)


def _incident(
    id: int,
    severity: Severity,
    services: tuple[str, ...],
    opened: datetime,
    *,
    acked_s: int | None = None,
    resolved_s: int | None = None,
) -> Incident:
    return Incident(
        id=id,
        title=f"incident {id}",
        severity=severity,
        state=IncidentState.RESOLVED if resolved_s is not None else IncidentState.TRIGGERED,
        opened_at=opened,
        services=services,
        acknowledged_at=None if acked_s is None else opened + timedelta(seconds=acked_s),
        resolved_at=None if resolved_s is None else opened + timedelta(seconds=resolved_s),
    )


INCIDENTS = [
    # checkout P1: acknowledged after 100 s and 200 s (1000 s: missed), resolved after 3600 s
    _incident(1, Severity.P1, ("checkout",), T0 + timedelta(days=1), acked_s=100, resolved_s=3600),
    _incident(2, Severity.P1, ("checkout",), T0 + timedelta(days=2), acked_s=200, resolved_s=7200),
    _incident(3, Severity.P1, ("checkout",), T0 + timedelta(days=3), acked_s=1000),
    # catalog P0, never answered; and one naming no service
    _incident(4, Severity.P0, ("catalog",), T0 + timedelta(days=4)),
    _incident(5, Severity.P3, (), T0 + timedelta(days=5), acked_s=60, resolved_s=60),
]
BUDGETS = [
    # 250 bad of 1,000 allowed
    incident_budget(
        1,
        slo="checkout/availability",
        objective=0.999,
        interval=EventCounts(9_750, 10_000),
        window=EventCounts(999_000, 1_000_000),
    ),
    IncidentBudget(4, "catalog/availability", reason="the event store is not available"),
]


def _document() -> dict[str, Any]:
    stats = incident_stats(INCIDENTS, start=T0, end=END, now=END, budgets=BUDGETS)
    return incident_stats_document(stats)


def test_the_document_holds_to_its_model() -> None:
    document = _document()
    assert IncidentStatsOut.model_validate(document).model_dump() == document


def test_figures_read_as_what_they_mean() -> None:
    document = _document()
    assert (document["start"], document["end"], document["at"]) == (
        "2026-11-01T00:00:00Z",
        "2026-12-01T00:00:00Z",
        "2026-12-01T00:00:00Z",
    )
    checkout = document["by_service"]["checkout"]
    # MTTA (100 + 200 + 1000) / 3 = 433.333…; 2 of 3 within 900 s; 1 day between starts
    assert checkout["mtta_s"] == 433.333333333
    assert checkout["response_share"] == 0.666666666667
    assert checkout["mttr_s"] == 5400.0
    assert checkout["mtbf_s"] == 86400.0
    assert list(checkout["by_severity"]) == ["P1"]
    assert checkout["by_severity"]["P1"]["count"] == 3
    assert list(document["by_severity"]) == ["P0", "P1", "P2", "P3"]
    assert document["by_severity"]["P2"] == {
        "count": 0,
        "open": 0,
        "acknowledged": 0,
        "resolved": 0,
        "mtta_s": None,
        "mttr_s": None,
        "mtbf_s": None,
        "response_met": 0,
        "response_missed": 0,
        "response_share": None,
    }
    assert document["overall"]["count"] == 5
    assert list(document["by_service"]) == ["catalog", "checkout"]
    assert document["budgets"] == [
        {
            "incident_id": 1,
            "slo": "checkout/availability",
            "consumed": 0.25,
            "bad_events": 250,
            "allowed_bad_events": 1000.0,
            "reason": None,
        },
        {
            "incident_id": 4,
            "slo": "catalog/availability",
            "consumed": None,
            "bad_events": None,
            "allowed_bad_events": None,
            "reason": "the event store is not available",
        },
    ]
