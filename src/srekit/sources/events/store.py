"""srekit's embedded event store: access logs and event files in DuckDB, answered as SLIs.

Events live in one DuckDB table, `events`, and every ingested file is inserted sorted by time,
so DuckDB's per-row-group min/max (zonemaps) skip everything outside a queried window. Against
time-sorted zstd Parquet on 100 M events (`benchmarks/bench_events.py`) a full scan costs about
the same, a 1-hour window is several times faster, and a table gives transactions: a rejected
file leaves nothing behind.

SLO predicates (`EventsRatio.good` / `.total`) come from spec files. Before reaching a query each
is checked to be a single boolean expression over event columns, without subqueries, comments
or functions that read the environment or the clock (see `EventStore.validate`).

DuckDB allows one writing process per database file: a second process gets
`SourceUnavailable` until the first one closes the store. This module holds the store and its
connection; the work is in `ingest`, `formats`, `predicates` and `queries`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import duckdb

from srekit.core.sli import EventCounts, WindowQuery
from srekit.core.slo import SLO
from srekit.errors import SourceTimeout, SourceUnavailable
from srekit.sources.events import queries
from srekit.sources.events.formats import EventFormat
from srekit.sources.events.ingest import (
    IngestProgress,
    IngestReport,
    check_file,
    file_sha256,
    load_file,
)
from srekit.sources.events.predicates import check_events_slo
from srekit.sources.events.queries import ServiceStats
from srekit.sources.events.schema import SCHEMA_VERSION, create_schema
from srekit.sources.events.sql import first_line

__all__ = ["EventStore"]


class EventStore:
    """Events in a DuckDB file, read as SLIs (implements `srekit.core.sli.SliSource`).

    `path` is the database file when it ends in `.duckdb` or `.db`, else a directory holding
    `events.duckdb` (so `$SREKIT_HOME/events` works). The connection opens on first use and
    stays open until `close()` (or the end of a `with` block); DuckDB connections are not
    thread-safe, so each operation runs on its own cursor.

    Messages name the file without its directories (they become SLO statuses, which the API
    serves), unless `name_directories` (the CLI: its reader is the operator).
    """

    def __init__(
        self,
        path: str | Path,
        *,
        read_only: bool = False,
        query_timeout_s: float | None = None,
        name_directories: bool = False,
    ) -> None:
        self._path = _database_file(Path(path))
        self._read_only = read_only
        self._query_timeout_s = query_timeout_s
        self._name_directories = name_directories
        self._shown = str(self._path) if name_directories else self._path.name
        self._conn: duckdb.DuckDBPyConnection | None = None
        self._lock = threading.Lock()

    @property
    def path(self) -> Path:
        """The DuckDB database file."""
        return self._path

    @staticmethod
    def file_of(path: str | Path) -> Path:
        """The DuckDB file a store at `path` lives in (see the class docstring)."""
        return _database_file(Path(path))

    @staticmethod
    def exists(path: str | Path) -> bool:
        """Whether a store was created at `path`: lets callers say "no data" without making one."""
        return _database_file(Path(path)).is_file()

    def __enter__(self) -> EventStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    # -- ingest ---------------------------------------------------------------------------

    def ingest(
        self,
        path: str | Path,
        *,
        service: str,
        format: EventFormat,
        max_rejected_ratio: float = 0.01,
        replace: bool = False,
        end_at: datetime | None = None,
    ) -> int:
        """Ingest a file and return the number of events stored (see `ingest_file`)."""
        return self.ingest_file(
            path,
            service=service,
            format=format,
            max_rejected_ratio=max_rejected_ratio,
            replace=replace,
            end_at=end_at,
        ).rows

    def ingest_file(
        self,
        path: str | Path,
        *,
        service: str,
        format: EventFormat,
        max_rejected_ratio: float = 0.01,
        replace: bool = False,
        end_at: datetime | None = None,
        progress: IngestProgress | None = None,
    ) -> IngestReport:
        """Parse a file into events of `service`, all or nothing.

        Malformed records (a line that is not the expected format, an unparseable timestamp or
        status) are skipped and counted; when more than `max_rejected_ratio` of the records are
        malformed the file is probably in another format, and nothing is stored (SpecError).
        A file whose bytes were already ingested for the service is skipped (`duplicate`), so
        re-running an ingest never double-counts; `replace` first removes what earlier ingests
        of the same path stored for the service (a log that has grown since). `end_at` shifts
        every event by the same amount so the last one falls at that instant: a sample log
        replayed as if it were live. `progress` is told how far hashing, reading and storing
        the file have got.
        """
        started = time.perf_counter()
        source = Path(path)
        check_file(source, service=service, format=format)
        digest = file_sha256(source, progress=progress)
        name = str(source.resolve())
        with self._cursor() as cur:
            cur.execute("BEGIN TRANSACTION")
            try:
                report = load_file(
                    cur,
                    source=source,
                    name=name,
                    digest=digest,
                    service=service,
                    format=format,
                    max_rejected_ratio=max_rejected_ratio,
                    replace=replace,
                    started=started,
                    end_at=end_at,
                    progress=progress,
                )
                cur.execute("COMMIT")
            except BaseException as exc:
                _rollback(cur)
                if isinstance(exc, duckdb.Error):
                    raise SourceUnavailable(f"event store {self._path}: {first_line(exc)}") from exc
                raise
        return report

    def delete(self, *, service: str, before: datetime | None = None) -> int:
        """Delete `service`'s events (only those before `before` when given); the number gone.

        Deleting all of a service's events also forgets its ingests, so the same files can be
        ingested again; deleting the old ones keeps them (their newer events are still here).
        """
        with self._cursor() as cur:
            cur.execute("BEGIN TRANSACTION")
            try:
                if before is None:
                    cur.execute("DELETE FROM events WHERE service = $1", [service])
                else:
                    cur.execute(
                        "DELETE FROM events WHERE service = $1 AND ts < $2", [service, before]
                    )
                row = cur.fetchone()
                deleted = int(row[0]) if row else 0
                if before is None:
                    cur.execute("DELETE FROM ingests WHERE service = $1", [service])
                cur.execute("COMMIT")
            except BaseException as exc:
                _rollback(cur)
                if isinstance(exc, duckdb.Error):
                    failure = self._without_directories(first_line(exc))
                    raise SourceUnavailable(f"the event store failed: {failure}") from exc
                raise
        return deleted

    # -- SLIs -----------------------------------------------------------------------------

    def validate(self, slo: SLO) -> None:
        """Raise SpecError unless the SLO's predicates are usable here (naming SLO and field).

        The sandbox of `predicates.check_events_slo`: the same verdict a spec got when it
        was written, so a stored spec that passed then passes here.
        """
        check_events_slo(slo)

    def counts(
        self, slos: Sequence[SLO], windows: Sequence[WindowQuery]
    ) -> dict[tuple[str, str], EventCounts | None]:
        """Good/total per (slo.id, window label), all in one SQL statement; None when empty.

        See `queries.counts`. Windows are half-open, [start, end); a predicate that is NULL
        for an event counts as false.
        """
        if not slos or not windows:
            return {}
        for slo in slos:
            self.validate(slo)
        return queries.counts(self._query, slos, windows)

    def slices(
        self, slo: SLO, *, start: datetime, end: datetime, slice_s: int
    ) -> list[EventCounts | None]:
        """Good/total per slice of `slice_s` seconds from `start`, oldest first; None if empty.

        Slice k is [start + k·s, start + (k+1)·s); the last one is cut at `end`.
        """
        if slice_s <= 0:
            raise ValueError(f"expected a slice length >= 1 s, got {slice_s}")
        self.validate(slo)
        return queries.slices(self._query, slo, start=start, end=end, slice_s=slice_s)

    def request_counts(
        self, service: str, *, start: datetime, end: datetime, slice_s: int
    ) -> list[int]:
        """Requests of `service` per slice of `slice_s` seconds from `start` (0 when none)."""
        if slice_s <= 0:
            raise ValueError(f"expected a slice length >= 1 s, got {slice_s}")
        return queries.request_counts(self._query, service, start=start, end=end, slice_s=slice_s)

    def stats(self) -> list[ServiceStats]:
        """Events per service and the time range they cover, by service name."""
        return queries.stats(self._query)

    # -- connection -----------------------------------------------------------------------

    def _query(self, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        """Run a read query; any DuckDB failure means the source could not answer.

        A query still running after `query_timeout_s` is interrupted (SourceTimeout), so one
        costly predicate cannot stall an evaluation round. Messages name no file: they
        become SLO statuses, which the API serves.
        """
        with self._cursor() as cur:
            timer = None
            if self._query_timeout_s is not None:
                timer = threading.Timer(self._query_timeout_s, cur.interrupt)
                timer.daemon = True
                timer.start()
            try:
                return cur.execute(sql, params).fetchall()
            except duckdb.InterruptException as exc:
                raise SourceTimeout(
                    f"the event store query ran past {self._query_timeout_s:g} s and was"
                    " stopped (SREKIT_EVENTS_QUERY_TIMEOUT_S)"
                ) from exc
            except duckdb.Error as exc:
                failure = self._without_directories(first_line(exc))
                raise SourceUnavailable(f"the event store failed: {failure}") from exc
            finally:
                if timer is not None:
                    timer.cancel()

    @contextmanager
    def _cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        cur = self._connection().cursor()
        try:
            yield cur
        finally:
            cur.close()

    def _connection(self) -> duckdb.DuckDBPyConnection:
        with self._lock:
            if self._conn is None:
                self._conn = self._open()
            return self._conn

    def _open(self) -> duckdb.DuckDBPyConnection:
        if self._read_only and not self._path.is_file():
            raise SourceUnavailable(
                f"no event store ({self._shown}) yet: ingest events first (srekit events ingest)"
            )
        try:
            created = not self._read_only and not self._path.exists()
            if created:
                _make_private_dirs(self._path.parent)
            conn = duckdb.connect(str(self._path), read_only=self._read_only)
            if created:
                self._path.chmod(0o600)  # in a 0700 directory: nobody saw it meanwhile
        except (OSError, duckdb.Error) as exc:
            message = self._without_directories(first_line(exc))
            if "lock" in message.lower():
                message = f"in use by another process ({message})"
            raise SourceUnavailable(f"event store {self._shown}: {message}") from exc
        try:
            conn.execute("SET GLOBAL TimeZone = 'UTC'")
            if not self._read_only:
                create_schema(conn)
            version = conn.execute(
                "SELECT value FROM srekit_meta WHERE key = 'schema_version'"
            ).fetchall()
        except duckdb.Error as exc:
            conn.close()
            raise SourceUnavailable(
                f"event store {self._shown} is not usable:"
                f" {self._without_directories(first_line(exc))}"
            ) from exc
        if not version or version[0][0] != SCHEMA_VERSION:
            conn.close()
            found = version[0][0] if version else "none"
            raise SourceUnavailable(
                f"event store {self._shown} has schema version {found}; "
                f"this srekit reads version {SCHEMA_VERSION}"
            )
        return conn

    def _without_directories(self, message: str) -> str:
        """`message` naming the store's file without its directories: what it says becomes an
        SLO's status detail, which the API serves to anyone with a token."""
        if self._name_directories:
            return message
        return message.replace(str(self._path.parent) + "/", "").replace(
            str(self._path.parent), "."
        )


def _make_private_dirs(path: Path) -> None:
    """Create `path` and its missing parents with mode 0700 (events are request logs)."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for directory in reversed(missing):
        with suppress(FileExistsError):
            directory.mkdir(mode=0o700)
            directory.chmod(0o700)


def _database_file(path: Path) -> Path:
    return path if path.suffix in (".duckdb", ".db") else path / "events.duckdb"


def _rollback(cur: duckdb.DuckDBPyConnection) -> None:
    # The failure may already have closed the transaction.
    with suppress(duckdb.Error):
        cur.execute("ROLLBACK")
