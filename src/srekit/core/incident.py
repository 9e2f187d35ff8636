"""Incidents: severities, the lifecycle and its rules, the timeline's kinds, follow-up tasks.

An incident moves forward through

    triggered → acknowledged → mitigated → resolved → closed

where it may skip steps (an alert that resolves on its own goes from triggered to resolved),
`closed` means the post-mortem was published or waived, and a resolved or closed incident may be
reopened, back to triggered. Every change is a value: `change_state` returns the incident as it is
after the change, with the instants it stamped; a change the lifecycle refuses raises
`TransitionRefusedError` saying what is allowed.

Instants keep their first value: the first acknowledgement stays the incident's acknowledgement
after a reopening, so the time to acknowledge is measured once. Reopening clears the mitigation,
resolution and closing, which happen again, and the noise mark.

Closing may mark an incident as noise (`noise`): its alerts woke someone for nothing. The alert
quality report (`core.alert_quality`) counts such incidents' alerts as false positives.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

__all__ = [
    "DEFAULT_SEVERITIES",
    "OPEN_STATES",
    "SEVERE",
    "FollowUpTask",
    "Incident",
    "IncidentAlert",
    "IncidentRole",
    "IncidentState",
    "IncidentView",
    "PriorDeployment",
    "Severity",
    "SeverityDefinition",
    "TaskState",
    "TimelineEntry",
    "TimelineKind",
    "TransitionRefusedError",
    "change_state",
    "is_open",
    "next_states",
    "severity_definitions",
]


class Severity(StrEnum):
    P0 = "P0"
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"


#: The severities that deny deploys on their services while open.
SEVERE: frozenset[Severity] = frozenset({Severity.P0, Severity.P1})


@dataclass(frozen=True)
class SeverityDefinition:
    """What a severity means, how fast someone must respond, and when an unacknowledged incident
    escalates to the next level of the on-call chain."""

    severity: Severity
    meaning: str
    response_target_s: float
    escalation_after_s: float

    def __post_init__(self) -> None:
        if not self.response_target_s > 0:
            raise ValueError(f"{self.severity}: the response target must be positive")
        if not self.escalation_after_s > 0:
            raise ValueError(f"{self.severity}: the escalation window must be positive")


DEFAULT_SEVERITIES: Mapping[Severity, SeverityDefinition] = {
    Severity.P0: SeverityDefinition(
        Severity.P0,
        "critical: the service is down or losing data for most users; all hands",
        response_target_s=5 * 60,
        escalation_after_s=5 * 60,
    ),
    Severity.P1: SeverityDefinition(
        Severity.P1,
        "major: a core function is broken or the error budget burns fast; page the on-call",
        response_target_s=15 * 60,
        escalation_after_s=15 * 60,
    ),
    Severity.P2: SeverityDefinition(
        Severity.P2,
        "minor: degraded for some users, a workaround exists; respond in working hours",
        response_target_s=60 * 60,
        escalation_after_s=60 * 60,
    ),
    Severity.P3: SeverityDefinition(
        Severity.P3,
        "low: a slow budget burn or a cosmetic fault; a ticket",
        response_target_s=4 * 60 * 60,
        escalation_after_s=4 * 60 * 60,
    ),
}


def severity_definitions(
    overrides: Mapping[Severity, Mapping[str, float]] | None = None,
) -> dict[Severity, SeverityDefinition]:
    """The default definitions with `response_target_s` / `escalation_after_s` replaced where
    `overrides` says (`{P2: {"response_target_s": 1800}}`); unknown keys are refused."""
    definitions = dict(DEFAULT_SEVERITIES)
    for severity, changes in (overrides or {}).items():
        unknown = set(changes) - {"response_target_s", "escalation_after_s"}
        if unknown:
            raise ValueError(
                f"{severity}: unknown setting(s) {', '.join(sorted(unknown))};"
                " expected response_target_s or escalation_after_s"
            )
        current = definitions[severity]
        definitions[severity] = replace(
            current,
            response_target_s=changes.get("response_target_s", current.response_target_s),
            escalation_after_s=changes.get("escalation_after_s", current.escalation_after_s),
        )
    return definitions


class IncidentState(StrEnum):
    TRIGGERED = "triggered"
    ACKNOWLEDGED = "acknowledged"
    MITIGATED = "mitigated"
    RESOLVED = "resolved"
    CLOSED = "closed"


OPEN_STATES: frozenset[IncidentState] = frozenset(
    {IncidentState.TRIGGERED, IncidentState.ACKNOWLEDGED, IncidentState.MITIGATED}
)

_ORDER = tuple(IncidentState)


class IncidentRole(StrEnum):
    COMMANDER = "commander"
    SCRIBE = "scribe"
    COMMUNICATIONS = "communications"


class TimelineKind(StrEnum):
    """What an entry of an incident's timeline records."""

    ALERT_FIRED = "alert_fired"
    ALERT_RESOLVED = "alert_resolved"
    STATE_CHANGED = "state_changed"
    NOTE = "note"
    ROLE_ASSIGNED = "role_assigned"
    DEPLOYMENT = "deployment"
    PAGE_SENT = "page_sent"
    TASK = "task"
    SILENCE = "silence"


