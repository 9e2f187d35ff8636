"""Escalation: from an opened incident to the person who acknowledges it.

An escalation policy names the services (and severities) it covers and an ordered list of
steps, each notifying a rotation's layer (whoever is on call in it at that instant) or a named
person. Step 1 pages when the incident opens; each later step waits its `after_s` without an
acknowledgement (by default the severity's escalation window,
`core.incident.SeverityDefinition.escalation_after_s`); after the last step the policy starts
over `repeat` times, step 1 again one window after the last step. An incident escalates by the
first policy, by name, that names one of its services and its severity.

The plan is absolute: every step's due instant counts from the escalation's start, a stored
instant, so an escalation that resumes after a restart pages exactly what fell due meanwhile.
The start is when srekit began escalating the incident (its first round after the incident
opened), not the incident's `opened_at`: that is the alert's `startsAt`, which Prometheus sets
when the alert began pending, minutes before it fired with `for: 10m`; counting from there
would page the second step together with the first. The state of one
escalation is the plan's next step and when it is due (`EscalationState`); `decide` says what a
round does with it, and `advance` what the state is after the round paged (or could not page)
that step:

    active ──page step k (due)──▶ active (next step k+1, due at its planned instant)
      │   ──nobody to page───────▶ active (next step k+1, due at once)
      │   ──last step paged──────▶ exhausted
      └───acknowledged, resolved or closed──▶ stopped
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from srekit.core.incident import Incident, IncidentState, Severity, is_open

__all__ = [
    "ALL_SEVERITIES",
    "Action",
    "Decision",
    "EscalationPolicy",
    "EscalationState",
    "EscalationStatus",
    "EscalationStep",
    "NotifyTarget",
    "PlannedStep",
    "advance",
    "decide",
    "escalation_plan",
    "policy_for_incident",
    "start_escalation",
    "stopped",
]

ALL_SEVERITIES: frozenset[Severity] = frozenset(Severity)


@dataclass(frozen=True)
class NotifyTarget:
    """Whom a step pages: the on-call member of a rotation's layer at that instant, or a
    named person. Exactly one of `rotation` (with its `layer`) and `person`."""

    rotation: str | None = None
    layer: str | None = None
    person: str | None = None

    def __post_init__(self) -> None:
        if (self.rotation is None) == (self.person is None):
            raise ValueError("expected either a rotation (with its layer) or a person, not both")
        if self.rotation is not None and not self.layer:
            raise ValueError(f"rotation {self.rotation!r}: expected the layer to page")
        if self.person is not None and self.layer is not None:
            raise ValueError("a layer belongs with a rotation, not with a person")

    def describe(self) -> str:
        """`rotation payments, layer primary` or `person grace`: how the timeline names it."""
        if self.person is not None:
            return f"person {self.person}"
        return f"rotation {self.rotation}, layer {self.layer}"


@dataclass(frozen=True)
class EscalationStep:
    """One step: whom to page, and how long to wait without acknowledgement before paging
    (None: the severity's escalation window). The first step never waits."""

    notify: NotifyTarget
    after_s: float | None = None

    def __post_init__(self) -> None:
        if self.after_s is not None and not self.after_s > 0:
            raise ValueError(f"expected a positive wait, got {self.after_s}s")


@dataclass(frozen=True)
class EscalationPolicy:
    """A named policy: the services and severities it covers, its steps in order, and how many
    times it starts over after the last step."""

    name: str
    services: tuple[str, ...]
    steps: tuple[EscalationStep, ...]
    severities: frozenset[Severity] = ALL_SEVERITIES
    repeat: int = 0

    def __post_init__(self) -> None:
        if not self.services:
            raise ValueError(f"policy {self.name!r}: expected at least one service")
        if not self.steps:
            raise ValueError(f"policy {self.name!r}: expected at least one step")
        if not self.severities:
            raise ValueError(f"policy {self.name!r}: expected at least one severity")
        if self.steps[0].after_s is not None:
            raise ValueError(f"policy {self.name!r}: the first step pages at once, without after")
        if self.repeat < 0:
            raise ValueError(f"policy {self.name!r}: expected repeat >= 0, got {self.repeat}")

    def covers(self, incident: Incident) -> bool:
        """The policy names one of the incident's services and its severity."""
        return incident.severity in self.severities and not set(self.services).isdisjoint(
            incident.services
        )


def policy_for_incident(
    policies: Iterable[EscalationPolicy], incident: Incident
) -> EscalationPolicy | None:
    """The first policy by name that covers the incident; None when none does."""
    return next(
        (policy for policy in sorted(policies, key=lambda p: p.name) if policy.covers(incident)),
        None,
    )


@dataclass(frozen=True)
class PlannedStep:
    """One page of the plan: the policy's step (`step`, from 1) in pass `cycle` (0 the first,
    then one per repeat), due at `due_at`. `index` is its position in the whole plan."""

    index: int
    step: int
    cycle: int
    notify: NotifyTarget
    due_at: datetime


def escalation_plan(
    policy: EscalationPolicy, *, start: datetime, window_s: float
) -> tuple[PlannedStep, ...]:
    """Every page the policy would send for an incident escalated from `start` that nobody
    acknowledges, in order, with absolute due instants.

    due(1) = start; due(k) = due(k-1) + after(k), where after(k) is the step's `after_s`,
    else `window_s` (the severity's escalation window, seconds); a repeat's first step is due
    `window_s` after the previous pass's last step. `(1 + repeat) × len(steps)` entries.
    """
    if not window_s > 0:
        raise ValueError(f"expected a positive escalation window, got {window_s}s")
    plan: list[PlannedStep] = []
    due = start
    for cycle in range(policy.repeat + 1):
        for number, step in enumerate(policy.steps, start=1):
            if plan:
                due += timedelta(seconds=step.after_s if step.after_s is not None else window_s)
            plan.append(PlannedStep(len(plan), number, cycle, step.notify, due))
    return tuple(plan)


class EscalationStatus(StrEnum):
    ACTIVE = "active"
    STOPPED = "stopped"  # acknowledged, resolved or closed
    EXHAUSTED = "exhausted"  # every step paged and nobody acknowledged


@dataclass(frozen=True)
class EscalationState:
    """Where an escalation is: the plan's next step to page (`next_step`, an index) and when
    it is due, while active; `next_at` is None once it stopped or was exhausted."""

    next_step: int
    next_at: datetime | None
    status: EscalationStatus = EscalationStatus.ACTIVE
    reason: str | None = field(default=None, compare=False)


def start_escalation(plan: Sequence[PlannedStep]) -> EscalationState:
    """The state of a new escalation: step 1, due at the plan's start."""
    return EscalationState(next_step=0, next_at=plan[0].due_at)


class Action(StrEnum):
    PAGE = "page"
    WAIT = "wait"
    STOP = "stop"
    EXHAUSTED = "exhausted"


@dataclass(frozen=True)
class Decision:
    """What a round does: page `step` now, wait `until` the next step is due, stop (`reason`:
    acknowledged, resolved or closed), or nothing left (exhausted). A stopped or exhausted
    escalation decides the same again, so a round may re-read it safely."""

    action: Action
    step: PlannedStep | None = None
    until: datetime | None = None
    reason: str | None = None


def decide(
    plan: Sequence[PlannedStep],
    state: EscalationState,
    *,
    incident_state: IncidentState,
    acknowledged_at: datetime | None,
    now: datetime,
) -> Decision:
    """The round's decision, in this order: an escalation already stopped or exhausted stays
    so; an incident that is no longer open stops it (reason: its state); one acknowledged
    (`acknowledged_at` set: acknowledging or mitigating stamps it) stops it; past the plan's end
    it is exhausted; a step due at or before `now` is paged; else wait until it is due."""
    if state.status is EscalationStatus.STOPPED:
        return Decision(Action.STOP, reason=state.reason)
    if state.status is EscalationStatus.EXHAUSTED:
        return Decision(Action.EXHAUSTED)
    if not is_open(incident_state):
        return Decision(Action.STOP, reason=incident_state.value)
    if acknowledged_at is not None:
        return Decision(Action.STOP, reason="acknowledged")
    if state.next_step >= len(plan) or state.next_at is None:
        return Decision(Action.EXHAUSTED)
    step = plan[state.next_step]
    if state.next_at <= now:
        return Decision(Action.PAGE, step=step)
    return Decision(Action.WAIT, step=step, until=state.next_at)


def advance(
    plan: Sequence[PlannedStep], state: EscalationState, *, reached: bool, now: datetime
) -> EscalationState:
    """The state after the round handled the due step `state.next_step`.

    `reached`: someone was paged. Then the next step is due at its planned instant (at once if
    that has passed: a round that ran late catches up). Not reached (a gap in the rotation, or
    no contact method delivered): the next step is due at once, `now`. After the plan's last
    step the escalation is exhausted.
    """
    following = state.next_step + 1
    if following >= len(plan):
        return EscalationState(next_step=following, next_at=None, status=EscalationStatus.EXHAUSTED)
    due = plan[following].due_at
    return EscalationState(next_step=following, next_at=due if reached else min(due, now))


def stopped(state: EscalationState, *, reason: str) -> EscalationState:
    """The state of an escalation stopped for `reason` (acknowledged, resolved, closed)."""
    return EscalationState(
        next_step=state.next_step, next_at=None, status=EscalationStatus.STOPPED, reason=reason
    )
