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
`SourceUnavailable` until the first one closes the store.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Literal, get_args

import duckdb

from srekit.core.sli import EventCounts, WindowQuery
from srekit.core.slo import SLO, EventsRatio
from srekit.errors import NotFound, SourceUnavailable, SpecError

__all__ = [
    "EVENT_COLUMNS",
    "EVENT_FORMATS",
    "EventFormat",
    "EventStore",
    "IngestReport",
    "ServiceStats",
]

EventFormat = Literal["nginx", "jsonl", "csv", "parquet"]
EVENT_FORMATS: Final[tuple[EventFormat, ...]] = get_args(EventFormat)

#: Columns of the `events` table, in order, with their DuckDB types. Predicates may use any.
EVENT_COLUMNS: Final[tuple[tuple[str, str], ...]] = (
    ("ts", "TIMESTAMPTZ"),
    ("service", "VARCHAR"),
    ("status", "INTEGER"),
    ("duration_s", "DOUBLE"),
    ("method", "VARCHAR"),
    ("path", "VARCHAR"),
    ("query", "VARCHAR"),
    ("protocol", "VARCHAR"),
    ("client", "VARCHAR"),
    ("remote_user", "VARCHAR"),
    ("bytes", "BIGINT"),
    ("referer", "VARCHAR"),
    ("user_agent", "VARCHAR"),
    ("ingest_id", "INTEGER"),
)
_SCHEMA_VERSION: Final = "1"
_NOT_NULL: Final = frozenset({"ts", "service", "ingest_id"})
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_SAMPLES: Final = 3
_URL_ORIGIN: Final = "'^[A-Za-z][A-Za-z0-9+.-]*://[^/]*'"

# Names accepted for each event column in JSONL, CSV and Parquet files (compared lowercased).
_ALIASES: Final[Mapping[str, tuple[str, ...]]] = {
    "ts": ("ts", "time", "timestamp", "@timestamp", "datetime", "ts_ms", "time_ms", "timestamp_ms"),
    "status": ("status", "status_code", "http_status", "response_code", "code"),
    "duration_s": (
        "duration_s",
        "duration",
        "request_time",
        "latency_s",
        "latency",
        "elapsed_s",
        "response_time",
        "duration_ms",
        "latency_ms",
        "elapsed_ms",
        "response_time_ms",
        "request_time_ms",
    ),
    "method": ("method", "http_method", "request_method", "verb"),
    "path": ("path", "uri", "url", "request_uri", "route", "endpoint"),
    "query": ("query", "query_string", "args"),
    "protocol": ("protocol", "server_protocol", "http_version"),
    "client": ("client", "remote_addr", "client_ip", "ip", "remote_ip"),
    "remote_user": ("remote_user", "user"),
    "bytes": ("bytes", "body_bytes_sent", "bytes_sent", "size", "response_size"),
    "referer": ("referer", "referrer", "http_referer"),
    "user_agent": ("user_agent", "http_user_agent", "ua", "agent"),
}

_FORMAT_EXPECTED: Final[Mapping[EventFormat, str]] = {
    "nginx": (
        "nginx `combined` lines followed by $request_time "
        '(`$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
        '"$http_referer" "$http_user_agent" $request_time`)'
    ),
    "jsonl": "JSON objects, one per line, with a parseable timestamp",
    "csv": "CSV rows with a header and a parseable timestamp",
    "parquet": "rows with a parseable timestamp",
}

# Scalar functions a predicate may not call: they read the environment or make the result
# depend on when it is computed, which would break `--at` reproducibility.
_FORBIDDEN_FUNCTIONS: Final = frozenset(
    {
        "getenv",
        "current_setting",
        "current_database",
        "current_schema",
        "current_user",
        "nextval",
        "currval",
        "setseed",
        "random",
        "uuid",
        "gen_random_uuid",
        "now",
        "today",
        "current_date",
        "current_time",
        "current_timestamp",
        "get_current_time",
        "get_current_timestamp",
        "transaction_timestamp",
        "localtime",
        "localtimestamp",
    }
)
_FORBIDDEN_CLASSES: Final = frozenset({"SUBQUERY", "WINDOW", "STAR", "PARAMETER", "DEFAULT"})


