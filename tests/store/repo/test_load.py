"""Load-test runs and baselines on SQLite and PostgreSQL: runs kept per service newest first,
baselines versioned and audited, and "a load test passed within N days"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from srekit.errors import NotFound, SpecError
from srekit.store.database import transaction
from srekit.store.repo import list_audit
from srekit.store.repo.load import (
    get_load_baseline,
    get_load_run,
    last_passed_load_test,
    last_passed_load_tests,
    list_load_runs,
    load_baselines,
    load_test_passed_within,
    newest_load_run_id,
    record_load_run,
    set_load_baseline,
)

AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
SUMMARY = {"tool": "k6", "metrics": [{"name": "http_reqs", "count": 1000.0, "rate": 20.5}]}


def record(engine: Engine, service: str, at: datetime, passed: bool | None = None) -> int:
    with transaction(engine) as session:
        row = record_load_run(
            session,
            service=service,
            tool="k6",
            source="summary.json",
            summary=SUMMARY,
            actor="ci",
            verdict=None if passed is None else ("pass" if passed else "fail"),
            passed=passed,
            checks=None if passed is None else [{"check": "p95", "outcome": "pass"}],
            baseline_version=None,
            now=at,
        )
        return row.id


def test_runs_are_kept_per_service_newest_first(engine: Engine) -> None:
    first = record(engine, "api", AT)
    second = record(engine, "api", AT + timedelta(hours=1), passed=True)
    other = record(engine, "web", AT + timedelta(hours=2))
    with transaction(engine, read_only=True) as session:
        assert [r.id for r in list_load_runs(session, service="api")] == [second, first]
        assert [r.id for r in list_load_runs(session)] == [other, second, first]
        assert [r.id for r in list_load_runs(session, limit=1)] == [other]
        run = get_load_run(session, run_id=second)
        assert run.summary == SUMMARY
        assert run.checks == [{"check": "p95", "outcome": "pass"}]
        assert (run.verdict, run.passed, run.recorded_at) == ("pass", True, AT + timedelta(hours=1))
        assert get_load_run(session, run_id=first).checks == []
        with pytest.raises(NotFound, match="no load-test run 999"):
            get_load_run(session, run_id=999)


def test_a_run_needs_a_service_name(engine: Engine) -> None:
    with transaction(engine) as session, pytest.raises(SpecError) as raised:
        record_load_run(session, service="Bad Name", tool="k6", source="x", summary={}, actor="ci")
    assert raised.value.field == "service"


def test_baselines_are_versioned_and_audited(engine: Engine) -> None:
    first = record(engine, "api", AT)
    second = record(engine, "api", AT + timedelta(days=1))
    foreign = record(engine, "web", AT)
    with transaction(engine) as session:
        assert (
            set_load_baseline(session, service="api", run_id=first, actor="ana", now=AT).version
            == 1
        )
    with transaction(engine) as session:
        row = set_load_baseline(session, service="api", run_id=second, actor="bo", now=AT)
        assert row.version == 2
    with transaction(engine, read_only=True) as session:
        assert [(b.version, b.run_id) for b in load_baselines(session, service="api")] == [
            (2, second),
            (1, first),
        ]
        newest = get_load_baseline(session, service="api")
        assert (newest.version, newest.run.id, newest.created_by) == (2, second, "bo")
        assert get_load_baseline(session, service="api", version=1).run_id == first
        with pytest.raises(NotFound, match="api has no load-test baseline version 3"):
            get_load_baseline(session, service="api", version=3)
        with pytest.raises(NotFound, match=r"web has no load-test baseline$"):
            get_load_baseline(session, service="web")
        audit = [a for a in list_audit(session) if a.action == "load_baseline.set"]
        assert sorted((a.actor, a.entity_id, a.after_json) for a in audit) == [
            ("ana", "api", f'{{"run_id":{first},"version":1}}'),
            ("bo", "api", f'{{"run_id":{second},"version":2}}'),
        ]
    with transaction(engine) as session, pytest.raises(NotFound, match="belongs to web"):
        set_load_baseline(session, service="api", run_id=foreign, actor="ana")


def test_passed_within_days(engine: Engine) -> None:
    with transaction(engine, read_only=True) as session:
        assert last_passed_load_test(session, service="api") is None
        assert last_passed_load_tests(session) == {}
        assert newest_load_run_id(session) is None
        assert not load_test_passed_within(session, service="api", days=7, now=AT)
    record(engine, "api", AT - timedelta(days=3), passed=True)
    record(engine, "api", AT - timedelta(days=1), passed=False)  # a failure does not count
    newest = record(engine, "api", AT - timedelta(hours=1))  # nor does an unjudged import
    record(engine, "web", AT - timedelta(days=9), passed=True)
    record(engine, "web", AT - timedelta(days=10), passed=True)
    with transaction(engine, read_only=True) as session:
        assert last_passed_load_test(session, service="api") == AT - timedelta(days=3)
        assert last_passed_load_test(session, service="api", until=AT - timedelta(days=4)) is None
        assert last_passed_load_tests(session) == {
            "api": AT - timedelta(days=3),
            "web": AT - timedelta(days=9),
        }
        assert newest_load_run_id(session) == newest + 2
        assert load_test_passed_within(session, service="api", days=3, now=AT)
        assert not load_test_passed_within(session, service="api", days=2.9, now=AT)
        assert not load_test_passed_within(session, service="web", days=8, now=AT)
        assert not load_test_passed_within(session, service="cart", days=30, now=AT)
        # a pass recorded after `now` does not count as of `now`
        assert not load_test_passed_within(
            session, service="api", days=30, now=AT - timedelta(days=4)
        )
