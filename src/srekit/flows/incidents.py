"""Incidents by hand: declare, move through the lifecycle, annotate, assign, follow up, read.

Each use case is one transaction: read the incident, let `core.incident` decide the change,
store it with its timeline entry and audit row. A change the lifecycle refuses is a Conflict
(the CLI's exit 2 names it; the API answers 409). `StoredIncidents` tells the deploy gate which
P0/P1 incidents are open on a service.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from srekit.core.incident import (
    FollowUpTask,
    IncidentAlert,
    IncidentRole,
    IncidentState,
    IncidentView,
    PriorDeployment,
    Severity,
    TaskState,
    TimelineEntry,
    TimelineKind,
    TransitionRefusedError,
    change_state,
)
from srekit.core.instant import format_instant
from srekit.core.intake import AlertStatus
from srekit.core.postmortem import PostmortemState, closing_note
from srekit.errors import Conflict, SpecError
from srekit.store import StoreEngine, StoreSession
from srekit.store.database import transaction
from srekit.store.repo import (
    AlertRow,
    IncidentRow,
    IncidentTaskRow,
    StateFilter,
    add_event,
    add_task,
    create_incident,
    find_postmortem,
    get_incident,
    incident_events,
    incident_fingerprints,
    incident_of,
    list_alerts,
    list_deployments_between,
    list_incidents,
    list_tasks,
    open_severe_incidents_by_service,
    related_incidents,
    save_incident,
    update_task,
)

__all__ = [
    "DEPLOYS_BEFORE",
    "StoredIncidents",
    "assign_role",
    "change_incident_state",
    "change_task",
    "declare_incident",
    "incident_view",
    "list_follow_ups",
    "list_incident_views",
    "list_received_alerts",
    "new_task",
    "note_incident",
]

#: How far before an incident the gate's records of deploys on its services are shown.
DEPLOYS_BEFORE = timedelta(hours=24)
# actors of the timeline that are not people taking part
_MACHINES = frozenset({"alertmanager", "gate", "srekit", "srekit-demo"})

_VERBS = {
    IncidentState.ACKNOWLEDGED: "acknowledge",
    IncidentState.MITIGATED: "mitigate",
    IncidentState.RESOLVED: "resolve",
    IncidentState.CLOSED: "close",
    IncidentState.TRIGGERED: "reopen",
}


def _alert_of(row: AlertRow) -> IncidentAlert:
    return IncidentAlert(
        fingerprint=row.fingerprint,
        alertname=row.alertname,
        status=row.status,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        labels=row.labels,
        incident_id=row.incident_id,
        routed=row.route_index is not None,
    )


def list_received_alerts(
    engine: StoreEngine,
    *,
    unrouted: bool = False,
    incident_id: int | None = None,
    status: AlertStatus | None = None,
    limit: int = 100,
) -> list[IncidentAlert]:
    """Stored alert instances, newest first: all, an incident's, or those no route took."""
    with transaction(engine, read_only=True) as session:
        rows = list_alerts(
            session, incident_id=incident_id, unrouted=unrouted, status=status, limit=limit
        )
        return [_alert_of(row) for row in rows]


def task_of(row: IncidentTaskRow) -> FollowUpTask:
    return FollowUpTask(
        id=row.id,
        incident_id=row.incident_id,
        title=row.title,
        state=TaskState(row.state),
        created_at=row.created_at,
        owner=row.owner,
        due_at=row.due_at,
        source=row.source,
        done_at=row.done_at,
    )


