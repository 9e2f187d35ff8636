"""The escalation job as `srekit serve` runs it: a loop in a thread paging on its own clock,
a failing round that does not end the loop, and one escalating replica on PostgreSQL."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from srekit.core.escalation import EscalationPolicy, EscalationStep, NotifyTarget
from srekit.core.incident import DEFAULT_SEVERITIES, Severity
from srekit.flows.escalation import Paging
from srekit.flows.incidents import declare_incident
from srekit.jobs.escalation import EscalationJob
from srekit.store import repo
from srekit.store.database import create_store_engine, transaction, upgrade
from tests.escalation_fakes import FakeDirectory, FakeLinks, RecordingSender
from tests.postgres_fixture import PostgresServer

POLICY = EscalationPolicy(
    name="payments",
    services=("checkout",),
    steps=(
        EscalationStep(NotifyTarget(person="alice")),
        EscalationStep(NotifyTarget(person="dave"), after_s=1),
    ),
)


def _paging(sender: RecordingSender) -> Paging:
    return Paging(FakeDirectory(), sender, FakeLinks(), DEFAULT_SEVERITIES)


def _prepare(engine: Engine, *, opened_at: datetime) -> int:
    with transaction(engine) as session:
        repo.apply_escalation_policy(session, policy=POLICY, actor="alice")
    return declare_incident(
        engine,
        title="checkout is down",
        severity=Severity.P1,
        actor="alertmanager",
        now=opened_at,
        services=["checkout"],
    ).incident.id


def _wait_for(condition: object, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return
        time.sleep(0.02)
    raise AssertionError("timed out")


def test_the_loop_pages_each_step_when_its_clock_says_so(sqlite_engine: Engine) -> None:
    opened_at = datetime.now(UTC)
    _prepare(sqlite_engine, opened_at=opened_at)
    sender = RecordingSender()
    job = EscalationJob(sqlite_engine, _paging(sender), interval_s=0.05)
    with pytest.raises(ValueError, match="positive interval"):
        EscalationJob(sqlite_engine, _paging(sender), interval_s=0)
    job.start()
    try:
        assert job.running
        with pytest.raises(RuntimeError, match="already running"):
            job.start()
        _wait_for(lambda: len(sender.sent) == 2)
    finally:
        job.stop()
    assert not job.running
    assert sender.people() == [("alice", 1), ("dave", 2)]
    alice, dave = (page.at for page, _ in sender.sent)
    # dave one second after the opening, not before (a round every 50 ms: soon after)
    assert opened_at + timedelta(seconds=1) <= dave < opened_at + timedelta(seconds=3)
    assert alice < dave


def test_a_failing_round_does_not_end_the_loop(sqlite_engine: Engine) -> None:
    opened_at = datetime.now(UTC)
    _prepare(sqlite_engine, opened_at=opened_at)
    sender = RecordingSender()
    ticks: list[int] = []

    def clock() -> datetime:
        ticks.append(1)
        if len(ticks) <= 2:
            raise RuntimeError("the clock broke")
        return datetime.now(UTC)

    job = EscalationJob(sqlite_engine, _paging(sender), interval_s=0.05, clock=clock)
    job.start()
    try:
        _wait_for(lambda: len(sender.sent) >= 1)
    finally:
        job.stop()
    assert len(ticks) >= 3
    assert sender.people()[0] == ("alice", 1)


def test_one_replica_escalates_on_postgresql(postgres: PostgresServer) -> None:
    url = postgres.create_database("escalation_job")
    engines = [create_store_engine(url), create_store_engine(url)]
    upgrade(engines[0])
    opened_at = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    _prepare(engines[0], opened_at=opened_at)
    senders = [RecordingSender(), RecordingSender()]
    first, second = (
        EscalationJob(engine, _paging(sender))
        for engine, sender in zip(engines, senders, strict=True)
    )
    try:
        report = first.run_once(at=opened_at)
        assert report is not None
        assert [page.person for page in report.pages] == ["alice"]
        assert second.run_once(at=opened_at + timedelta(seconds=5)) is None  # the first leads
        first.stop()  # releases the lock: the second resumes the escalation where it was
        later = second.run_once(at=opened_at + timedelta(seconds=5))
        assert later is not None
        assert (later.started, [page.person for page in later.pages]) == ((), ["dave"])
        assert first.run_once(at=opened_at + timedelta(seconds=6)) is None
    finally:
        first.stop()
        second.stop()
        for engine in engines:
            engine.dispose()
    assert [senders[0].people(), senders[1].people()] == [[("alice", 1)], [("dave", 2)]]
