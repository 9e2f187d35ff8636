"""Teams: they own services. A team is created when first named and deleted only when it owns
no service."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from srekit.errors import NotFound
from srekit.store.repo._base import check_name, find_named, when
from srekit.store.repo.audit import audited_write
from srekit.store.tables import TeamRow

__all__ = ["delete_team", "find_team", "get_team", "list_teams", "upsert_team"]


def list_teams(session: Session) -> list[TeamRow]:
    return list(session.scalars(select(TeamRow).order_by(TeamRow.name)))


def find_team(session: Session, *, name: str) -> TeamRow | None:
    return find_named(session, TeamRow, name)


def get_team(session: Session, *, name: str) -> TeamRow:
    team = find_team(session, name=name)
    if team is None:
        raise NotFound(f"no team {name!r} in the store")
    return team


def upsert_team(session: Session, *, name: str, actor: str, now: datetime | None = None) -> TeamRow:
    """The team called `name`, created (and audited) when missing."""
    check_name(name, "team")
    team = find_named(session, TeamRow, name)
    if team is not None:
        return team
    team = TeamRow(name=name, created_at=when(now))
    session.add(team)
    audited_write(
        session,
        actor=actor,
        action="team.create",
        target=name,
        after={"name": name},
        refused=f"team {name!r} could not be created",
        now=now,
    )
    return team


def delete_team(session: Session, *, name: str, actor: str, now: datetime | None = None) -> None:
    """Delete a team; a Conflict while services still belong to it."""
    team = get_team(session, name=name)
    session.delete(team)
    audited_write(
        session,
        actor=actor,
        action="team.delete",
        target=name,
        before={"name": name},
        refused=f"team {name!r} still owns services; move or delete them first",
        now=now,
    )
