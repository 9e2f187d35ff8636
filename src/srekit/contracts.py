"""JSON shapes of srekit's results (DESIGN.md "Contracts"): snake_case, fractions, seconds, UTC."""

from __future__ import annotations

from typing import Any

from srekit.core.instant import format_instant
from srekit.core.policy import GateDecision
from srekit.core.status import SloStatus

__all__ = ["gate_document", "status_document"]


def status_document(status: SloStatus) -> dict[str, Any]:
    """One SLO's status as `srekit status --format json` prints it."""
    budget = status.error_budget
    return {
        "service": status.service,
        "slo": status.slo,
        "objective": status.objective,
        "window": status.window,
        "window_s": status.window_s,
        "at": format_instant(status.at),
        "sli": status.sli,
        "error_budget": {
            "remaining": budget.remaining if budget else None,
            "consumed": budget.consumed if budget else None,
            "allowed_bad_events": budget.allowed_bad_events if budget else None,
        },
        "events": (
            {"good": status.counts.good, "total": status.counts.total}
            if status.counts and status.counts.counted
            else None
        ),
        "burn_rates": dict(status.burn_rates),
        "time_to_exhaustion_s": status.time_to_exhaustion_s,
        "alerts": [
            {
                "severity": alert.severity,
                "long_window": alert.long_window,
                "short_window": alert.short_window,
                "factor": alert.factor,
                "firing": alert.firing,
            }
            for alert in status.alerts
        ],
        "policy_state": status.policy_state,
        "data": status.data.value,
        "detail": status.detail,
        "labels": dict(status.labels),
    }


def gate_document(decision: GateDecision, statuses: list[SloStatus]) -> dict[str, Any]:
    """The gate's answer: decision, state, reasons, and the figures of the service's SLOs."""
    return {
        "service": decision.service,
        "change_type": decision.change_type,
        "allowed": decision.allowed,
        "decision": decision.decision.value,
        "state": decision.state,
        "reasons": list(decision.reasons),
        "actions": list(decision.actions),
        "slos": [
            {
                "slo": s.slo,
                "objective": s.objective,
                "window": s.window,
                "sli": s.sli,
                "remaining": s.error_budget.remaining if s.error_budget else None,
                "burn_rate_1h": s.burn_rates.get("1h"),
                "policy_state": s.policy_state,
                "data": s.data.value,
            }
            for s in statuses
            if s.service == decision.service
        ],
    }
