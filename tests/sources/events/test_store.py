"""The store itself: a read-only store that was never created, and its time limit."""

from __future__ import annotations

import os
import stat
import time
from datetime import timedelta
from pathlib import Path

import pytest

from srekit.core.sli import WindowQuery
from srekit.errors import SourceTimeout, SourceUnavailable
from srekit.sources.events import EventStore
from tests.sources.events.conftest import END, make_events, make_slo, write_nginx


def test_read_only_store_that_does_not_exist_is_unavailable(tmp_path: Path) -> None:
    assert not EventStore.exists(tmp_path / "missing")
    with pytest.raises(SourceUnavailable, match="no event store"):
        EventStore(tmp_path / "missing", read_only=True).stats()


# About 0.1 ms of CPU per event (a 360 x 360 edit distance) and no memory to speak of: over
# 20 000 events a few seconds, where `status < 500` takes a millisecond.
COSTLY = "levenshtein(repeat(path, 30), repeat(method, 100)) > 0"


def _ingest_many(store: EventStore, tmp_path: Path, count: int = 20_000) -> None:
    events = make_events(11, count, timedelta(hours=6))
    store.ingest(write_nginx(tmp_path / "many.log", events), service="api", format="nginx")


def test_a_query_past_the_time_limit_is_stopped(tmp_path: Path) -> None:
    with EventStore(tmp_path / "store", query_timeout_s=0.2) as store:
        _ingest_many(store, tmp_path)
        window = [WindowQuery("6h", END - timedelta(hours=6), END)]
        cheap = store.counts([make_slo("api", "cheap", "status < 500")], window)
        assert cheap[("api-cheap", "6h")] is not None
        started = time.perf_counter()
        with pytest.raises(SourceTimeout, match=r"ran past 0.2 s") as caught:
            store.counts([make_slo("api", "costly", COSTLY)], window)
        elapsed = time.perf_counter() - started
        assert str(tmp_path) not in str(caught.value)  # statuses are served over HTTP
        # the store still answers afterwards, on the same connection
        assert store.counts([make_slo("api", "cheap", "status < 500")], window) == cheap
    # without a limit the same query runs to its end: several times the limit
    with EventStore(tmp_path / "store") as store:
        started_full = time.perf_counter()
        full = store.counts([make_slo("api", "costly", COSTLY)], window)
        full_s = time.perf_counter() - started_full
    assert full[("api-costly", "6h")] is not None
    print(f"stopped after {elapsed:.2f} s; unlimited {full_s:.2f} s")
    assert elapsed < 0.2 + 1.0 < full_s, (elapsed, full_s)


def test_a_new_event_store_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    old_umask = os.umask(0o022)
    try:
        with EventStore(tmp_path / "home" / "events") as store:
            store.stats()
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE((tmp_path / "home").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "home" / "events").stat().st_mode) == 0o700
    database = tmp_path / "home" / "events" / "events.duckdb"
    assert stat.S_IMODE(database.stat().st_mode) == 0o600


def test_failures_name_the_store_file_but_not_where_it_lives(tmp_path: Path) -> None:
    """They become SLO status details, which every token holder reads through the API."""
    missing = EventStore(tmp_path / "missing", read_only=True)
    with pytest.raises(SourceUnavailable) as never_created:
        missing.stats()
    broken_file = tmp_path / "broken" / "events.duckdb"
    broken_file.parent.mkdir()
    broken_file.write_bytes(b"not a duckdb file" * 1000)
    with pytest.raises(SourceUnavailable) as broken:
        EventStore(broken_file, read_only=True).stats()
    for failure in (never_created.value, broken.value):
        assert "events.duckdb" in str(failure)
        assert str(tmp_path) not in str(failure)
