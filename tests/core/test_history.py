"""SLO history's pure part: rollups, horizons, M4 downsampling and the budget lines, each
checked against numbers worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from srekit.core.history import (
    BucketRun,
    DayRollup,
    Extent,
    HourClose,
    SnapshotPoint,
    bucket_runs,
    budget_burndown,
    budget_burned_in_hour,
    daily_budget_burned,
    day_floor,
    day_number,
    day_of_number,
    downsample,
    downsample_runs,
    hour_floor,
    hours_due,
    ideal_budget_line,
    merge_extents,
    raw_horizon,
    rollup_day,
    rollup_horizon,
    rollup_hour,
)

H = datetime(2026, 11, 1, 10, tzinfo=UTC)
MIN = timedelta(minutes=1)


def _point(
    minute: int,
    *,
    sli: float | None = 0.999,
    remaining: float | None = 0.5,
    good: float | None = 990.0,
    total: float | None = 1000.0,
    burn_1h: float | None = 1.0,
    state: str = "normal",
    data: str = "ok",
) -> SnapshotPoint:
    return SnapshotPoint(
        at=H + minute * MIN,
        objective=0.99,
        window="30d",
        window_s=30 * 86400,
        sli=sli,
        remaining=remaining,
        good_events=good,
        total_events=total,
        burn_rates={"1h": burn_1h, "30d": 0.5},
        policy_state=state,
        data=data,
    )


def test_an_hour_rolls_up_to_its_min_max_first_and_last() -> None:
    points = [
        _point(30, sli=0.95, remaining=0.20, good=900, total=1000, burn_1h=6.0, state="freeze"),
        _point(0, sli=0.999, remaining=0.40, good=995, total=1000, burn_1h=1.0, state="reduced"),
        _point(59, sli=0.998, remaining=0.30, good=1990, total=2000, burn_1h=None, data="stale"),
    ]
    rollup = rollup_hour(points, hour_start=H)
    assert rollup.samples == 3
    assert rollup.sli == Extent(0.95, 0.999, 0.999, 0.998)
    assert rollup.remaining == Extent(0.20, 0.40, 0.40, 0.30)
    # bad = total − good: 5, 100, 10 in time order
    assert rollup.bad_events == Extent(5.0, 100.0, 5.0, 10.0)
    assert rollup.total_events == Extent(1000.0, 2000.0, 1000.0, 2000.0)
    assert rollup.burn_rates == {"1h": Extent(1.0, 6.0, 1.0, 6.0), "30d": Extent.of(0.5)}
    assert rollup.worst_data == "stale"
    assert rollup.worst_policy_state == "freeze"  # the state at the lowest budget, 0.20
    assert (rollup.objective, rollup.window, rollup.window_s) == (0.99, "30d", 2592000)


def test_an_hour_without_figures_rolls_up_to_none() -> None:
    points = [_point(1, sli=None, remaining=None, good=None, total=None, data="error")]
    rollup = rollup_hour(points, hour_start=H)
    assert rollup.sli is None
    assert rollup.remaining is None
    assert rollup.bad_events is None
    assert rollup.worst_policy_state == "unknown"
    assert rollup.worst_data == "error"


def test_a_rollup_refuses_what_is_not_its_hour() -> None:
    with pytest.raises(ValueError, match="at least one"):
        rollup_hour([], hour_start=H)
    with pytest.raises(ValueError, match="start of an hour"):
        rollup_hour([_point(0)], hour_start=H + MIN)
    with pytest.raises(ValueError, match="outside the hour"):
        rollup_hour([_point(60)], hour_start=H)


def test_merging_extents_keeps_the_ends_and_the_extremes() -> None:
    assert merge_extents([None, None]) is None
    merged = merge_extents([Extent(2, 5, 3, 4), None, Extent(1, 3, 2, 2.5)])
    assert merged == Extent(1, 5, 3, 2.5)


def test_horizons_fall_on_whole_hours() -> None:
    now = datetime(2026, 11, 3, 10, 42, 7, tzinfo=UTC)
    assert hour_floor(now) == datetime(2026, 11, 3, 10, tzinfo=UTC)
    # 2 days back is 2026-11-01 10:42:07: hours ending by 10:00 lose their raw snapshots
    assert raw_horizon(now, raw_s=2 * 86400) == datetime(2026, 11, 1, 10, tzinfo=UTC)
    assert rollup_horizon(now, hourly_s=396 * 86400) == datetime(2025, 10, 3, 10, tzinfo=UTC)


def test_hours_are_due_once_complete_and_not_rolled_up() -> None:
    times = [H + 5 * MIN, H + 50 * MIN, H + 65 * MIN, H + 130 * MIN]
    # at 12:04 the 11:00 hour ended 4 minutes ago: inside the 5-minute grace
    now = H + timedelta(hours=2, minutes=4)
    assert hours_due(times, rolled=[], now=now) == [H]
    assert hours_due(times, rolled=[], now=now + MIN) == [H, H + timedelta(hours=1)]
    assert hours_due(times, rolled=[H], now=now + MIN) == [H + timedelta(hours=1)]
    assert hours_due(times, rolled=[], now=now, grace_s=0) == [H, H + timedelta(hours=1)]


def test_downsampling_keeps_each_buckets_extremes_and_ends() -> None:
    # [0, 100) in 4 buckets of 25 s; the spike at t=30 stays in bucket 1's max
    points = [(t, v, v, v, v) for t, v in [(0, 1), (10, 3), (24.9, 2), (30, 9), (49, 4)]]
    points += [(80, 1, 7, 2, 5), (100, 99, 99, 99, 99), (-1, 99, 99, 99, 99)]
    buckets = downsample(points, start=0, end=100, width=4)
    assert buckets.t == [0, 25, 75]
    assert buckets.low == [1, 4, 1]
    assert buckets.high == [3, 9, 7]
    assert buckets.first == [1, 9, 2]
    assert buckets.last == [2, 4, 5]


def test_downsampling_refuses_an_empty_range_or_width() -> None:
    with pytest.raises(ValueError, match="start < end"):
        downsample([], start=5, end=5, width=10)
    with pytest.raises(ValueError, match="width"):
        downsample([], start=0, end=5, width=0)


@given(
    st.lists(
        st.tuples(
            st.floats(0, 999.999, allow_nan=False),
            st.floats(-1e6, 1e6, allow_nan=False),
        ),
        max_size=200,
    ),
    st.integers(1, 300),
)
def test_downsampled_extremes_are_each_buckets_true_extremes(
    raw: list[tuple[float, float]], width: int
) -> None:
    points = sorted(raw, key=lambda point: point[0])
    buckets = downsample(((t, v, v, v, v) for t, v in points), start=0.0, end=1000.0, width=width)
    expected: dict[int, list[float]] = {}
    for t, v in points:
        expected.setdefault(min(int(t * width // 1000.0), width - 1), []).append(v)
    assert len(buckets.t) == len(expected)
    for position, index in enumerate(sorted(expected)):
        assert buckets.t[position] == index * 1000.0 / width
        assert buckets.low[position] == min(expected[index])
        assert buckets.high[position] == max(expected[index])
        assert buckets.first[position] == expected[index][0]
        assert buckets.last[position] == expected[index][-1]


def test_bucket_runs_group_rows_by_bucket_and_skip_those_outside() -> None:
    # [0, 100) in 4 buckets of 25 s: rows 0-2 in bucket 0, 3-4 in 1, 5 (t=100) and 6 (t=-1)
    # outside, 7 in 3 after a row outside
    times = [0, 10, 24.9, 30, 49, 100, -1, 80]
    assert bucket_runs(times, start=0, end=100, width=4) == [
        BucketRun(0, 0, 3),
        BucketRun(1, 3, 5),
        BucketRun(3, 7, 8),
    ]
    assert bucket_runs([], start=0, end=1, width=1) == []
    assert bucket_runs([5.0], start=0, end=10, width=1) == [BucketRun(0, 0, 1)]
    with pytest.raises(ValueError, match="start < end"):
        bucket_runs([], start=5, end=5, width=10)
    with pytest.raises(ValueError, match="width"):
        bucket_runs([], start=0, end=5, width=0)


def test_downsampling_runs_skips_rows_without_the_figure() -> None:
    """The hand-checked case of `downsample` above, with rows lacking the figure (None)
    first, last and alone in a bucket: those buckets keep their present rows only, or go."""
    times = [0, 5, 10, 24.9, 30, 49, 60, 80, 90]
    values = [
        None,
        (1, 1, 1, 1),
        (3, 3, 3, 3),
        (2, 2, 2, 2),
        (9, 9, 9, 9),
        (4, 4, 4, 4),
        None,  # bucket 2 holds this row alone: no bucket
        (1, 7, 2, 5),
        None,
    ]
    runs = bucket_runs(times, start=0, end=100, width=4)
    buckets = downsample_runs(values, runs, start=0, end=100, width=4)
    assert buckets.t == [0, 25, 75]
    assert buckets.low == [1, 4, 1]
    assert buckets.high == [3, 9, 7]
    assert buckets.first == [1, 9, 2]
    assert buckets.last == [2, 4, 5]


@given(
    st.lists(
        st.tuples(
            st.floats(-10, 1009.999, allow_nan=False),
            st.one_of(
                st.none(),
                st.tuples(*(st.floats(-1e6, 1e6, allow_nan=False) for _ in range(4))),
            ),
        ),
        max_size=200,
    ),
    st.integers(1, 300),
)
def test_downsampling_runs_equals_downsampling_the_present_rows(
    raw: list[tuple[float, tuple[float, float, float, float] | None]], width: int
) -> None:
    rows = sorted(raw, key=lambda row: row[0])
    times = [t for t, _ in rows]
    values = [value for _, value in rows]
    runs = bucket_runs(times, start=0.0, end=1000.0, width=width)
    expected = downsample(
        ((t, *value) for t, value in rows if value is not None), start=0.0, end=1000.0, width=width
    )
    assert downsample_runs(values, runs, start=0.0, end=1000.0, width=width) == expected


def test_the_ideal_line_runs_from_all_to_none_over_the_window() -> None:
    start, end = H - timedelta(days=30), H
    assert ideal_budget_line(window_start=start, window_end=end) == ((start, 1.0), (end, 0.0))
    with pytest.raises(ValueError, match="end after"):
        ideal_budget_line(window_start=end, window_end=start)


def test_an_hour_burning_at_rate_720_spends_a_whole_30_day_budget() -> None:
    # 30 days are 720 hours: one hour at burn 720 spends all; at burn 1, 1/720
    assert budget_burned_in_hour(720.0, window_s=30 * 86400) == pytest.approx(1.0)
    assert budget_burned_in_hour(1.0, window_s=30 * 86400) == pytest.approx(1 / 720)
    assert budget_burned_in_hour(None, window_s=30 * 86400) is None
    assert budget_burned_in_hour(1.0, window_s=0) is None


def test_the_burndown_subtracts_each_hours_spend_from_the_window_start() -> None:
    hour = timedelta(hours=1)
    hours = [(H + hour, 0.25), (H - hour, 0.5), (H, 0.1), (H + 2 * hour, None)]
    points = budget_burndown(hours, window_start=H)
    assert [moment for moment, _ in points] == [H + hour, H + 2 * hour, H + 3 * hour]
    assert [value for _, value in points] == pytest.approx([0.9, 0.65, 0.65])


def test_each_day_sums_its_hours_spend() -> None:
    day1 = datetime(2026, 11, 1, tzinfo=UTC)
    day2 = day1 + timedelta(days=1)
    hours = [
        (day1 + timedelta(hours=3), 0.01),
        (day1 + timedelta(hours=23), 0.02),
        (day2 + timedelta(hours=1), None),
        (day2 + timedelta(hours=2), float("nan")),
        (day1 - timedelta(hours=1), 0.5),  # before the days asked for
    ]
    assert daily_budget_burned(hours, days=[day1, day2]) == [pytest.approx(0.03), None]


def test_a_day_closes_with_its_latest_hour_and_sums_its_spend() -> None:
    day = datetime(2026, 11, 1, tzinfo=UTC)
    hours = [  # out of order: the 22:00 hour is the close, not the last one listed
        HourClose(day + timedelta(hours=22), 0.998, 0.4, 1.5, 0.002),
        HourClose(day + timedelta(hours=3), 0.999, 0.6, 0.9, 0.001),
        HourClose(day + timedelta(hours=5), 0.997, 0.5, None, None),
    ]
    rolled = rollup_day(day, hours)
    assert rolled._replace(budget_burned=None) == DayRollup(
        day_start=day,
        hours=3,
        close_hour_start=day + timedelta(hours=22),
        sli=0.998,
        remaining=0.4,
        burn_1d=1.5,
        budget_burned=None,
    )
    assert rolled.budget_burned == pytest.approx(0.002 + 0.001)


def test_a_day_without_burn_rates_spent_nothing_known() -> None:
    day = datetime(2026, 11, 1, tzinfo=UTC)
    rolled = rollup_day(day, [HourClose(day, None, None, None, None)])
    assert (rolled.hours, rolled.close_hour_start, rolled.budget_burned) == (1, day, None)


def test_a_day_needs_hours_of_its_own() -> None:
    day = datetime(2026, 11, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="at least one hour"):
        rollup_day(day, [])
    with pytest.raises(ValueError, match="2026-11-02T00:00"):
        rollup_day(day, [HourClose(day + timedelta(days=1), 1.0, 1.0, 0.0, 0.0)])


def test_days_are_numbered_from_the_epoch() -> None:
    paris = timezone(timedelta(hours=1))
    assert day_number(datetime(1970, 1, 1, 23, 59, tzinfo=UTC)) == 0
    assert day_number(datetime(1970, 1, 2, 0, 30, tzinfo=paris)) == 0  # 23:30 UTC on day 0
    # 56 years of 365 days and 14 leap days to 2026-01-01, then 304 days to 1 November
    assert day_number(datetime(2026, 11, 1, tzinfo=UTC)) == 56 * 365 + 14 + 304
    assert day_of_number(56 * 365 + 14 + 304) == datetime(2026, 11, 1, tzinfo=UTC)


def test_the_day_floor_is_the_utc_midnight() -> None:
    paris = timezone(timedelta(hours=1))
    assert day_floor(datetime(2026, 11, 2, 0, 30, tzinfo=paris)) == datetime(
        2026, 11, 1, tzinfo=UTC
    )
