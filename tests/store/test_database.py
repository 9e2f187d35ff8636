"""Engines, migrations and transactions, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import stat
import threading
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from srekit.config import Settings
from srekit.errors import SpecError, StoreUnavailable
from srekit.store import repo
from srekit.store.database import (
    create_store_engine,
    current_revision,
    head_revision,
    normalize_url,
    open_store,
    require_current,
    safe_url,
    transaction,
    upgrade,
)
from srekit.store.tables import AuditRow, Base
from tests.postgres_fixture import PostgresServer

TABLES = {*Base.metadata.tables, "alembic_version"}


def test_upgrade_migrates_an_empty_database_to_head(empty_url: str) -> None:
    engine = create_store_engine(empty_url)
    assert current_revision(engine) is None
    with pytest.raises(StoreUnavailable, match="srekit db upgrade"):
        require_current(engine)
    assert upgrade(engine) == head_revision()
    assert set(inspect(engine).get_table_names()) == TABLES
    require_current(engine)
    assert upgrade(engine) == head_revision()  # a second run has nothing to do
    engine.dispose()


def test_the_migration_matches_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_timestamps_come_back_in_utc(engine: Engine) -> None:
    paris = timezone(timedelta(hours=2))
    with transaction(engine) as session:
        repo.record_audit(
            session,
            actor="a",
            action="test",
            entity_kind="thing",
            entity_id="x",
            now=datetime(2026, 6, 1, 12, 0, tzinfo=paris),
        )
    with transaction(engine) as session:
        (row,) = session.query(AuditRow).all()
        assert row.at == datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
        assert row.at.utcoffset() == timedelta(0)


def test_naive_timestamps_are_refused(engine: Engine) -> None:
    with pytest.raises(Exception, match="timezone-aware"), transaction(engine) as session:
        repo.record_audit(
            session,
            actor="a",
            action="test",
            entity_kind="thing",
            entity_id="x",
            now=datetime(2026, 6, 1, 12, 0),  # naive: the point of the test
        )


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    engine = open_store(f"sqlite:///{tmp_path / 'new' / 'srekit.db'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    assert (tmp_path / "new" / "srekit.db").exists()
    engine.dispose()


def test_open_store_migrates_sqlite_but_not_a_server(empty_url: str) -> None:
    if empty_url.startswith("sqlite"):
        engine = open_store(empty_url)
        assert current_revision(engine) == head_revision()
        engine.dispose()
    else:
        needs = f"revision none, srekit needs {head_revision()}"
        with pytest.raises(StoreUnavailable, match=needs):
            open_store(empty_url)


def test_an_unreachable_server_is_store_unavailable() -> None:
    engine = create_store_engine("postgresql://srekit:secret@127.0.0.1:1/none")
    with pytest.raises(StoreUnavailable, match=r"127\.0\.0\.1:1/none failed") as caught:
        current_revision(engine)
    assert "secret" not in str(caught.value)


def test_postgresql_plans_each_execution_for_its_values(postgres: PostgresServer) -> None:
    """psycopg prepares a statement run often; PostgreSQL may then plan it once for any values,
    and a plan made while `alerts` was new and small scanned the whole table as it grew.
    Statements are planned for their values on srekit's connections."""
    engine = create_store_engine(postgres.create_database())
    upgrade(engine)
    moment = datetime(2026, 11, 1, tzinfo=UTC)
    keys = [(f"f{index}", moment) for index in range(10)]
    with transaction(engine) as session:
        for _ in range(12):  # psycopg prepares it after 5 executions
            assert repo.stored_alerts(session, keys=keys) == {}
        plans = session.execute(
            text(
                "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
                " WHERE statement LIKE :alerts"
            ),
            {"alerts": "%FROM alerts%"},
        )
        (generic, custom), *others = plans.all()
    assert others == []
    assert (generic, custom) == (0, 12 - 5)
    engine.dispose()


