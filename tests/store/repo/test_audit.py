"""The audit log: append-only, newest first, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from srekit.store import repo
from srekit.store.database import transaction
from tests.store.repo.samples import AVAILABILITY, LATENCY, audit


def test_the_audit_log_is_append_only(engine: Engine) -> None:
    with transaction(engine) as session:
        repo.apply_slo(session, slo=AVAILABILITY, actor="a")
    with pytest.raises(ValueError, match="append-only"), transaction(engine) as session:
        repo.list_audit(session)[0].actor = "someone else"
    with pytest.raises(ValueError, match="append-only"), transaction(engine) as session:
        session.delete(repo.list_audit(session)[0])
    assert [a for a, _ in audit(engine)] == ["team.create", "service.create", "slo.create"]


def test_list_audit_is_newest_first_and_limited(engine: Engine) -> None:
    with transaction(engine) as session:
        repo.apply_slo(session, slo=AVAILABILITY, actor="a")
        repo.apply_slo(session, slo=LATENCY, actor="a")
    with transaction(engine) as session:
        assert [e.entity_id for e in repo.list_audit(session, limit=2)] == [
            "checkout/latency",
            "checkout/availability",
        ]
        assert len(repo.list_audit(session, limit=None)) == 4


def test_the_newest_audit_id_moves_with_each_change(engine: Engine) -> None:
    with transaction(engine) as session:
        assert repo.newest_audit_id(session) is None
        repo.apply_slo(session, slo=AVAILABILITY, actor="a")
    with transaction(engine) as session:
        first = repo.newest_audit_id(session)
        assert first == repo.list_audit(session, limit=1)[0].id
        repo.apply_slo(session, slo=AVAILABILITY, actor="a")  # unchanged: nothing audited
        assert repo.newest_audit_id(session) == first
        repo.apply_slo(session, slo=LATENCY, actor="a")
        newest = repo.newest_audit_id(session)
        assert newest is not None
        assert first is not None
        assert newest > first
