"""File formats: nginx fields, malformed lines, and JSONL/CSV/Parquet columns mapped by name."""

from __future__ import annotations

import csv
import json
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from srekit.core.sli import WindowQuery
from srekit.errors import SpecError
from srekit.sources.events import EventStore
from tests.sources.events.conftest import (
    END,
    Event,
    expected_counts,
    make_events,
    make_slo,
    nginx_line,
    write_nginx_text,
)


def test_nginx_fields_are_parsed(store: EventStore, tmp_path: Path) -> None:
    line = nginx_line(Event(END - timedelta(hours=1), 503, 1.25, "POST", "/api/checkout"), -300)
    store.ingest(write_nginx_text(tmp_path / "one.log", [line]), service="api", format="nginx")
    store.close()
    conn = duckdb.connect(str(store.path), read_only=True)
    row = conn.execute(
        "SELECT epoch(ts), status, duration_s, method, path, query, protocol, client, "
        "remote_user, bytes, referer, user_agent FROM events"
    ).fetchall()
    conn.close()
    expected_epoch = (END - timedelta(hours=1)).timestamp()
    assert row == [
        (
            expected_epoch,
            503,
            1.25,
            "POST",
            "/api/checkout",
            "x=1",
            "HTTP/1.1",
            "192.0.2.7",
            "alice",
            512,
            None,
            "pytest/1.0",
        )
    ]


def test_malformed_nginx_lines_are_counted_not_stored(store: EventStore, tmp_path: Path) -> None:
    events = make_events(4, 400, timedelta(hours=1))
    lines = [nginx_line(e) for e in events]
    lines[10] = lines[10][:40]  # truncated
    lines[20] = "garbage"
    lines[30] = lines[30].replace("Nov", "Foo")  # bad timestamp
    lines.insert(5, "")  # blank lines are not records
    path = write_nginx_text(tmp_path / "a.log", lines)

    report = store.ingest_file(path, service="api", format="nginx")

    assert (report.lines, report.rows, report.rejected) == (400, 397, 3)
    assert "garbage" in report.rejected_samples
    assert report.first_ts == min(e.ts for i, e in enumerate(events) if i not in (10, 20, 30))


def test_jsonl_csv_parquet_map_columns_by_name(store: EventStore, tmp_path: Path) -> None:
    events = make_events(6, 300, timedelta(hours=2))
    jsonl = tmp_path / "e.jsonl"
    jsonl.write_text(
        "".join(
            json.dumps(
                {
                    "timestamp": e.ts.isoformat(),
                    "status_code": e.status,
                    "duration_ms": e.duration_s * 1000,
                    "method": e.method,
                    "url": f"https://shop.example{e.path}?a=b",
                }
            )
            + "\n"
            for e in events
        )
        + "not json\n"
    )
    with (tmp_path / "e.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["time", "status", "duration_s", "method", "path"])
        for e in events:
            writer.writerow([int(e.ts.timestamp()), e.status, e.duration_s, e.method, e.path])
    duckdb.execute(
        f"COPY (SELECT * FROM read_csv('{tmp_path / 'e.csv'}')) TO '{tmp_path / 'e.parquet'}'"
    )

    reports = [
        store.ingest_file(tmp_path / "e.jsonl", service="j", format="jsonl"),
        store.ingest_file(tmp_path / "e.csv", service="c", format="csv"),
        store.ingest_file(tmp_path / "e.parquet", service="p", format="parquet"),
    ]

    assert [(r.rows, r.rejected) for r in reports] == [(300, 1), (300, 0), (300, 0)]
    slos = [make_slo(s, "fast", "duration_s < 0.5 AND path = '/api/cart'") for s in "jcp"]
    window = WindowQuery("3h", END - timedelta(hours=3), END)
    expected = expected_counts(
        events,
        window.start,
        window.end,
        lambda e: e.duration_s < 0.5 and e.path == "/api/cart",
        lambda e: True,
    )
    got = store.counts(slos, [window])
    for slo in slos:
        counts = got[(slo.id, "3h")]
        assert counts is not None
        assert (int(counts.good), int(counts.total)) == expected, slo.id


def test_missing_timestamp_column_names_file_and_column(store: EventStore, tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    path.write_text("when,status\n2026-11-20T00:00:00Z,200\n")
    with pytest.raises(SpecError, match="no timestamp column") as caught:
        store.ingest(path, service="api", format="csv")
    assert (caught.value.file, caught.value.field) == (str(path), "ts")
