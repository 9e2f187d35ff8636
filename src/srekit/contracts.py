"""JSON shapes of srekit's results (DESIGN.md "Contracts"): snake_case, fractions, seconds, UTC.

Each shape is a pydantic model, the one the API's OpenAPI document shows and the CLI's
`--format json` prints. The documents themselves are built as plain dicts (`status_document`,
`gate_document`, `token_document`): hot endpoints serve thousands a second, and a model per
answer would cost more than the answer; a test holds every built document to its model.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from srekit.core.capacity import Crossing, HpaDecision
    from srekit.flows.capacity import PastForecast, PlanResult, ResourceForecast

from srekit.core.alert_quality import AlertQualityReport, QualityTargets, RuleQuality
from srekit.core.chaos import passed
from srekit.core.incident import FollowUpTask, IncidentAlert, IncidentView
from srekit.core.incident_stats import IncidentBudget, IncidentFigures, IncidentStats
from srekit.core.instant import format_instant
from srekit.core.people import Person
from srekit.core.policy import GateDecision
from srekit.core.postmortem import PostmortemView, publish_problems, sections_document
from srekit.core.report import SreReport
from srekit.core.rotation import PersonLoad, Shift
from srekit.core.status import SloStatus
from srekit.core.window import parse_duration

__all__ = [
    "TOIL_NOT_TRACKED",
    "ActionItemReportOut",
    "AlertOut",
    "AlertPeriodOut",
    "AlertQualityOut",
    "BudgetLineOut",
    "BurnDownPointOut",
    "ChaosRunOut",
    "ContactOut",
    "DenialMarkOut",
    "DeploymentMarkOut",
    "DeploymentSummaryOut",
    "ErrorBudgetOut",
    "EscalationOut",
    "EventsOut",
    "FairnessOut",
    "GapOut",
    "GateOut",
    "GateSloOut",
    "HandoffOut",
    "HeatmapOut",
    "HeatmapRowOut",
    "HistoryOut",
    "HistorySeriesOut",
    "IncidentBudgetOut",
    "IncidentChangeOut",
    "IncidentDetailOut",
    "IncidentFiguresOut",
    "IncidentMarkOut",
    "IncidentOut",
    "IncidentShownOut",
    "IncidentStatsOut",
    "OnCallShiftOut",
    "OverlaysOut",
    "PersonLoadOut",
    "PersonOut",
    "PersonScheduleOut",
    "PersonShiftOut",
    "PostmortemOut",
    "QualityTargetsOut",
    "ReceivedAlertOut",
    "ReportBudgetOut",
    "ReportOut",
    "ReportPeriodOut",
    "ReportSloOut",
    "ResponseModel",
    "RuleQualityOut",
    "ScheduleOut",
    "ShiftOut",
    "SloChangeOut",
    "StatusOut",
    "TaskOut",
    "Time",
    "ToilOut",
    "WhoOut",
    "alert_document",
    "alert_quality_document",
    "capacity_plan_document",
    "capacity_resource_document",
    "chaos_run_document",
    "fairness_document",
    "figure",
    "gate_document",
    "heatmap_document",
    "history_document",
    "incident_change_document",
    "incident_document",
    "incident_stats_document",
    "overlays_document",
    "past_forecast_document",
    "person_document",
    "person_schedule_document",
    "postmortem_document",
    "report_document",
    "schedule_document",
    "shift_document",
    "status_document",
    "status_from_document",
    "task_document",
    "token_document",
    "who_document",
]

Time = Annotated[str, Field(description="RFC 3339, UTC", examples=["2026-11-01T00:00:00Z"])]


class ResponseModel(BaseModel):
    """Responses: clients must ignore fields they do not know, so later ones can be added."""


class ErrorBudgetOut(ResponseModel):
    remaining: float | None
    consumed: float | None
    allowed_bad_events: float | None


class EventsOut(ResponseModel):
    """Event counts: integers when the source counted events (Prometheus' `increase()` may
    give fractions, kept to 12 significant digits)."""

    good: int | float
    total: int | float


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
    burn_rates: dict[str, float | None] = Field(
        description="per window, shortest first; keys are window names (5m … 30d, month)"
    )
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


def figure(value: float | None) -> float | None:
    """`value` without floating-point noise: 12 significant digits, so 3.9999999999999956
    reads 4.0 and 0.23333333333333334 reads 0.233333333333 (far below what any SLO means)."""
    return None if value is None else float(f"{value:.12g}")


def _count(value: float) -> int | float:
    whole = round(value)
    return whole if abs(value - whole) < 1e-6 else float(f"{value:.12g}")


def _shortest_first(burn_rates: Mapping[str, float | None]) -> dict[str, float | None]:
    """Burn rates in window order (5m … 3d, then the SLO's window), however they were stored."""

    def length(name: str) -> float:
        try:
            return parse_duration(name)
        except ValueError:
            return math.inf  # a calendar window (`month`): the SLO's own, last

    return {name: figure(burn_rates[name]) for name in sorted(burn_rates, key=length)}


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
        "sli": figure(status.sli),
        "error_budget": {
            "remaining": figure(budget.remaining) if budget else None,
            "consumed": figure(budget.consumed) if budget else None,
            "allowed_bad_events": figure(budget.allowed_bad_events) if budget else None,
        },
        "events": (
            {"good": _count(status.counts.good), "total": _count(status.counts.total)}
            if status.counts and status.counts.counted
            else None
        ),
        "burn_rates": _shortest_first(status.burn_rates),
        "time_to_exhaustion_s": figure(status.time_to_exhaustion_s),
        "alerts": [
            {
                "severity": alert.severity,
                "long_window": alert.long_window,
                "short_window": alert.short_window,
                "factor": figure(alert.factor),
                "firing": alert.firing,
            }
            for alert in status.alerts
        ],
        "policy_state": status.policy_state,
        "data": status.data.value,
        "detail": status.detail,
        "labels": dict(status.labels),
    }


