"""Engines, transactions and schema migrations for the state store.

SQLite (a file under SREKIT_HOME) needs no server and serves one process; PostgreSQL
(`postgresql+psycopg://...`) serves several replicas. Alembic is configured here in code, so an
installed srekit migrates its database without an alembic.ini.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.orm import Session

from srekit.errors import StoreUnavailable
from srekit.store import StoreSession
from srekit.store._failures import busy, safe_url, store_errors
from srekit.store.locks import lock_transaction

__all__ = [
    "BUSY_TIMEOUT_S",
    "create_store_engine",
    "current_revision",
    "head_revision",
    "normalize_url",
    "open_store",
    "require_current",
    "safe_url",
    "savepoint",
    "sqlite_file",
    "transaction",
    "upgrade",
]


MIGRATIONS = "srekit.store:migrations"
# Any constant works: it only has to be the same for every srekit replica migrating at once.
_MIGRATION_LOCK_ID = 0x5E_4E_C1_7D
# How long a SQLite writer waits for the write lock before giving up (StoreUnavailable, a 503):
# first for the other writers of its process, then for those of other processes.
BUSY_TIMEOUT_S = 5.0
# One lock per SQLite engine: the writers of a process queue on it instead of on SQLite's busy
# handler, which polls (sleeping up to 100 ms between tries) and so leaves the lock idle and
# lets late writers overtake waiting ones. benchmarks/bench_sqlite_writes.py measures both.
_WRITER_LOCKS: weakref.WeakKeyDictionary[Engine, threading.Lock] = weakref.WeakKeyDictionary()


def normalize_url(url: str) -> str:
    """Use psycopg 3 for plain `postgresql://` and `postgres://` URLs (libpq's spelling)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite's own transaction handling skips BEGIN before DDL; take it over (see "begin")
    # so migrations and multi-SLO applies are atomic.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer
    # every commit reaches the disk before it returns: an alert answered 2xx survives a power cut
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")  # SQLite ignores REFERENCES otherwise
    # wait for a concurrent writer (of another process), do not fail
    cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
    cursor.close()


_READ_ONLY = "srekit_read_only"


def _sqlite_begin(connection: Connection) -> None:
    # A deferred BEGIN that reads and then writes gets SQLITE_BUSY at once when another writer
    # holds the lock, and SQLite does not retry it (busy_timeout does not apply): writers take
    # the lock up front and wait their turn. Read-only transactions stay deferred, so WAL lets
    # them read beside a writer.
    read_only = connection.get_execution_options().get(_READ_ONLY, False)
    connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def _make_private_dirs(path: Path) -> None:
    """Create `path` and its missing parents readable by their owner only (0700); existing
    directories keep their mode."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for directory in reversed(missing):
        with suppress(FileExistsError):  # another process made it meanwhile
            directory.mkdir(mode=0o700)
            directory.chmod(0o700)  # whatever the umask


def _private_sqlite_file(path: Path) -> None:
    """Create the database file 0600 before SQLite does (it would follow the umask: 0644);
    its -wal and -shm files take the same mode."""
    _make_private_dirs(path.parent)
    with suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


def sqlite_file(url: str) -> Path | None:
    """The file a SQLite store at `url` lives in; None for a server database or memory. What
    tells whether a store exists before opening it would create it."""
    parsed = make_url(normalize_url(url))
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def create_store_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine for `url`; a missing SQLite file is created, 0600 in a 0700 directory, as the
    state holds token hashes and every spec."""
    parsed = make_url(normalize_url(url))
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            _private_sqlite_file(Path(parsed.database))
        engine = create_engine(parsed, echo=echo)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        _WRITER_LOCKS[engine] = threading.Lock()
        return engine
    engine = create_engine(parsed, echo=echo, pool_pre_ping=True)
    if parsed.get_backend_name() == "postgresql":
        event.listen(engine, "connect", _postgresql_settings)
    return engine


def _postgresql_settings(dbapi_connection: Any, _record: Any) -> None:
    # psycopg prepares a statement on the server after a few executions, and PostgreSQL may
    # then plan it once for any parameters: planned while a table was new and small, the
    # intake's look-up of alerts by fingerprint became a scan of the whole table, 5 ms a
    # notification and growing with the table. Each execution is planned for its values.
    cursor = dbapi_connection.cursor()
    cursor.execute("SET plan_cache_mode = force_custom_plan")
    cursor.close()
    dbapi_connection.commit()


@contextmanager
def transaction(engine: Engine, *, read_only: bool = False) -> Iterator[StoreSession]:
    """A session committed when the block ends, rolled back entirely when it raises.

    On SQLite a transaction takes the write lock when it begins, unless it is `read_only`:
    then it reads beside writers and must not write. Writers of this process wait their turn
    on a lock of the process, then for writers of other processes, up to `BUSY_TIMEOUT_S`
    each; longer is StoreUnavailable (the store is overloaded). Constraint violations become
    Conflict, values the database cannot hold SpecError, and connection failures
    StoreUnavailable (`_failures.store_errors`).
    """
    lock = None if read_only else _WRITER_LOCKS.get(engine)
    if lock is not None and not lock.acquire(timeout=BUSY_TIMEOUT_S):
        raise busy(engine, BUSY_TIMEOUT_S)
    try:
        bind = engine.execution_options(**{_READ_ONLY: True}) if read_only else engine
        with (
            store_errors(engine),
            Session(bind, expire_on_commit=False) as session,
            session.begin(),
        ):
            yield session
    finally:
        if lock is not None:
            lock.release()


@contextmanager
def savepoint(session: StoreSession) -> Iterator[None]:
    """A part of a `transaction` that, when the block raises, rolls back alone (a SAVEPOINT):
    the transaction goes on, and commits what its other parts did. Errors are translated as
    `transaction` translates them."""
    bind = session.get_bind()
    with store_errors(bind if isinstance(bind, Engine) else bind.engine), session.begin_nested():
        yield


def _alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest migration this srekit ships."""
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError("srekit ships no migrations: the package is incomplete")
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at; None for a database never migrated."""
    with store_errors(engine), engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> str | None:
    """Migrate the database to `revision` in one transaction; returns the revision it is at.

    On PostgreSQL an advisory lock makes replicas starting together migrate one at a time.
    """
    with store_errors(engine), engine.begin() as connection:
        lock_transaction(connection, key=_MIGRATION_LOCK_ID)
        command.upgrade(_alembic_config(connection), revision)
        return MigrationContext.configure(connection).get_current_revision()


def require_current(engine: Engine) -> None:
    """StoreUnavailable unless the schema is at this srekit's head revision."""
    current = current_revision(engine)
    head = head_revision()
    if current != head:
        needs = f"is at schema revision {current or 'none'}, srekit needs {head}"
        raise StoreUnavailable(
            f"the state store at {safe_url(engine.url)} {needs}: run `srekit db upgrade`",
            public=f"the state store {needs}: run `srekit db upgrade`",
        )


def open_store(url: str) -> Engine:
    """An engine ready for use: a SQLite file is migrated on the spot, as nobody else shares it;
    a server database must have been migrated with `srekit db upgrade` (a deploy step)."""
    engine = create_store_engine(url)
    try:
        if engine.dialect.name == "sqlite":
            upgrade(engine)
        else:
            require_current(engine)
    except BaseException:
        engine.dispose()
        raise
    return engine
