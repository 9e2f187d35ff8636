"""Ingest: all or nothing, never twice, missing files, and replaying a log as if live."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from srekit.errors import NotFound, SpecError
from srekit.sources.events import EventStore
from srekit.sources.events.ingest import file_sha256, watch_progress
from tests.sources.events.conftest import END, Event, make_events, nginx_line, write_nginx


def test_mostly_malformed_file_fails_and_stores_nothing(store: EventStore, tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_text('{"ts": "2026-11-20T00:00:00Z", "status": 200}\n' * 50)

    with pytest.raises(SpecError, match=r"50 of 50 records .* malformed") as caught:
        store.ingest(path, service="api", format="nginx")

    assert caught.value.file == str(path)
    assert store.stats() == []


def test_reingesting_the_same_file_does_not_double_count(store: EventStore, tmp_path: Path) -> None:
    path = write_nginx(tmp_path / "a.log", make_events(5, 100, timedelta(hours=1)))
    assert store.ingest(path, service="api", format="nginx") == 100
    again = store.ingest_file(path, service="api", format="nginx")
    assert again.duplicate
    assert again.rows == 0
    path.write_text(path.read_text() + nginx_line(Event(END, 200, 0.1, "GET", "/")) + "\n")
    assert store.ingest(path, service="api", format="nginx", replace=True) == 101
    assert [(s.service, s.events, s.ingests) for s in store.stats()] == [("api", 101, 1)]


def test_missing_file_is_not_found(store: EventStore, tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        store.ingest(tmp_path / "nope.log", service="api", format="nginx")


def test_end_at_replays_a_log_as_if_live(tmp_path: Path) -> None:
    """Every event moves by the same amount; the last lands exactly at `end_at`."""

    log = Path(__file__).resolve().parents[3] / "examples" / "logs" / "checkout.access.log.gz"
    plain = EventStore(tmp_path / "plain").ingest_file(log, service="checkout", format="nginx")
    end = datetime(2030, 1, 1, 12, tzinfo=UTC)
    shifted = EventStore(tmp_path / "shifted").ingest_file(
        log, service="checkout", format="nginx", end_at=end
    )
    assert shifted.rows == plain.rows
    assert shifted.last_ts == end
    assert plain.first_ts is not None
    assert plain.last_ts is not None
    assert shifted.first_ts == end - (plain.last_ts - plain.first_ts)


def test_replace_drops_the_same_bytes_ingested_under_another_path(
    store: EventStore, tmp_path: Path
) -> None:
    """A copy of a log replayed with `replace` takes the place of the first, never sits beside
    it: `srekit demo` replays the bundled logs again from wherever the examples are."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = write_nginx(tmp_path / "a" / "app.log", make_events(5, 100, timedelta(hours=1)))
    copy = tmp_path / "b" / "app.log"
    copy.write_bytes(first.read_bytes())
    assert store.ingest(first, service="api", format="nginx") == 100
    assert store.ingest(first, service="web", format="nginx") == 100  # another service's
    end = datetime(2030, 1, 1, tzinfo=UTC)
    report = store.ingest_file(copy, service="api", format="nginx", replace=True, end_at=end)
    assert report.rows == 100
    assert report.replaced == 100
    assert report.replaced_last_ts is not None
    assert report.replaced_last_ts < end
    assert [(s.service, s.events, s.ingests) for s in store.stats()] == [
        ("api", 100, 1),
        ("web", 100, 1),
    ]
    assert store.stats()[0].last_ts == end
    fresh = store.ingest_file(copy, service="other", format="nginx", replace=True)
    assert (fresh.replaced, fresh.replaced_last_ts) == (0, None)


class Steps:
    """An `IngestProgress` that keeps what it was told."""

    def __init__(self) -> None:
        self.told: list[tuple[str, float | None]] = []

    def step(self, name: str, *, done: float | None) -> None:
        self.told.append((name, done))


def test_an_ingest_tells_how_far_it_has_got(tmp_path: Path) -> None:
    log = Path(__file__).resolve().parents[3] / "examples" / "logs" / "checkout.access.log.gz"
    steps = Steps()
    told = EventStore(tmp_path / "told").ingest_file(
        log, service="checkout", format="nginx", progress=steps
    )
    quiet = EventStore(tmp_path / "quiet").ingest_file(log, service="checkout", format="nginx")
    assert (told.rows, told.rejected) == (quiet.rows, quiet.rejected)
    names = [name for name, _ in steps.told]
    assert sorted(set(names), key=names.index) == ["hashing", "reading", "storing"]
    assert names == sorted(names, key=["hashing", "reading", "storing"].index)
    for name in ("hashing", "reading"):
        done = [value for step, value in steps.told if step == name]
        assert all(value is not None and 0 <= value <= 1 for value in done)
        assert done[-1] == 1.0
    # how far an INSERT has written, DuckDB does not say: under way, then done
    assert [value for step, value in steps.told if step == "storing"] == [None, 1.0]


def test_hashing_counts_every_megabyte(tmp_path: Path) -> None:
    path = tmp_path / "big.log"
    path.write_bytes(bytes(range(256)) * 10_000)  # 2.56 MB: three reads of a megabyte
    steps = Steps()
    assert file_sha256(path, progress=steps) == hashlib.sha256(path.read_bytes()).hexdigest()
    assert steps.told == [
        ("hashing", 1_048_576 / 2_560_000),
        ("hashing", 2_097_152 / 2_560_000),
        ("hashing", 1.0),
    ]


def test_a_long_statement_is_followed_as_it_runs() -> None:
    """DuckDB's own measure of a statement, read while it runs, rises to the end."""
    connection = duckdb.connect()
    cur = connection.cursor()
    steps = Steps()
    with watch_progress(cur, steps, "reading"):
        (count,) = cur.execute(
            "SELECT count(*) FROM range(100000000) t(i) WHERE i % 7 = 3"
        ).fetchall()[0]
    cur.close()
    connection.close()
    assert count == 14_285_714  # i = 3, 10, ... below 1e8: (1e8 - 1 - 3) // 7 + 1
    done = [value for _, value in steps.told if value is not None]
    assert len(done) == len(steps.told)
    assert any(0 < value < 1 for value in done), done
    assert done == sorted(done)
    assert done[-1] == 1.0