def status_from_document(document: Any) -> SloStatus:
    """The status a `status_document` describes (a server's answer, read by `--server`):
    checked against `StatusOut` first, so a malformed answer is a ValidationError, not a
    status with holes. Window lengths of the alerts are not in the document: 0."""
    from srekit.core.alerts import BurnRateAlert
    from srekit.core.budget import ErrorBudget
    from srekit.core.instant import parse_instant
    from srekit.core.sli import EventCounts
    from srekit.core.status import DataState

    shown = StatusOut.model_validate(document)
    budget = shown.error_budget
    return SloStatus(
        service=shown.service,
        slo=shown.slo,
        objective=shown.objective,
        window=shown.window,
        window_s=shown.window_s,
        at=parse_instant(shown.at),
        sli=shown.sli,
        error_budget=(
            None
            if budget.remaining is None or budget.consumed is None
            else ErrorBudget(budget.remaining, budget.consumed, budget.allowed_bad_events)
        ),
        burn_rates=dict(shown.burn_rates),
        time_to_exhaustion_s=shown.time_to_exhaustion_s,
        alerts=tuple(
            BurnRateAlert(
                severity=alert.severity,  # type: ignore[arg-type]
                long_window=alert.long_window,
                short_window=alert.short_window,
                long_window_s=0,
                short_window_s=0,
                factor=alert.factor,
                firing=alert.firing,
            )
            for alert in shown.alerts
        ),
        policy_state=shown.policy_state,
        data=DataState(shown.data),
        detail=shown.detail,
        counts=(
            EventCounts(good=shown.events.good, total=shown.events.total) if shown.events else None
        ),
        labels=dict(shown.labels),
    )


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
                "sli": figure(s.sli),
                "remaining": figure(s.error_budget.remaining) if s.error_budget else None,
                "burn_rate_1h": figure(s.burn_rates.get("1h")),
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


# --- incidents ---------------------------------------------------------------------------------


class TaskOut(ResponseModel):
    """A follow-up task of an incident (or an action item of its post-mortem)."""

    id: int
    incident: int
    title: str
    owner: str | None
    due_at: Time | None
    state: Literal["open", "done", "cancelled"]
    source: str
    created_at: Time
    done_at: Time | None


class IncidentOut(ResponseModel):
    """An incident as `srekit incident list --format json` prints it."""

    id: int
    title: str
    severity: Literal["P0", "P1", "P2", "P3"]
    state: Literal["triggered", "acknowledged", "mitigated", "resolved", "closed"]
    services: list[str]
    slos: list[str]
    opened_at: Time
    acknowledged_at: Time | None
    mitigated_at: Time | None
    resolved_at: Time | None
    closed_at: Time | None
    time_to_acknowledge_s: float | None
    time_to_resolve_s: float | None
    alerts: list[str] = Field(description="fingerprints of the incident's alerts")
    roles: dict[str, str]
    reopened: int
    noise: bool = Field(
        description="closed as noise: a false alarm, whose alerts count as false positives"
    )
    summary: str | None
    created_by: str
    resolved_by: str | None
    silences: list[str] = Field(
        description="ids of the Alertmanager silences it holds: made when it was acknowledged,"
        " expired when it resolves or closes"
    )


class TimelineEntryOut(ResponseModel):
    at: Time
    kind: str
    actor: str
    text: str
    data: dict[str, Any]


class IncidentAlertOut(ResponseModel):
    fingerprint: str
    alertname: str
    status: Literal["firing", "resolved"]
    starts_at: Time
    ends_at: Time | None
    labels: dict[str, str]


class ReceivedAlertOut(IncidentAlertOut):
    """An alert instance as `GET /api/v1/alerts` lists it."""

    incident: int | None = Field(description="the incident it joined (null: none)")
    routed: bool = Field(description="false when no route took it: kept, listed, not dropped")


def alert_document(alert: IncidentAlert) -> dict[str, Any]:
    """`ReceivedAlertOut` of a stored alert instance."""
    return {
        "fingerprint": alert.fingerprint,
        "alertname": alert.alertname,
        "status": alert.status,
        "starts_at": format_instant(alert.starts_at),
        "ends_at": _instant(alert.ends_at),
        "labels": dict(alert.labels),
        "incident": alert.incident_id,
        "routed": alert.routed,
    }


class RelatedIncidentOut(ResponseModel):
    id: int
    title: str


class PriorDeploymentOut(ResponseModel):
    service: str
    version: str | None
    change_type: str
    allowed: bool
    requested_at: Time


class EscalationOut(ResponseModel):
    """Where an incident's escalation is (`srekit oncall escalation show --format json`)."""

    incident_id: int
    policy: str
    policy_version: int = Field(description="the policy's version it follows to its end")
    state: Literal["active", "stopped", "exhausted"]
    next_step: int | None = Field(description="the policy's step due next, from 1; null once over")
    next_at: Time | None = Field(description="when the next step is due; null once over")
    steps_paged: int = Field(description="steps paged (or found nobody to page) so far")
    reason: str | None = Field(description="why it stopped: acknowledged, resolved or closed")
    started_at: Time
    updated_at: Time


class IncidentDetailOut(IncidentOut):
    """An incident as `srekit incident show --format json` prints it: with its timeline, tasks,
    alerts, earlier related incidents and the deploys on its services in the 24 h before."""

    timeline: list[TimelineEntryOut] = Field(
        description="oldest first: alerts, state changes, notes, roles, tasks, silences, and"
        " the gate's deploy decisions on the incident's services in the 24 h before it"
    )
    participants: list[str] = Field(description="who held a role or acted on the incident")
    tasks: list[TaskOut]
    alert_details: list[IncidentAlertOut]
    related: list[RelatedIncidentOut]
    deployments: list[PriorDeploymentOut]


class IncidentShownOut(IncidentDetailOut):
    """An incident as `GET /api/v1/incidents/{id}` shows it: its detail, and where its
    escalation is."""

    escalation: EscalationOut | None = Field(
        description="where its escalation is; null when none started (no policy covers it, or"
        " it was acknowledged first)"
    )


class IncidentChangeOut(IncidentDetailOut):
    """An incident after a move through its lifecycle (`srekit incident ack|resolve|…
    --format json`), with what the move did in Alertmanager. The move itself is stored
    whatever Alertmanager did: `silence_failures` says what failed there."""

    silence_created: str | None = Field(
        description="the id of the silence this acknowledgement made (asked with silence)"
    )
    silences_expired: list[str] = Field(description="the silences this move expired")
    silence_failures: list[str] = Field(
        description="what failed in Alertmanager: a silence not made, or not expired"
    )


