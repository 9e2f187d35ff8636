"""The event store against expectations computed in plain Python from the same events."""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from srekit.cli.events import app
from srekit.core.sli import WindowQuery
from srekit.core.slo import SLO, EventsRatio, PromErrorRatio
from srekit.core.window import RollingWindow
from srekit.errors import NotFound, SourceUnavailable, SpecError
from srekit.sources.events import EventStore

END = datetime(2026, 11, 20, tzinfo=UTC)
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class Event:
    ts: datetime
    status: int
    duration_s: float
    method: str
    path: str


def _events(seed: int, count: int, span: timedelta) -> list[Event]:
    rng = random.Random(seed)
    return sorted(
        (
            Event(
                ts=END - timedelta(seconds=rng.randrange(int(span.total_seconds()))),
                status=rng.choice((200, 200, 200, 201, 404, 500, 503)),
                duration_s=round(rng.uniform(0.001, 2.0), 3),
                method=rng.choice(("GET", "POST")),
                path=rng.choice(("/api/cart", "/api/checkout", "/healthz")),
            )
            for _ in range(count)
        ),
        key=lambda event: event.ts,
    )


def _nginx_line(event: Event, offset_minutes: int = 0) -> str:
    local = event.ts.astimezone(timezone(timedelta(minutes=offset_minutes)))
    sign = "+" if offset_minutes >= 0 else "-"
    hours, minutes = divmod(abs(offset_minutes), 60)
    stamp = (
        f"{local.day:02d}/{MONTHS[local.month - 1]}/{local.year}:"
        f"{local:%H:%M:%S} {sign}{hours:02d}{minutes:02d}"
    )
    return (
        f'192.0.2.7 - alice [{stamp}] "{event.method} {event.path}?x=1 HTTP/1.1" '
        f'{event.status} 512 "-" "pytest/1.0" {event.duration_s:.3f}'
    )


def _slo(service: str, name: str, good: str, total: str = "true", stream: str | None = None) -> SLO:
    return SLO(
        service=service,
        name=name,
        objective=0.99,
        window=RollingWindow(30 * 86400),
        indicator=EventsRatio(good=good, total=total, stream=stream),
        source_file="slos.yaml",
    )


def _expected(
    events: list[Event], start: datetime, end: datetime, good: object, total: object
) -> tuple[int, int] | None:
    selected = [e for e in events if start <= e.ts < end and total(e)]  # type: ignore[operator]
    if not selected:
        return None
    return sum(1 for e in selected if good(e)), len(selected)  # type: ignore[operator]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EventStore]:
    with EventStore(tmp_path / "store") as event_store:
        yield event_store


def _write_nginx(path: Path, events: list[Event], offset_minutes: int = 0) -> Path:
    path.write_text("".join(_nginx_line(e, offset_minutes) + "\n" for e in events))
    return path


def test_nginx_ingest_then_batched_counts_match_python(store: EventStore, tmp_path: Path) -> None:
    checkout = _events(1, 3000, timedelta(days=8))
    catalog = _events(2, 2000, timedelta(days=8))
    # catalog's server logs in +01:00: times must still land in UTC.
    store.ingest(_write_nginx(tmp_path / "a.log", checkout), service="checkout", format="nginx")
    store.ingest(_write_nginx(tmp_path / "b.log", catalog, 60), service="catalog", format="nginx")
    slos = [
        _slo("checkout", "availability", "status < 500"),
        _slo("checkout", "latency", "duration_s < 0.5", total="method = 'GET'"),
        _slo("catalog", "availability", "status < 500"),
        _slo("web", "catalog-fast", "duration_s <= 1.0", stream="catalog"),
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
            expected = _expected(events, window.start, window.end, good, total)
            counts = got[(slo.id, window.label)]
            actual = None if counts is None else (int(counts.good), int(counts.total))
            assert actual == expected, (slo.id, window.label)
    assert got[("checkout-availability", "future")] is None


def test_timeslices_match_python(store: EventStore, tmp_path: Path) -> None:
    events = _events(3, 1500, timedelta(hours=10))
    store.ingest(_write_nginx(tmp_path / "a.log", events), service="api", format="nginx")
    slo = _slo("api", "availability", "status < 500")
    start, end = END - timedelta(hours=12), END - timedelta(minutes=7)

    slices = store.slices(slo, start=start, end=end, slice_s=3600)

    assert len(slices) == 12  # 11 h 53 m: the last slice is cut short
    for index, counts in enumerate(slices):
        lo = start + timedelta(hours=index)
        hi = min(lo + timedelta(hours=1), end)
        expected = _expected(events, lo, hi, lambda e: e.status < 500, lambda e: True)
        actual = None if counts is None else (int(counts.good), int(counts.total))
        assert actual == expected, index
    assert slices[0] is None  # the events only cover the last 10 hours


def test_nginx_fields_are_parsed(store: EventStore, tmp_path: Path) -> None:
    line = _nginx_line(Event(END - timedelta(hours=1), 503, 1.25, "POST", "/api/checkout"), -300)
    store.ingest(_write_nginx_text(tmp_path / "one.log", [line]), service="api", format="nginx")
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


def _write_nginx_text(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines))
    return path


