"""SLO history: hourly rollups of the evaluation snapshots, the retention horizons, chart
downsampling (M4) and the budget figures the dashboard's charts draw.

Each evaluation round records a snapshot per SLO (about one a minute). Raw snapshots are kept
for the raw horizon (default 2 days); every complete hour is rolled up into one row per SLO
holding, for each figure, the hour's min, max, first and last value, so a chart of a year
reads 8 760 rows instead of half a million and still shows the hour's worst moment. Rollups
are kept for the hourly horizon (default 13 months).

A chart asks for `[start, end)` at a pixel width: the range is cut into `width` buckets of
equal length and each bucket keeps min, max, first and last (M4: a spike a mean would hide
stays in the bucket's max). All times are seconds since the Unix epoch (UTC) or aware
datetimes; nothing here reads a clock.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

__all__ = [
    "DATA_SEVERITY",
    "HOUR_S",
    "BucketRun",
    "Buckets",
    "DayRollup",
    "Extent",
    "HourClose",
    "HourRollup",
    "Point",
    "SnapshotPoint",
    "SpanValues",
    "bucket_runs",
    "budget_burndown",
    "budget_burned_in_hour",
    "daily_budget_burned",
    "day_floor",
    "day_number",
    "day_of_number",
    "downsample",
    "downsample_runs",
    "hour_floor",
    "hours_due",
    "ideal_budget_line",
    "merge_extents",
    "raw_horizon",
    "rollup_day",
    "rollup_horizon",
    "rollup_hour",
]

HOUR_S = 3600
_HOUR = timedelta(hours=1)

#: Worst first is highest: an hour in which the source failed once is an hour with an error.
DATA_SEVERITY: Mapping[str, int] = {"ok": 0, "no_data": 1, "stale": 2, "error": 3}


class Extent(NamedTuple):
    """A figure over a span of time: its lowest, highest, first and last values (a tuple: a
    chart's read makes tens of thousands)."""

    low: float
    high: float
    first: float
    last: float

    @classmethod
    def of(cls, value: float) -> Extent:
        """One reading: all four are the value."""
        return cls(value, value, value, value)


def merge_extents(extents: Iterable[Extent | None]) -> Extent | None:
    """The extent of consecutive spans, in time order: min of lows, max of highs, the first
    span's first, the last span's last. Spans without data (None) are skipped; none at all
    gives None."""
    merged: Extent | None = None
    for extent in extents:
        if extent is None:
            continue
        if merged is None:
            merged = extent
        else:
            merged = Extent(
                min(merged.low, extent.low),
                max(merged.high, extent.high),
                merged.first,
                extent.last,
            )
    return merged


class SnapshotPoint(NamedTuple):
    """What a rollup reads of one snapshot: its time and figures (None: not held). A tuple,
    like `Extent`: a chart reads thousands."""

    at: datetime
    objective: float
    window: str
    window_s: int
    sli: float | None
    remaining: float | None
    good_events: float | None
    total_events: float | None
    burn_rates: Mapping[str, float | None]
    policy_state: str
    data: str


@dataclass(frozen=True)
class HourRollup:
    """One SLO's hour `[hour_start, hour_start + 1 h)` summed up from its snapshots.

    `objective`, `window` and `window_s` are the last snapshot's (a spec change within the hour
    shows from the next one). `bad_events`/`total_events` are the SLO window's counts, not the
    hour's. `worst_data` is the worst data state of the hour (error > stale > no_data > ok);
    `worst_policy_state` is the policy state at the hour's lowest remaining budget (the
    policy's ladder descends with the budget), `unknown` when no snapshot had a budget.
    """

    hour_start: datetime
    samples: int
    objective: float
    window: str
    window_s: int
    sli: Extent | None
    remaining: Extent | None
    bad_events: Extent | None
    total_events: Extent | None
    burn_rates: Mapping[str, Extent | None] = field(default_factory=dict)
    worst_data: str = "ok"
    worst_policy_state: str = "unknown"


def hour_floor(moment: datetime) -> datetime:
    """The start of the UTC hour holding `moment`."""
    utc = moment.astimezone(UTC)
    return utc.replace(minute=0, second=0, microsecond=0)


def _extent(values: Iterable[float | None]) -> Extent | None:
    return merge_extents(Extent.of(value) for value in values if value is not None)


def rollup_hour(points: Sequence[SnapshotPoint], *, hour_start: datetime) -> HourRollup:
    """Sum up one SLO's snapshots of one hour (any order; sorted by time here).

    ValueError when there are none or one lies outside the hour: a rollup of nothing, or of
    another hour's readings, would be a wrong row that compaction never revisits.
    """
    if hour_floor(hour_start) != hour_start:
        raise ValueError(f"expected the start of an hour, got {hour_start.isoformat()}")
    if not points:
        raise ValueError("expected at least one snapshot to roll up")
    end = hour_start + _HOUR
    for point in points:
        if not hour_start <= point.at < end:
            raise ValueError(
                f"snapshot at {point.at.isoformat()} is outside the hour {hour_start.isoformat()}"
            )
    ordered = sorted(points, key=lambda point: point.at)
    last = ordered[-1]
    windows = list(dict.fromkeys(name for point in ordered for name in point.burn_rates))
    with_budget = [point for point in ordered if point.remaining is not None]
    worst_policy = (
        min(reversed(with_budget), key=lambda point: point.remaining or 0.0).policy_state
        if with_budget
        else "unknown"
    )
    return HourRollup(
        hour_start=hour_start,
        samples=len(ordered),
        objective=last.objective,
        window=last.window,
        window_s=last.window_s,
        sli=_extent(point.sli for point in ordered),
        remaining=_extent(point.remaining for point in ordered),
        bad_events=_extent(
            point.total_events - point.good_events
            if point.total_events is not None and point.good_events is not None
            else None
            for point in ordered
        ),
        total_events=_extent(point.total_events for point in ordered),
        burn_rates={
            name: _extent(point.burn_rates.get(name) for point in ordered) for name in windows
        },
        worst_data=max((point.data for point in ordered), key=lambda d: DATA_SEVERITY.get(d, 3)),
        worst_policy_state=worst_policy,
    )


def raw_horizon(now: datetime, *, raw_s: float) -> datetime:
    """Raw snapshots of hours that end at or before this are deleted (once rolled up): the
    start of the hour holding `now − raw_s`, so whole hours go at once."""
    return hour_floor(now - timedelta(seconds=raw_s))


def rollup_horizon(now: datetime, *, hourly_s: float) -> datetime:
    """Rollups of hours starting before this are deleted: `now − hourly_s`, to the hour."""
    return hour_floor(now - timedelta(seconds=hourly_s))


def hours_due(
    snapshot_times: Iterable[datetime],
    *,
    rolled: Iterable[datetime],
    now: datetime,
    grace_s: float = 300.0,
) -> list[datetime]:
    """The hours to roll up, oldest first: those holding a snapshot, complete for `grace_s`
    (a round stamped just before the hour ended may still be writing), not rolled up yet."""
    done = set(rolled)
    cutoff = now - timedelta(seconds=grace_s)
    hours = {hour_floor(moment) for moment in snapshot_times}
    return sorted(hour for hour in hours if hour + _HOUR <= cutoff and hour not in done)


@dataclass(frozen=True)
class Buckets:
    """A downsampled series as parallel lists: bucket start (epoch seconds), min, max, first,
    last. Only buckets holding data are present."""

    t: list[float]
    low: list[float]
    high: list[float]
    first: list[float]
    last: list[float]


#: A point to downsample: its time, then its span's low, high, first and last values (a
#: reading is `(t, v, v, v, v)`; a rollup `(t, *extent)`). Flat, since a chart reads tens of
#: thousands.
Point = tuple[float, float, float, float, float]


def downsample(points: Iterable[Point], *, start: float, end: float, width: int) -> Buckets:
    """M4 downsampling of time-ordered points over `[start, end)` into `width` equal buckets.

    Bucket i covers `[start + i·(end − start)/width, start + (i + 1)·(end − start)/width)`;
    a point's bucket is `floor((t − start) · width / (end − start))`, so the edges depend on
    the range and width alone. Points outside the range are dropped. A bucket keeps the min
    of lows, the max of highs, its first point's first and its last point's last.
    """
    if not end > start:
        raise ValueError(f"expected start < end, got {start} and {end}")
    if width < 1:
        raise ValueError(f"expected a width of at least 1, got {width}")
    span = end - start
    out = Buckets([], [], [], [], [])
    times, lows, highs, firsts, lasts = out.t, out.low, out.high, out.first, out.last
    current = -1
    for t, low, high, first, last in points:
        if not start <= t < end:
            continue
        index = min(int((t - start) * width // span), width - 1)  # rounding at the very end
        if index != current:
            current = index
            times.append(start + index * span / width)
            lows.append(low)
            highs.append(high)
            firsts.append(first)
            lasts.append(last)
            continue
        lows[-1] = min(lows[-1], low)
        highs[-1] = max(highs[-1], high)
        lasts[-1] = last
    return out


#: One row's figure over its span: low, high, first, last (a tuple, or the list a stored
#: rollup decodes to); None when the row lacks the figure.
SpanValues = Sequence[float] | None


class BucketRun(NamedTuple):
    """Consecutive rows `[begin, stop)` of a time-ordered timeline falling in `bucket`."""

    bucket: int
    begin: int
    stop: int


def bucket_runs(times: Sequence[float], *, start: float, end: float, width: int) -> list[BucketRun]:
    """The runs of rows of time-ordered `times` sharing an M4 bucket of `[start, end)` cut into
    `width` (the bucket of `downsample`: `floor((t − start) · width / (end − start))`); rows
    outside the range belong to no run. Worked out once per timeline, then shared by every
    figure read from it (`downsample_runs`): a chart's dozen series cost one pass over time."""
    if not end > start:
        raise ValueError(f"expected start < end, got {start} and {end}")
    if width < 1:
        raise ValueError(f"expected a width of at least 1, got {width}")
    span = end - start
    runs: list[BucketRun] = []
    current = -1
    begin = 0
    for position, t in enumerate(times):
        if not start <= t < end:
            if current >= 0:
                runs.append(BucketRun(current, begin, position))
                current = -1
            continue
        index = min(int((t - start) * width // span), width - 1)
        if index != current:
            if current >= 0:
                runs.append(BucketRun(current, begin, position))
            current, begin = index, position
    if current >= 0:
        runs.append(BucketRun(current, begin, len(times)))
    return runs


def downsample_runs(
    values: Sequence[SpanValues],
    runs: Sequence[BucketRun],
    *,
    start: float,
    end: float,
    width: int,
) -> Buckets:
    """M4 of one figure of a timeline whose `runs` are `bucket_runs` of its times: `values[i]`
    is row i's span (None: the row lacks the figure). Equal to `downsample` of the rows holding
    the figure, each as `(t, low, high, first, last)`: per bucket the min of lows, the max of
    highs, its first present row's first and its last present row's last; a bucket without
    any present row is left out."""
    span = end - start
    out = Buckets([], [], [], [], [])
    times, lows, highs, firsts, lasts = out.t, out.low, out.high, out.first, out.last
    for index, begin, stop in runs:
        if stop - begin == 1:  # the common case when buckets are about a row's span
            alone = values[begin]
            if alone is None:
                continue
            low, high, first, last = alone
        else:
            present = [value for value in values[begin:stop] if value is not None]
            if not present:
                continue
            low = min(value[0] for value in present)
            high = max(value[1] for value in present)
            first, last = present[0][2], present[-1][3]
        times.append(start + index * span / width)
        lows.append(low)
        highs.append(high)
        firsts.append(first)
        lasts.append(last)
    return out


def ideal_budget_line(
    *, window_start: datetime, window_end: datetime
) -> tuple[tuple[datetime, float], tuple[datetime, float]]:
    """The budget a steady burn of exactly 1 leaves: all of it (1.0) at the window's start,
    none (0.0) at its end. A rolling window ends now and starts W before; a calendar
    window's period runs from its start to its end."""
    if not window_end > window_start:
        raise ValueError("expected the window to end after it starts")
    return (window_start, 1.0), (window_end, 0.0)


def budget_burned_in_hour(burn_rate_1h: float | None, *, window_s: int) -> float | None:
    """The share of the window's budget an hour spent: burn(1h) × 1 h / W (a burn of 1 over
    the whole window spends 1). None without a burn rate. Exact when the hour's traffic is the
    window's average rate; an hour busier than average spends more than this says."""
    if burn_rate_1h is None or window_s <= 0:
        return None
    return burn_rate_1h * HOUR_S / window_s


def budget_burndown(
    hours: Sequence[tuple[datetime, float | None]], *, window_start: datetime
) -> list[tuple[datetime, float]]:
    """Remaining budget since `window_start`: 1 − the budget the hours from then on spent
    (`budget_burned_in_hour` each), one point at each hour's end. Hours before the start are
    ignored; hours without data spend nothing."""
    remaining = 1.0
    points: list[tuple[datetime, float]] = []
    for hour_start, burned in sorted(hours, key=lambda hour: hour[0]):
        if hour_start < window_start:
            continue
        remaining -= burned or 0.0
        points.append((hour_start + _HOUR, remaining))
    return points


def daily_budget_burned(
    hours: Iterable[tuple[datetime, float | None]], *, days: Sequence[datetime]
) -> list[float | None]:
    """Per day (`days` are UTC midnights), the budget its hours spent (sum of
    `budget_burned_in_hour`); None for a day with no hour holding a burn rate."""
    index = {day: position for position, day in enumerate(days)}
    totals: list[float | None] = [None] * len(days)
    for hour_start, burned in hours:
        position = index.get(hour_start.replace(hour=0))
        if position is None or burned is None or math.isnan(burned):
            continue
        totals[position] = (totals[position] or 0.0) + burned
    return totals


def day_floor(moment: datetime) -> datetime:
    """The start of the UTC day holding `moment` (its midnight)."""
    return hour_floor(moment).replace(hour=0)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def day_number(moment: datetime) -> int:
    """The UTC day holding `moment` as a number: whole days since 1970-01-01 (day 0). A day
    stored as a number is compared, indexed and read back without any timestamp to decode."""
    return (day_floor(moment) - _EPOCH).days


def day_of_number(number: int) -> datetime:
    """The midnight (UTC) starting day `number` of `day_number`."""
    return _EPOCH + timedelta(days=number)


class HourClose(NamedTuple):
    """What a day's rollup takes from one hour's rollup: when it started, its last SLI,
    remaining budget and 1-day burn rate, and the budget it spent (`budget_burned_in_hour`)."""

    hour_start: datetime
    sli: float | None
    remaining: float | None
    burn_1d: float | None
    budget_burned: float | None


class DayRollup(NamedTuple):
    """One SLO's UTC day summed up from its hourly rollups: how many hours were rolled up,
    the last of them (`close_hour_start`) and the figures it ended with, and the budget the
    day spent (the sum of its hours', None when no hour held a burn rate). A day still
    running holds the hours rolled up so far."""

    day_start: datetime
    hours: int
    close_hour_start: datetime
    sli: float | None
    remaining: float | None
    burn_1d: float | None
    budget_burned: float | None


def rollup_day(day_start: datetime, hours: Sequence[HourClose]) -> DayRollup:
    """The rollup of the day starting at `day_start` (a UTC midnight) from its hours' rollups,
    in any order: the close is the latest hour's figures, the spend is
    `daily_budget_burned`'s. ValueError without hours or with an hour outside the day:
    a day without history has no rollup."""
    if not hours:
        raise ValueError(f"expected at least one hour of {day_start.isoformat()}")
    day_end = day_start + timedelta(days=1)
    outside = [hour.hour_start for hour in hours if not day_start <= hour.hour_start < day_end]
    if outside:
        raise ValueError(f"expected hours of {day_start.isoformat()}, got {outside[0].isoformat()}")
    close = max(hours, key=lambda hour: hour.hour_start)
    (spent,) = daily_budget_burned(
        ((hour.hour_start, hour.budget_burned) for hour in hours), days=[day_start]
    )
    return DayRollup(
        day_start=day_start,
        hours=len({hour.hour_start for hour in hours}),
        close_hour_start=close.hour_start,
        sli=close.sli,
        remaining=close.remaining,
        burn_1d=close.burn_1d,
        budget_burned=spent,
    )