def _instant(moment: datetime | None) -> str | None:
    return None if moment is None else format_instant(moment)


def task_document(task: FollowUpTask) -> dict[str, Any]:
    return {
        "id": task.id,
        "incident": task.incident_id,
        "title": task.title,
        "owner": task.owner,
        "due_at": _instant(task.due_at),
        "state": task.state.value,
        "source": task.source,
        "created_at": format_instant(task.created_at),
        "done_at": _instant(task.done_at),
    }


def incident_document(view: IncidentView, *, detail: bool = False) -> dict[str, Any]:
    """`IncidentOut` (or `IncidentDetailOut` with `detail`) of an incident."""
    incident = view.incident
    acknowledge = incident.time_to_acknowledge()
    resolve = incident.time_to_resolve()
    document: dict[str, Any] = {
        "id": incident.id,
        "title": incident.title,
        "severity": incident.severity.value,
        "state": incident.state.value,
        "services": list(incident.services),
        "slos": list(incident.slos),
        "opened_at": format_instant(incident.opened_at),
        "acknowledged_at": _instant(incident.acknowledged_at),
        "mitigated_at": _instant(incident.mitigated_at),
        "resolved_at": _instant(incident.resolved_at),
        "closed_at": _instant(incident.closed_at),
        "time_to_acknowledge_s": None if acknowledge is None else acknowledge.total_seconds(),
        "time_to_resolve_s": None if resolve is None else resolve.total_seconds(),
        "alerts": list(incident.alerts),
        "roles": {str(role): person for role, person in incident.roles.items()},
        "reopened": incident.reopened,
        "noise": incident.noise,
        "summary": view.summary,
        "created_by": view.created_by,
        "resolved_by": view.resolved_by,
        "silences": list(view.silences),
    }
    if detail:
        document["timeline"] = [
            {
                "at": format_instant(entry.at),
                "kind": entry.kind.value,
                "actor": entry.actor,
                "text": entry.text,
                "data": dict(entry.data),
            }
            for entry in view.timeline
        ]
        document["participants"] = list(view.participants)
        document["tasks"] = [task_document(task) for task in view.tasks]
        document["alert_details"] = [
            {
                key: value
                for key, value in alert_document(alert).items()
                if key not in {"incident", "routed"}
            }
            for alert in view.alert_details
        ]
        document["related"] = [{"id": i, "title": t} for i, t in view.related]
        document["deployments"] = [
            {
                "service": deploy.service,
                "version": deploy.version,
                "change_type": deploy.change_type,
                "allowed": deploy.allowed,
                "requested_at": format_instant(deploy.requested_at),
            }
            for deploy in view.deployments
        ]
    return document


def incident_change_document(
    view: IncidentView,
    *,
    silence_created: str | None = None,
    silences_expired: tuple[str, ...] = (),
    silence_failures: tuple[str, ...] = (),
) -> dict[str, Any]:
    """`IncidentChangeOut`: the incident's detail and what its move did in Alertmanager."""
    return {
        **incident_document(view, detail=True),
        "silence_created": silence_created,
        "silences_expired": list(silences_expired),
        "silence_failures": list(silence_failures),
    }


# -- incident figures: `IncidentStatsOut` and its builder ------------------------------------


class IncidentFiguresOut(ResponseModel):
    """One group's incident figures (`core.incident_stats` defines each); seconds, fractions."""

    count: int = Field(description="incidents opened in the period")
    open: int = Field(description="of those, not resolved at `at`")
    acknowledged: int = Field(description="incidents MTTA averages over")
    resolved: int = Field(description="incidents MTTR averages over")
    mtta_s: float | None = Field(description="mean time to acknowledge; null: none acknowledged")
    mttr_s: float | None = Field(description="mean time to resolve; null: none resolved")
    mtbf_s: float | None = Field(
        description="mean gap between consecutive incidents' starts; null under two incidents"
    )
    response_met: int
    response_missed: int
    response_share: float | None = Field(
        description="met / (met + missed) against the severity's response target; null: none"
        " judged yet"
    )


class ServiceIncidentFiguresOut(IncidentFiguresOut):
    """A service's figures, and the same per severity of its incidents (those it had)."""

    by_severity: dict[str, IncidentFiguresOut]


class IncidentBudgetOut(ResponseModel):
    """The share of an SLO's error budget one incident consumed: bad events during the
    incident over the bad events the SLO allows in its window ending with the incident."""

    incident_id: int
    slo: str = Field(description="service/name")
    consumed: float | None = Field(description="fraction of the budget; null: see reason")
    bad_events: int | float | None
    allowed_bad_events: float | None
    reason: str | None


class IncidentStatsOut(ResponseModel):
    """Incident figures of the period [start, end) as seen at `at`: overall, per severity
    (every severity, P0 first), per service (by name) and per service and severity, with the
    budget each of the period's incidents consumed of the SLOs it names."""

    start: Time
    end: Time
    at: Time
    overall: IncidentFiguresOut
    by_severity: dict[str, IncidentFiguresOut]
    by_service: dict[str, ServiceIncidentFiguresOut]
    budgets: list[IncidentBudgetOut]


def _incident_figures(figures: IncidentFigures) -> dict[str, Any]:
    return {
        "count": figures.count,
        "open": figures.open,
        "acknowledged": figures.acknowledged,
        "resolved": figures.resolved,
        "mtta_s": figure(figures.mtta_s),
        "mttr_s": figure(figures.mttr_s),
        "mtbf_s": figure(figures.mtbf_s),
        "response_met": figures.response_met,
        "response_missed": figures.response_missed,
        "response_share": figure(figures.response_share),
    }


def _incident_budget(budget: IncidentBudget) -> dict[str, Any]:
    return {
        "incident_id": budget.incident_id,
        "slo": budget.slo,
        "consumed": figure(budget.consumed),
        "bad_events": None if budget.bad_events is None else _count(budget.bad_events),
        "allowed_bad_events": figure(budget.allowed_bad_events),
        "reason": budget.reason,
    }


