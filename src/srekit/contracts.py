"""JSON shapes of srekit's results (DESIGN.md "Contracts"): snake_case, fractions, seconds, UTC.

Each shape is a pydantic model, the one the API's OpenAPI document shows and the CLI's
`--format json` prints. The documents themselves are built as plain dicts (`status_document`,
`gate_document`, `token_document`): hot endpoints serve thousands a second, and a model per
answer would cost more than the answer; a test holds every built document to its model.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, Protocol

from pydantic import BaseModel, Field

from srekit.core.instant import format_instant
from srekit.core.policy import GateDecision
from srekit.core.status import SloStatus

__all__ = [
    "AlertOut",
    "ErrorBudgetOut",
    "EventsOut",
    "GateOut",
    "GateSloOut",
    "ResponseModel",
    "StatusOut",
    "Time",
    "gate_document",
    "status_document",
    "token_document",
]

Time = Annotated[str, Field(description="RFC 3339, UTC", examples=["2026-11-01T00:00:00Z"])]


class ResponseModel(BaseModel):
    """Responses: clients must ignore fields they do not know, so later ones can be added."""


class ErrorBudgetOut(ResponseModel):
    remaining: float | None
    consumed: float | None
    allowed_bad_events: float | None


class EventsOut(ResponseModel):
    good: float
    total: float


class AlertOut(ResponseModel):
    severity: str
    long_window: str
    short_window: str
    factor: float
    firing: bool | None


class StatusOut(ResponseModel):
    """One SLO's status, as `srekit status --format json` prints it."""

    service: str
    slo: str
    objective: float
    window: str
    window_s: int
    at: Time
    sli: float | None
    error_budget: ErrorBudgetOut
    events: EventsOut | None
    burn_rates: dict[str, float | None]
    time_to_exhaustion_s: float | None
    alerts: list[AlertOut]
    policy_state: str
    data: Literal["ok", "no_data", "stale", "error"]
    detail: str | None
    labels: dict[str, str]


class GateSloOut(ResponseModel):
    slo: str
    objective: float
    window: str
    sli: float | None
    remaining: float | None
    burn_rate_1h: float | None
    policy_state: str
    data: Literal["ok", "no_data", "stale", "error"]


class GateOut(ResponseModel):
    """The deploy gate's answer; `allowed` is true only for decision `allow`."""

    service: str
    change_type: str
    allowed: bool
    decision: Literal["allow", "review", "deny"]
    state: str
    reasons: list[str]
    actions: list[str]
    slos: list[GateSloOut]


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


class _TokenRecord(Protocol):
    """What `token_document` reads of a stored token (the store's `ApiTokenRow`)."""

    @property
    def name(self) -> str: ...
    @property
    def role(self) -> str: ...
    @property
    def prefix(self) -> str: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def created_by(self) -> str: ...
    @property
    def last_used_at(self) -> datetime | None: ...
    @property
    def revoked_at(self) -> datetime | None: ...


def token_document(row: _TokenRecord) -> dict[str, str | None]:
    """An API token as `srekit token list` prints it and `/api/v1/tokens` serves it (`TokenOut`
    in the API's schemas); never the token itself, which only its creation shows."""
    return {
        "name": row.name,
        "role": row.role,
        "prefix": row.prefix,
        "created_at": format_instant(row.created_at),
        "created_by": row.created_by,
        "last_used_at": None if row.last_used_at is None else format_instant(row.last_used_at),
        "revoked_at": None if row.revoked_at is None else format_instant(row.revoked_at),
    }
