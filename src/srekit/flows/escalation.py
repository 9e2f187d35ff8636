"""Escalation rounds: from an opened incident to the person who acknowledges it.

`escalate` is one round of the server's escalation job (`jobs.escalation`), at `now`:

1. It starts an escalation for every triggered, unacknowledged incident that has none yet and
   that a stored policy covers (`core.escalation.policy_for_incident`: the first by name naming
   one of its services and its severity): the row records the policy's version and the round's
   instant, from which every step's due instant counts (`core.escalation.escalation_plan`);
   step 1 is due at once. The intake knows nothing of this: its hot path stays as it is.
2. It stops every active escalation whose incident was acknowledged (by the CLI, the API or the
   signed link in a page), mitigated, resolved or closed, with an `escalation stopped` entry on
   the timeline, whether or not a step is due.
3. For each escalation whose next step is due, it re-reads the incident and lets core decide:
   stop, or page the step. Paging resolves the step's target (a named person, or the on-call
   member of a rotation's layer at `now`), sends the page through every contact method of that
   person (the signed acknowledgement link in it), then, in one transaction, records each
   delivery on the timeline (`page_sent`: person, channel, target, delivered, attempts, detail,
   step) and advances the escalation. A gap in the rotation, an unknown person or one no
   contact method reached brings the next step forward to now (recorded on the timeline).
   Steps that fell due while no round ran are paged in order, in the same round.

Paging is at least once: pages are sent before the transaction that records them, so a server
stopped between the two sends that step again when it resumes. The state lives in the store
(`incident_escalations`), so a restarted server resumes each escalation where it was.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from srekit.core.escalation import (
    Action,
    EscalationPolicy,
    EscalationState,
    EscalationStatus,
    PlannedStep,
    advance,
    decide,
    escalation_plan,
    policy_for_incident,
    start_escalation,
    stopped,
)
from srekit.core.incident import Incident, Severity, SeverityDefinition, TimelineKind
from srekit.core.instant import format_instant
from srekit.core.notify import ContactKind, ContactMethod, Delivery, Page
from srekit.core.rotation import versioned_on_call
from srekit.errors import NotFound, SrekitError
from srekit.flows.notify import incident_url, page_link
from srekit.store import StoreEngine, StoreSession
from srekit.store.database import transaction
from srekit.store.repo import (
    IncidentEscalationRow,
    add_event,
    answered_escalations,
    due_escalations,
    escalation_policy_of,
    escalation_policy_version,
    escalation_state_of,
    find_escalation,
    get_incident,
    get_person,
    incident_of,
    list_escalation_policies,
    list_escalations,
    person_of,
    ruling_rotation_versions,
    save_escalation,
    start_incident_escalation,
    unescalated_incidents,
)

__all__ = [
    "ESCALATION_ACTOR",
    "Directory",
    "EscalationReport",
    "EscalationView",
    "Links",
    "OnCall",
    "Paging",
    "Sender",
    "SentPage",
    "SignedLinks",
    "StoredDirectory",
    "escalate",
    "escalation_plan_of",
    "escalation_view",
    "list_escalation_views",
    "policy_step_number",
]

log = logging.getLogger(__name__)

#: Who the timeline says started, stopped and paged: srekit itself.
ESCALATION_ACTOR = "srekit"
# incidents and escalations a round reads at most per query; the rest wait for the next round
_BATCH = 100


@dataclass(frozen=True)
class OnCall:
    """Who holds a layer's pager at an instant: a person, or nobody (`gap` says why)."""

    person: str | None
    gap: str | None = None


class Directory(Protocol):
    """Where people and rotations are kept: who is on call, and how to reach a person. Raises
    NotFound for an unknown rotation, layer or person."""

    def on_call(self, *, rotation: str, layer: str, at: datetime) -> OnCall: ...

    def contact_methods(self, *, person: str) -> Sequence[ContactMethod]: ...


class Sender(Protocol):
    """Sends one page to one contact method, retries included, and says how it went; never
    raises for a failed delivery."""

    def __call__(self, page: Page, contact: ContactMethod) -> Delivery: ...