def test_urls() -> None:
    assert normalize_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("sqlite:///x.db") == "sqlite:///x.db"
    assert safe_url("postgresql+psycopg://u:pw@h/db") == "postgresql+psycopg://u:***@h/db"
    assert Settings(home=Path("/var/srekit")).effective_database_url == (
        "sqlite:////var/srekit/srekit.db"
    )
    assert Settings(database_url="postgresql://h/db").effective_database_url == (
        "postgresql://h/db"
    )


def test_a_failing_transaction_leaves_nothing(engine: Engine) -> None:
    def fail_after_a_write() -> None:
        with transaction(engine) as session:
            repo.upsert_team(session, name="ghost", actor="a")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        fail_after_a_write()
    with transaction(engine) as session:
        assert repo.list_teams(session) == []
        assert session.execute(text("SELECT count(*) FROM audit_log")).scalar() == 0


def test_a_value_the_database_cannot_hold_is_a_spec_error(engine: Engine) -> None:
    """PostgreSQL refuses NUL bytes in text (SQLite keeps them): a SpecError, not a driver
    error, so the API answers 422 and the CLI exits 2. (A name never gets that far: the name
    rule refuses it first, on both engines.)"""
    with pytest.raises(SpecError, match=r"where '\\x00' is not allowed"), transaction(engine) as s:
        repo.upsert_team(s, name="team\x00nul", actor="a")
    actor = "act\x00or"
    if engine.dialect.name != "postgresql":
        with transaction(engine) as session:
            repo.upsert_team(session, name="team", actor=actor)
        return
    with pytest.raises(SpecError, match="NUL"), transaction(engine) as session:
        repo.upsert_team(session, name="team", actor=actor)


def test_sqlite_writers_wait_for_each_other_and_readers_do_not(tmp_path: Path) -> None:
    """A transaction that reads and then writes while another writer holds SQLite's lock used
    to fail at once with "database is locked" (a deferred BEGIN is not retried); writers now
    take the lock when they begin and wait their turn, while read-only ones read beside them."""
    engine = open_store(f"sqlite:///{tmp_path / 'srekit.db'}")
    holding = threading.Event()
    release = threading.Event()
    errors: list[BaseException] = []

    def hold_the_write_lock() -> None:
        try:
            with transaction(engine) as session:
                repo.upsert_team(session, name="first", actor="test")
                holding.set()
                release.wait(5)
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)
            holding.set()

    writer = threading.Thread(target=hold_the_write_lock)
    writer.start()
    assert holding.wait(5)
    with transaction(engine, read_only=True) as session:  # not blocked by the writer
        assert [team.name for team in repo.list_teams(session)] == []
    threading.Timer(0.3, release.set).start()
    started = time.monotonic()
    with transaction(engine) as session:  # reads, then writes: waits for the lock
        repo.upsert_team(session, name="second", actor="test")
    waited = time.monotonic() - started
    writer.join(5)
    assert errors == []
    assert waited >= 0.2  # it waited for the first writer instead of failing
    with transaction(engine, read_only=True) as session:
        assert sorted(team.name for team in repo.list_teams(session)) == ["first", "second"]
    engine.dispose()


def test_a_new_sqlite_state_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    home = tmp_path / "new" / "home"
    old_umask = os.umask(0o022)  # the usual one, which would leave 0755 and 0644
    try:
        engine = create_store_engine(f"sqlite:///{home / 'srekit.db'}")
        upgrade(engine)
        with transaction(engine) as session:
            repo.create_token(session, role="admin", name="a", actor="test")
        engine.dispose()
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE((tmp_path / "new").stat().st_mode) == 0o700
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    created = [p for p in home.iterdir() if p.name.startswith("srekit.db")]
    assert created, "no database file"
    for path in created:  # srekit.db and its -wal/-shm files, when they remain
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    # an existing directory keeps its mode
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    create_store_engine(f"sqlite:///{shared / 'srekit.db'}").dispose()
    assert stat.S_IMODE(shared.stat().st_mode) == 0o755
    assert stat.S_IMODE((shared / "srekit.db").stat().st_mode) == 0o600
