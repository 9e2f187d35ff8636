"""Incidents: their rows, timeline and follow-up tasks.

The lifecycle's rules are `core.incident`'s: callers compute the incident after a change with
`core.incident.change_state` and store it with `save_incident`, which writes the timeline entry
and the audit row in the same transaction. An open incident holds its routing group in
`open_group_key`, unique, so two writers cannot open two incidents for one group. The
Alertmanager silences an incident holds are listed on it (`add_silence`, `remove_silence`),
each change with its timeline entry and audit row.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Literal, NamedTuple

from sqlalchemy import and_, bindparam, func, insert, or_, select
from sqlalchemy.orm import Session, selectinload

from srekit.core.incident import (
    SEVERE,
    Incident,
    IncidentRole,
    IncidentState,
    Severity,
    TaskState,
    TimelineKind,
    is_open,
)
from srekit.core.instant import format_instant
from srekit.core.specs import canonical_json
from srekit.errors import NotFound
from srekit.store.repo._base import (
    check_name,
    core_connection,
    refused_as_conflict,
    table_of,
    when,
)
from srekit.store.repo.audit import record_audit
from srekit.store.tables import (
    AlertRow,
    IncidentEventRow,
    IncidentRow,
    IncidentServiceRow,
    IncidentTaskRow,
)

__all__ = [
    "GroupIncident",
    "StateFilter",
    "add_event",
    "add_silence",
    "add_task",
    "alert_standing",
    "create_incident",
    "get_incident",
    "get_incidents",
    "get_task",
    "incident_events",
    "incident_fingerprints",
    "incident_of",
    "incidents_holding_silences",
    "insert_events",
    "latest_group_incident",
    "list_incidents",
    "list_tasks",
    "open_severe_incidents",
    "open_severe_incidents_by_service",
    "pages_per_incident",
    "related_incidents",
    "remove_silence",
    "save_incident",
    "update_task",
]

StateFilter = Literal["open", "closed", "all"] | IncidentState

_OPEN = tuple(s.value for s in IncidentState if is_open(s))
_INCIDENTS = table_of(IncidentRow)
_INCIDENT_SERVICES = table_of(IncidentServiceRow)
_EVENTS = table_of(IncidentEventRow)
_INSERT_EVENTS = insert(_EVENTS)


def incident_of(row: IncidentRow, *, alerts: Sequence[str] = ()) -> Incident:
    """The core incident a row stores (its services loaded by the repo's queries), with the
    fingerprints of its alerts when the caller read them (`incident_fingerprints`): the intake
    never reads them, as a long incident gathers thousands."""
    return _incident(row, services=row.service_names, alerts=alerts)


def _incident(columns: Any, *, services: tuple[str, ...], alerts: Sequence[str] = ()) -> Incident:
    """The core incident from an incident's columns: an `IncidentRow`, or a row of a Core
    select of `_INCIDENT_COLUMNS`."""
    return Incident(
        id=columns.id,
        title=columns.title,
        severity=Severity(columns.severity),
        state=IncidentState(columns.state),
        opened_at=columns.opened_at,
        services=services,
        slos=tuple(json.loads(columns.slos_json)),
        acknowledged_at=columns.acknowledged_at,
        mitigated_at=columns.mitigated_at,
        resolved_at=columns.resolved_at,
        closed_at=columns.closed_at,
        alerts=tuple(alerts),
        roles={IncidentRole(k): v for k, v in json.loads(columns.roles_json).items()},
        reopened=columns.reopened,
        noise=columns.noise,
    )


class GroupIncident(NamedTuple):
    """A routing group's latest incident as the intake reads it: the core incident (without
    its alerts) and who resolved it."""

    incident: Incident
    resolved_by: str | None


_INCIDENT_COLUMNS = [
    _INCIDENTS.c[name]
    for name in (
        "id",
        "title",
        "severity",
        "state",
        "opened_at",
        "acknowledged_at",
        "mitigated_at",
        "resolved_at",
        "closed_at",
        "reopened",
        "noise",
        "slos_json",
        "roles_json",
        "resolved_by",
    )
]
_LATEST_OF_GROUP = (
    select(*_INCIDENT_COLUMNS)
    .where(_INCIDENTS.c.group_key == bindparam("group_key"))
    .order_by(_INCIDENTS.c.opened_at.desc(), _INCIDENTS.c.id.desc())
    .limit(1)
)
_SERVICES_OF = (
    select(_INCIDENT_SERVICES.c.service)
    .where(_INCIDENT_SERVICES.c.incident_id == bindparam("incident_id"))
    .order_by(_INCIDENT_SERVICES.c.service)
)


def latest_group_incident(session: Session, *, group_key: str) -> GroupIncident | None:
    """The newest incident opened for a routing group, open or not, read as values (no ORM
    row: the intake reads it for every notification and rarely changes it)."""
    connection = core_connection(session)
    columns = connection.execute(_LATEST_OF_GROUP, {"group_key": group_key}).first()
    if columns is None:
        return None
    services = connection.execute(_SERVICES_OF, {"incident_id": columns.id}).scalars()
    return GroupIncident(_incident(columns, services=tuple(services)), columns.resolved_by)


def _audit_view(row: IncidentRow) -> dict[str, Any]:
    def instant(moment: datetime | None) -> str | None:
        return None if moment is None else format_instant(moment)

    return {
        "title": row.title,
        "severity": row.severity,
        "state": row.state,
        "services": list(row.service_names),
        "slos": list(row.slos),
        "opened_at": instant(row.opened_at),
        "acknowledged_at": instant(row.acknowledged_at),
        "mitigated_at": instant(row.mitigated_at),
        "resolved_at": instant(row.resolved_at),
        "closed_at": instant(row.closed_at),
        "roles": row.roles,
        "noise": row.noise,
    }


def _loaded() -> Any:
    return (selectinload(IncidentRow.services),)


def incident_fingerprints(
    session: Session, *, incident_ids: Sequence[int]
) -> dict[int, tuple[str, ...]]:
    """The distinct fingerprints of each incident's alerts, oldest alert first."""
    found: dict[int, dict[str, None]] = {incident_id: {} for incident_id in incident_ids}
    if not incident_ids:
        return {}
    rows = session.execute(
        select(AlertRow.incident_id, AlertRow.fingerprint)
        .where(AlertRow.incident_id.in_(list(incident_ids)))
        .order_by(AlertRow.starts_at, AlertRow.id)
    )
    for incident_id, fingerprint in rows:
        if incident_id is not None:  # the query asked for these incidents only
            found[incident_id][fingerprint] = None
    return {incident_id: tuple(prints) for incident_id, prints in found.items()}