class TaskState(StrEnum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class TimelineEntry:
    """One entry of an incident's timeline: what happened, when, and who (or what) did it."""

    at: datetime
    kind: TimelineKind
    actor: str
    text: str
    data: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class FollowUpTask:
    """A follow-up task: an incident's, or an action item of its post-mortem (`source`)."""

    id: int
    incident_id: int
    title: str
    state: TaskState
    created_at: datetime
    owner: str | None = None
    due_at: datetime | None = None
    source: str = "incident"
    done_at: datetime | None = None

    def overdue(self, now: datetime) -> bool:
        """Open, with a due date that has passed."""
        return self.state is TaskState.OPEN and self.due_at is not None and self.due_at < now


@dataclass(frozen=True)
class IncidentAlert:
    """An alert instance as srekit stored it: of an incident (`incident_id`), or of none when
    no route took it (`routed` false) or its route opens no incident."""

    fingerprint: str
    alertname: str
    status: str
    starts_at: datetime
    ends_at: datetime | None
    labels: dict[str, str]
    incident_id: int | None = None
    routed: bool = True


@dataclass(frozen=True)
class PriorDeployment:
    """A deploy the gate was asked about on one of the incident's services before it opened."""

    service: str
    version: str | None
    change_type: str
    allowed: bool
    requested_at: datetime


@dataclass(frozen=True)
class IncidentView:
    """An incident with what people read beside it."""

    incident: Incident
    summary: str | None
    created_by: str
    resolved_by: str | None
    silences: tuple[str, ...] = ()
    timeline: tuple[TimelineEntry, ...] = ()
    participants: tuple[str, ...] = ()  # the people who held a role or acted on it
    tasks: tuple[FollowUpTask, ...] = ()
    alert_details: tuple[IncidentAlert, ...] = ()
    related: tuple[tuple[int, str], ...] = ()
    deployments: tuple[PriorDeployment, ...] = ()


class TransitionRefusedError(ValueError):
    """The lifecycle does not allow this change of state; the message says which ones it does."""


@dataclass(frozen=True)
class Incident:
    """An incident as its figures and rules see it; `id` is the store's number for it.

    Instants are aware UTC datetimes, None until they happen. `reopened` counts reopenings.
    `noise` marks an incident closed as noise (a false alarm); reopening clears it.
    """

    id: int
    title: str
    severity: Severity
    state: IncidentState
    opened_at: datetime
    services: tuple[str, ...] = ()
    slos: tuple[str, ...] = ()
    acknowledged_at: datetime | None = None
    mitigated_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    alerts: tuple[str, ...] = ()
    roles: Mapping[IncidentRole, str] = field(default_factory=dict)
    reopened: int = 0
    noise: bool = False

    @property
    def open(self) -> bool:
        return is_open(self.state)

    def time_to_acknowledge(self) -> timedelta | None:
        """Opened → first acknowledged; None while unacknowledged."""
        return None if self.acknowledged_at is None else self.acknowledged_at - self.opened_at

    def time_to_resolve(self) -> timedelta | None:
        """Opened → resolved; None while unresolved."""
        return None if self.resolved_at is None else self.resolved_at - self.opened_at

    def responded_at(self) -> datetime | None:
        """When someone (or the alert itself) first answered: the earliest of acknowledgement,
        mitigation and resolution."""
        moments = [m for m in (self.acknowledged_at, self.mitigated_at, self.resolved_at) if m]
        return min(moments) if moments else None


def is_open(state: IncidentState) -> bool:
    """Triggered, acknowledged and mitigated incidents are open; resolved and closed are not."""
    return state in OPEN_STATES


def next_states(state: IncidentState) -> tuple[IncidentState, ...]:
    """The states an incident in `state` may move to: any later open or resolved state from an
    open one, closed from resolved, and back to triggered (a reopening) from resolved or
    closed."""
    if state is IncidentState.RESOLVED:
        return (IncidentState.CLOSED, IncidentState.TRIGGERED)
    if state is IncidentState.CLOSED:
        return (IncidentState.TRIGGERED,)
    later = _ORDER[_ORDER.index(state) + 1 :]
    return tuple(s for s in later if s is not IncidentState.CLOSED)


def change_state(
    incident: Incident, *, to: IncidentState, at: datetime, noise: bool = False
) -> Incident:
    """The incident after moving to `to` at `at`.

    Stamps the instant of the new state (keeping a first acknowledgement, and stamping one when
    an unacknowledged incident is mitigated: mitigating is answering). Moving back to triggered
    is a reopening: it clears mitigation, resolution, closing and the noise mark, and counts.
    `noise` closes the incident as noise; only closing takes it. An instant before the incident
    opened, or a move the lifecycle does not allow, raises TransitionRefusedError.
    """
    if noise and to is not IncidentState.CLOSED:
        raise TransitionRefusedError(
            f"incident {incident.id}: only closing marks an incident as noise, not {to.value}"
        )
    if to is incident.state:
        raise TransitionRefusedError(f"incident {incident.id} is {to.value} already")
    allowed = next_states(incident.state)
    if to not in allowed:
        raise TransitionRefusedError(
            f"incident {incident.id} is {incident.state.value}: it can move to"
            f" {' or '.join(s.value for s in allowed)}, not {to.value}"
        )
    if at < incident.opened_at:
        raise TransitionRefusedError(
            f"incident {incident.id} opened at {incident.opened_at.isoformat()};"
            f" it cannot become {to.value} before that"
        )
    if to is IncidentState.TRIGGERED:
        return replace(
            incident,
            state=to,
            mitigated_at=None,
            resolved_at=None,
            closed_at=None,
            reopened=incident.reopened + 1,
            noise=False,
        )
    stamped = {
        IncidentState.ACKNOWLEDGED: "acknowledged_at",
        IncidentState.MITIGATED: "mitigated_at",
        IncidentState.RESOLVED: "resolved_at",
        IncidentState.CLOSED: "closed_at",
    }[to]
    changes: dict[str, object] = {"state": to, stamped: at}
    if incident.acknowledged_at is not None and to is IncidentState.ACKNOWLEDGED:
        changes[stamped] = incident.acknowledged_at
    if to is IncidentState.MITIGATED and incident.acknowledged_at is None:
        changes["acknowledged_at"] = at
    if to is IncidentState.CLOSED:
        changes["noise"] = noise
    return replace(incident, **changes)  # type: ignore[arg-type]