class Links(Protocol):
    """The links a page carries: the signed acknowledgement link for one person, and the
    incident's own address."""

    def ack_url(self, *, incident_id: int, person: str, now: datetime) -> str: ...

    def incident_url(self, *, incident_id: int) -> str: ...


class StoredDirectory:
    """The store's people and rotations: who holds a layer's pager at an instant (the rotation's
    ruling versions, `core.rotation.versioned_on_call`), and a person's contact methods in
    the order they listed them."""

    def __init__(self, engine: StoreEngine) -> None:
        self.engine = engine

    def on_call(self, *, rotation: str, layer: str, at: datetime) -> OnCall:
        with transaction(self.engine, read_only=True) as session:
            versions = ruling_rotation_versions(session, name=rotation)
        shift = versioned_on_call(versions, at=at).get(layer)
        if shift is None:
            raise NotFound(f"rotation {rotation!r} has no layer {layer!r} at {format_instant(at)}")
        return OnCall(shift.member, shift.gap)

    def contact_methods(self, *, person: str) -> Sequence[ContactMethod]:
        with transaction(self.engine, read_only=True) as session:
            stored = person_of(get_person(session, name=person))
        return [ContactMethod(ContactKind(c.kind.value), c.target) for c in stored.contacts]


@dataclass(frozen=True)
class SignedLinks:
    """Links under `public_url` (SREKIT_PUBLIC_URL): the incident, and the acknowledgement
    link, whose token (`core.notify.ack_token`, signed with `secret`) lets the person paged
    acknowledge that incident for `ttl_s` seconds."""

    public_url: str
    secret: bytes
    ttl_s: float

    def ack_url(self, *, incident_id: int, person: str, now: datetime) -> str:
        return page_link(
            secret=self.secret,
            public_url=self.public_url,
            incident_id=incident_id,
            person=person,
            now=now,
            ttl_s=self.ttl_s,
        )

    def incident_url(self, *, incident_id: int) -> str:
        return incident_url(self.public_url, incident_id)


@dataclass(frozen=True)
class Paging:
    """What a round needs beyond the store: people and rotations, a sender, links, and the
    severities' escalation windows (`SeverityDefinition.escalation_after_s`)."""

    directory: Directory
    send: Sender
    links: Links
    severities: Mapping[Severity, SeverityDefinition]


@dataclass(frozen=True)
class SentPage:
    """One step paged (or not reached) in a round: whom, and each contact method's delivery."""

    incident_id: int
    step: int
    person: str | None
    deliveries: tuple[Delivery, ...]
    detail: str

    @property
    def reached(self) -> bool:
        return any(delivery.delivered for delivery in self.deliveries)


@dataclass(frozen=True)
class EscalationReport:
    """What a round did: escalations started, pages sent, escalations stopped and exhausted
    (incident ids)."""

    started: tuple[int, ...] = ()
    pages: tuple[SentPage, ...] = ()
    stopped: tuple[int, ...] = ()
    exhausted: tuple[int, ...] = ()
    failed: tuple[int, ...] = ()


def _window_s(paging: Paging, severity: Severity) -> float:
    return paging.severities[severity].escalation_after_s


def _plan(
    session: StoreSession, row: IncidentEscalationRow, incident: Incident, paging: Paging
) -> tuple[PlannedStep, ...]:
    policy = escalation_policy_version(session, name=row.policy_name, version=row.policy_version)
    return escalation_plan(
        policy, start=row.started_at, window_s=_window_s(paging, incident.severity)
    )


def _note(
    session: StoreSession, *, incident_id: int, text: str, now: datetime, **data: object
) -> None:
    add_event(
        session,
        incident_id=incident_id,
        kind=TimelineKind.NOTE,
        actor=ESCALATION_ACTOR,
        text=text,
        at=now,
        data=dict(data),
    )