def incident_stats_document(stats: IncidentStats) -> dict[str, Any]:
    """Incident figures as `IncidentStatsOut` describes them."""
    by_service: dict[str, dict[str, Any]] = {
        service: {**_incident_figures(figures), "by_severity": {}}
        for service, figures in stats.by_service.items()
    }
    for (service, severity), figures in stats.by_service_severity.items():
        by_service[service]["by_severity"][severity.value] = _incident_figures(figures)
    return {
        "start": format_instant(stats.start),
        "end": format_instant(stats.end),
        "at": format_instant(stats.at),
        "overall": _incident_figures(stats.overall),
        "by_severity": {
            severity.value: _incident_figures(figures)
            for severity, figures in stats.by_severity.items()
        },
        "by_service": by_service,
        "budgets": [_incident_budget(budget) for budget in stats.budgets],
    }


# -- alert quality: `AlertQualityOut` and its builder -----------------------------------------


class RuleQualityOut(ResponseModel):
    """One alert rule's figures over the period (`core.alert_quality` defines each); seconds,
    fractions."""

    rule: str = Field(description="the alertname; `*` for every rule together")
    fires: int = Field(description="instances that started in the period")
    actionable: int = Field(description="fires whose incident was acknowledged, not noise")
    actionable_rate: float
    false_positives: int = Field(description="noise, or resolved alone before any ack")
    false_positive_rate: float
    noise: int = Field(description="fires whose incident was closed as noise")
    auto_resolved: int = Field(
        description="fires that ended within auto_resolve_s of firing, before any ack"
    )
    refires: int = Field(description="fires within an hour of the same fingerprint's last end")
    refire_share: float
    without_incident: int = Field(description="fires that joined no incident")
    unrouted: int = Field(description="of those, fires no route took")
    incidents: int = Field(description="distinct incidents of the fires")
    acknowledged: int
    resolved: int
    tta_median_s: float | None = Field(description="median time to acknowledge; null: none")
    tta_p90_s: float | None = Field(description="90th percentile by nearest rank; null: none")
    mttr_s: float | None = Field(description="mean time to resolve; null: none resolved")
    pages: int
    pages_per_shift: float
    targets: dict[str, bool | None] = Field(
        description="per target (actionable, false_positives, mtta, mttr): met, missed, or"
        " null when it cannot be judged"
    )
    missed_targets: list[str]


class QualityTargetsOut(ResponseModel):
    actionable_min: float
    false_positive_max: float
    mtta_max_s: float
    mttr_max_s: float


class AlertQualityOut(ResponseModel):
    """Which alert rules are worth waking up for: per rule, noisiest first, over the alerts
    that started in [start, end) (of one service, if asked), and every rule together."""

    start: Time
    end: Time
    service: str | None
    auto_resolve_s: float
    shift_s: float
    shifts: float = Field(description="on-call shifts in the period: pages_per_shift divides")
    targets: QualityTargetsOut
    overall: RuleQualityOut | None = Field(description="every rule together; null: no fires")
    rules: list[RuleQualityOut]


def _rule_quality(rule: RuleQuality) -> dict[str, Any]:
    return {
        "rule": rule.rule,
        "fires": rule.fires,
        "actionable": rule.actionable,
        "actionable_rate": figure(rule.actionable_rate),
        "false_positives": rule.false_positives,
        "false_positive_rate": figure(rule.false_positive_rate),
        "noise": rule.noise,
        "auto_resolved": rule.auto_resolved,
        "refires": rule.refires,
        "refire_share": figure(rule.refire_share),
        "without_incident": rule.without_incident,
        "unrouted": rule.unrouted,
        "incidents": rule.incidents,
        "acknowledged": rule.acknowledged,
        "resolved": rule.resolved,
        "tta_median_s": figure(rule.tta_median_s),
        "tta_p90_s": figure(rule.tta_p90_s),
        "mttr_s": figure(rule.mttr_s),
        "pages": rule.pages,
        "pages_per_shift": figure(rule.pages_per_shift),
        "targets": dict(rule.targets),
        "missed_targets": list(rule.missed_targets),
    }


def _targets(targets: QualityTargets) -> dict[str, float]:
    return {
        "actionable_min": targets.actionable_min,
        "false_positive_max": targets.false_positive_max,
        "mtta_max_s": targets.mtta_max_s,
        "mttr_max_s": targets.mttr_max_s,
    }


def alert_quality_document(
    report: AlertQualityReport, *, service: str | None = None
) -> dict[str, Any]:
    """The alert quality report as `AlertQualityOut` describes it."""
    return {
        "start": format_instant(report.start),
        "end": format_instant(report.end),
        "service": service,
        "auto_resolve_s": float(report.auto_resolve_s),
        "shift_s": float(report.shift_s),
        "shifts": figure(report.shifts),
        "targets": _targets(report.targets),
        "overall": None if report.overall is None else _rule_quality(report.overall),
        "rules": [_rule_quality(rule) for rule in report.rules],
    }


# --- post-mortems ------------------------------------------------------------------------------


class ImpactOut(ResponseModel):
    duration_s: float | None = Field(description="opened → resolved, seconds")
    affected_share: float | None = Field(description="users (requests) failed, a fraction")
    budget_consumed: dict[str, float | None] = Field(
        description="per SLO (service/slo), the fraction of its error budget consumed"
    )
    description: str


class PostmortemTimelineItemOut(ResponseModel):
    at: Time
    actor: str
    text: str


class ActionItemOut(ResponseModel):
    title: str
    owner: str | None
    due_at: Time | None
    task: int | None = Field(description="the follow-up task tracking it, once published")


class SectionsOut(ResponseModel):
    """The blameless template's sections; empty text is not written yet."""

    summary: str
    impact: ImpactOut
    timeline: list[PostmortemTimelineItemOut]
    root_cause: str
    what_went_well: str
    what_went_wrong: str
    action_items: list[ActionItemOut] | Literal["none"]
    lessons_learned: str


class PostmortemOut(ResponseModel):
    """A post-mortem as `srekit postmortem show --format json` prints it."""

    incident: int
    title: str = Field(description="the incident's title")
    incident_state: Literal["triggered", "acknowledged", "mitigated", "resolved", "closed"]
    state: Literal["draft", "in_review", "published"]
    version: int = Field(description="of the sections: one more per edit")
    created_at: Time
    created_by: str
    updated_at: Time
    updated_by: str
    published_at: Time | None
    published_by: str | None
    publish_problems: list[str] = Field(
        description="what stops it from being published (empty: nothing but its state)"
    )
    sections: SectionsOut


