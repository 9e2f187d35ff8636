"""What the on-call handoff reads of a team's services at an instant: the incidents not closed
by then, their post-mortems' states, the follow-up tasks open then, and the alerts that
started in the outgoing shift. Reads only; `core.handoff` decides what counts and in which
order."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session, selectinload

from srekit.core.incident import TaskState
from srekit.core.postmortem import PostmortemState
from srekit.store.tables import (
    AlertRow,
    IncidentRow,
    IncidentServiceRow,
    IncidentTaskRow,
    PostmortemRow,
    ServiceRow,
    TeamRow,
)

__all__ = [
    "StartedAlert",
    "alerts_started_between",
    "incidents_not_closed_at",
    "postmortem_states",
    "tasks_open_at",
    "team_services",
]


def team_services(session: Session, *, team: str) -> list[str]:
    """The names of the services the team owns, sorted; none for a team the store lacks."""
    query = (
        select(ServiceRow.name)
        .join(TeamRow, ServiceRow.team_id == TeamRow.id)
        .where(TeamRow.name == team)
        .order_by(ServiceRow.name)
    )
    return list(session.scalars(query))


def _on_services(services: Sequence[str]) -> Select[Any]:
    return select(IncidentServiceRow.incident_id).where(
        IncidentServiceRow.service.in_(list(services))
    )


def incidents_not_closed_at(
    session: Session, *, services: Sequence[str], at: datetime
) -> list[IncidentRow]:
    """The incidents on any of `services` opened at or before `at` and not closed by then
    (open or resolved at `at`, whatever they are now), oldest first, their services loaded."""
    if not services:
        return []
    query = (
        select(IncidentRow)
        .where(
            IncidentRow.id.in_(_on_services(services)),
            IncidentRow.opened_at <= at,
            or_(IncidentRow.closed_at.is_(None), IncidentRow.closed_at > at),
        )
        .options(selectinload(IncidentRow.services))
        .order_by(IncidentRow.opened_at, IncidentRow.id)
    )
    return list(session.scalars(query))


def postmortem_states(
    session: Session, *, incident_ids: Iterable[int]
) -> dict[int, PostmortemState]:
    """The state of each of these incidents' post-mortems, for those that have one."""
    wanted = sorted(set(incident_ids))
    if not wanted:
        return {}
    rows = session.execute(
        select(PostmortemRow.incident_id, PostmortemRow.state).where(
            PostmortemRow.incident_id.in_(wanted)
        )
    )
    return {incident_id: PostmortemState(state) for incident_id, state in rows}


def tasks_open_at(
    session: Session, *, services: Sequence[str], at: datetime
) -> list[IncidentTaskRow]:
    """The follow-up tasks of incidents on any of `services` that were open at `at`: created
    by then, and open now or done after it (a cancelled task keeps no instant: left out)."""
    if not services:
        return []
    query = (
        select(IncidentTaskRow)
        .where(
            IncidentTaskRow.incident_id.in_(_on_services(services)),
            IncidentTaskRow.created_at <= at,
            or_(
                IncidentTaskRow.state == TaskState.OPEN.value,
                (IncidentTaskRow.state == TaskState.DONE.value) & (IncidentTaskRow.done_at > at),
            ),
        )
        .order_by(IncidentTaskRow.id)
    )
    return list(session.scalars(query))


class StartedAlert(NamedTuple):
    """What the handoff reads of an alert instance: not its labels or annotations."""

    alertname: str
    service: str | None
    status: str
    starts_at: datetime
    ends_at: datetime | None
    incident_id: int | None


def alerts_started_between(
    session: Session, *, services: Sequence[str], start: datetime, end: datetime
) -> list[StartedAlert]:
    """The alert instances of any of `services` (as routing named them) that started in
    [start, end), oldest first."""
    if not services:
        return []
    query = (
        select(
            AlertRow.alertname,
            AlertRow.service,
            AlertRow.status,
            AlertRow.starts_at,
            AlertRow.ends_at,
            AlertRow.incident_id,
        )
        .where(
            AlertRow.service.in_(list(services)),
            AlertRow.starts_at >= start,
            AlertRow.starts_at < end,
        )
        .order_by(AlertRow.starts_at, AlertRow.id)
    )
    return [StartedAlert(*row) for row in session.execute(query)]
