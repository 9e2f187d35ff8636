"""People who go on call, by handle: added, updated, deleted, each change audited (`person.*`)
with the person before and after."""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from srekit.contracts import person_document
from srekit.core.incident import TimelineKind
from srekit.core.oncall import names_person
from srekit.core.people import ContactKind, ContactMethod, Person
from srekit.core.specs import canonical_json
from srekit.errors import Conflict, NotFound
from srekit.store.repo._base import check_name, when
from srekit.store.repo.audit import audited_write
from srekit.store.tables import IncidentEventRow, PersonRow

__all__ = [
    "add_person",
    "delete_person",
    "find_person",
    "get_person",
    "list_people",
    "pages_per_person",
    "person_of",
    "put_person",
    "update_person",
]


def person_of(row: PersonRow) -> Person:
    """The core person a stored row holds."""
    return Person(
        name=row.name,
        display_name=row.display_name,
        email=row.email,
        timezone=row.timezone,
        team=row.team,
        contacts=tuple(ContactMethod(ContactKind(kind), target) for kind, target in row.contacts),
    )


def _fill(row: PersonRow, person: Person) -> None:
    row.display_name = person.display_name
    row.email = person.email
    row.timezone = person.timezone
    row.team = person.team
    row.contacts_json = canonical_json([[c.kind.value, c.target] for c in person.contacts])


def find_person(session: Session, *, name: str) -> PersonRow | None:
    return session.scalars(select(PersonRow).where(PersonRow.name == name)).one_or_none()


def get_person(session: Session, *, name: str) -> PersonRow:
    row = find_person(session, name=name)
    if row is None:
        raise NotFound(f"no person {name!r} in the store")
    return row


def list_people(session: Session, *, team: str | None = None) -> list[PersonRow]:
    query = select(PersonRow).order_by(PersonRow.name)
    if team is not None:
        query = query.where(PersonRow.team == team)
    return list(session.scalars(query))


def _locked(session: Session, name: str) -> PersonRow | None:
    # FOR UPDATE: concurrent changes to one person on PostgreSQL take turns, none lost
    return session.scalars(
        select(PersonRow).where(PersonRow.name == name).with_for_update()
    ).one_or_none()


def _create(session: Session, person: Person, actor: str, now: datetime | None) -> PersonRow:
    at = when(now)
    row = PersonRow(name=person.name, created_at=at, updated_at=at)
    _fill(row, person)
    session.add(row)
    audited_write(
        session,
        actor=actor,
        action="person.create",
        target=person.name,
        after=person_document(person),
        refused=f"person {person.name!r} could not be added",
        now=now,
    )
    return row


def _change(
    session: Session, row: PersonRow, person: Person, actor: str, now: datetime | None
) -> bool:
    before = person_document(person_of(row))
    after = person_document(person)
    if before == after:
        return False
    _fill(row, person)
    row.updated_at = when(now)
    audited_write(
        session,
        actor=actor,
        action="person.update",
        target=person.name,
        before=before,
        after=after,
        now=now,
    )
    return True


def add_person(
    session: Session, *, person: Person, actor: str, now: datetime | None = None
) -> PersonRow:
    """Add a person; a Conflict when the handle is taken."""
    check_name(person.name, "name")
    if _locked(session, person.name) is not None:
        raise Conflict(f"person {person.name!r} exists already: update it instead")
    return _create(session, person, actor, now)


def update_person(
    session: Session, *, person: Person, actor: str, now: datetime | None = None
) -> PersonRow:
    """Replace a stored person's details (NotFound when there is none); an equal person
    writes nothing."""
    row = _locked(session, person.name)
    if row is None:
        raise NotFound(f"no person {person.name!r} in the store")
    _change(session, row, person, actor, now)
    return row


def put_person(
    session: Session, *, person: Person, actor: str, now: datetime | None = None
) -> tuple[PersonRow, str]:
    """Add or replace a person: the row and `created`, `updated` or `unchanged`."""
    check_name(person.name, "name")
    row = _locked(session, person.name)
    if row is None:
        return _create(session, person, actor, now), "created"
    return row, "updated" if _change(session, row, person, actor, now) else "unchanged"


def delete_person(session: Session, *, name: str, actor: str, now: datetime | None = None) -> None:
    """Delete a person; the audit log keeps who they were. Rotations listing the handle keep
    it: their shifts stay as scheduled, with no contact details."""
    row = get_person(session, name=name)
    before = person_document(person_of(row))
    session.delete(row)
    audited_write(session, actor=actor, action="person.delete", target=name, before=before, now=now)


def pages_per_person(
    session: Session, *, people: Collection[str], start: datetime, end: datetime
) -> dict[str, int]:
    """How many `page_sent` entries of incident timelines in [start, end) name each of
    `people` (`core.oncall.names_person`); zero for those none names."""
    counts = dict.fromkeys(people, 0)
    data = session.scalars(
        select(IncidentEventRow.data_json).where(
            IncidentEventRow.kind == TimelineKind.PAGE_SENT.value,
            IncidentEventRow.at >= start,
            IncidentEventRow.at < end,
        )
    )
    for text in data:
        entry = json.loads(text)
        if isinstance(entry, dict):
            for person in counts:
                counts[person] += names_person(entry, person)
    return counts
