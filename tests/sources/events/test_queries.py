"""SLI queries against expectations computed in plain Python from the same events."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from srekit.core.sli import WindowQuery
from srekit.sources.events import EventStore
from tests.sources.events.conftest import END, expected_counts, make_events, make_slo, write_nginx


def test_nginx_ingest_then_batched_counts_match_python(store: EventStore, tmp_path: Path) -> None:
    checkout = make_events(1, 3000, timedelta(days=8))
    catalog = make_events(2, 2000, timedelta(days=8))
    # catalog's server logs in +01:00: times must still land in UTC.
    store.ingest(write_nginx(tmp_path / "a.log", checkout), service="checkout", format="nginx")
    store.ingest(write_nginx(tmp_path / "b.log", catalog, 60), service="catalog", format="nginx")
    slos = [
        make_slo("checkout", "availability", "status < 500"),
        make_slo("checkout", "latency", "duration_s < 0.5", total="method = 'GET'"),
        make_slo("catalog", "availability", "status < 500"),
        make_slo("web", "catalog-fast", "duration_s <= 1.0", stream="catalog"),
    ]
    rules = {
        "checkout-availability": ("checkout", lambda e: e.status < 500, lambda e: True),
        "checkout-latency": (
            "checkout",
            lambda e: e.duration_s < 0.5,
            lambda e: e.method == "GET",
        ),
        "catalog-availability": ("catalog", lambda e: e.status < 500, lambda e: True),
        "web-catalog-fast": ("catalog", lambda e: e.duration_s <= 1.0, lambda e: True),
    }
    windows = [
        WindowQuery(label, END - timedelta(seconds=seconds), END)
        for label, seconds in (("5m", 300), ("1h", 3600), ("1d", 86400), ("7d", 604800))
    ]
    windows.append(WindowQuery("past", END - timedelta(days=3), END - timedelta(days=2)))
    windows.append(WindowQuery("future", END, END + timedelta(hours=1)))

    got = store.counts(slos, windows)

    assert len(got) == len(slos) * len(windows)
    for slo in slos:
        service, good, total = rules[slo.id]
        events = {"checkout": checkout, "catalog": catalog}[service]
        for window in windows:
            expected = expected_counts(events, window.start, window.end, good, total)
            counts = got[(slo.id, window.label)]
            actual = None if counts is None else (int(counts.good), int(counts.total))
            assert actual == expected, (slo.id, window.label)
    assert got[("checkout-availability", "future")] is None


def test_timeslices_match_python(store: EventStore, tmp_path: Path) -> None:
    events = make_events(3, 1500, timedelta(hours=10))
    store.ingest(write_nginx(tmp_path / "a.log", events), service="api", format="nginx")
    slo = make_slo("api", "availability", "status < 500")
    start, end = END - timedelta(hours=12), END - timedelta(minutes=7)

    slices = store.slices(slo, start=start, end=end, slice_s=3600)

    assert len(slices) == 12  # 11 h 53 m: the last slice is cut short
    for index, counts in enumerate(slices):
        lo = start + timedelta(hours=index)
        hi = min(lo + timedelta(hours=1), end)
        expected = expected_counts(events, lo, hi, lambda e: e.status < 500, lambda e: True)
        actual = None if counts is None else (int(counts.good), int(counts.total))
        assert actual == expected, index
    assert slices[0] is None  # the events only cover the last 10 hours


def test_empty_store_gives_no_data(store: EventStore) -> None:
    got = store.counts(
        [make_slo("api", "availability", "status < 500")],
        [WindowQuery("1h", END - timedelta(hours=1), END)],
    )
    assert got == {("api-availability", "1h"): None}
