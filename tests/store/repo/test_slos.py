"""Applying, versioning and deleting stored SLOs, on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
from sqlalchemy import Engine, func, select

from srekit.errors import Conflict, NotFound, SpecError
from srekit.store import repo
from srekit.store.database import transaction
from srekit.store.tables import AuditRow, SloRow, SloVersionRow
from tests.concurrently import at_once
from tests.store.repo.samples import AVAILABILITY, LATENCY, T0, T1, audit


def test_apply_creates_the_slo_its_service_and_team(engine: Engine) -> None:
    with transaction(engine) as session:
        applied = repo.apply_slo(
            session, slo=AVAILABILITY, actor="alice", source_format="srekit/v1", now=T0
        )
        assert applied.changed
        assert applied.created
        assert applied.diff == ("created",)
    with transaction(engine) as session:
        row = repo.get_slo(session, service="checkout", name="availability")
        assert row.version == 1
        assert row.source_format == "srekit/v1"
        assert row.created_at == row.updated_at == T0
        assert row.service.team is not None
        assert row.service.team.name == "team-payments"
        assert row.to_slo() == AVAILABILITY
        (version,) = repo.slo_versions(session, service="checkout", name="availability")
        assert (version.version, version.applied_by, version.applied_at) == (1, "alice", T0)
        assert version.changes == ("created",)
    assert audit(engine) == [
        ("team.create", "team-payments"),
        ("service.create", "checkout"),
        ("slo.create", "checkout/availability"),
    ]


def test_applying_the_same_spec_again_changes_nothing(engine: Engine) -> None:
    with transaction(engine) as session:
        repo.apply_slo(session, slo=AVAILABILITY, actor="alice", now=T0)
    moved = replace(AVAILABILITY, source_file="elsewhere/checkout.yaml")
    with transaction(engine) as session:
        applied = repo.apply_slo(session, slo=moved, actor="bob", now=T1)
        assert (applied.changed, applied.diff, applied.row.version) == (False, (), 1)
    with transaction(engine) as session:
        assert session.scalar(select(func.count()).select_from(SloVersionRow)) == 1
        assert repo.get_slo(session, service="checkout", name="availability").updated_at == T0
    assert len(audit(engine)) == 3


def test_a_changed_spec_is_a_new_version_saying_what_changed(engine: Engine) -> None:
    with transaction(engine) as session:
        repo.apply_slo(session, slo=AVAILABILITY, actor="alice", now=T0)
    stricter = replace(AVAILABILITY, objective=0.9995, labels={"tier": "1"})
    with transaction(engine) as session:
        applied = repo.apply_slo(session, slo=stricter, actor="bob", now=T1)
        assert applied.changed
        assert not applied.created
        assert applied.row.version == 2
        assert applied.diff == ('labels.tier: added "1"', "objective: 0.999 → 0.9995")
    with transaction(engine) as session:
        row = repo.get_slo(session, service="checkout", name="availability")
        assert row.to_slo() == stricter
        assert (row.created_at, row.updated_at) == (T0, T1)
        versions = repo.slo_versions(session, service="checkout", name="availability")
        assert [(v.version, v.applied_by) for v in versions] == [(1, "alice"), (2, "bob")]
        assert versions[1].changes == applied.diff
        assert versions[0].spec()["objective"] == 0.999
        last = repo.list_audit(session, limit=1)[0]
    assert (last.action, last.actor, last.at) == ("slo.update", "bob", T1)
    assert last.before["version"] == 1
    assert last.before["spec"]["objective"] == 0.999
    assert last.after["version"] == 2
    assert last.after["spec"]["objective"] == 0.9995


def test_a_long_spec_is_kept_once_per_version_not_again_in_the_audit(engine: Engine) -> None:
    described = replace(AVAILABILITY, description="D" * 4000)
    with transaction(engine) as session:
        repo.apply_slo(session, slo=described, actor="alice", now=T0)
        repo.apply_slo(session, slo=replace(described, objective=0.9995), actor="bob", now=T1)
    with transaction(engine) as session:
        stored = [
            *session.scalars(select(SloRow.spec_json)),
            *session.scalars(select(SloVersionRow.spec_json)),
        ]
        audited = [
            text
            for row in session.scalars(select(AuditRow))
            for text in (row.before_json, row.after_json)
            if text is not None
        ]
        update, create = repo.list_audit(session, entity_kind="slo", limit=2)
    assert [text.count("D" * 4000) for text in stored] == [1, 1, 1]  # current, v1, v2
    assert not any("D" * 100 in text for text in audited)
    assert (create.before, create.after) == (None, {"version": 1})
    assert update.before == {"version": 1, "spec": {"objective": 0.999}}
    assert update.after == {"version": 2, "spec": {"objective": 0.9995}}


def test_delete_is_audited_with_the_last_spec(engine: Engine) -> None:
    with transaction(engine) as session:
        repo.apply_slo(session, slo=AVAILABILITY, actor="alice", now=T0)
        repo.apply_slo(session, slo=replace(AVAILABILITY, objective=0.99), actor="alice", now=T0)
    with transaction(engine) as session:
        repo.delete_slo(session, service="checkout", name="availability", actor="carol", now=T1)
    with transaction(engine) as session:
        with pytest.raises(NotFound, match="no SLO checkout/availability"):
            repo.get_slo(session, service="checkout", name="availability")
        assert session.scalar(select(func.count()).select_from(SloVersionRow)) == 0
        (entry,) = repo.list_audit(session, entity_kind="slo", limit=1)
        assert (entry.action, entry.actor, entry.at, entry.after) == (
            "slo.delete",
            "carol",
            T1,
            None,
        )
        assert entry.before["version"] == 2
        assert entry.before["spec"]["objective"] == 0.99
        trail = repo.list_audit(session, entity_kind="slo", entity_id="checkout/availability")
        assert [e.action for e in trail] == ["slo.delete", "slo.update", "slo.create"]
    with transaction(engine) as session:  # applying it again starts a new history
        assert repo.apply_slo(session, slo=AVAILABILITY, actor="alice").row.version == 1


def test_deleting_a_missing_slo_is_not_found(engine: Engine) -> None:
    with pytest.raises(NotFound), transaction(engine) as session:
        repo.delete_slo(session, service="nope", name="x", actor="a")


def test_a_duplicate_row_is_a_conflict_not_a_crash(engine: Engine) -> None:
    with transaction(engine) as session:
        row = repo.apply_slo(session, slo=AVAILABILITY, actor="a").row
        service_id = row.service_id
    with (
        pytest.raises(Conflict, match=r"uq_slos_service_id_name|UNIQUE"),
        transaction(engine) as session,
    ):
        session.add(
            SloRow(
                service_id=service_id,
                name="availability",
                version=1,
                spec_json="{}",
                codec_version=1,
            )
        )
    with transaction(engine) as session:
        assert len(repo.list_slos(session)) == 1


def test_slo_keys() -> None:
    assert repo.split_slo_key("checkout/availability") == ("checkout", "availability")
    for bad in ("checkout", "/x", "x/"):
        with pytest.raises(SpecError, match="SERVICE/NAME"):
            repo.split_slo_key(bad)


def test_the_readable_spec_is_the_stored_one_in_field_order(engine: Engine) -> None:
    with transaction(engine) as session:
        row = repo.apply_slo(session, slo=AVAILABILITY, actor="a").row
        spec = repo.readable_spec(row)
    assert spec == row.spec()
    assert "source_file" not in spec
    assert list(spec)[:3] == ["service", "name", "objective"]


def test_concurrent_changes_to_one_slo_each_become_a_version(engine: Engine) -> None:
    """On PostgreSQL two transactions changing the same SLO both read version n and both wrote
    n + 1: the second was refused (a 409 for a client that asked nothing conditional). The row
    is now locked while a change is computed, so each change waits and becomes a version."""
    with transaction(engine) as session:
        repo.apply_slo(session, slo=AVAILABILITY, actor="a", now=T0)

    def change(objective: float) -> None:
        with transaction(engine) as session:
            repo.apply_slo(
                session, slo=replace(AVAILABILITY, objective=objective), actor="a", now=T1
            )
            time.sleep(0.05)  # hold the change open while the others read

    assert at_once(change, [0.9 + n / 100 for n in range(6)]) == []
    with transaction(engine) as session:
        versions = repo.slo_versions(session, service="checkout", name="availability")
        assert [v.version for v in versions] == [1, 2, 3, 4, 5, 6, 7]
        assert sorted(v.spec()["objective"] for v in versions[1:]) == [
            0.9 + n / 100 for n in range(6)
        ]
        assert repo.get_slo(session, service="checkout", name="availability").version == 7


def test_a_new_version_is_written_without_reading_the_earlier_ones(engine: Engine) -> None:
    """Each apply costs the same at the 500th version as at the 2nd."""
    from sqlalchemy import event

    with transaction(engine) as session:
        for step in range(5):
            slo = replace(AVAILABILITY, objective=0.99 + step / 1000)
            repo.apply_slo(session, slo=slo, actor="alice", now=T0)
    statements: list[str] = []

    def remember(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", remember)
    try:
        with transaction(engine) as session:
            applied = repo.apply_slo(
                session, slo=replace(AVAILABILITY, objective=0.999), actor="alice", now=T1
            )
            assert applied.row.version == 6
    finally:
        event.remove(engine, "before_cursor_execute", remember)
    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert not [s for s in reads if "FROM slo_versions" in s], reads
    assert any(s.lstrip().startswith("INSERT INTO slo_versions") for s in statements)
    with transaction(engine) as session:
        versions = repo.slo_versions(session, service="checkout", name="availability")
        assert [v.version for v in versions] == [1, 2, 3, 4, 5, 6]


def test_slo_ids_find_the_stored_keys_only(engine: Engine) -> None:
    with transaction(engine) as session:
        repo.apply_slo(session, slo=AVAILABILITY, actor="a")
        repo.apply_slo(session, slo=LATENCY, actor="a")
        stored = {row.key: row.id for row in repo.list_slos(session)}
        found = repo.slo_ids(
            session,
            keys=[("checkout", "availability"), ("checkout", "nope"), ("nowhere", "latency")],
        )
        assert found == {("checkout", "availability"): stored["checkout/availability"]}
        assert repo.slo_ids(session, keys=[]) == {}