@dataclass(frozen=True)
class IngestReport:
    """What one `ingest` did. `lines` counts records read (lines, CSV rows, Parquet rows)."""

    source: str
    service: str
    format: EventFormat
    lines: int
    rows: int
    rejected: int
    seconds: float
    duplicate: bool = False
    rejected_samples: tuple[str, ...] = ()
    first_ts: datetime | None = None
    last_ts: datetime | None = None

    @property
    def lines_per_s(self) -> float:
        return self.lines / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class ServiceStats:
    """How many events the store holds for a service, and over which time range."""

    service: str
    events: int
    first_ts: datetime
    last_ts: datetime
    ingests: int


class EventStore:
    """Events in a DuckDB file, read as SLIs (implements `srekit.core.sli.SliSource`).

    `path` is the database file when it ends in `.duckdb` or `.db`, else a directory holding
    `events.duckdb` (so `$SREKIT_HOME/events` works). The connection opens on first use and
    stays open until `close()` (or the end of a `with` block); DuckDB connections are not
    thread-safe, so each operation runs on its own cursor.
    """

    def __init__(self, path: str | Path, *, read_only: bool = False) -> None:
        self._path = _database_file(Path(path))
        self._read_only = read_only
        self._conn: duckdb.DuckDBPyConnection | None = None
        self._lock = threading.Lock()
        self._valid_predicates: set[str] = set()

    @property
    def path(self) -> Path:
        """The DuckDB database file."""
        return self._path

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
    ) -> IngestReport:
        """Parse a file into events of `service`, all or nothing.

        Malformed records (a line that is not the expected format, an unparseable timestamp or
        status) are skipped and counted; when more than `max_rejected_ratio` of the records are
        malformed the file is probably in another format, and nothing is stored (SpecError).
        A file whose bytes were already ingested for the service is skipped (`duplicate`), so
        re-running an ingest never double-counts; `replace` first removes what earlier ingests
        of the same path stored for the service (a log that has grown since). `end_at` shifts
        every event by the same amount so the last one falls at that instant: a sample log
        replayed as if it were live.
        """
        started = time.perf_counter()
        source = Path(path)
        if format not in EVENT_FORMATS:
            raise SpecError(
                f"unknown format {format!r}: expected one of {', '.join(EVENT_FORMATS)}",
                file=str(source),
            )
        if not service.strip():
            raise SpecError("expected a service name, got an empty one", file=str(source))
        if not source.is_file():
            raise NotFound(f"{source}: no such file")
        digest = _sha256(source)
        name = str(source.resolve())
        with self._cursor() as cur:
            cur.execute("BEGIN TRANSACTION")
            try:
                report = self._ingest(
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
                )
                cur.execute("COMMIT")
            except BaseException as exc:
                _rollback(cur)
                if isinstance(exc, duckdb.Error):
                    raise SourceUnavailable(
                        f"event store {self._path}: {_first_line(exc)}"
                    ) from exc
                raise
        return report

    def _ingest(
        self,
        cur: duckdb.DuckDBPyConnection,
        *,
        source: Path,
        name: str,
        digest: str,
        service: str,
        format: EventFormat,
        max_rejected_ratio: float,
        replace: bool,
        started: float,
        end_at: datetime | None = None,
    ) -> IngestReport:
        if not replace:
            seen = cur.execute(
                "SELECT count(*) FROM ingests WHERE service = $1 AND sha256 = $2",
                [service, digest],
            ).fetchall()
            if seen[0][0]:
                return IngestReport(
                    source=str(source),
                    service=service,
                    format=format,
                    lines=0,
                    rows=0,
                    rejected=0,
                    seconds=time.perf_counter() - started,
                    duplicate=True,
                )
        try:
            structural_rejects = self._stage(cur, source=source, format=format)
        except duckdb.Error as exc:
            raise SpecError(
                f"cannot read it as {format}: {_first_line(exc)}; "
                f"expected {_FORMAT_EXPECTED[format]}",
                file=str(source),
            ) from exc
        staged, bad = cur.execute(
            "SELECT count(*), count(*) FILTER (WHERE ts IS NULL) FROM srekit_staging"
        ).fetchall()[0]
        samples = [row[0] for row in structural_rejects[:_SAMPLES]]
        samples += [
            row[0]
            for row in cur.execute(
                "SELECT rejected FROM srekit_staging WHERE ts IS NULL ORDER BY rejected LIMIT $1",
                [_SAMPLES],
            ).fetchall()
        ]
        rejected = int(bad) + len(structural_rejects)
        lines = int(staged) + len(structural_rejects)
        if lines and rejected / lines > max_rejected_ratio:
            examples = "; ".join(repr(_shorten(sample)) for sample in samples[:_SAMPLES])
            raise SpecError(
                f"{rejected} of {lines} records ({rejected / lines:.1%}) are malformed, more than "
                f"the {max_rejected_ratio:.1%} allowed; expected {_FORMAT_EXPECTED[format]}; "
                f"for example: {examples}",
                file=str(source),
            )
        if end_at is not None:
            cur.execute(
                "UPDATE srekit_staging SET ts = ts + to_microseconds("
                "$1 - (SELECT epoch_us(max(ts)) FROM srekit_staging))",
                [_to_us(end_at)],
            )
        if replace:
            cur.execute(
                "DELETE FROM events WHERE ingest_id IN "
                "(SELECT id FROM ingests WHERE service = $1 AND source = $2)",
                [service, name],
            )
            cur.execute("DELETE FROM ingests WHERE service = $1 AND source = $2", [service, name])
        ingest_id = int(
            cur.execute("SELECT coalesce(max(id), 0) + 1 FROM ingests").fetchall()[0][0]
        )
        columns = [column for column, _ in EVENT_COLUMNS]
        selected = ", ".join(
            "$1" if c == "service" else "$2" if c == "ingest_id" else c for c in columns
        )
        # nginx writes lines as requests complete, so a log is already in time order (to the
        # second) and DuckDB keeps insertion order: sorting it again would cost a fifth of the
        # ingest for nothing. Other files may come in any order and are sorted.
        order = "" if format == "nginx" else " ORDER BY ts"
        cur.execute(
            f"INSERT INTO events ({', '.join(columns)}) "
            f"SELECT {selected} FROM srekit_staging WHERE ts IS NOT NULL{order}",
            [service, ingest_id],
        )
        rows, first_us, last_us = cur.execute(
            "SELECT count(*), epoch_us(min(ts)), epoch_us(max(ts)) "
            "FROM events WHERE ingest_id = $1",
            [ingest_id],
        ).fetchall()[0]
        cur.execute(
            "INSERT INTO ingests VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now())",
            [ingest_id, service, name, format, digest, lines, rows, rejected],
        )
        cur.execute("DROP TABLE srekit_staging")
        return IngestReport(
            source=str(source),
            service=service,
            format=format,
            lines=lines,
            rows=int(rows),
            rejected=rejected,
            seconds=time.perf_counter() - started,
            rejected_samples=tuple(_shorten(sample) for sample in samples[:_SAMPLES]),
            first_ts=None if first_us is None else _from_us(first_us),
            last_ts=None if last_us is None else _from_us(last_us),
        )

    def _stage(
        self,
        cur: duckdb.DuckDBPyConnection,
        *,
        source: Path,
        format: EventFormat,
    ) -> list[tuple[str]]:
        """Parse `source` into temp table `srekit_staging`: event columns plus `rejected`, the
        raw record where `ts` is NULL. Returns records the reader itself refused (CSV rows with
        the wrong number of fields), which never reach the table."""
        literal = _sql_string(str(source))
        if format == "nginx":
            cur.execute(f"CREATE TEMP TABLE srekit_staging AS {_nginx_sql(literal)}")
            return []
        if format == "parquet":
            relation = f"read_parquet({literal})"
            cur.execute(
                f"CREATE TEMP TABLE srekit_staging AS {self._tabular_sql(cur, relation, source)}"
            )
            return []
        if format == "jsonl":
            keys = [
                str(row[0])
                for row in cur.execute(
                    f"SELECT DISTINCT unnest(json_keys(j)) FROM ({_json_lines_sql(literal)}) "
                    "WHERE json_type(j) = 'OBJECT' ORDER BY 1"
                ).fetchall()
            ]
            fields = "".join(f", j->>{_sql_string(key)} AS {_ident(key)}" for key in keys)
            relation = (
                f"(SELECT CASE WHEN json_type(j) = 'OBJECT' THEN true END AS srekit_ok, "
                f"line AS srekit_line{fields} FROM ({_json_lines_sql(literal)}))"
            )
            cur.execute(
                f"CREATE TEMP TABLE srekit_staging AS {self._tabular_sql(cur, relation, source)}"
            )
            return []
        relation = (
            f"read_csv({literal}, header = true, all_varchar = true, ignore_errors = true, "
            "store_rejects = true, rejects_scan = 'srekit_reject_scans', "
            "rejects_table = 'srekit_reject_errors')"
        )
        cur.execute(
            f"CREATE TEMP TABLE srekit_staging AS {self._tabular_sql(cur, relation, source)}"
        )
        structural = cur.execute(
            "SELECT coalesce(csv_line, error_message) FROM srekit_reject_errors ORDER BY line"
        ).fetchall()
        cur.execute("DROP TABLE srekit_reject_errors")
        cur.execute("DROP TABLE srekit_reject_scans")
        return [(str(row[0]),) for row in structural]

    @staticmethod
    def _tabular_sql(cur: duckdb.DuckDBPyConnection, relation: str, source: Path) -> str:
        """SELECT mapping a JSONL/CSV/Parquet relation's columns onto event columns by name."""
        described = cur.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
        found = {str(row[0]).lower(): (str(row[0]), str(row[1])) for row in described}
        found.pop("srekit_ok", None)
        has_line = found.pop("srekit_line", None) is not None
        # Every alias present counts, first one first: files that mix `ts` and `time` still load.
        chosen = {
            column: [found[alias] + (alias,) for alias in aliases if alias in found]
            for column, aliases in _ALIASES.items()
        }
        visible = ", ".join(original for original, _ in found.values()) or "none"
        if not chosen["ts"]:
            raise SpecError(
                f"no timestamp column: expected one of {', '.join(_ALIASES['ts'])} "
                f"(columns found: {visible})",
                file=str(source),
                field="ts",
            )
        if not chosen["status"] and not chosen["duration_s"]:
            expected = ", ".join(_ALIASES["status"] + _ALIASES["duration_s"])
            raise SpecError(
                f"no status or duration column: expected one of {expected} "
                f"(columns found: {visible})",
                file=str(source),
                field="status",
            )
        exprs: dict[str, str] = {}
        checks = ["srekit_ok IS NOT NULL" if has_line else "true"]
        for column, candidates in chosen.items():
            converted = []
            for original, kind, alias in candidates:
                expr = _convert_sql(column, _ident(original), kind, alias)
                converted.append(expr)
                if column in ("ts", "status", "duration_s", "bytes"):
                    # A value that is there but does not parse makes the record malformed.
                    checks.append(f"({_ident(original)} IS NULL OR {expr} IS NOT NULL)")
            if converted:
                exprs[column] = (
                    converted[0] if len(converted) == 1 else f"coalesce({', '.join(converted)})"
                )
        if "path" in exprs:
            # `https://host/a?b` -> path `/a`, query `b`
            text = f"regexp_replace({exprs['path']}, {_URL_ORIGIN}, '')"
            if "query" not in exprs:
                exprs["query"] = f"nullif(split_part({text}, '?', 2), '')"
            exprs["path"] = f"nullif(split_part({text}, '?', 1), '')"
        ok = " AND ".join(checks)
        # The record as it was, to show in the report: CSV/Parquet rows are re-joined by commas.
        raw = "srekit_line"
        if not has_line:
            raw = " || ',' || ".join(
                f"coalesce(CAST({_ident(original)} AS VARCHAR), '')"
                for original, _ in found.values()
            )
        outputs = [
            f"CASE WHEN {ok} THEN {exprs['ts']} END AS ts",
            *(
                f"{exprs.get(column, 'NULL')}::{kind} AS {column}"
                for column, kind in EVENT_COLUMNS
                if column not in ("ts", "service", "ingest_id")
            ),
            f"CASE WHEN NOT ({ok}) OR {exprs['ts']} IS NULL THEN {raw} END AS rejected",
        ]
        return f"SELECT {', '.join(outputs)} FROM {relation}"

    # -- SLIs -----------------------------------------------------------------------------

    def validate(self, slo: SLO) -> None:
        """Raise SpecError unless the SLO's predicates are usable here (naming SLO and field)."""
        indicator = _indicator(slo)
        if indicator.stream is not None and not indicator.stream.strip():
            raise SpecError(
                f"SLO {slo.id}: expected a service name, got an empty stream",
                file=slo.source_file,
                field="indicator.stream",
            )
        for field_name, text in (("good", indicator.good), ("total", indicator.total)):
            if text in self._valid_predicates:
                continue
            with self._cursor() as cur:
                problem = _predicate_problem(cur, text) or _bind_problem(cur, text)
            if problem is not None:
                raise SpecError(
                    f"SLO {slo.id}: {problem} (predicate: {text!r})",
                    file=slo.source_file,
                    field=f"indicator.{field_name}",
                )
            self._valid_predicates.add(text)

    def counts(
        self, slos: Sequence[SLO], windows: Sequence[WindowQuery]
    ) -> dict[tuple[str, str], EventCounts | None]:
        """Good/total per (slo.id, window label), all in one SQL statement; None when empty.

        One aggregate per (window, service), joined with UNION ALL. Every ingest holds a single
        service and is stored time-sorted, so row-group min/max on `ts` and `service` let each
        part read only its own service's rows in its own time range; within a part, predicate
        pairs shared by several SLOs are evaluated once. Measured on 100 M events this beats
        one scan with `service IN (...)` and conditional aggregation per window (0.41 s vs
        0.66 s for 10 services over 30 days). Windows are half-open, [start, end); a predicate
        that is NULL for an event counts as false.
        """
        if not slos or not windows:
            return {}
        for slo in slos:
            self.validate(slo)
        # stream -> {(total, good) -> position of that pair in the stream's count list}
        plan: dict[str, dict[tuple[str, str], int]] = {}
        for slo in slos:
            indicator = _indicator(slo)
            pairs = plan.setdefault(indicator.stream or slo.service, {})
            pairs.setdefault((indicator.total, indicator.good), len(pairs))
        selects: list[str] = []
        for stream_index, pairs in enumerate(plan.values()):
            counted = ", ".join(
                f"count(*) FILTER (WHERE ({total})), count(*) FILTER (WHERE ({total}) AND ({good}))"
                for total, good in pairs
            )
            selects.extend(
                f"SELECT {position} AS w, {stream_index} AS s, [{counted}] AS c FROM events "
                f"WHERE service = ${stream_index + 1} AND {_range_sql(window.start, window.end)}"
                for position, window in enumerate(windows)
            )
        rows = self._query(" UNION ALL ".join(selects), list(plan))
        found = {(int(row[0]), int(row[1])): list(row[2]) for row in rows}
        streams = {stream: index for index, stream in enumerate(plan)}
        result: dict[tuple[str, str], EventCounts | None] = {}
        for slo in slos:
            indicator = _indicator(slo)
            stream = indicator.stream or slo.service
            pair = plan[stream][(indicator.total, indicator.good)]
            for position, window in enumerate(windows):
                counts = found.get((position, streams[stream]))
                result[(slo.id, window.label)] = None if counts is None else _counts(counts, pair)
        return result

    def slices(
        self, slo: SLO, *, start: datetime, end: datetime, slice_s: int
    ) -> list[EventCounts | None]:
        """Good/total per slice of `slice_s` seconds from `start`, oldest first; None if empty.

        Slice k is [start + k·s, start + (k+1)·s); the last one is cut at `end`. Slices are
        numbered with integer arithmetic on epoch microseconds rather than `time_bucket`, so
        their origin is exactly `start` whatever the time zone or the bucket width.
        """
        if slice_s <= 0:
            raise ValueError(f"expected a slice length >= 1 s, got {slice_s}")
        self.validate(slo)
        indicator = _indicator(slo)
        start_us, end_us = _to_us(start), _to_us(end)
        slice_us = slice_s * 1_000_000
        count = max(0, math.ceil((end_us - start_us) / slice_us))
        if count == 0:
            return []
        rows = self._query(
            f"SELECT (epoch_us(ts) - {start_us}) // {slice_us} AS k, "
            f"count(*) FILTER (WHERE ({indicator.total})) AS t, "
            f"count(*) FILTER (WHERE ({indicator.total}) AND ({indicator.good})) AS g "
            f"FROM events WHERE service = $1 AND {_range_sql(start, end)} GROUP BY k",
            [indicator.stream or slo.service],
        )
        result: list[EventCounts | None] = [None] * count
        for row in rows:
            result[int(row[0])] = _counts(row[1:], 0)
        return result

    def stats(self) -> list[ServiceStats]:
        """Events per service and the time range they cover, by service name."""
        rows = self._query(
            "SELECT e.service, e.n, e.first_us, e.last_us, coalesce(i.n, 0) FROM "
            "(SELECT service, count(*) AS n, epoch_us(min(ts)) AS first_us, "
            "epoch_us(max(ts)) AS last_us FROM events GROUP BY service) AS e "
            "LEFT JOIN (SELECT service, count(*) AS n FROM ingests GROUP BY service) AS i "
            "USING (service) ORDER BY e.service",
            [],
        )
        return [
            ServiceStats(
                service=str(row[0]),
                events=int(row[1]),
                first_ts=_from_us(int(row[2])),
                last_ts=_from_us(int(row[3])),
                ingests=int(row[4]),
            )
            for row in rows
        ]

    # -- connection -----------------------------------------------------------------------

    def _query(self, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        """Run a read query; any DuckDB failure means the source could not answer."""
        with self._cursor() as cur:
            try:
                return cur.execute(sql, params).fetchall()
            except duckdb.Error as exc:
                raise SourceUnavailable(f"event store {self._path}: {_first_line(exc)}") from exc

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
                f"no event store at {self._path}: ingest events first (srekit events ingest)"
            )
        try:
            if not self._read_only:
                self._path.parent.mkdir(parents=True, exist_ok=True)
            conn = duckdb.connect(str(self._path), read_only=self._read_only)
        except (OSError, duckdb.Error) as exc:
            message = _first_line(exc)
            if "lock" in message.lower():
                message = f"in use by another process ({message})"
            raise SourceUnavailable(f"event store {self._path}: {message}") from exc
        try:
            conn.execute("SET GLOBAL TimeZone = 'UTC'")
            if not self._read_only:
                _create_schema(conn)
            version = conn.execute(
                "SELECT value FROM srekit_meta WHERE key = 'schema_version'"
            ).fetchall()
        except duckdb.Error as exc:
            conn.close()
            raise SourceUnavailable(
                f"event store {self._path} is not usable: {_first_line(exc)}"
            ) from exc
        if not version or version[0][0] != _SCHEMA_VERSION:
            conn.close()
            found = version[0][0] if version else "none"
            raise SourceUnavailable(
                f"event store {self._path} has schema version {found}; "
                f"this srekit reads version {_SCHEMA_VERSION}"
            )
        return conn


