"""Events and SLOs the event store's tests share, and a store per test."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from srekit.core.slo import SLO, EventsRatio
from srekit.core.window import RollingWindow
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


def make_events(seed: int, count: int, span: timedelta) -> list[Event]:
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


def nginx_line(event: Event, offset_minutes: int = 0) -> str:
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


def make_slo(
    service: str, name: str, good: str, total: str = "true", stream: str | None = None
) -> SLO:
    return SLO(
        service=service,
        name=name,
        objective=0.99,
        window=RollingWindow(30 * 86400),
        indicator=EventsRatio(good=good, total=total, stream=stream),
        source_file="slos.yaml",
    )


def expected_counts(
    events: list[Event],
    start: datetime,
    end: datetime,
    good: Callable[[Event], bool],
    total: Callable[[Event], bool],
) -> tuple[int, int] | None:
    selected = [e for e in events if start <= e.ts < end and total(e)]
    if not selected:
        return None
    return sum(1 for e in selected if good(e)), len(selected)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EventStore]:
    with EventStore(tmp_path / "store") as event_store:
        yield event_store


def write_nginx(path: Path, events: list[Event], offset_minutes: int = 0) -> Path:
    path.write_text("".join(nginx_line(e, offset_minutes) + "\n" for e in events))
    return path


def write_nginx_text(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines))
    return path