_ALERTS = table_of(AlertRow)
_STANDING = (
    select(
        _ALERTS.c.incident_id,
        func.count(_ALERTS.c.id),
        func.count(_ALERTS.c.id).filter(_ALERTS.c.status == "firing"),
        func.max(_ALERTS.c.ends_at),
    )
    .where(_ALERTS.c.incident_id.in_(bindparam("incident_ids", expanding=True)))
    .group_by(_ALERTS.c.incident_id)
)


def alert_standing(
    session: Session, *, incident_ids: Sequence[int]
) -> dict[int, tuple[int, int, datetime | None]]:
    """Per incident, (alerts, of which firing, the latest end among the resolved): what the
    intake needs to tell whether all its alerts have resolved, without reading them."""
    if not incident_ids:
        return {}
    rows = core_connection(session).execute(_STANDING, {"incident_ids": sorted(incident_ids)})
    standing: dict[int, tuple[int, int, datetime | None]] = {}
    for incident_id, total, firing, ended in rows:
        if incident_id is not None:  # the query asked for these incidents only
            standing[incident_id] = (int(total), int(firing), ended)
    return standing


def get_incidents(session: Session, *, incident_ids: Iterable[int]) -> dict[int, IncidentRow]:
    """The incidents with these ids (those that exist), in one query."""
    wanted = sorted(set(incident_ids))
    if not wanted:
        return {}
    rows = session.scalars(
        select(IncidentRow).where(IncidentRow.id.in_(wanted)).options(*_loaded())
    )
    return {row.id: row for row in rows}