def _view(
    session: StoreSession,
    row: IncidentRow,
    *,
    full: bool,
    fingerprints: tuple[str, ...] | None = None,
) -> IncidentView:
    if fingerprints is None:
        fingerprints = incident_fingerprints(session, incident_ids=[row.id])[row.id]
    incident = incident_of(row, alerts=fingerprints)
    if not full:
        return IncidentView(
            incident=incident,
            summary=row.summary,
            created_by=row.created_by,
            resolved_by=row.resolved_by,
            silences=row.silences,
        )
    timeline = tuple(
        TimelineEntry(
            at=event.at,
            kind=TimelineKind(event.kind),
            actor=event.actor,
            text=event.text,
            data=event.data,
        )
        for event in incident_events(session, incident_id=row.id)
    )
    alerts = tuple(
        _alert_of(alert) for alert in reversed(list_alerts(session, incident_id=row.id, limit=None))
    )
    deployments = tuple(
        PriorDeployment(
            service=deploy.service,
            version=deploy.version,
            change_type=deploy.change_type,
            allowed=deploy.allowed,
            requested_at=deploy.requested_at,
        )
        for deploy in list_deployments_between(
            session,
            services=incident.services,
            start=incident.opened_at - DEPLOYS_BEFORE,
            end=incident.opened_at,
        )
    )
    deploy_entries = tuple(
        TimelineEntry(
            at=deploy.requested_at,
            kind=TimelineKind.DEPLOYMENT,
            actor="gate",
            text=(
                f"{deploy.change_type} deploy of {deploy.service}"
                f"{' ' + deploy.version if deploy.version else ''}:"
                f" {'allowed' if deploy.allowed else 'denied'} by the gate"
            ),
            data={"service": deploy.service, "version": deploy.version},
        )
        for deploy in deployments
    )
    people = set(incident.roles.values())
    people |= {entry.actor for entry in timeline if entry.actor not in _MACHINES}
    return IncidentView(
        incident=incident,
        summary=row.summary,
        created_by=row.created_by,
        resolved_by=row.resolved_by,
        silences=row.silences,
        timeline=tuple(sorted((*deploy_entries, *timeline), key=lambda entry: entry.at)),
        participants=tuple(sorted(people)),
        tasks=tuple(task_of(t) for t in list_tasks(session, incident_id=row.id, limit=None)),
        alert_details=alerts,
        related=tuple((r.id, r.title) for r in related_incidents(session, row=row)),
        deployments=deployments,
    )


def declare_incident(
    engine: StoreEngine,
    *,
    title: str,
    severity: Severity,
    actor: str,
    now: datetime,
    services: Sequence[str] = (),
    slos: Sequence[str] = (),
    summary: str | None = None,
    commander: str | None = None,
) -> IncidentView:
    """Open an incident by hand (no alert group: it never absorbs alerts)."""
    if not title.strip():
        raise SpecError("an incident needs a title", field="title")
    with transaction(engine) as session:
        row = create_incident(
            session,
            title=title.strip(),
            severity=severity,
            opened_at=now,
            actor=actor,
            services=services,
            slos=slos,
            summary=summary,
            now=now,
        )
        if commander:
            _save_role(
                session, row, role=IncidentRole.COMMANDER, person=commander, actor=actor, now=now
            )
        return _view(session, row, full=True)


def change_incident_state(
    engine: StoreEngine,
    *,
    incident_id: int,
    to: IncidentState,
    actor: str,
    now: datetime,
    note: str | None = None,
    postmortem_waived: str | None = None,
    noise: bool = False,
    noise_reason: str | None = None,
) -> IncidentView:
    """Acknowledge, mitigate, resolve, close or reopen (`to` triggered) an incident.

    Closing needs the post-mortem published, or a reason to waive it while none is
    (`core.postmortem.closing_note`). Closing with `noise` marks the incident a false alarm
    (`noise_reason` says why, kept in the timeline entry and the waiver when none is given);
    reopening clears the mark.
    """
    reason = (noise_reason or "").strip() or None
    if reason is not None and not noise:
        raise SpecError("a reason is given with the noise mark only", field="reason")
    with transaction(engine) as session:
        row = get_incident(session, incident_id=incident_id)
        incident = incident_of(row)
        closing = ""
        try:
            changed = change_state(incident, to=to, at=now, noise=noise)
            if to is IncidentState.CLOSED:
                postmortem = find_postmortem(session, incident_id=incident_id)
                written = None if postmortem is None else PostmortemState(postmortem.state)
                published = written is PostmortemState.PUBLISHED
                closing = closing_note(
                    incident_id,
                    postmortem=written,
                    waiver=postmortem_waived or (None if published else reason),
                    noise=noise,
                )
        except TransitionRefusedError as error:
            raise Conflict(str(error)) from None
        verb = _VERBS[to]
        text = f"{verb}d" if verb.endswith("e") else f"{verb}ed"
        if noise:
            text += " as noise"
        if closing:
            text += f" ({closing})"
        if note:
            text += f": {note}"
        save_incident(
            session,
            row=row,
            incident=changed,
            actor=actor,
            action=verb,
            text=text,
            data={"noise_reason": reason} if reason else None,
            now=now,
        )
        return _view(session, row, full=True)


def note_incident(
    engine: StoreEngine, *, incident_id: int, text: str, actor: str, now: datetime
) -> IncidentView:
    """Add a note to the timeline."""
    if not text.strip():
        raise SpecError("a note needs some text", field="text")
    with transaction(engine) as session:
        row = get_incident(session, incident_id=incident_id)
        add_event(
            session, incident_id=row.id, kind=TimelineKind.NOTE, actor=actor, text=text, at=now
        )
        return _view(session, row, full=True)