def _start(engine: StoreEngine, paging: Paging, *, now: datetime) -> list[int]:
    """Start escalations for the incidents that need one and a policy covers."""
    started: list[int] = []
    with transaction(engine) as session:
        policies: list[tuple[EscalationPolicy, int]] = [
            (escalation_policy_of(row), row.version) for row in list_escalation_policies(session)
        ]
        if not policies:
            return started
        versions = {policy.name: version for policy, version in policies}
        for incident_row in unescalated_incidents(
            session,
            services={service for policy, _ in policies for service in policy.services},
            limit=_BATCH,
        ):
            incident = incident_of(incident_row)
            policy = policy_for_incident([p for p, _ in policies], incident)
            if policy is None:
                continue
            plan = escalation_plan(policy, start=now, window_s=_window_s(paging, incident.severity))
            state = start_escalation(plan)
            start_incident_escalation(
                session,
                incident_id=incident.id,
                policy_name=policy.name,
                policy_version=versions[policy.name],
                state=state,
                now=now,
            )
            _note(
                session,
                incident_id=incident.id,
                text=f"escalation started: policy {policy.name}"
                f" (version {versions[policy.name]}), {len(policy.steps)} step(s)",
                now=now,
                escalation="started",
                policy=policy.name,
                version=versions[policy.name],
            )
            started.append(incident.id)
    return started


def _stop(
    session: StoreSession,
    row: IncidentEscalationRow,
    plan: Sequence[PlannedStep],
    *,
    reason: str,
    now: datetime,
) -> None:
    state = escalation_state_of(row)
    save_escalation(session, row=row, state=stopped(state, reason=reason), now=now)
    paged = min(state.next_step, len(plan))
    _note(
        session,
        incident_id=row.incident_id,
        text=f"escalation stopped: {reason}, after {paged} page(s) of policy {row.policy_name}",
        now=now,
        escalation="stopped",
        reason=reason,
        policy=row.policy_name,
        steps_paged=paged,
    )


def _stop_answered(engine: StoreEngine, paging: Paging, *, now: datetime) -> list[int]:
    """Stop the active escalations whose incidents were answered or finished."""
    done: list[int] = []
    with transaction(engine) as session:
        for row in answered_escalations(session, limit=_BATCH):
            incident = incident_of(get_incident(session, incident_id=row.incident_id))
            plan = _plan(session, row, incident, paging)
            decision = decide(
                plan,
                escalation_state_of(row),
                incident_state=incident.state,
                acknowledged_at=incident.acknowledged_at,
                now=now,
            )
            if decision.action is Action.STOP:
                _stop(session, row, plan, reason=str(decision.reason), now=now)
                done.append(row.incident_id)
    return done


@dataclass(frozen=True)
class _Due:
    """A step to page, read in one transaction and paged outside any."""

    incident: Incident
    summary: str | None
    planned: PlannedStep
    expected: EscalationState


def _next_due(
    engine: StoreEngine, incident_id: int, paging: Paging, *, now: datetime, report: _Round
) -> _Due | None:
    """The incident's due step, after stopping or exhausting its escalation if core says so."""
    with transaction(engine) as session:
        row = find_escalation(session, incident_id=incident_id)
        if row is None or row.state != EscalationStatus.ACTIVE.value:
            return None
        incident_row = get_incident(session, incident_id=incident_id)
        incident = incident_of(incident_row)
        plan = _plan(session, row, incident, paging)
        state = escalation_state_of(row)
        decision = decide(
            plan,
            state,
            incident_state=incident.state,
            acknowledged_at=incident.acknowledged_at,
            now=now,
        )
        if decision.action is Action.STOP:
            _stop(session, row, plan, reason=str(decision.reason), now=now)
            report.stopped.append(incident_id)
            return None
        if decision.action is Action.EXHAUSTED:  # a policy version shorter than its state
            save_escalation(
                session,
                row=row,
                state=EscalationState(state.next_step, None, EscalationStatus.EXHAUSTED),
                now=now,
            )
            report.exhausted.append(incident_id)
            return None
        if decision.action is Action.WAIT or decision.step is None:
            return None
        return _Due(incident, incident_row.summary, decision.step, state)


def _target_person(due: _Due, paging: Paging, *, now: datetime) -> tuple[str | None, str]:
    """Whom the step pages, or None and why nobody."""
    target = due.planned.notify
    if target.person is not None:
        return target.person, target.describe()
    try:
        answer = paging.directory.on_call(
            rotation=str(target.rotation), layer=str(target.layer), at=now
        )
    except NotFound as error:
        return None, f"{target.describe()}: {error}"
    if answer.person is None:
        return None, f"{target.describe()}: nobody on call ({answer.gap or 'gap'})"
    return answer.person, target.describe()


