"""The SLI queries the event store answers: counts per window, per slice, and per service.

Each builds one SQL statement and runs it through `query`, the store's read function, so this
module holds SQL and the reading of its rows, not connections. Predicates reach these queries
only after `EventStore.validate` has passed them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from srekit.core.sli import EventCounts, WindowQuery
from srekit.core.slo import SLO, EventsRatio
from srekit.errors import SpecError
from srekit.sources.events.sql import from_us, to_us

__all__ = [
    "Query",
    "ServiceStats",
    "counts",
    "events_indicator",
    "request_counts",
    "slices",
    "stats",
]

#: Runs a read statement with its parameters and returns its rows.
Query = Callable[[str, list[Any]], list[tuple[Any, ...]]]


@dataclass(frozen=True)
class ServiceStats:
    """How many events the store holds for a service, and over which time range."""

    service: str
    events: int
    first_ts: datetime
    last_ts: datetime
    ingests: int


def counts(
    query: Query, slos: Sequence[SLO], windows: Sequence[WindowQuery]
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
    # stream -> {(total, good) -> position of that pair in the stream's count list}
    plan: dict[str, dict[tuple[str, str], int]] = {}
    for slo in slos:
        indicator = events_indicator(slo)
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
    rows = query(" UNION ALL ".join(selects), list(plan))
    found = {(int(row[0]), int(row[1])): list(row[2]) for row in rows}
    streams = {stream: index for index, stream in enumerate(plan)}
    result: dict[tuple[str, str], EventCounts | None] = {}
    for slo in slos:
        indicator = events_indicator(slo)
        stream = indicator.stream or slo.service
        pair = plan[stream][(indicator.total, indicator.good)]
        for position, window in enumerate(windows):
            row = found.get((position, streams[stream]))
            result[(slo.id, window.label)] = None if row is None else _counts(row, pair)
    return result


def slices(
    query: Query, slo: SLO, *, start: datetime, end: datetime, slice_s: int
) -> list[EventCounts | None]:
    """Good/total per slice of `slice_s` seconds from `start`, oldest first; None if empty.

    Slice k is [start + k·s, start + (k+1)·s); the last one is cut at `end`. Slices are
    numbered with integer arithmetic on epoch microseconds rather than `time_bucket`, so
    their origin is exactly `start` whatever the time zone or the bucket width. `slice_s`
    is at least 1 (the store checks it).
    """
    indicator = events_indicator(slo)
    start_us, end_us = to_us(start), to_us(end)
    slice_us = slice_s * 1_000_000
    count = max(0, math.ceil((end_us - start_us) / slice_us))
    if count == 0:
        return []
    rows = query(
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


def request_counts(
    query: Query, service: str, *, start: datetime, end: datetime, slice_s: int
) -> list[int]:
    """Events (requests) of `service` per slice of `slice_s` seconds from `start`, oldest
    first, 0 where there are none; slices are numbered as in `slices`."""
    start_us, end_us = to_us(start), to_us(end)
    slice_us = slice_s * 1_000_000
    count = max(0, math.ceil((end_us - start_us) / slice_us))
    if count == 0:
        return []
    rows = query(
        f"SELECT (epoch_us(ts) - {start_us}) // {slice_us} AS k, count(*) AS n "
        f"FROM events WHERE service = $1 AND {_range_sql(start, end)} GROUP BY k",
        [service],
    )
    result = [0] * count
    for row in rows:
        result[int(row[0])] = int(row[1])
    return result


def stats(query: Query) -> list[ServiceStats]:
    """Events per service and the time range they cover, by service name."""
    rows = query(
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
            first_ts=from_us(int(row[2])),
            last_ts=from_us(int(row[3])),
            ingests=int(row[4]),
        )
        for row in rows
    ]


def events_indicator(slo: SLO) -> EventsRatio:
    """The SLO's `EventsRatio`; any other indicator is a SpecError naming the SLO."""
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
        f"ts >= make_timestamptz({to_us(start)}::BIGINT) "
        f"AND ts < make_timestamptz({to_us(end)}::BIGINT)"
    )