def postmortem_document(view: PostmortemView) -> dict[str, Any]:
    """`PostmortemOut` of a post-mortem."""
    postmortem = view.postmortem
    return {
        "incident": postmortem.incident_id,
        "title": view.incident.title,
        "incident_state": view.incident.state.value,
        "state": postmortem.state.value,
        "version": postmortem.version,
        "created_at": format_instant(postmortem.created_at),
        "created_by": postmortem.created_by,
        "updated_at": format_instant(postmortem.updated_at),
        "updated_by": postmortem.updated_by,
        "published_at": _instant(postmortem.published_at),
        "published_by": postmortem.published_by,
        "publish_problems": list(publish_problems(postmortem, incident=view.incident)),
        "sections": sections_document(postmortem.sections),
    }


# --- on call -----------------------------------------------------------------------------------


class ContactOut(ResponseModel):
    kind: Literal["email", "webhook", "slack", "pagerduty"]
    target: str


class PersonOut(ResponseModel):
    """A person as `srekit person show --format json` prints it and `PUT /api/v1/people/{name}`
    takes it back (without `name`, which the path gives)."""

    name: str = Field(description="the handle rotations list as a member")
    display_name: str | None
    email: str | None
    timezone: str | None = Field(description="IANA; null: the rotation's own zone")
    team: str | None
    contacts: list[ContactOut] = Field(description="in the order to try them")


def person_document(person: Person) -> dict[str, Any]:
    """`PersonOut` of a person (also what the audit log keeps of one)."""
    return {
        "name": person.name,
        "display_name": person.display_name,
        "email": person.email,
        "timezone": person.timezone,
        "team": person.team,
        "contacts": [{"kind": c.kind.value, "target": c.target} for c in person.contacts],
    }


class OnCallShiftOut(ResponseModel):
    member: str | None = Field(description="null: nobody holds the layer (a gap)")
    shift_start: Time | None = Field(description="null: since ever (before any shift)")
    shift_end: Time | None


class WhoOut(ResponseModel):
    """Who holds each layer of a rotation at one instant, as `srekit oncall who --format
    json` prints it."""

    rotation: str
    at: Time
    layers: dict[str, OnCallShiftOut] = Field(description="by layer, in the rotation's order")


def _bound(moment: datetime) -> str | None:
    return None if moment.year in (1, 9999) else format_instant(moment)


def who_document(rotation: str, *, at: datetime, held: Mapping[str, Shift]) -> dict[str, Any]:
    """`WhoOut` of `core.rotation.versioned_on_call`'s answer."""
    return {
        "rotation": rotation,
        "at": format_instant(at),
        "layers": {
            layer: {
                "member": shift.member,
                "shift_start": _bound(shift.start),
                "shift_end": _bound(shift.end),
            }
            for layer, shift in held.items()
        },
    }


class ShiftOut(ResponseModel):
    layer: str
    member: str | None = Field(description="null in a gap")
    start: Time
    end: Time
    override: bool
    gap: str | None = Field(description="why nobody holds the layer, in a gap")


class GapOut(ResponseModel):
    layer: str
    start: Time
    end: Time
    reason: str


class ScheduleOut(ResponseModel):
    """Every shift of a rotation from `from` to `to`, overrides applied, and the gaps."""

    rotation: str
    from_: Time = Field(alias="from")
    to: Time
    shifts: list[ShiftOut] = Field(description="by layer, then start; gaps included")
    gaps: list[GapOut] = Field(description="where a layer has nobody")


def shift_document(shift: Shift) -> dict[str, Any]:
    return {
        "layer": shift.layer,
        "member": shift.member,
        "start": format_instant(shift.start),
        "end": format_instant(shift.end),
        "override": shift.override,
        "gap": shift.gap,
    }


def schedule_document(
    rotation: str, *, start: datetime, end: datetime, shifts: Sequence[Shift]
) -> dict[str, Any]:
    """`ScheduleOut` of `core.rotation.versioned_shifts`'s answer."""
    return {
        "rotation": rotation,
        "from": format_instant(start),
        "to": format_instant(end),
        "shifts": [shift_document(shift) for shift in shifts],
        "gaps": [
            {
                "layer": shift.layer,
                "start": format_instant(shift.start),
                "end": format_instant(shift.end),
                "reason": shift.gap or "nobody",
            }
            for shift in shifts
            if shift.member is None
        ],
    }


class PersonLoadOut(ResponseModel):
    person: str
    hours: float
    night_hours: float = Field(description="22:00-07:00 in the person's time zone")
    weekend_hours: float = Field(description="Saturday and Sunday in the person's time zone")
    shifts: int
    pages: int = Field(description="page_sent entries of incident timelines naming them")


class FairnessOut(ResponseModel):
    """Each member's on-call load over a range, as `srekit oncall fairness` prints it."""

    rotation: str
    from_: Time = Field(alias="from")
    to: Time
    people: list[PersonLoadOut]


def fairness_document(
    rotation: str, *, start: datetime, end: datetime, loads: Sequence[PersonLoad]
) -> dict[str, Any]:
    """`FairnessOut` of `core.rotation.fairness`'s answer."""
    return {
        "rotation": rotation,
        "from": format_instant(start),
        "to": format_instant(end),
        "people": [
            {
                "person": load.person,
                "hours": figure(load.hours),
                "night_hours": figure(load.night_hours),
                "weekend_hours": figure(load.weekend_hours),
                "shifts": load.shifts,
                "pages": load.pages,
            }
            for load in loads
        ],
    }


class PersonShiftOut(ResponseModel):
    rotation: str
    layer: str
    start: Time
    end: Time
    override: bool


class PersonScheduleOut(ResponseModel):
    """One person's shifts across every stored rotation."""

    person: str
    from_: Time = Field(alias="from")
    to: Time
    shifts: list[PersonShiftOut] = Field(description="by start")