def _send(due: _Due, paging: Paging, *, now: datetime) -> SentPage:
    """Page the due step's person through every contact method they have."""
    incident = due.incident
    step = due.planned.step
    person, described = _target_person(due, paging, now=now)
    if person is None:
        return SentPage(incident.id, step, None, (), described)
    try:
        contacts = list(paging.directory.contact_methods(person=person))
    except NotFound as error:
        return SentPage(incident.id, step, person, (), f"{described}: {error}")
    if not contacts:
        return SentPage(
            incident.id, step, person, (), f"{described}: {person} has no contact method"
        )
    page = Page(
        incident_id=incident.id,
        title=incident.title,
        severity=incident.severity,
        person=person,
        step=step,
        ack_url=paging.links.ack_url(incident_id=incident.id, person=person, now=now),
        incident_url=paging.links.incident_url(incident_id=incident.id),
        at=now,
        services=incident.services,
        summary=due.summary,
    )
    deliveries = tuple(paging.send(page, contact) for contact in contacts)
    return SentPage(incident.id, step, person, deliveries, described)


def _record(
    engine: StoreEngine, due: _Due, sent: SentPage, paging: Paging, *, now: datetime
) -> EscalationState | None:
    """Record the step's pages on the timeline and advance the escalation, in one transaction;
    the new state, or None when another round moved the escalation meanwhile (the pages are
    recorded all the same)."""
    incident_id = due.incident.id
    planned = due.planned
    with transaction(engine) as session:
        for delivery in sent.deliveries:
            add_event(
                session,
                incident_id=incident_id,
                kind=TimelineKind.PAGE_SENT,
                actor=ESCALATION_ACTOR,
                text=f"paged {sent.person} (step {planned.step}, {sent.detail}) by"
                f" {delivery.channel.value} {delivery.target}:"
                f" {'delivered' if delivery.delivered else 'not delivered'}",
                at=delivery.at,
                data={
                    "person": sent.person,
                    "channel": delivery.channel.value,
                    "target": delivery.target,
                    "delivered": delivery.delivered,
                    "attempts": delivery.attempts,
                    "detail": delivery.detail,
                    "step": planned.step,
                    "cycle": planned.cycle,
                },
            )
        if not sent.reached:
            _note(
                session,
                incident_id=incident_id,
                text=f"step {planned.step} reached nobody ({sent.detail}): the next step at once",
                now=now,
                escalation="unreached",
                step=planned.step,
                person=sent.person,
                detail=sent.detail,
            )
        row = find_escalation(session, incident_id=incident_id)
        if row is None or escalation_state_of(row) != due.expected or row.state != "active":
            return None
        plan = _plan(session, row, due.incident, paging)
        state = advance(plan, due.expected, reached=sent.reached, now=now)
        save_escalation(session, row=row, state=state, now=now)
        if state.status is EscalationStatus.EXHAUSTED:
            _note(
                session,
                incident_id=incident_id,
                text=f"escalation exhausted: every step of policy {row.policy_name} paged,"
                " nobody acknowledged",
                now=now,
                escalation="exhausted",
                policy=row.policy_name,
            )
        return state


@dataclass
class _Round:
    pages: list[SentPage] = field(default_factory=list)
    stopped: list[int] = field(default_factory=list)
    exhausted: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


def _escalate_one(
    engine: StoreEngine, incident_id: int, paging: Paging, *, now: datetime, report: _Round
) -> None:
    """Page every step of the incident's escalation that is due at `now`, in order."""
    while True:
        due = _next_due(engine, incident_id, paging, now=now, report=report)
        if due is None:
            return
        sent = _send(due, paging, now=now)
        report.pages.append(sent)
        state = _record(engine, due, sent, paging, now=now)
        if state is None:
            return
        if state.status is EscalationStatus.EXHAUSTED:
            report.exhausted.append(incident_id)
            return


