"""Capacity arithmetic against hand-computed numbers."""

from __future__ import annotations

import math
from typing import Any

import pytest

from srekit.core.capacity import (
    MONTH_S,
    Accuracy,
    Crossing,
    HpaMetric,
    SeriesError,
    crossing,
    forecast_accuracy,
    growth_per_month,
    hpa_desired_replicas,
    months_until,
    prepare_series,
    recommend,
    replicas_for,
    utilization,
)

NAN = float("nan")
INF = float("inf")


def test_month_is_mean_gregorian_month() -> None:
    assert MONTH_S == 2_629_746


@pytest.mark.parametrize(
    ("timestamps", "values", "kwargs", "grid", "expected", "filled", "resets", "dropped"),
    [
        # a short gap (120 s at a 60 s step) interpolated: 180 → (3 + 5) / 2
        ([0, 60, 120, 240], [1, 2, 3, 5], {}, [0, 60, 120, 180, 240], [1, 2, 3, 4, 5], 1, 0, 0),
        # NaN and inf dropped and counted; the hole left is filled
        ([0, 60, 120, INF], [1, NAN, 3, 4], {}, [0, 60, 120], [1, 2, 3], 1, 0, 2),
        # counter reset at 120: 10, +5, +3 (the new value), +5
        (
            [0, 60, 120, 180],
            [10, 15, 3, 8],
            {"counter": True},
            [0, 60, 120, 180],
            [10, 15, 18, 23],
            0,
            1,
            0,
        ),
        # a repeated timestamp keeps its last value
        ([0, 0, 60], [1, 2, 4], {}, [0, 60], [2, 4], 0, 0, 0),
        # off-grid samples: 60 → 5 + 8 × 10/80 = 6, 120 → 5 + 8 × 70/80 = 12
        ([0, 50, 130], [0, 5, 13], {}, [0, 60, 120], [0, 6, 12], 2, 0, 0),
    ],
)
def test_prepare_series(
    timestamps: list[float],
    values: list[float],
    kwargs: dict[str, Any],
    grid: list[float],
    expected: list[float],
    filled: int,
    resets: int,
    dropped: int,
) -> None:
    series = prepare_series(timestamps, values, step_s=60, max_gap_s=180, **kwargs)
    assert series.timestamps == tuple(grid)
    assert series.values == pytest.approx(expected)
    assert (series.filled, series.counter_resets, series.dropped_non_finite) == (
        filled,
        resets,
        dropped,
    )
    assert series.problem is None
    assert series.long_gaps == ()
    assert series.step_s == 60


def test_long_gap_refused_with_its_size() -> None:
    with pytest.raises(SeriesError, match="gap of 540 s from 60 to 600; expected at most 120 s"):
        prepare_series([0, 60, 600], [1, 1, 2], step_s=60, max_gap_s=120)


def test_long_gap_reported_and_its_points_left_out() -> None:
    series = prepare_series(
        [0, 60, 600, 660], [1, 2, 3, 4], step_s=60, max_gap_s=120, long_gaps="report"
    )
    assert series.timestamps == (0, 60, 600, 660)
    assert series.values == (1, 2, 3, 4)
    assert series.long_gaps == ((60, 600),)


def test_constant_series_reported() -> None:
    series = prepare_series([0, 60, 120], [7, 7, 7], step_s=60, max_gap_s=60)
    assert series.problem == "constant"


@pytest.mark.parametrize(
    ("timestamps", "values", "kwargs", "message"),
    [
        ([0, 60], [1], {}, "2 timestamps but 1 values"),
        ([0, 60], [1, 2], {"step_s": 0}, "must be positive"),
        ([0, 60], [1, NAN], {}, "1 usable points \\(1 NaN/inf dropped\\); expected at least 2"),
        ([], [], {"counter": True}, "0 usable points"),
        (
            [0, 30, 600],
            [1, 2, 3],
            {"long_gaps": "report", "min_points": 3, "max_gap_s": 100},
            "2 points on the grid; expected at least 3",
        ),
    ],
)
def test_prepare_series_refuses(
    timestamps: list[float], values: list[float], kwargs: dict[str, object], message: str
) -> None:
    arguments: dict[str, object] = {"step_s": 60, "max_gap_s": 180, **kwargs}
    with pytest.raises(SeriesError, match=message):
        prepare_series(timestamps, values, **arguments)  # type: ignore[arg-type]


def test_utilization() -> None:
    result = utilization([2, 8, 4], limit=10)
    assert (result.current, result.peak) == (0.4, 0.8)