def person_schedule_document(
    person: str, *, start: datetime, end: datetime, shifts: Sequence[tuple[str, Shift]]
) -> dict[str, Any]:
    """`PersonScheduleOut` of (rotation, shift) pairs."""
    return {
        "person": person,
        "from": format_instant(start),
        "to": format_instant(end),
        "shifts": [
            {
                "rotation": rotation,
                "layer": shift.layer,
                "start": format_instant(shift.start),
                "end": format_instant(shift.end),
                "override": shift.override,
            }
            for rotation, shift in shifts
        ],
    }


# --- the on-call handoff -----------------------------------------------------------------------


class HandoffTurnOut(ResponseModel):
    member: str | None
    start: str
    end: str
    override: bool
    gap: str | None


class HandoffLayerOut(ResponseModel):
    layer: str
    at: str
    outgoing: HandoffTurnOut | None
    incoming: HandoffTurnOut


class HandoffIncidentOut(ResponseModel):
    id: int
    title: str
    severity: str
    state: str
    opened_at: str
    age_s: float
    commander: str | None
    services: list[str]


class HandoffPostmortemOut(ResponseModel):
    id: int
    title: str
    severity: str
    resolved_at: str | None
    postmortem: str | None


class HandoffDeploymentOut(ResponseModel):
    service: str
    version: str | None
    change_type: str
    allowed: bool
    requested_at: str


class HandoffSloOut(ResponseModel):
    service: str
    slo: str
    objective: float
    sli: float | None
    error_budget_remaining: float | None
    burn_rate_1h: float | None
    policy_state: str
    data: str


class HandoffRuleOut(ResponseModel):
    alertname: str
    fired: int
    firing: int
    services: list[str]
    incidents: list[int]
    actionable_rate: float | None
    missed_targets: list[str]


class HandoffAlertsOut(ResponseModel):
    """The outgoing shift reviewed, [from, to), and its alerts by rule."""

    model_config = ConfigDict(populate_by_name=True)

    start: str = Field(alias="from")
    end: str = Field(alias="to")
    rules: list[HandoffRuleOut]


class HandoffTaskOut(ResponseModel):
    id: int
    incident_id: int
    title: str
    owner: str | None
    due_at: str | None
    overdue: bool


class HandoffMatcherOut(ResponseModel):
    name: str
    value: str
    is_regex: bool
    is_equal: bool


class HandoffSilenceOut(ResponseModel):
    id: str
    state: Literal["active", "pending"]
    starts_at: str
    ends_at: str
    created_by: str
    comment: str
    services: list[str]
    matchers: list[HandoffMatcherOut]


class HandoffMaintenanceOut(ResponseModel):
    configured: bool
    problem: str | None
    silences: list[HandoffSilenceOut]


class HandoffOut(ResponseModel):
    """The on-call handoff, as `srekit oncall handoff --format json` prints it and
    `GET /api/v1/oncall/rotations/{name}/handoff` serves it (`core.handoff.handoff_document`)."""

    rotation: str
    team: str | None
    at: str
    timezone: str
    services: list[str]
    layers: list[HandoffLayerOut]
    incidents: list[HandoffIncidentOut]
    awaiting_postmortem: list[HandoffPostmortemOut]
    deployments: list[HandoffDeploymentOut]
    slos: list[HandoffSloOut]
    alerts: HandoffAlertsOut
    tasks: list[HandoffTaskOut]
    maintenance: HandoffMaintenanceOut
    confirmations: list[str]


# -- the SRE report: `ReportOut` and its builder ------------------------------------------------


class ReportPeriodOut(ResponseModel):
    kind: Literal["monthly", "weekly"]
    label: str = Field(examples=["2026-11", "2026-W47"])
    title: str
    start: Time
    end: Time


class ReportBudgetOut(ResponseModel):
    remaining: float | None = Field(description="at the period's end; negative: overspent")
    consumed: float | None = Field(description="over the SLO window ending at the period's end")
    days_left: float | None = Field(description="to exhaustion at the current burn; null: none")


class BurnDownPointOut(ResponseModel):
    day_end: Time
    remaining: float | None


class ReportSloOut(ResponseModel):
    """One SLO over the period (`core.report` defines each figure); fractions."""

    service: str
    slo: str
    objective: float
    window: str
    at: Time | None = Field(description="the newest snapshot the figures are from")
    sli: float | None
    met: bool | None
    days_met: int
    days_with_data: int
    compliance: float | None = Field(description="days met / days with data")
    error_budget: ReportBudgetOut
    burn_down: list[BurnDownPointOut]


class DeploymentSummaryOut(ResponseModel):
    total: int
    allowed: int
    denied: int
    rollbacks: int


class SloChangeOut(ResponseModel):
    at: Time
    service: str
    slo: str
    action: Literal["created", "changed", "deleted"]
    version: int | None
    actor: str
    changes: list[str] = Field(description="`field: old → new`, values as JSON")


class ActionItemReportOut(TaskOut):
    overdue: bool


class ToilOut(ResponseModel):
    tracked: bool
    note: str


class ReportOut(ResponseModel):
    """The monthly SRE report or the weekly error-budget review."""

    period: ReportPeriodOut
    at: Time
    scope: str
    summary: list[str]
    slos: list[ReportSloOut]
    incidents: IncidentStatsOut | None = Field(description="null: no incident in the period")
    deployments: DeploymentSummaryOut
    toil: ToilOut
    changes: list[SloChangeOut]
    action_items: list[ActionItemReportOut]


#: What the toil section says until srekit tracks toil.
TOIL_NOT_TRACKED = "Toil is not tracked yet."


