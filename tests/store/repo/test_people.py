"""Stored people, on SQLite and PostgreSQL: added, updated, deleted, each change audited."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from srekit.core.people import ContactKind, ContactMethod, Person
from srekit.errors import Conflict, NotFound, SpecError
from srekit.store import repo
from srekit.store.database import transaction

ALICE = Person(
    name="alice",
    display_name="Alice Liddell",
    email="alice@example.com",
    timezone="Europe/Berlin",
    team="payments",
    contacts=(
        ContactMethod(ContactKind.SLACK, "https://chat.example.com/hooks/payments-oncall"),
        ContactMethod(ContactKind.EMAIL, "alice@example.com"),
    ),
)
BOB = Person(name="bob", timezone="America/New_York", team="search")
AT = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def test_add_get_list_and_the_contacts_keep_their_order(engine: Engine) -> None:
    with transaction(engine) as session:
        row = repo.add_person(session, person=ALICE, actor="ci", now=AT)
        assert (row.created_at, row.updated_at) == (AT, AT)
        repo.add_person(session, person=BOB, actor="ci")
    with transaction(engine) as session:
        assert repo.person_of(repo.get_person(session, name="alice")) == ALICE
        assert [p.name for p in repo.list_people(session)] == ["alice", "bob"]
        assert [p.name for p in repo.list_people(session, team="search")] == ["bob"]
        assert repo.find_person(session, name="carol") is None
        with pytest.raises(NotFound, match="no person 'carol'"):
            repo.get_person(session, name="carol")
        created = repo.list_audit(session, entity_kind="person")
        assert [(a.action, a.entity_id) for a in created] == [
            ("person.create", "bob"),
            ("person.create", "alice"),
        ]
        assert created[1].after["contacts"] == [
            {"kind": "slack", "target": "https://chat.example.com/hooks/payments-oncall"},
            {"kind": "email", "target": "alice@example.com"},
        ]


def test_adding_a_taken_handle_is_a_conflict_and_changes_nothing(engine: Engine) -> None:
    with transaction(engine) as session:
        repo.add_person(session, person=ALICE, actor="ci")
    with transaction(engine) as session, pytest.raises(Conflict, match="exists already"):
        repo.add_person(session, person=replace(ALICE, email="x@example.com"), actor="ci")
    with transaction(engine) as session:
        assert repo.get_person(session, name="alice").email == "alice@example.com"


def test_update_and_put_audit_what_changed_and_skip_equal_ones(engine: Engine) -> None:
    with transaction(engine) as session:
        assert repo.put_person(session, person=ALICE, actor="a")[1] == "created"
    with transaction(engine) as session:
        assert repo.put_person(session, person=ALICE, actor="a")[1] == "unchanged"
        moved = replace(ALICE, timezone="Asia/Tokyo", contacts=())
        row = repo.update_person(session, person=moved, actor="b", now=AT)
        assert row.updated_at == AT
    with transaction(engine) as session:
        assert repo.person_of(repo.get_person(session, name="alice")) == moved
        assert repo.put_person(session, person=ALICE, actor="c")[1] == "updated"
        audited = repo.list_audit(session, entity_kind="person")
        assert [(a.action, a.actor) for a in audited] == [
            ("person.update", "c"),
            ("person.update", "b"),
            ("person.create", "a"),
        ]
        assert audited[1].before["timezone"] == "Europe/Berlin"
        assert audited[1].after["timezone"] == "Asia/Tokyo"
        with pytest.raises(NotFound):
            repo.update_person(session, person=BOB, actor="b")


def test_delete_keeps_the_person_in_the_audit_log(engine: Engine) -> None:
    with transaction(engine) as session:
        repo.add_person(session, person=ALICE, actor="a")
    with transaction(engine) as session:
        repo.delete_person(session, name="alice", actor="b")
    with transaction(engine) as session:
        assert repo.list_people(session) == []
        deleted = repo.list_audit(session, entity_kind="person")[0]
        assert (deleted.action, deleted.after_json) == ("person.delete", None)
        assert deleted.before["display_name"] == "Alice Liddell"
        with pytest.raises(NotFound):
            repo.delete_person(session, name="alice", actor="b")


def test_a_handle_the_rule_refuses_is_not_stored(engine: Engine) -> None:
    # Person checks its own name; a row built around that check is refused by the repo too
    sneaky = object.__new__(Person)
    object.__setattr__(sneaky, "name", "Alice")
    for field in ("display_name", "email", "timezone", "team"):
        object.__setattr__(sneaky, field, None)
    object.__setattr__(sneaky, "contacts", ())
    with transaction(engine) as session, pytest.raises(SpecError, match="expected a name"):
        repo.add_person(session, person=sneaky, actor="a")
    with transaction(engine) as session:
        assert repo.list_people(session) == []
