"""Loading a file into the event store, all or nothing, and what the load reports.

A file is staged by its format's parser (`formats.stage`), judged by how many of its records
are malformed, optionally shifted in time, then inserted time-sorted with the id of its
`ingests` row. The bytes' SHA-256 per service makes a second ingest of the same file a no-op.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final, Protocol

import duckdb

from srekit.errors import NotFound, SpecError
from srekit.sources.events.formats import EVENT_FORMATS, FORMAT_EXPECTED, EventFormat, stage
from srekit.sources.events.schema import EVENT_COLUMNS
from srekit.sources.events.sql import first_line, from_us, to_us

__all__ = [
    "IngestProgress",
    "IngestReport",
    "check_file",
    "file_sha256",
    "load_file",
    "watch_progress",
]

_SAMPLES: Final = 3
_HASH_CHUNK: Final = 1 << 20
_POLL_EVERY_S: Final = 0.1


class IngestProgress(Protocol):
    """Told how far an ingest has got, for a display of progress (the CLI's bar)."""

    def step(self, name: str, *, done: float | None) -> None:
        """Step `name` (`hashing`, `reading`, `storing`) is `done` (0 to 1) of the way; None:
        under way, how far unknown."""


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
    replaced: int = 0  # events of earlier ingests that `replace` removed
    replaced_last_ts: datetime | None = None  # the newest of them

    @property
    def lines_per_s(self) -> float:
        return self.lines / self.seconds if self.seconds > 0 else 0.0


def check_file(source: Path, *, service: str, format: EventFormat) -> None:
    """Refuse an ingest before it touches the store: unknown format, no service, no file."""
    if format not in EVENT_FORMATS:
        raise SpecError(
            f"unknown format {format!r}: expected one of {', '.join(EVENT_FORMATS)}",
            file=str(source),
        )
    if not service.strip():
        raise SpecError("expected a service name, got an empty one", file=str(source))
    if not source.is_file():
        raise NotFound(f"{source}: no such file")


def file_sha256(path: Path, *, progress: IngestProgress | None = None) -> str:
    """The hex SHA-256 of a file's bytes (`progress` told of each megabyte hashed)."""
    with path.open("rb") as handle:
        if progress is None:
            return hashlib.file_digest(handle, "sha256").hexdigest()
        size = max(path.stat().st_size, 1)
        digest = hashlib.sha256()
        while chunk := handle.read(_HASH_CHUNK):
            digest.update(chunk)
            progress.step("hashing", done=min(handle.tell() / size, 1.0))
        return digest.hexdigest()


@contextmanager
def watch_progress(
    cur: duckdb.DuckDBPyConnection, progress: IngestProgress | None, step: str
) -> Iterator[None]:
    """While the block runs a statement on `cur`, tell `progress` how far DuckDB says it is
    (`query_progress`, read from a thread of its own ten times a second)."""
    if progress is None:
        yield
        return
    # DuckDB measures a statement's progress only when asked to (and must never print it)
    for setting in ("enable_progress_bar = true", "enable_progress_bar_print = false"):
        cur.execute(f"SET {setting}")
    cur.execute("SET progress_bar_time = 0")
    finished = threading.Event()

    def watch() -> None:
        while not finished.wait(_POLL_EVERY_S):
            percent = cur.query_progress()
            if percent >= 0:  # -1: no statement running, or none that DuckDB can measure
                progress.step(step, done=min(percent / 100, 1.0))

    watcher = threading.Thread(target=watch, name=f"srekit-ingest-{step}", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        finished.set()
        watcher.join()
    progress.step(step, done=1.0)


def load_file(
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
    progress: IngestProgress | None = None,
) -> IngestReport:
    """Load a checked file into the store within the caller's transaction (see
    `EventStore.ingest_file`); `digest` is the file's SHA-256, `name` its resolved path."""
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
        with watch_progress(cur, progress, "reading"):
            structural_rejects = stage(cur, source=source, format=format)
    except duckdb.Error as exc:
        raise SpecError(
            f"cannot read it as {format}: {first_line(exc)}; expected {FORMAT_EXPECTED[format]}",
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
            f"the {max_rejected_ratio:.1%} allowed; expected {FORMAT_EXPECTED[format]}; "
            f"for example: {examples}",
            file=str(source),
        )
    if end_at is not None:
        cur.execute(
            "UPDATE srekit_staging SET ts = ts + to_microseconds("
            "$1 - (SELECT epoch_us(max(ts)) FROM srekit_staging))",
            [to_us(end_at)],
        )
    replaced, replaced_last_us = 0, None
    if replace:
        # the same path (a log that has grown) or the same bytes under another path: either
        # kept beside the new copy would count its events twice
        earlier = "SELECT id FROM ingests WHERE service = $1 AND (source = $2 OR sha256 = $3)"
        replaced, replaced_last_us = cur.execute(
            f"SELECT count(*), epoch_us(max(ts)) FROM events WHERE ingest_id IN ({earlier})",
            [service, name, digest],
        ).fetchall()[0]
        cur.execute(f"DELETE FROM events WHERE ingest_id IN ({earlier})", [service, name, digest])
        cur.execute(f"DELETE FROM ingests WHERE id IN ({earlier})", [service, name, digest])
    ingest_id = int(cur.execute("SELECT coalesce(max(id), 0) + 1 FROM ingests").fetchall()[0][0])
    columns = [column for column, _ in EVENT_COLUMNS]
    selected = ", ".join(
        "$1" if c == "service" else "$2" if c == "ingest_id" else c for c in columns
    )
    # nginx writes lines as requests complete, so a log is already in time order (to the
    # second) and DuckDB keeps insertion order: sorting it again would cost a fifth of the
    # ingest for nothing. Other files may come in any order and are sorted.
    order = "" if format == "nginx" else " ORDER BY ts"
    if progress is not None:
        # DuckDB's measure of an INSERT is its scan, over at once; the writing is not measured
        progress.step("storing", done=None)
    cur.execute(
        f"INSERT INTO events ({', '.join(columns)}) "
        f"SELECT {selected} FROM srekit_staging WHERE ts IS NOT NULL{order}",
        [service, ingest_id],
    )
    if progress is not None:
        progress.step("storing", done=1.0)
    rows, first_us, last_us = cur.execute(
        "SELECT count(*), epoch_us(min(ts)), epoch_us(max(ts)) FROM events WHERE ingest_id = $1",
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
        first_ts=None if first_us is None else from_us(first_us),
        last_ts=None if last_us is None else from_us(last_us),
        replaced=int(replaced),
        replaced_last_ts=None if replaced_last_us is None else from_us(replaced_last_us),
    )


def _shorten(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