def _database_file(path: Path) -> Path:
    return path if path.suffix in (".duckdb", ".db") else path / "events.duckdb"


def _rollback(cur: duckdb.DuckDBPyConnection) -> None:
    # The failure may already have closed the transaction.
    with suppress(duckdb.Error):
        cur.execute("ROLLBACK")


def _create_schema(conn: duckdb.DuckDBPyConnection) -> None:
    columns = ", ".join(
        f"{name} {kind}{' NOT NULL' if name in _NOT_NULL else ''}" for name, kind in EVENT_COLUMNS
    )
    conn.execute("CREATE TABLE IF NOT EXISTS srekit_meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
    conn.execute(
        "INSERT INTO srekit_meta VALUES ('schema_version', $1) ON CONFLICT DO NOTHING",
        [_SCHEMA_VERSION],
    )
    conn.execute(f"CREATE TABLE IF NOT EXISTS events ({columns})")
    conn.execute(
        "CREATE TABLE IF NOT EXISTS ingests (id INTEGER PRIMARY KEY, service VARCHAR NOT NULL, "
        "source VARCHAR NOT NULL, format VARCHAR NOT NULL, sha256 VARCHAR NOT NULL, "
        "lines BIGINT NOT NULL, events BIGINT NOT NULL, rejected BIGINT NOT NULL, "
        "ingested_at TIMESTAMPTZ NOT NULL)"
    )


def _nginx_sql(literal: str) -> str:
    """SELECT parsing nginx combined + $request_time lines into event columns.

    Splitting on `"` beats a capturing regex several times over: nginx escapes `"` inside
    fields as \\x22, so a well-formed line has exactly 7 parts:
    `<addr - user [time] >`, request, ` status bytes `, referer, ` `, user agent, ` request_time`.
    """
    lines = (
        f"read_csv({literal}, columns = {{'line': 'VARCHAR'}}, header = false, "
        "delim = '\\x01', quote = '', escape = '', auto_detect = false, strict_mode = false)"
    )
    return f"""
    WITH parts AS (
        SELECT line, string_split(line, '"') AS p FROM {lines}
        WHERE line IS NOT NULL AND trim(line) <> ''
    ), fields AS (
        SELECT line, p,
            string_split(p[1], ' ') AS head,
            string_split(trim(p[3]), ' ') AS mid,
            string_split(p[2], ' ') AS request
        FROM parts
    ), typed AS (
        SELECT line, p, head, request,
            try_strptime(
                CASE WHEN len(head) = 6 THEN substr(head[4], 2) || ' ' || rtrim(head[5], ']') END,
                '%d/%b/%Y:%H:%M:%S %z'
            ) AS parsed_ts,
            try_cast(mid[1] AS INTEGER) AS status,
            try_cast(mid[2] AS BIGINT) AS bytes,
            try_cast(trim(p[7]) AS DOUBLE) AS duration_s,
            len(p) = 7 AND len(head) = 6 AND head[2] = '-' AND head[6] = ''
                AND starts_with(head[4], '[') AND ends_with(head[5], ']') AND p[5] = ' '
                AND len(mid) = 2 AND status BETWEEN 100 AND 599 AND bytes IS NOT NULL
                AND duration_s >= 0 AND parsed_ts IS NOT NULL AS ok,
            CASE WHEN len(request) IN (2, 3) THEN request[2] END AS target
        FROM fields
    )
    SELECT
        CASE WHEN ok THEN parsed_ts END AS ts,
        status,
        duration_s,
        CASE WHEN len(request) IN (2, 3) THEN request[1] END AS method,
        nullif(split_part(target, '?', 1), '') AS path,
        nullif(split_part(target, '?', 2), '') AS query,
        CASE WHEN len(request) = 3 THEN request[3] END AS protocol,
        head[1] AS client,
        nullif(head[3], '-') AS remote_user,
        bytes,
        nullif(p[4], '-') AS referer,
        nullif(p[6], '-') AS user_agent,
        CASE WHEN NOT coalesce(ok, false) THEN line END AS rejected
    FROM typed
    """


def _json_lines_sql(literal: str) -> str:
    return (
        f"SELECT line, try_cast(line AS JSON) AS j FROM read_csv({literal}, "
        "columns = {'line': 'VARCHAR'}, header = false, delim = '\\x01', quote = '', "
        "escape = '', auto_detect = false, strict_mode = false) "
        "WHERE line IS NOT NULL AND trim(line) <> ''"
    )


def _convert_sql(column: str, ref: str, kind: str, alias: str) -> str:
    """One source column converted to the type of event column `column`."""
    if column == "ts":
        return _timestamp_sql(ref, kind, milliseconds=alias.endswith("_ms"))
    if column == "status":
        return f"try_cast({ref} AS INTEGER)"
    if column == "duration_s":
        return f"try_cast({ref} AS DOUBLE)" + (" / 1000.0" if alias.endswith("_ms") else "")
    if column == "bytes":
        return f"try_cast({ref} AS BIGINT)"
    return f"nullif(CAST({ref} AS VARCHAR), '-')"


def _timestamp_sql(ref: str, kind: str, *, milliseconds: bool) -> str:
    """A TIMESTAMPTZ from a column of any type: naive times and strings without an offset are
    UTC; numbers are Unix seconds (milliseconds when the column's name ends in `_ms`)."""
    scale = " / 1000.0" if milliseconds else ""
    upper = kind.upper()
    if upper == "TIMESTAMP WITH TIME ZONE":
        return ref
    if upper.startswith("TIMESTAMP") or upper == "DATE":
        return f"timezone('UTC', CAST({ref} AS TIMESTAMP))"
    if upper == "VARCHAR":
        return (
            f"coalesce(try_cast({ref} AS TIMESTAMPTZ), "
            f"try(to_timestamp(try_cast({ref} AS DOUBLE){scale})))"
        )
    return f"try(to_timestamp(CAST({ref} AS DOUBLE){scale}))"


def _bind_problem(cur: duckdb.DuckDBPyConnection, text: str) -> str | None:
    """DuckDB's own verdict: the predicate must bind against `events` and be boolean."""
    try:
        kind = cur.execute(f"DESCRIBE SELECT ({text}) AS p FROM events").fetchall()[0][1]
        cur.execute(f"DESCRIBE SELECT count(*) FILTER (WHERE ({text})) FROM events")
    except duckdb.Error as exc:
        return _first_line(exc)
    if kind != "BOOLEAN":
        return f"expected a boolean expression, got one of type {kind}"
    return None


def _predicate_problem(cur: duckdb.DuckDBPyConnection, text: str) -> str | None:
    """Why `text` is not one plain boolean expression, before DuckDB binds it; else None."""
    if not text.strip():
        return "expected a boolean SQL expression, got an empty one"
    try:
        tokens = duckdb.tokenize(text)
    except (duckdb.Error, RuntimeError) as exc:
        return _first_line(exc)
    kinds = {token_type for _, token_type in tokens}
    if duckdb.token_type.comment in kinds:
        return "comments are not allowed in a predicate"
    positions = [position for position, _ in tokens]
    for position, token_type in tokens:
        if token_type == duckdb.token_type.string_const:
            continue
        following = [p for p in positions if p > position]
        piece = text[position : following[0] if following else len(text)]
        if ";" in piece:
            return "expected a single expression, found ';'"
    tree = _parse_tree(cur, text)
    if "error" in tree:
        return str(tree["error"])
    return _tree_problem(tree["expression"])


def _parse_tree(cur: duckdb.DuckDBPyConnection, text: str) -> dict[str, Any]:
    """DuckDB's parse of `SELECT (text)`, checked to be that one expression and nothing more."""
    (serialized,) = cur.execute("SELECT json_serialize_sql($1)", [f"SELECT ({text})"]).fetchall()[0]
    parsed = json.loads(serialized)
    if parsed.get("error"):
        return {"error": str(parsed.get("error_message", "cannot parse the expression"))}
    statements = parsed.get("statements", [])
    node = statements[0].get("node", {}) if len(statements) == 1 else {}
    if (
        len(statements) != 1
        or node.get("type") != "SELECT_NODE"
        or len(node.get("select_list", [])) != 1
        or node.get("from_table", {}).get("type") != "EMPTY"
        or node.get("where_clause") is not None
        or node.get("group_expressions")
        or node.get("having") is not None
        or node.get("qualify") is not None
        or node.get("modifiers")
        or node.get("cte_map", {}).get("map")
    ):
        return {"error": "expected a single expression"}
    return {"expression": node["select_list"][0]}


def _tree_problem(node: object) -> str | None:
    if isinstance(node, list):
        for item in node:
            problem = _tree_problem(item)
            if problem is not None:
                return problem
        return None
    if not isinstance(node, dict):
        return None
    kind = node.get("class")
    if kind in _FORBIDDEN_CLASSES:
        what = {"SUBQUERY": "subqueries", "WINDOW": "window functions", "STAR": "`*`"}
        return f"not allowed in a predicate: {what.get(str(kind), str(kind).lower())}"
    if kind == "FUNCTION" and str(node.get("function_name", "")).lower() in _FORBIDDEN_FUNCTIONS:
        return f"function {node['function_name']}() is not allowed in a predicate"
    for value in node.values():
        problem = _tree_problem(value)
        if problem is not None:
            return problem
    return None


def _indicator(slo: SLO) -> EventsRatio:
    if not isinstance(slo.indicator, EventsRatio):
        raise SpecError(
            f"SLO {slo.id}: the event store answers events indicators only, "
            f"not {type(slo.indicator).__name__}",
            file=slo.source_file,
            field="indicator",
        )
    return slo.indicator


def _counts(row: Sequence[Any], index: int) -> EventCounts | None:
    total, good = int(row[2 * index]), int(row[2 * index + 1])
    return EventCounts(good=float(good), total=float(total)) if total > 0 else None


def _range_sql(start: datetime, end: datetime) -> str:
    """Literal bounds (not parameters) so DuckDB prunes row groups by their min/max."""
    return (
        f"ts >= make_timestamptz({_to_us(start)}::BIGINT) "
        f"AND ts < make_timestamptz({_to_us(end)}::BIGINT)"
    )


def _to_us(moment: datetime) -> int:
    """Microseconds since the Unix epoch; a naive datetime is taken as UTC."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return (aware - _EPOCH) // timedelta(microseconds=1)


def _from_us(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _shorten(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
