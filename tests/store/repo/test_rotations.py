"""Stored rotations and their versions, on SQLite and PostgreSQL: every change a version that
takes effect from its `effective_from`, never before now; later changes win from theirs."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from srekit.core.rotation import versioned_on_call
from srekit.errors import NotFound, SpecError
from srekit.spec.rotation import parse_rotation
from srekit.store import repo
from srekit.store.database import transaction
from tests.concurrently import at_once

ROOT = Path(__file__).resolve().parents[3]
PAYMENTS = parse_rotation(
    (ROOT / "examples" / "oncall" / "payments.yaml").read_text(), source="payments.yaml"
)
NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # Monday 09:00 Berlin is 08:00 UTC
SWAPPED = replace(
    PAYMENTS,
    layers=(replace(PAYMENTS.layers[0], members=("carol", "bob", "alice")), *PAYMENTS.layers[1:]),
)


def test_apply_creates_then_versions_changes_and_writes_nothing_when_equal(
    engine: Engine,
) -> None:
    with transaction(engine) as session:
        created = repo.apply_rotation(session, rotation=PAYMENTS, actor="alice", now=NOW)
        assert (created.created, created.row.version, created.row.effective_from) == (
            True,
            1,
            NOW,
        )
        assert created.row.team == "payments"
    with transaction(engine) as session:
        again = repo.apply_rotation(session, rotation=PAYMENTS, actor="bob", now=NOW)
        assert (again.changed, again.row.version) == (False, 1)
        # the stored effective_from, given back as GET shows it, changes nothing either
        same = repo.apply_rotation(
            session,
            rotation=PAYMENTS,
            actor="bob",
            effective_from=NOW,
            now=NOW + timedelta(days=30),
        )
        assert same.changed is False
    later = NOW + timedelta(days=7)
    with transaction(engine) as session:
        updated = repo.apply_rotation(
            session, rotation=SWAPPED, actor="bob", effective_from=later, now=NOW
        )
        assert (updated.changed, updated.row.version) == (True, 2)
        assert updated.diff == (
            'layers[0].members: ["alice","bob","carol"] → ["carol","bob","alice"]',
            "effective_from: 2026-03-02T08:00:00Z → 2026-03-09T08:00:00Z",
        )
    with transaction(engine) as session:
        rows = repo.rotation_versions(session, name="payments")
        assert [(r.version, r.effective_from, r.actor) for r in rows] == [
            (1, NOW, "alice"),
            (2, later, "bob"),
        ]
        assert repo.rotation_of(rows[0]) == PAYMENTS
        assert repo.rotation_of(repo.get_rotation(session, name="payments")) == SWAPPED
        versions = repo.ruling_rotation_versions(session, name="payments")
        # 2026-03-02: alice's week (the 9th of the primary's weeks from Jan 5: 8 % 3 = 2:
        # carol) stays as version 1 scheduled it until version 2 takes over on the 9th
        before = versioned_on_call(versions, at=later - timedelta(hours=1))["primary"]
        after = versioned_on_call(versions, at=later + timedelta(hours=1))["primary"]
        assert before.member == "carol"  # week 8 of (alice, bob, carol)
        assert after.member == "carol"  # week 9 of (carol, bob, alice): 9 % 3 = 0
        assert before.end == later
        audited = repo.list_audit(session, entity_kind="rotation")
        assert [(a.action, a.actor) for a in audited] == [
            ("rotation.update", "bob"),
            ("rotation.create", "alice"),
        ]
        assert audited[0].after["effective_from"] == "2026-03-09T08:00:00Z"


def test_a_change_taking_effect_in_the_past_is_refused(engine: Engine) -> None:
    with transaction(engine) as session:
        repo.apply_rotation(session, rotation=PAYMENTS, actor="a", now=NOW)
    with (
        transaction(engine) as session,
        pytest.raises(SpecError, match=r"spec\.effective_from: .*never rewrites past shifts"),
    ):
        repo.apply_rotation(
            session,
            rotation=SWAPPED,
            actor="a",
            effective_from=NOW - timedelta(minutes=2),
            now=NOW,
        )
    with transaction(engine) as session:
        # within the minute of slack, it takes effect
        applied = repo.apply_rotation(
            session,
            rotation=SWAPPED,
            actor="a",
            effective_from=NOW - timedelta(seconds=30),
            now=NOW,
        )
        assert applied.row.version == 2
        assert len(repo.rotation_versions(session, name="payments")) == 2


def test_a_later_change_supersedes_one_still_waiting(engine: Engine) -> None:
    with transaction(engine) as session:
        repo.apply_rotation(session, rotation=PAYMENTS, actor="a", now=NOW)
        repo.apply_rotation(
            session,
            rotation=SWAPPED,
            actor="a",
            effective_from=NOW + timedelta(days=14),
            now=NOW,
        )
        repo.apply_rotation(
            session,
            rotation=replace(PAYMENTS, team="checkout"),
            actor="a",
            effective_from=NOW + timedelta(days=7),
            now=NOW,
        )
    with transaction(engine) as session:
        ruling = repo.ruling_rotation_versions(session, name="payments")
        assert [(v.effective_from - NOW).days for v in ruling] == [0, 7]
        assert ruling[1].rotation.team == "checkout"
        assert len(repo.rotation_versions(session, name="payments")) == 3


def test_list_get_delete_and_not_found(engine: Engine) -> None:
    with transaction(engine) as session:
        repo.apply_rotation(session, rotation=PAYMENTS, actor="a", now=NOW)
        repo.apply_rotation(
            session, rotation=replace(PAYMENTS, name="search", team="search"), actor="a", now=NOW
        )
    with transaction(engine) as session:
        assert [r.name for r in repo.list_rotations(session)] == ["payments", "search"]
        assert [r.name for r in repo.list_rotations(session, team="search")] == ["search"]
        repo.delete_rotation(session, name="search", actor="b")
    with transaction(engine) as session:
        assert repo.find_rotation(session, name="search") is None
        for call in (repo.get_rotation, repo.rotation_versions, repo.ruling_rotation_versions):
            with pytest.raises(NotFound, match="no rotation 'search'"):
                call(session, name="search")
        deleted = repo.list_audit(session, entity_kind="rotation")[0]
        assert (deleted.action, deleted.after_json) == ("rotation.delete", None)
        assert deleted.before["spec"]["team"] == "search"


def test_a_name_the_rule_refuses_is_not_stored(engine: Engine) -> None:
    with transaction(engine) as session, pytest.raises(SpecError, match=r"metadata\.name"):
        repo.apply_rotation(session, rotation=replace(PAYMENTS, name="Payments"), actor="a")
    with transaction(engine) as session:
        assert repo.list_rotations(session) == []


def test_concurrent_changes_to_one_rotation_are_none_lost(engine: Engine) -> None:
    with transaction(engine) as session:
        repo.apply_rotation(session, rotation=PAYMENTS, actor="a")

    def change(team: str) -> None:
        with transaction(engine) as session:
            repo.apply_rotation(session, rotation=replace(PAYMENTS, team=team), actor="a")

    assert at_once(change, [f"team-{n}" for n in range(4)]) == []
    with transaction(engine) as session:
        assert repo.get_rotation(session, name="payments").version == 5
        assert [r.version for r in repo.rotation_versions(session, name="payments")] == [
            1,
            2,
            3,
            4,
            5,
        ]