def test_malformed_nginx_lines_are_counted_not_stored(store: EventStore, tmp_path: Path) -> None:
    events = _events(4, 400, timedelta(hours=1))
    lines = [_nginx_line(e) for e in events]
    lines[10] = lines[10][:40]  # truncated
    lines[20] = "garbage"
    lines[30] = lines[30].replace("Nov", "Foo")  # bad timestamp
    lines.insert(5, "")  # blank lines are not records
    path = _write_nginx_text(tmp_path / "a.log", lines)

    report = store.ingest_file(path, service="api", format="nginx")

    assert (report.lines, report.rows, report.rejected) == (400, 397, 3)
    assert "garbage" in report.rejected_samples
    assert report.first_ts == min(e.ts for i, e in enumerate(events) if i not in (10, 20, 30))


def test_mostly_malformed_file_fails_and_stores_nothing(store: EventStore, tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_text('{"ts": "2026-11-20T00:00:00Z", "status": 200}\n' * 50)

    with pytest.raises(SpecError, match=r"50 of 50 records .* malformed") as caught:
        store.ingest(path, service="api", format="nginx")

    assert caught.value.file == str(path)
    assert store.stats() == []


def test_reingesting_the_same_file_does_not_double_count(store: EventStore, tmp_path: Path) -> None:
    path = _write_nginx(tmp_path / "a.log", _events(5, 100, timedelta(hours=1)))
    assert store.ingest(path, service="api", format="nginx") == 100
    again = store.ingest_file(path, service="api", format="nginx")
    assert again.duplicate
    assert again.rows == 0
    path.write_text(path.read_text() + _nginx_line(Event(END, 200, 0.1, "GET", "/")) + "\n")
    assert store.ingest(path, service="api", format="nginx", replace=True) == 101
    assert [(s.service, s.events, s.ingests) for s in store.stats()] == [("api", 101, 1)]


def test_jsonl_csv_parquet_map_columns_by_name(store: EventStore, tmp_path: Path) -> None:
    events = _events(6, 300, timedelta(hours=2))
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
    slos = [_slo(s, "fast", "duration_s < 0.5 AND path = '/api/cart'") for s in "jcp"]
    window = WindowQuery("3h", END - timedelta(hours=3), END)
    expected = _expected(
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


def test_missing_file_is_not_found(store: EventStore, tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        store.ingest(tmp_path / "nope.log", service="api", format="nginx")


@pytest.mark.parametrize(
    ("predicate", "message"),
    [
        ("status <", "syntax error"),
        ("status", "expected a boolean"),
        ("nope = 1", "nope"),
        ("true; DROP TABLE events", "single expression"),
        ("true) FROM events WHERE (true", "single expression"),
        ("status < 500 -- comment", "comments"),
        ("path IN (SELECT path FROM events)", "subqueries"),
        ("getenv('HOME') = ''", "getenv"),
        ("ts > now()", "now"),
        ("count(*) > 0", "aggregate"),
    ],
)
def test_bad_predicates_raise_spec_error_naming_slo_and_field(
    store: EventStore, predicate: str, message: str
) -> None:
    slo = _slo("api", "availability", predicate)
    with pytest.raises(SpecError, match=message) as caught:
        store.counts([slo], [WindowQuery("1h", END - timedelta(hours=1), END)])
    assert caught.value.field == "indicator.good"
    assert caught.value.file == "slos.yaml"
    assert "api-availability" in str(caught.value)


def test_semicolon_inside_a_string_is_fine(store: EventStore) -> None:
    store.validate(_slo("api", "odd", "path <> ';'"))


def test_other_indicators_are_refused(store: EventStore) -> None:
    slo = SLO(
        service="api",
        name="raw",
        objective=0.99,
        window=RollingWindow(86400),
        indicator=PromErrorRatio("x"),
    )
    with pytest.raises(SpecError, match="events indicators only"):
        store.validate(slo)


def test_empty_store_gives_no_data(store: EventStore) -> None:
    got = store.counts(
        [_slo("api", "availability", "status < 500")],
        [WindowQuery("1h", END - timedelta(hours=1), END)],
    )
    assert got == {("api-availability", "1h"): None}


def test_read_only_store_that_does_not_exist_is_unavailable(tmp_path: Path) -> None:
    assert not EventStore.exists(tmp_path / "missing")
    with pytest.raises(SourceUnavailable, match="no event store"):
        EventStore(tmp_path / "missing", read_only=True).stats()


def test_cli_ingest_and_stats(tmp_path: Path) -> None:
    events = _events(7, 50, timedelta(hours=1))
    log = _write_nginx_text(tmp_path / "a.log", [_nginx_line(e) for e in events] + ["junk"])
    store = tmp_path / "store"
    runner = CliRunner()

    ingested = runner.invoke(
        app,
        ["ingest", str(log), "--service", "api", "--store", str(store), "--max-rejected", "0.1"],
    )
    stats = runner.invoke(app, ["stats", "--store", str(store), "--format", "json"])
    bad = runner.invoke(
        app, ["ingest", str(log), "--service", "web", "--format", "csv", "--store", str(store)]
    )

    assert ingested.exit_code == 0, ingested.output
    assert "50 events ingested" in ingested.output
    assert "1 records rejected" in ingested.output
    assert json.loads(stats.output)[0]["events"] == 50
    assert bad.exit_code == 2
    assert "a.log" in bad.output


def test_end_at_replays_a_log_as_if_live(tmp_path: Path) -> None:
    """Every event moves by the same amount; the last lands exactly at `end_at`."""
    from datetime import UTC, datetime

    log = Path(__file__).resolve().parents[2] / "examples" / "logs" / "checkout.access.log.gz"
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