@pytest.mark.parametrize(("values", "limit"), [([], 1.0), ([1.0], 0.0), ([1.0], NAN), ([1.0], -2)])
def test_utilization_refuses(values: list[float], limit: float) -> None:
    with pytest.raises(SeriesError):
        utilization(values, limit=limit)


def test_growth_per_month() -> None:
    growth = growth_per_month([0, MONTH_S, 2 * MONTH_S], [10, 12, 14])
    assert growth.per_month == pytest.approx(2.0)
    assert growth.ratio_per_month == pytest.approx(2 / 12)
    # (0,1), (1,2), (2,2), (3,5) months: Σ(t−1.5)(y−2.5) = 6, Σ(t−1.5)² = 5 → 1.2 per month
    noisy = growth_per_month([k * MONTH_S for k in range(4)], [1, 2, 2, 5])
    assert noisy.per_month == pytest.approx(1.2)


def test_growth_zero_mean_has_no_ratio() -> None:
    growth = growth_per_month([0, MONTH_S], [-1, 1])
    assert growth.per_month == pytest.approx(2.0)
    assert growth.ratio_per_month is None


@pytest.mark.parametrize(("timestamps", "values"), [([0], [1]), ([5, 5], [1, 2]), ([0, 1], [1])])
def test_growth_refuses(timestamps: list[float], values: list[float]) -> None:
    with pytest.raises(SeriesError):
        growth_per_month(timestamps, values)


@pytest.mark.parametrize(
    ("level", "current", "expected"),
    [
        (8, 4, Crossing(state="crosses", at=250)),  # 7 at 200, 9 at 300: halfway
        (7, 4, Crossing(state="crosses", at=200)),
        (5, 4, Crossing(state="crosses", at=100)),  # first step already there
        (10, 4, Crossing(state="never", at=None)),
        (8, 9, Crossing(state="already_above", at=None)),
    ],
)
def test_crossing(level: float, current: float, expected: Crossing) -> None:
    assert crossing([100, 200, 300], [5, 7, 9], level=level, current=current) == expected


def test_crossing_refuses_mismatched_lengths() -> None:
    with pytest.raises(SeriesError, match="2 timestamps but 1 forecast values"):
        crossing([1, 2], [1], level=1, current=0)


@pytest.mark.parametrize(
    ("crossed", "expected"),
    [
        (Crossing(state="already_above", at=None), 0.0),
        (Crossing(state="never", at=None), None),
        (Crossing(state="crosses", at=1000 + 1.5 * MONTH_S), 1.5),
        (Crossing(state="crosses", at=10), 0.0),  # crossed before now
    ],
)
def test_months_until(crossed: Crossing, expected: float | None) -> None:
    result = months_until(crossed, now=1000)
    assert result == (None if expected is None else pytest.approx(expected))


@pytest.mark.parametrize(
    ("peak", "per_pod", "target", "expected"),
    [(140, 50, 0.7, 4), (141, 50, 0.7, 5), (0, 50, 0.7, 1), (95, 20, 0.7, 7), (100, 10, 1, 10)],
)
def test_replicas_for(peak: float, per_pod: float, target: float, expected: int) -> None:
    assert replicas_for(peak, per_pod_capacity=per_pod, target_utilization=target) == expected


@pytest.mark.parametrize(("per_pod", "target"), [(0, 0.7), (50, 0), (50, 1.2)])
def test_replicas_for_refuses(per_pod: float, target: float) -> None:
    with pytest.raises(SeriesError):
        replicas_for(10, per_pod_capacity=per_pod, target_utilization=target)


def test_recommend_headroom_crossed_in_horizon() -> None:
    plan = recommend(
        [0, 100, 200],
        median=[50, 60, 70],
        upper=[55, 75, 95],
        current=50,
        limit=100,
        headroom=0.7,
        now=0,
        per_pod_capacity=20,
        target_utilization=0.7,
        max_replicas=5,
    )
    assert plan.limit_median == Crossing(state="never", at=None)
    assert plan.limit_upper == Crossing(state="never", at=None)
    # 55 → 75 between 0 and 100 reaches 70 at 15/20 of the step
    assert plan.headroom_upper == Crossing(state="crosses", at=75)
    assert plan.headroom_median == Crossing(state="crosses", at=200)
    assert plan.scale_by == 75
    assert plan.months_until_capacity is None
    assert plan.forecast_peak_upper == 95
    assert plan.scale_to == pytest.approx(95 / 0.7)
    assert plan.replicas == 7  # 95 / 14 = 6.79
    assert plan.above_max_replicas is True