def escalate(engine: StoreEngine, paging: Paging, *, now: datetime) -> EscalationReport:
    """One round at `now` (see the module's docstring). An escalation that fails (its policy
    version unreadable, the store refusing) is logged and left for the next round; the others
    go on."""
    started = _start(engine, paging, now=now)
    report = _Round()
    report.stopped.extend(_stop_answered(engine, paging, now=now))
    with transaction(engine, read_only=True) as session:
        due = [row.incident_id for row in due_escalations(session, now=now, limit=_BATCH)]
    for incident_id in due:
        try:
            _escalate_one(engine, incident_id, paging, now=now, report=report)
        except SrekitError:
            log.exception("escalation of incident %d failed; retrying next round", incident_id)
            report.failed.append(incident_id)
    return EscalationReport(
        started=tuple(started),
        pages=tuple(report.pages),
        stopped=tuple(report.stopped),
        exhausted=tuple(report.exhausted),
        failed=tuple(report.failed),
    )


# --- reading -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EscalationView:
    """An incident's escalation as people read it: the policy version, the step due next
    (from 1; None once it stopped or was exhausted), when, its state, and why it stopped."""

    incident_id: int
    policy: str
    policy_version: int
    state: EscalationStatus
    next_step: int | None
    next_at: datetime | None
    steps_paged: int
    started_at: datetime
    updated_at: datetime
    reason: str | None = None

    def document(self) -> dict[str, object]:
        """As JSON shows it: instants in RFC 3339 UTC."""
        return {
            "incident_id": self.incident_id,
            "policy": self.policy,
            "policy_version": self.policy_version,
            "state": self.state.value,
            "next_step": self.next_step,
            "next_at": None if self.next_at is None else format_instant(self.next_at),
            "steps_paged": self.steps_paged,
            "reason": self.reason,
            "started_at": format_instant(self.started_at),
            "updated_at": format_instant(self.updated_at),
        }


def _view(session: StoreSession, row: IncidentEscalationRow) -> EscalationView:
    state = escalation_state_of(row)
    next_step: int | None = None
    if state.status is EscalationStatus.ACTIVE:
        try:
            policy = escalation_policy_version(
                session, name=row.policy_name, version=row.policy_version
            )
            next_step = policy_step_number(policy, state.next_step)
        except SrekitError:
            next_step = None
    return EscalationView(
        incident_id=row.incident_id,
        policy=row.policy_name,
        policy_version=row.policy_version,
        state=state.status,
        next_step=next_step,
        next_at=state.next_at,
        steps_paged=state.next_step,
        started_at=row.started_at,
        updated_at=row.updated_at,
        reason=state.reason,
    )


def policy_step_number(policy: EscalationPolicy, index: int) -> int:
    """The policy's step (from 1) that the plan's entry `index` pages, repeats included."""
    return index % len(policy.steps) + 1


def escalation_view(engine: StoreEngine, *, incident_id: int) -> EscalationView | None:
    """The incident's escalation, or None when it has none (no policy covered it, or it was
    acknowledged before a round saw it)."""
    with transaction(engine, read_only=True) as session:
        row = find_escalation(session, incident_id=incident_id)
        return None if row is None else _view(session, row)


def list_escalation_views(
    engine: StoreEngine, *, status: EscalationStatus | None = None, limit: int = 100
) -> list[EscalationView]:
    """Escalations, newest first: all, or those in one state."""
    with transaction(engine, read_only=True) as session:
        return [
            _view(session, row) for row in list_escalations(session, status=status, limit=limit)
        ]


def escalation_plan_of(
    engine: StoreEngine, *, incident_id: int, severities: Mapping[Severity, SeverityDefinition]
) -> tuple[PlannedStep, ...]:
    """Every page the incident's escalation plans, in order, with its due instant: entries
    before the view's `steps_paged` were handled. NotFound when it has no escalation."""
    with transaction(engine, read_only=True) as session:
        row = find_escalation(session, incident_id=incident_id)
        if row is None:
            raise NotFound(f"incident {incident_id} has no escalation")
        incident = incident_of(get_incident(session, incident_id=incident_id))
        policy = escalation_policy_version(
            session, name=row.policy_name, version=row.policy_version
        )
        return escalation_plan(
            policy,
            start=row.started_at,
            window_s=severities[incident.severity].escalation_after_s,
        )
