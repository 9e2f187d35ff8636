"""Services: each has SLOs and belongs to at most one team. A service is created when an SLO
first names it and deleted only when it has no SLO left."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from srekit.errors import NotFound
from srekit.store.repo._base import check_name, find_named, when
from srekit.store.repo.audit import audited_write
from srekit.store.repo.teams import upsert_team
from srekit.store.tables import ServiceRow, TeamRow

__all__ = ["delete_service", "get_service", "list_services", "service_names", "upsert_service"]


def _service_state(service: ServiceRow) -> dict[str, Any]:
    return {"name": service.name, "team": service.team.name if service.team else None}


def list_services(session: Session) -> list[ServiceRow]:
    query = select(ServiceRow).options(selectinload(ServiceRow.team)).order_by(ServiceRow.name)
    return list(session.scalars(query))


def service_names(session: Session) -> list[str]:
    """Every service's name, without loading the rows: the gate's catalog asks this often."""
    return list(session.scalars(select(ServiceRow.name).order_by(ServiceRow.name)))


def service_teams(session: Session) -> dict[str, str | None]:
    """Every service's name and its team's (None: no team yet), in one query without loading
    the rows: the dashboard shows the team of each of thousands of SLOs."""
    query = (
        select(ServiceRow.name, TeamRow.name)
        .outerjoin(TeamRow, ServiceRow.team_id == TeamRow.id)
        .order_by(ServiceRow.name)
    )
    teams: dict[str, str | None] = {}
    for service, team in session.execute(query):
        teams[service] = team
    return teams


def get_service(session: Session, *, name: str) -> ServiceRow:
    service = find_named(session, ServiceRow, name)
    if service is None:
        raise NotFound(f"no service {name!r} in the store")
    return service


def upsert_service(
    session: Session,
    *,
    name: str,
    team: str | None = None,
    actor: str,
    now: datetime | None = None,
) -> ServiceRow:
    """The service called `name`, created when missing; moved to `team` when one is given.

    `team=None` leaves the owner as it is: a spec that names no owner does not disown a service.
    """
    check_name(name, "service")
    service = find_named(session, ServiceRow, name)
    owner = upsert_team(session, name=team, actor=actor, now=now) if team else None
    if service is None:
        service = ServiceRow(name=name, team=owner, created_at=when(now), updated_at=when(now))
        session.add(service)
        audited_write(
            session,
            actor=actor,
            action="service.create",
            target=name,
            after=_service_state(service),
            refused=f"service {name!r} could not be created",
            now=now,
        )
    elif owner is not None and service.team_id != owner.id:
        before = _service_state(service)
        service.team = owner
        service.updated_at = when(now)
        audited_write(
            session,
            actor=actor,
            action="service.update",
            target=name,
            before=before,
            after=_service_state(service),
            now=now,
        )
    return service


def delete_service(session: Session, *, name: str, actor: str, now: datetime | None = None) -> None:
    """Delete a service; a Conflict while it still has SLOs."""
    service = get_service(session, name=name)
    before = _service_state(service)
    session.delete(service)
    audited_write(
        session,
        actor=actor,
        action="service.delete",
        target=name,
        before=before,
        refused=f"service {name!r} still has SLOs; delete them first",
        now=now,
    )