def report_document(report: SreReport) -> dict[str, Any]:
    """The report as `ReportOut` describes it; figures rounded as `figure` rounds them."""
    period = report.period
    return {
        "period": {
            "kind": period.kind,
            "label": period.label,
            "title": period.title,
            "start": format_instant(period.start),
            "end": format_instant(period.end),
        },
        "at": format_instant(report.at),
        "scope": report.scope,
        "summary": list(report.summary),
        "slos": [
            {
                "service": slo.service,
                "slo": slo.slo,
                "objective": slo.objective,
                "window": slo.window,
                "at": _instant(slo.at),
                "sli": figure(slo.sli),
                "met": slo.met,
                "days_met": slo.days_met,
                "days_with_data": slo.days_with_data,
                "compliance": figure(slo.compliance),
                "error_budget": {
                    "remaining": figure(slo.remaining),
                    "consumed": figure(slo.consumed),
                    "days_left": figure(slo.days_left),
                },
                "burn_down": [
                    {"day_end": format_instant(day_end), "remaining": figure(remaining)}
                    for day_end, remaining in slo.burn_down
                ],
            }
            for slo in report.slos
        ],
        "incidents": None
        if report.incidents is None
        else incident_stats_document(report.incidents),
        "deployments": {
            "total": report.deployments.total,
            "allowed": report.deployments.allowed,
            "denied": report.deployments.denied,
            "rollbacks": report.deployments.rollbacks,
        },
        "toil": {"tracked": False, "note": TOIL_NOT_TRACKED},
        "changes": [
            {
                "at": format_instant(change.at),
                "service": change.service,
                "slo": change.slo,
                "action": change.action,
                "version": change.version,
                "actor": change.actor,
                "changes": list(change.changes),
            }
            for change in report.changes
        ],
        "action_items": [
            {**task_document(item.task), "overdue": item.overdue} for item in report.actions
        ],
    }


# --- SLO history (the dashboard's charts) ---------------------------------------------------


class HistorySeriesOut(ResponseModel):
    """A downsampled series as parallel arrays, one entry per bucket holding data: the bucket's
    start (`t`, Unix seconds, as chart libraries take it) and the min, max, first and last
    value in it."""

    t: list[float]
    min: list[float]
    max: list[float]
    first: list[float]
    last: list[float]


class BudgetLineOut(ResponseModel):
    """Remaining budget (fraction of the window's) at instants `t` (Unix seconds)."""

    t: list[float]
    remaining: list[float]


class HistoryOut(ResponseModel):
    """One SLO's chart data over `[from, to)`, cut into `width` buckets of `bucket_s`."""

    service: str
    slo: str
    objective: float
    window: str
    window_s: int
    from_: Time = Field(alias="from")
    to: Time
    width: int
    bucket_s: float
    raw_from: Time = Field(description="raw snapshots from here on, hourly rollups before")
    series: dict[str, HistorySeriesOut] = Field(
        description="`sli`, `remaining`, `bad_events` and `total_events` (counts in the SLO"
        " window), each present when the history holds it"
    )
    burn_rates: dict[str, HistorySeriesOut] = Field(description="per window, shortest first")
    ideal: BudgetLineOut = Field(
        description="a steady burn of 1: all at the window's start, none at its end"
    )
    burndown: BudgetLineOut = Field(
        description="remaining budget since the window's start, at each hour's end"
    )


def _series(buckets: Any) -> dict[str, list[float]]:
    # 12 decimals drop floating-point noise (0.30000000000000004) as `figure` does, at a
    # tenth of its cost: a chart holds tens of thousands of values
    return {
        "t": buckets.t,
        "min": [round(v, 12) for v in buckets.low],
        "max": [round(v, 12) for v in buckets.high],
        "first": [round(v, 12) for v in buckets.first],
        "last": [round(v, 12) for v in buckets.last],
    }


def _seconds(moment: datetime) -> float:
    return moment.timestamp()


def history_document(chart: Any) -> dict[str, Any]:
    """`flows.history.HistoryChart` as `HistoryOut`."""
    burn = {
        name.removeprefix("burn_rate:"): buckets
        for name, buckets in chart.series.items()
        if name.startswith("burn_rate:")
    }
    return {
        "service": chart.service,
        "slo": chart.slo,
        "objective": chart.objective,
        "window": chart.window,
        "window_s": chart.window_s,
        "from": format_instant(chart.start),
        "to": format_instant(chart.end),
        "width": chart.width,
        "bucket_s": figure((chart.end - chart.start).total_seconds() / chart.width),
        "raw_from": format_instant(chart.raw_from),
        "series": {
            name: _series(buckets)
            for name, buckets in chart.series.items()
            if not name.startswith("burn_rate:")
        },
        "burn_rates": {name: _series(burn[name]) for name in _shortest_first(dict.fromkeys(burn))},
        "ideal": {
            "t": [_seconds(moment) for moment, _ in chart.ideal],
            "remaining": [value for _, value in chart.ideal],
        },
        "burndown": {
            "t": [_seconds(moment) for moment, _ in chart.burndown],
            "remaining": [figure(value) for _, value in chart.burndown],
        },
    }


class DeploymentMarkOut(ResponseModel):
    at: Time
    version: str | None
    change_type: str
    decision: str
    source: str


class DenialMarkOut(DeploymentMarkOut):
    reasons: list[str]


class IncidentMarkOut(ResponseModel):
    id: int
    title: str
    severity: str
    state: str
    opened_at: Time
    resolved_at: Time | None


class AlertPeriodOut(ResponseModel):
    alertname: str
    severity: str | None
    starts_at: Time
    ends_at: Time | None = Field(description="null while firing")
    incident_id: int | None


class OverlaysOut(ResponseModel):
    """What to draw over an SLO's charts in `[from, to)`."""

    service: str
    slo: str
    from_: Time = Field(alias="from")
    to: Time
    deployments: list[DeploymentMarkOut] = Field(description="deploys the gate allowed")
    gate_denials: list[DenialMarkOut] = Field(description="deploys the gate denied or held")
    incidents: list[IncidentMarkOut] = Field(description="incidents on the service")
    alerts: list[AlertPeriodOut] = Field(description="the SLO's alerts (label `srekit_slo`)")


def overlays_document(
    overlays: Any, *, service: str, slo: str, start: datetime, end: datetime
) -> dict[str, Any]:
    """`flows.history.Overlays` as `OverlaysOut`."""
    return {
        "service": service,
        "slo": slo,
        "from": format_instant(start),
        "to": format_instant(end),
        "deployments": overlays.deployments,
        "gate_denials": overlays.gate_denials,
        "incidents": overlays.incidents,
        "alerts": overlays.alerts,
    }


class HeatmapRowOut(ResponseModel):
    service: str
    slo: str
    objective: float
    burned: list[float | None] = Field(
        description="per day, the share of the window's budget spent (null: no data)"
    )


class HeatmapOut(ResponseModel):
    """Per SLO per UTC day, the budget spent that day, oldest day first."""

    days: list[str] = Field(description="UTC dates, YYYY-MM-DD")
    slos: list[HeatmapRowOut]


