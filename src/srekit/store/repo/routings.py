"""Alert routings by name: every change is a new version, audited; an equal routing writes
nothing. The one named `default` is the routing in force (`active_routing`); while none is
stored, core's `DEFAULT_ROUTING` holds."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from srekit.core.routing import DEFAULT_ROUTING, AlertRouting
from srekit.errors import NotFound
from srekit.spec.routing import routing_from_spec, routing_spec
from srekit.store.repo._base import Applied, check_name
from srekit.store.repo._versioned import apply_versioned_spec
from srekit.store.repo.audit import audited_write
from srekit.store.tables import AlertRoutingRow

__all__ = [
    "ACTIVE_ROUTING",
    "active_routing",
    "apply_routing",
    "delete_routing",
    "find_routing",
    "get_routing",
    "list_routings",
    "routing_of",
]

#: The name of the routing the alert intake uses.
ACTIVE_ROUTING = DEFAULT_ROUTING.name


def routing_of(row: AlertRoutingRow) -> AlertRouting:
    """The core routing a stored row holds (a SpecError names the field when it does not read)."""
    return routing_from_spec(row.name, row.spec())


def find_routing(session: Session, *, name: str) -> AlertRoutingRow | None:
    return session.scalars(
        select(AlertRoutingRow).where(AlertRoutingRow.name == name)
    ).one_or_none()


def get_routing(session: Session, *, name: str) -> AlertRoutingRow:
    row = find_routing(session, name=name)
    if row is None:
        raise NotFound(f"no alert routing {name!r} in the store")
    return row


def list_routings(session: Session) -> list[AlertRoutingRow]:
    return list(session.scalars(select(AlertRoutingRow).order_by(AlertRoutingRow.name)))


def active_routing(session: Session) -> AlertRouting:
    """The routing alerts go through: the stored `default`, else core's `DEFAULT_ROUTING`."""
    row = find_routing(session, name=ACTIVE_ROUTING)
    return DEFAULT_ROUTING if row is None else routing_of(row)


def apply_routing(
    session: Session, *, routing: AlertRouting, actor: str, now: datetime | None = None
) -> Applied[AlertRoutingRow]:
    """Store `routing` under its name: created, updated (new version, audited) or unchanged."""
    check_name(routing.name, "metadata.name")
    return apply_versioned_spec(
        session,
        AlertRoutingRow,
        name=routing.name,
        spec=routing_spec(routing),
        kind="routing",
        shown=f"alert routing {routing.name!r}",
        actor=actor,
        now=now,
    )


def delete_routing(session: Session, *, name: str, actor: str, now: datetime | None = None) -> None:
    """Delete a stored routing (deleting `default` brings back the built-in one); the audit row
    keeps its last spec."""
    row = get_routing(session, name=name)
    before = {"version": row.version, "spec": row.spec()}
    session.delete(row)
    audited_write(
        session, actor=actor, action="routing.delete", target=name, before=before, now=now
    )