def assign_role(
    engine: StoreEngine,
    *,
    incident_id: int,
    role: IncidentRole,
    person: str,
    actor: str,
    now: datetime,
) -> IncidentView:
    """Give an incident role (commander, scribe, communications) to a person."""
    if not person.strip():
        raise SpecError("name the person taking the role", field="person")
    with transaction(engine) as session:
        row = get_incident(session, incident_id=incident_id)
        _save_role(session, row, role=role, person=person.strip(), actor=actor, now=now)
        return _view(session, row, full=True)


def _save_role(
    session: StoreSession,
    row: IncidentRow,
    *,
    role: IncidentRole,
    person: str,
    actor: str,
    now: datetime,
) -> None:
    incident = incident_of(row)
    roles = {**incident.roles, role: person}
    save_incident(
        session,
        row=row,
        incident=replace(incident, roles=roles),
        actor=actor,
        action="assign",
        text=f"{person} is the {role.value}",
        kind=TimelineKind.ROLE_ASSIGNED,
        now=now,
    )


def new_task(
    engine: StoreEngine,
    *,
    incident_id: int,
    title: str,
    actor: str,
    now: datetime,
    owner: str | None = None,
    due_at: datetime | None = None,
    source: str = "incident",
) -> FollowUpTask:
    if not title.strip():
        raise SpecError("a task needs a title", field="title")
    with transaction(engine) as session:
        row = add_task(
            session,
            incident_id=incident_id,
            title=title.strip(),
            actor=actor,
            owner=owner,
            due_at=due_at,
            source=source,
            now=now,
        )
        return task_of(row)


def change_task(
    engine: StoreEngine,
    *,
    task_id: int,
    actor: str,
    now: datetime,
    state: TaskState | None = None,
    owner: str | None = None,
    due_at: datetime | None = None,
) -> FollowUpTask:
    """Mark a task done or cancelled, or give it an owner or a due date."""
    with transaction(engine) as session:
        row = update_task(
            session, task_id=task_id, actor=actor, state=state, owner=owner, due_at=due_at, now=now
        )
        return task_of(row)


def list_follow_ups(
    engine: StoreEngine,
    *,
    incident_id: int | None = None,
    state: TaskState | None = None,
    overdue_at: datetime | None = None,
) -> list[FollowUpTask]:
    with transaction(engine, read_only=True) as session:
        return [
            task_of(row)
            for row in list_tasks(
                session, incident_id=incident_id, state=state, overdue_at=overdue_at, limit=None
            )
        ]


def incident_view(engine: StoreEngine, *, incident_id: int) -> IncidentView:
    """One incident with its timeline, tasks, alerts, related incidents and prior deploys."""
    with transaction(engine, read_only=True) as session:
        return _view(session, get_incident(session, incident_id=incident_id), full=True)


def list_incident_views(
    engine: StoreEngine,
    *,
    service: str | None = None,
    state: StateFilter = "open",
    severity: Severity | None = None,
    limit: int = 100,
) -> list[IncidentView]:
    with transaction(engine, read_only=True) as session:
        rows = list_incidents(session, service=service, state=state, severity=severity, limit=limit)
        prints = incident_fingerprints(session, incident_ids=[row.id for row in rows])
        return [_view(session, row, full=False, fingerprints=prints[row.id]) for row in rows]


class StoredIncidents:
    """The gate's view of open P0/P1 incidents, read from the store at most every `ttl_s`
    (and at once after `invalidate`, which this process's changes call). Every service's are
    read together, in one query: the dashboard asks for hundreds of services at once, and
    open P0/P1 incidents are few."""

    def __init__(self, engine: StoreEngine, *, ttl_s: float = 1.0) -> None:
        self.engine = engine
        self.ttl_s = ttl_s
        self._lock = threading.Lock()
        self._read: tuple[float, dict[str, tuple[str, ...]]] | None = None
        self._generation = 0  # moved by `invalidate`: a read begun before it is not kept

    def invalidate(self) -> None:
        with self._lock:
            self._read = None
            self._generation += 1

    def open_severe_incidents(self, service: str) -> Sequence[str]:
        now = time.monotonic()
        with self._lock:
            cached = self._read
            generation = self._generation
        if cached is not None and cached[0] > now:
            return cached[1].get(service, ())
        with transaction(self.engine, read_only=True) as session:
            found = {
                name: tuple(
                    f"#{row.id} {row.severity} {row.title} (opened {format_instant(row.opened_at)})"
                    for row in rows
                )
                for name, rows in open_severe_incidents_by_service(session).items()
            }
        with self._lock:
            if generation == self._generation:
                self._read = (now + self.ttl_s, found)
        return found.get(service, ())
