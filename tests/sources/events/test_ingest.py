"""Ingest: all or nothing, never twice, missing files, and replaying a log as if live."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from srekit.errors import NotFound, SpecError
from srekit.sources.events import EventStore
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
