"""Advisory locks: one LeaderLock holder at a time on PostgreSQL, kept until released or until
its connection drops; always leading on SQLite; a transaction lock that makes others wait."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine

from srekit.errors import StoreUnavailable
from srekit.store.database import create_store_engine
from srekit.store.locks import LeaderLock, lock_transaction
from tests.postgres_fixture import PostgresServer

KEY = 0x7E_57_10_CC


@pytest.fixture
def pg_engine(postgres: PostgresServer) -> Iterator[Engine]:
    engine = create_store_engine(postgres.create_database("locks"))
    yield engine
    engine.dispose()


def _admin_url(engine: Engine) -> str:
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def _holders(engine: Engine, key: int) -> int:
    with psycopg.connect(_admin_url(engine), autocommit=True) as admin:
        row = admin.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = %s", (key,)
        ).fetchone()
    assert row is not None
    return int(row[0])


def test_sqlite_always_leads(tmp_path: Path) -> None:
    engine = create_store_engine(f"sqlite:///{tmp_path / 'srekit.db'}")
    first, second = (LeaderLock(engine, key=KEY, name="test") for _ in range(2))
    assert not first.held
    assert first.try_acquire()
    assert second.try_acquire()
    assert (first.held, second.held) == (True, True)
    first.release()
    assert not first.held
    engine.dispose()


def test_one_holder_until_it_lets_go(pg_engine: Engine) -> None:
    first = LeaderLock(pg_engine, key=KEY, name="test")
    second = LeaderLock(pg_engine, key=KEY, name="test")
    other_key = LeaderLock(pg_engine, key=KEY + 1, name="other")
    try:
        assert first.try_acquire()
        assert not second.try_acquire()
        assert (first.held, second.held) == (True, False)
        assert other_key.try_acquire()  # another key is another lock
        assert first.try_acquire()  # the holder keeps it from call to call
        assert _holders(pg_engine, KEY) == 1
        first.release()
        assert not first.held
        assert _holders(pg_engine, KEY) == 0
        assert second.try_acquire()
        assert not first.try_acquire()
    finally:
        for lock in (first, second, other_key):
            lock.release()
    assert _holders(pg_engine, KEY) == 0
    first.release()  # releasing twice is harmless


def test_a_dropped_connection_loses_the_lock_and_takes_it_again(pg_engine: Engine) -> None:
    holder = LeaderLock(pg_engine, key=KEY, name="test")
    rival = LeaderLock(pg_engine, key=KEY, name="test")
    try:
        assert holder.try_acquire()
        with psycopg.connect(_admin_url(pg_engine), autocommit=True) as admin:
            killed = admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_locks"
                " WHERE locktype = 'advisory' AND objid = %s",
                (KEY,),
            ).fetchall()
        assert killed == [(True,)]
        deadline = time.monotonic() + 10
        while _holders(pg_engine, KEY) != 0:  # the backend exits after the signal
            assert time.monotonic() < deadline, "the killed session kept the lock"
            time.sleep(0.02)
        assert rival.try_acquire()  # free: the rival takes it first
        assert not holder.try_acquire()  # the holder notices its connection is gone
        assert not holder.held
        rival.release()
        assert holder.try_acquire()  # and takes it again once free
        assert holder.held
    finally:
        holder.release()
        rival.release()


def test_an_unreachable_server_is_store_unavailable() -> None:
    engine = create_store_engine("postgresql://srekit:secret@127.0.0.1:1/none")
    lock = LeaderLock(engine, key=KEY, name="test")
    with pytest.raises(StoreUnavailable, match=r"127\.0\.0\.1:1/none failed") as caught:
        lock.try_acquire()
    assert "secret" not in str(caught.value)
    assert not lock.held
    engine.dispose()


def test_a_transaction_lock_makes_the_next_one_wait(pg_engine: Engine) -> None:
    second_locked = threading.Event()

    def second() -> None:
        with pg_engine.begin() as connection:
            lock_transaction(connection, key=KEY)
            second_locked.set()

    with pg_engine.begin() as connection:
        lock_transaction(connection, key=KEY)
        waiter = threading.Thread(target=second)
        waiter.start()
        assert not second_locked.wait(0.3)  # held until this transaction ends
    waiter.join(timeout=10)
    assert second_locked.is_set()
    assert _holders(pg_engine, KEY) == 0  # released with its transaction


def test_a_transaction_lock_on_sqlite_does_nothing(tmp_path: Path) -> None:
    engine = create_store_engine(f"sqlite:///{tmp_path / 'srekit.db'}")
    with engine.begin() as connection:
        lock_transaction(connection, key=KEY)
    engine.dispose()