def create_incident(
    session: Session,
    *,
    title: str,
    severity: Severity,
    opened_at: datetime,
    actor: str,
    services: Iterable[str] = (),
    slos: Iterable[str] = (),
    summary: str | None = None,
    group_key: str | None = None,
    now: datetime | None = None,
) -> IncidentRow:
    """Open an incident (triggered), with its first timeline entry and audit row.

    With `group_key`, a Conflict when another open incident holds the group (a concurrent
    writer opened it first: read it and join it).
    """
    names = sorted(set(services))
    for name in names:
        check_name(name, "services")
    row = IncidentRow(
        title=title,
        summary=summary,
        severity=severity.value,
        state=IncidentState.TRIGGERED.value,
        opened_at=opened_at,
        reopened=0,
        group_key=group_key,
        open_group_key=group_key,
        slos_json=canonical_json(sorted(set(slos))),
        roles_json="{}",
        participants_json="[]",
        silences_json="[]",
        created_by=actor,
        updated_at=when(now),
        services=[IncidentServiceRow(service=name) for name in names],
    )
    session.add(row)
    with refused_as_conflict(f"an open incident holds the alert group {group_key}"):
        session.flush()
    add_event(
        session,
        incident_id=row.id,
        kind=TimelineKind.STATE_CHANGED,
        actor=actor,
        text=f"{severity.value} incident opened: {title}",
        at=opened_at,
        data={"state": IncidentState.TRIGGERED.value},
    )
    record_audit(
        session,
        actor=actor,
        action="incident.open",
        entity_kind="incident",
        entity_id=str(row.id),
        after=_audit_view(row),
        now=now,
    )
    return row


def get_incident(session: Session, *, incident_id: int) -> IncidentRow:
    row = session.scalars(
        select(IncidentRow).where(IncidentRow.id == incident_id).options(*_loaded())
    ).one_or_none()
    if row is None:
        raise NotFound(f"no incident {incident_id}")
    return row


def list_incidents(
    session: Session,
    *,
    service: str | None = None,
    state: StateFilter = "open",
    severity: Severity | None = None,
    opened_from: datetime | None = None,
    opened_to: datetime | None = None,
    limit: int | None = 100,
) -> list[IncidentRow]:
    """Incidents newest first; `state` is open, closed (resolved or closed), all, or one state;
    `opened_from`/`opened_to` bound the opening instant, [from, to)."""
    query = select(IncidentRow).options(*_loaded())
    if service is not None:
        query = query.where(
            IncidentRow.id.in_(
                select(IncidentServiceRow.incident_id).where(IncidentServiceRow.service == service)
            )
        )
    if state == "open":
        query = query.where(IncidentRow.state.in_(_OPEN))
    elif state == "closed":
        query = query.where(IncidentRow.state.not_in(_OPEN))
    elif state != "all":
        query = query.where(IncidentRow.state == IncidentState(state).value)
    if severity is not None:
        query = query.where(IncidentRow.severity == severity.value)
    if opened_from is not None:
        query = query.where(IncidentRow.opened_at >= opened_from)
    if opened_to is not None:
        query = query.where(IncidentRow.opened_at < opened_to)
    query = query.order_by(IncidentRow.opened_at.desc(), IncidentRow.id.desc())
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def open_severe_incidents(session: Session, *, service: str) -> list[IncidentRow]:
    """The service's open P0/P1 incidents, oldest first: what denies its deploys."""
    return list(
        session.scalars(
            select(IncidentRow)
            .join(IncidentServiceRow, IncidentServiceRow.incident_id == IncidentRow.id)
            .where(
                IncidentServiceRow.service == service,
                IncidentRow.state.in_(_OPEN),
                IncidentRow.severity.in_([s.value for s in SEVERE]),
            )
            .order_by(IncidentRow.opened_at, IncidentRow.id)
        )
    )