def test_recommend_already_above_headroom() -> None:
    plan = recommend(
        [MONTH_S, 2 * MONTH_S],
        median=[85, 95],
        upper=[90, 110],
        current=80,
        limit=100,
        headroom=0.7,
        now=0,
    )
    assert plan.headroom_upper.state == "already_above"
    assert plan.scale_by == 0
    assert plan.limit_upper.at == pytest.approx(1.5 * MONTH_S)
    assert plan.months_until_capacity == pytest.approx(1.5)
    assert plan.replicas is None
    assert plan.above_max_replicas is False


@pytest.mark.parametrize(
    ("upper", "limit", "headroom", "message"),
    [
        ([], 100, 0.7, "empty forecast"),
        ([1], -1, 0.7, "limit -1"),
        ([1], math.inf, 0.7, "limit inf"),
        ([1], 100, 0, "headroom 0"),
        ([1], 100, 1.5, "headroom 1.5"),
    ],
)
def test_recommend_refuses(upper: list[float], limit: float, headroom: float, message: str) -> None:
    with pytest.raises(SeriesError, match=message):
        recommend(
            [0] * len(upper),
            median=upper,
            upper=upper,
            current=0,
            limit=limit,
            headroom=headroom,
            now=0,
        )


def test_hpa_takes_max_over_metrics_with_tolerance() -> None:
    decision = hpa_desired_replicas(
        4,
        metrics=[
            HpaMetric("cpu", current=90, target=70),  # 1.286 × 4 = 5.14 → 6
            HpaMetric("memory", current=82, target=80),  # within 10 %: keep 4
            HpaMetric("rps", current=40, target=50),  # 0.8 × 4 = 3.2 → 4
        ],
        min_replicas=3,
        max_replicas=10,
    )
    assert decision.proposals == (("cpu", 6), ("memory", 4), ("rps", 4))
    assert decision.desired == 6
    assert decision.above_max is False


@pytest.mark.parametrize(
    ("current", "desired", "above_max"),
    [(200, 10, True), (10, 3, False), (76, 4, False), (78, 5, False)],
)
def test_hpa_clamps_and_tolerates(current: float, desired: int, above_max: bool) -> None:
    # 200/70 × 4 = 11.4 → 12 > 10; 10/70 × 4 → 1 < 3; 76/70 = 1.086 within; 78/70 = 1.114 → 5
    decision = hpa_desired_replicas(
        4, metrics=[HpaMetric("cpu", current=current, target=70)], min_replicas=3, max_replicas=10
    )
    assert (decision.desired, decision.above_max) == (desired, above_max)


@pytest.mark.parametrize(
    ("metrics", "low", "high"),
    [([], 1, 2), ([HpaMetric("cpu", 1, 1)], 3, 2), ([HpaMetric("cpu", 1, 0)], 1, 2)],
)
def test_hpa_refuses(metrics: list[HpaMetric], low: int, high: int) -> None:
    with pytest.raises(SeriesError):
        hpa_desired_replicas(1, metrics=metrics, min_replicas=low, max_replicas=high)


def test_forecast_accuracy_interpolates_the_median_at_observed_times() -> None:
    # median 10, 20, 30 at t = 0, 10, 20; observed at 5 (median 15), 10 (20), 20 (30),
    # and outside the span at -1 and 21 (ignored), NaN ignored
    accuracy = forecast_accuracy(
        [0, 10, 20],
        [10, 20, 30],
        observed_at=[21, 5, 10, -1, 20, 15],
        observed=[99, 12, 25, 99, 30, math.nan],
    )
    # errors F − A: 15 − 12 = 3, 20 − 25 = −5, 30 − 30 = 0
    assert accuracy == Accuracy(
        points=3,
        mae=pytest.approx(8 / 3),  # type: ignore[arg-type]
        mape=pytest.approx((25 + 20 + 0) / 3),  # type: ignore[arg-type]
        bias=pytest.approx(-2 / 3),  # type: ignore[arg-type]
    )


def test_forecast_accuracy_without_overlap_or_nonzero_actuals() -> None:
    assert forecast_accuracy([], [], observed_at=[1], observed=[1]) is None
    assert forecast_accuracy([0, 1], [1, 1], observed_at=[5], observed=[1]) is None
    single = forecast_accuracy([0], [2], observed_at=[0], observed=[0])
    assert single == Accuracy(points=1, mae=2, mape=None, bias=2)
    with pytest.raises(SeriesError):
        forecast_accuracy([0, 1], [1], observed_at=[], observed=[])
