"""The history compaction job: rounds roll up and purge, remember what they did, and on
PostgreSQL one replica compacts while another holds the lock."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select

from srekit.jobs.history_compactor import HistoryCompactor
from srekit.store import repo
from srekit.store.database import create_store_engine, transaction, upgrade
from srekit.store.tables import SloHourRow, SnapshotRow
from tests.postgres_fixture import PostgresServer
from tests.store.repo.test_history import OTHER, SLO_, T0, _record

HOUR = timedelta(hours=1)


@pytest.fixture
def stored(engine: Engine) -> Engine:
    with transaction(engine) as session:
        for slo in (SLO_, OTHER):
            repo.apply_slo(session, slo=slo, actor="alice", now=T0)
    _record(engine, start=T0, hours=3)
    return engine


def _counts(engine: Engine) -> tuple[int, int]:
    with transaction(engine, read_only=True) as session:
        return (
            int(session.scalar(select(func.count()).select_from(SnapshotRow)) or 0),
            int(session.scalar(select(func.count()).select_from(SloHourRow)) or 0),
        )


def test_rounds_roll_up_then_purge_and_remember(stored: Engine) -> None:
    job = HistoryCompactor(stored, raw_s=2 * 3600, hourly_s=30 * 86400)
    try:
        first = job.run_once(at=T0 + 2 * HOUR + timedelta(minutes=6))
        assert first is not None
        assert first.rolled_hours == (T0, T0 + HOUR)
        assert _counts(stored) == (36, 4)
        # an hour later: 02:00 is due, and the raw horizon (01:00) passes the 00:00 hour
        second = job.run_once(at=T0 + 3 * HOUR + timedelta(minutes=6))
        assert second is not None
        assert second.rolled_hours == (T0 + 2 * HOUR,)
        assert second.purged_hours == (T0,)
        assert second.deleted_snapshots == 12
        assert _counts(stored) == (24, 6)
        third = job.run_once(at=T0 + 3 * HOUR + timedelta(minutes=7))
        assert third is not None
        assert (third.rolled_hours, third.purged_hours) == ((), ())
    finally:
        job.stop()


def test_refuses_a_horizon_of_zero_or_less(engine: Engine) -> None:
    with pytest.raises(ValueError, match="positive raw"):
        HistoryCompactor(engine, raw_s=0, hourly_s=3600)
    with pytest.raises(ValueError, match="positive hourly"):
        HistoryCompactor(engine, raw_s=60, hourly_s=-1)


@pytest.fixture
def pg_stored(postgres: PostgresServer) -> Iterator[Engine]:
    engine = create_store_engine(postgres.create_database())
    upgrade(engine)
    with transaction(engine) as session:
        for slo in (SLO_, OTHER):
            repo.apply_slo(session, slo=slo, actor="alice", now=T0)
    _record(engine, start=T0, hours=3)
    yield engine
    engine.dispose()


def test_one_replica_compacts_on_postgresql(pg_stored: Engine) -> None:
    stored = pg_stored
    leader = HistoryCompactor(stored, raw_s=86400, hourly_s=30 * 86400)
    other = HistoryCompactor(stored, raw_s=86400, hourly_s=30 * 86400)
    at = T0 + 4 * HOUR
    try:
        assert leader.run_once(at=at) is not None
        assert other.run_once(at=at) is None
        leader.stop()
        assert other.run_once(at=at) is not None  # the lock went with the leader
    finally:
        leader.stop()
        other.stop()


def test_the_loop_runs_until_stopped(stored: Engine) -> None:
    job = HistoryCompactor(stored, raw_s=86400, hourly_s=10 * 365 * 86400, interval_s=0.05)
    job.start()
    with pytest.raises(RuntimeError, match="already running"):
        job.start()
    deadline = time.monotonic() + 10
    while _counts(stored)[1] < 6 and time.monotonic() < deadline:
        time.sleep(0.05)
    job.stop()
    assert not job.running
    assert _counts(stored)[1] == 6  # the clock is past every hour recorded in 2026-11
    assert datetime.now(UTC) > T0