def open_severe_incidents_by_service(session: Session) -> dict[str, list[IncidentRow]]:
    """Every service's open P0/P1 incidents, oldest first, in one query: services without
    any are absent. The dashboard shows the gate of every service at once."""
    found: dict[str, list[IncidentRow]] = {}
    rows = session.execute(
        select(IncidentServiceRow.service, IncidentRow)
        .join(IncidentRow, IncidentServiceRow.incident_id == IncidentRow.id)
        .where(
            IncidentRow.state.in_(_OPEN),
            IncidentRow.severity.in_([s.value for s in SEVERE]),
        )
        .order_by(IncidentRow.opened_at, IncidentRow.id)
    )
    for service, row in rows:
        found.setdefault(service, []).append(row)
    return found


def save_incident(
    session: Session,
    *,
    row: IncidentRow,
    incident: Incident,
    actor: str,
    action: str,
    text: str,
    at: datetime | None = None,
    kind: TimelineKind = TimelineKind.STATE_CHANGED,
    data: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> IncidentRow:
    """Store `incident` (the row's incident after a change `core` computed) over `row`: state,
    instants, severity, services, SLOs, roles and noise mark; then its timeline entry (at
    `at`, else now, with `data` beside the state and severity, and `noise` when closed as
    noise) and its audit row (`incident.<action>`).

    Leaving the open states releases the routing group; reopening takes it back unless another
    open incident holds it by then.
    """
    before = _audit_view(row)
    row.state = incident.state.value
    row.severity = incident.severity.value
    row.title = incident.title
    row.opened_at = incident.opened_at
    row.acknowledged_at = incident.acknowledged_at
    row.mitigated_at = incident.mitigated_at
    row.resolved_at = incident.resolved_at
    row.closed_at = incident.closed_at
    row.reopened = incident.reopened
    row.noise = incident.noise
    row.slos_json = canonical_json(sorted(set(incident.slos)))
    row.roles_json = canonical_json({str(k): v for k, v in incident.roles.items()})
    if incident.resolved_at is None:
        row.resolved_by = None
    elif incident.state is IncidentState.RESOLVED and row.resolved_by is None:
        row.resolved_by = actor
    present = set(row.service_names)
    for name in sorted(set(incident.services) - present):
        check_name(name, "services")
        row.services.append(IncidentServiceRow(service=name))
    if incident.open and row.open_group_key is None and row.group_key is not None:
        holder = session.scalars(
            select(IncidentRow.id).where(IncidentRow.open_group_key == row.group_key)
        ).first()
        if holder is None:
            row.open_group_key = row.group_key
    if not incident.open:
        row.open_group_key = None
    row.updated_at = when(now)
    with refused_as_conflict(f"incident {row.id} could not be saved"):
        session.flush()
    add_event(
        session,
        incident_id=row.id,
        kind=kind,
        actor=actor,
        text=text,
        at=when(at if at is not None else now),
        data={
            "state": incident.state.value,
            "severity": incident.severity.value,
            **({"noise": True} if incident.noise else {}),
            **(data or {}),
        },
    )
    record_audit(
        session,
        actor=actor,
        action=f"incident.{action}",
        entity_kind="incident",
        entity_id=str(row.id),
        before=before,
        after=_audit_view(row),
        now=now,
    )
    return row


def add_event(
    session: Session,
    *,
    incident_id: int,
    kind: TimelineKind,
    actor: str,
    text: str,
    at: datetime,
    data: dict[str, Any] | None = None,
) -> IncidentEventRow:
    """Append one entry to an incident's timeline."""
    row = IncidentEventRow(
        incident_id=incident_id,
        at=at,
        kind=kind.value,
        actor=actor,
        text=text,
        data_json=canonical_json(data or {}),
    )
    session.add(row)
    return row


def insert_events(session: Session, *, rows: Sequence[dict[str, Any]]) -> None:
    """Append many timeline entries (incident_id, at, kind, actor, text, data) at once."""
    if rows:
        core_connection(session).execute(
            _INSERT_EVENTS,
            [
                {
                    "incident_id": row["incident_id"],
                    "at": row["at"],
                    "kind": TimelineKind(row["kind"]).value,
                    "actor": row["actor"],
                    "text": row["text"],
                    "data_json": canonical_json(row.get("data") or {}),
                }
                for row in rows
            ],
        )


def incident_events(session: Session, *, incident_id: int) -> list[IncidentEventRow]:
    """The timeline, oldest first."""
    return list(
        session.scalars(
            select(IncidentEventRow)
            .where(IncidentEventRow.incident_id == incident_id)
            .order_by(IncidentEventRow.at, IncidentEventRow.id)
        )
    )


def pages_per_incident(session: Session, *, incident_ids: Iterable[int]) -> dict[int, int]:
    """Per incident, the pages sent for it (its timeline's `page_sent` entries); incidents
    without any are left out."""
    wanted = sorted(set(incident_ids))
    counts: dict[int, int] = {}
    for first in range(0, len(wanted), 1000):
        rows = core_connection(session).execute(
            select(_EVENTS.c.incident_id, func.count(_EVENTS.c.id))
            .where(
                _EVENTS.c.incident_id.in_(wanted[first : first + 1000]),
                _EVENTS.c.kind == TimelineKind.PAGE_SENT.value,
            )
            .group_by(_EVENTS.c.incident_id)
        )
        counts.update((incident_id, int(count)) for incident_id, count in rows)
    return counts


def related_incidents(session: Session, *, row: IncidentRow, limit: int = 10) -> list[IncidentRow]:
    """Earlier incidents on the same services that shared an alert name or a fingerprint with
    this one, newest first."""
    services = row.service_names
    if not services:
        return []
    own = select(AlertRow).where(AlertRow.incident_id == row.id).subquery()
    matching = select(AlertRow.incident_id).where(
        AlertRow.incident_id.is_not(None),
        AlertRow.incident_id != row.id,
        or_(
            AlertRow.alertname.in_(select(own.c.alertname).where(own.c.alertname != "")),
            AlertRow.fingerprint.in_(select(own.c.fingerprint)),
        ),
    )
    on_services = select(IncidentServiceRow.incident_id).where(
        IncidentServiceRow.service.in_(services)
    )
    return list(
        session.scalars(
            select(IncidentRow)
            .where(
                and_(
                    IncidentRow.id.in_(matching),
                    IncidentRow.id.in_(on_services),
                    IncidentRow.opened_at <= row.opened_at,
                )
            )
            .options(*_loaded())
            .order_by(IncidentRow.opened_at.desc(), IncidentRow.id.desc())
            .limit(limit)
        )
    )


# --- silences --------------------------------------------------------------------------------

_NO_SILENCES = "[]"


def incidents_holding_silences(
    session: Session, *, incident_ids: Iterable[int] | None = None
) -> list[IncidentRow]:
    """Incidents that hold Alertmanager silences (of these ids only, when given), oldest
    first."""
    query = select(IncidentRow).where(IncidentRow.silences_json != _NO_SILENCES)
    if incident_ids is not None:
        query = query.where(IncidentRow.id.in_(sorted(set(incident_ids))))
    return list(session.scalars(query.options(*_loaded()).order_by(IncidentRow.id)))


def _set_silences(
    session: Session,
    *,
    row: IncidentRow,
    silences: list[str],
    actor: str,
    action: str,
    text: str,
    at: datetime,
    data: dict[str, Any],
    now: datetime | None,
) -> IncidentRow:
    before = list(row.silences)
    row.silences_json = canonical_json(silences) if silences else _NO_SILENCES
    row.updated_at = when(now)
    session.flush()
    add_event(
        session,
        incident_id=row.id,
        kind=TimelineKind.SILENCE,
        actor=actor,
        text=text,
        at=at,
        data=data,
    )
    record_audit(
        session,
        actor=actor,
        action=f"incident.{action}",
        entity_kind="incident",
        entity_id=str(row.id),
        before={"silences": before},
        after={"silences": silences},
        now=now,
    )
    return row


def add_silence(
    session: Session,
    *,
    row: IncidentRow,
    silence_id: str,
    actor: str,
    text: str,
    at: datetime,
    data: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> IncidentRow:
    """List a silence made for the incident on it, with a timeline entry (`text`, `data`) and
    an audit row (`incident.silence`)."""
    silences = [*(s for s in row.silences if s != silence_id), silence_id]
    return _set_silences(
        session,
        row=row,
        silences=silences,
        actor=actor,
        action="silence",
        text=text,
        at=at,
        data={"silence": silence_id, **(data or {})},
        now=now,
    )


def remove_silence(
    session: Session,
    *,
    row: IncidentRow,
    silence_id: str,
    actor: str,
    text: str,
    at: datetime,
    data: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> IncidentRow:
    """Take a silence (expired, or gone from Alertmanager) off the incident, with a timeline
    entry and an audit row (`incident.unsilence`); one it does not hold changes nothing."""
    if silence_id not in row.silences:
        return row
    return _set_silences(
        session,
        row=row,
        silences=[s for s in row.silences if s != silence_id],
        actor=actor,
        action="unsilence",
        text=text,
        at=at,
        data={"silence": silence_id, **(data or {})},
        now=now,
    )


# --- follow-up tasks --------------------------------------------------------------------------


def add_task(
    session: Session,
    *,
    incident_id: int,
    title: str,
    actor: str,
    owner: str | None = None,
    due_at: datetime | None = None,
    source: str = "incident",
    now: datetime | None = None,
) -> IncidentTaskRow:
    """Add a follow-up task to an incident, with a timeline entry and an audit row."""
    get_incident(session, incident_id=incident_id)
    row = IncidentTaskRow(
        incident_id=incident_id,
        title=title,
        owner=owner,
        due_at=due_at,
        state=TaskState.OPEN.value,
        source=source,
        created_at=when(now),
        created_by=actor,
    )
    session.add(row)
    session.flush()
    add_event(
        session,
        incident_id=incident_id,
        kind=TimelineKind.TASK,
        actor=actor,
        text=f"task {row.id} added: {title}",
        at=when(now),
        data={"task": row.id},
    )
    record_audit(
        session,
        actor=actor,
        action="task.create",
        entity_kind="task",
        entity_id=str(row.id),
        after=_task_view(row),
        now=now,
    )
    return row


def _task_view(row: IncidentTaskRow) -> dict[str, Any]:
    return {
        "incident": row.incident_id,
        "title": row.title,
        "owner": row.owner,
        "due_at": None if row.due_at is None else format_instant(row.due_at),
        "state": row.state,
    }


def get_task(session: Session, *, task_id: int) -> IncidentTaskRow:
    row = session.get(IncidentTaskRow, task_id)
    if row is None:
        raise NotFound(f"no task {task_id}")
    return row


def update_task(
    session: Session,
    *,
    task_id: int,
    actor: str,
    state: TaskState | None = None,
    owner: str | None = None,
    due_at: datetime | None = None,
    now: datetime | None = None,
) -> IncidentTaskRow:
    """Change a task's state, owner or due date (only what is given, not None), audited."""
    row = get_task(session, task_id=task_id)
    before = _task_view(row)
    if state is not None:
        row.state = state.value
        row.done_at = when(now) if state is TaskState.DONE else None
    if owner is not None:
        row.owner = owner
    if due_at is not None:
        row.due_at = due_at
    session.flush()
    record_audit(
        session,
        actor=actor,
        action="task.update",
        entity_kind="task",
        entity_id=str(row.id),
        before=before,
        after=_task_view(row),
        now=now,
    )
    return row


def list_tasks(
    session: Session,
    *,
    incident_id: int | None = None,
    state: TaskState | None = None,
    overdue_at: datetime | None = None,
    limit: int | None = 500,
) -> list[IncidentTaskRow]:
    """Tasks by due date (undated last); `overdue_at`: only open tasks due before it."""
    query = select(IncidentTaskRow)
    if incident_id is not None:
        query = query.where(IncidentTaskRow.incident_id == incident_id)
    if state is not None:
        query = query.where(IncidentTaskRow.state == state.value)
    if overdue_at is not None:
        query = query.where(
            IncidentTaskRow.state == TaskState.OPEN.value,
            IncidentTaskRow.due_at.is_not(None),
            IncidentTaskRow.due_at < overdue_at,
        )
    query = query.order_by(
        IncidentTaskRow.due_at.is_(None), IncidentTaskRow.due_at, IncidentTaskRow.id
    )
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))