def heatmap_document(days: Sequence[datetime], rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """`flows.history.budget_heatmap`'s answer as `HeatmapOut`: each value as `figure` makes
    it, written out here since a month of 1,000 SLOs is 30,000 of them."""
    return {
        "days": [day.date().isoformat() for day in days],
        "slos": [
            {
                **row,
                "burned": [
                    None if value is None else float(f"{value:.12g}") for value in row["burned"]
                ],
            }
            for row in rows
        ],
    }


def _epoch_instant(seconds: float | None) -> str | None:
    from datetime import UTC

    if seconds is None:
        return None
    return format_instant(datetime.fromtimestamp(round(seconds), UTC))


def _crossing(crossed: Crossing) -> dict[str, Any]:
    return {"state": crossed.state, "at": _epoch_instant(crossed.at)}


def _hpa_decision(decision: HpaDecision) -> dict[str, Any]:
    return {
        "desired_replicas": decision.desired,
        "proposals": dict(decision.proposals),
        "above_max_replicas": decision.above_max,
    }


def capacity_resource_document(planned: ResourceForecast, *, points: bool) -> dict[str, Any]:
    """One resource's plan as JSON; `points` adds the history and forecast paths."""
    mase, mape, smape = planned.score
    plan = planned.recommendation
    document: dict[str, Any] = {
        "resource": planned.resource,
        "unit": planned.unit,
        "source": planned.origin,
        "limit": figure(planned.limit),
        "headroom": planned.headroom,
        "utilization": {
            "current": figure(planned.utilization.current),
            "peak": figure(planned.utilization.peak),
        },
        "growth_per_month": figure(planned.growth.per_month),
        "growth_ratio_per_month": figure(planned.growth.ratio_per_month),
        "model": planned.forecast.model,
        "backtest": {
            "mase": figure(mase),
            "mape": figure(mape),
            "smape": figure(smape),
            "origins": len(planned.forecast.backtest_origins),
            "horizon_steps": planned.forecast.backtest_horizon,
            "coverage": {
                f"{round(i.level * 100)}": figure(i.backtest_coverage)
                for i in planned.forecast.intervals
            },
        },
        "crossings": {
            "limit": {
                "median": _crossing(plan.limit_median),
                "upper": _crossing(plan.limit_upper),
            },
            "headroom": {
                "median": _crossing(plan.headroom_median),
                "upper": _crossing(plan.headroom_upper),
            },
        },
        "months_until_capacity": figure(plan.months_until_capacity),
        "recommendation": {
            "scale_by": _epoch_instant(plan.scale_by),
            "scale_to": figure(plan.scale_to),
            "forecast_peak_upper": figure(plan.forecast_peak_upper),
            "replicas": plan.replicas,
            "above_max_replicas": plan.above_max_replicas,
        },
        "notes": list(planned.notes),
    }
    if points:
        lower_80, upper_80 = planned.band(0.8)
        lower_95, upper_95 = planned.band(0.95)
        document["history"] = {
            "at": [_epoch_instant(t) for t in planned.history_at],
            "value": [figure(v) for v in planned.history],
        }
        document["forecast"] = {
            "at": [_epoch_instant(t) for t in planned.forecast_at],
            "median": [figure(v) for v in planned.forecast.point],
            "lower_80": [figure(v) for v in lower_80],
            "upper_80": [figure(v) for v in upper_80],
            "lower_95": [figure(v) for v in lower_95],
            "upper_95": [figure(v) for v in upper_95],
        }
    return document


def past_forecast_document(past: PastForecast) -> dict[str, Any]:
    """How a recorded forecast did (`flows.capacity.record_plan`)."""
    accuracy = past.accuracy
    return {
        "resource": past.resource,
        "made_at": format_instant(past.made_at),
        "model": past.model,
        "points": 0 if accuracy is None else accuracy.points,
        "mae": None if accuracy is None else figure(accuracy.mae),
        "mape": None if accuracy is None else figure(accuracy.mape),
        "bias": None if accuracy is None else figure(accuracy.bias),
    }


def capacity_plan_document(
    result: PlanResult, *, points: bool = True, past: Sequence[PastForecast] | None = None
) -> dict[str, Any]:
    """`flows.capacity.forecast_plan`'s answer as JSON: times RFC 3339, ratios fractions;
    `past_forecasts` (when the run was recorded) says how the previous forecasts did."""
    document = {
        "plan": result.name,
        "service": result.service,
        "at": _epoch_instant(result.now),
        "horizon_s": result.horizon_s,
        "step_s": result.step_s,
        "resources": [capacity_resource_document(r, points=points) for r in result.resources],
        "problems": [
            {"resource": problem.resource, "message": problem.message}
            for problem in result.problems
        ],
        "hpa": (
            {"now": _hpa_decision(result.hpa.now), "at_peak": _hpa_decision(result.hpa.at_peak)}
            if result.hpa
            else None
        ),
    }
    if past is not None:
        document["past_forecasts"] = [past_forecast_document(p) for p in past]
    return document


# --- chaos -------------------------------------------------------------------------------------


class ChaosRunOut(ResponseModel):
    id: int
    service: str | None
    title: str
    started_at: str
    ended_at: str
    status: str
    deviated: bool
    passed: bool
    deviations: list[str]
    budget_consumed: float | None


class _ChaosRunRecord(Protocol):
    id: int
    service: str | None
    title: str
    started_at: datetime
    ended_at: datetime
    status: str
    deviated: bool
    budget_consumed: float | None

    @property
    def deviations(self) -> list[str]: ...


def chaos_run_document(row: _ChaosRunRecord) -> dict[str, Any]:
    """A stored chaos run as `srekit chaos list` prints it and `/api/v1/chaos/runs` serves it
    (`ChaosRunOut`); the journal itself only when one run is shown."""
    return {
        "id": row.id,
        "service": row.service,
        "title": row.title,
        "started_at": format_instant(row.started_at),
        "ended_at": format_instant(row.ended_at),
        "status": row.status,
        "deviated": row.deviated,
        "passed": passed({"status": row.status, "deviated": row.deviated}),
        "deviations": row.deviations,
        "budget_consumed": figure(row.budget_consumed),
    }
