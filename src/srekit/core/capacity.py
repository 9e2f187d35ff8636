"""Capacity planning arithmetic: series preparation, utilization, growth, crossings, replicas.

Plain values in, frozen dataclasses out. Timestamps are Unix seconds; a forecast path is a
sequence of values at given timestamps (median, or an interval bound) computed elsewhere.
A month is the mean Gregorian month, 365.2425 / 12 days = 2,629,746 s.

Kubernetes HPA rule (pkg/controller/podautoscaler): for each metric the usage ratio is
current / target; within the tolerance (|1 − ratio| ≤ 0.1) the replica count is kept, otherwise
desired = ceil(ratio × current_replicas); the HPA takes the maximum over metrics, clamped to
[min_replicas, max_replicas]. Every current pod is taken as ready and reporting: Kubernetes'
extra handling of unready or missing pods (counted as 0 % or 100 % to damp a change) is not
modelled, nor its scale-up rate limit; `behavior` policies apply in the cluster.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "MONTH_S",
    "Accuracy",
    "Crossing",
    "Growth",
    "HpaDecision",
    "HpaMetric",
    "PreparedSeries",
    "Recommendation",
    "SeriesError",
    "Utilization",
    "crossing",
    "forecast_accuracy",
    "growth_per_month",
    "hpa_desired_replicas",
    "months_until",
    "prepare_series",
    "recommend",
    "replicas_for",
    "utilization",
]

MONTH_S = 365.2425 / 12 * 86_400
HPA_TOLERANCE = 0.1


class SeriesError(ValueError):
    """A series that cannot be planned on: the message says why and what was expected."""


@dataclass(frozen=True)
class PreparedSeries:
    """A series on a regular step.

    `dropped_non_finite` counts NaN/±inf samples removed; `filled` counts grid points that fell
    in a short gap (more than one step between samples) and were interpolated; `counter_resets`
    counts decreases of a counter; `long_gaps` lists (start, end) of gaps wider than allowed,
    whose grid points are left out when long gaps are reported rather than refused.
    `problem` is "constant" when every value is equal (no trend can be fitted), else None.
    """

    timestamps: tuple[float, ...]
    values: tuple[float, ...]
    step_s: float
    dropped_non_finite: int
    filled: int
    counter_resets: int
    long_gaps: tuple[tuple[float, float], ...]
    problem: Literal["constant"] | None


def prepare_series(
    timestamps: Sequence[float],
    values: Sequence[float],
    *,
    step_s: float,
    max_gap_s: float,
    counter: bool = False,
    min_points: int = 2,
    long_gaps: Literal["refuse", "report"] = "refuse",
) -> PreparedSeries:
    """Regularise samples onto a grid starting at the first finite sample, every `step_s`.

    Each grid point takes the value linearly interpolated between the samples around it; if
    those samples are more than `max_gap_s` apart the gap is long: refused (SeriesError) or
    reported and its grid points left out. A counter is reset-corrected first as Prometheus'
    `increase` does: a decrease means a reset, and the new value counts as the increase since
    it; the result is first value + the sum of increases. Raises SeriesError when lengths
    differ, the step is not positive, or fewer than `min_points` points remain.
    """
    if len(timestamps) != len(values):
        raise SeriesError(f"{len(timestamps)} timestamps but {len(values)} values")
    if not step_s > 0 or not max_gap_s > 0:
        raise SeriesError("step and maximum gap must be positive seconds")
    ordered, dropped = _finite_samples(timestamps, values)
    resets = 0
    if counter:
        ordered, resets = _reset_corrected(ordered)
    if len(ordered) < min_points:
        raise SeriesError(
            f"{len(ordered)} usable points ({dropped} NaN/inf dropped); "
            f"expected at least {min_points}"
        )
    grid_ts, grid_values, gaps, filled = _regularise(
        ordered, step_s=step_s, max_gap_s=max_gap_s, refuse_long_gaps=long_gaps == "refuse"
    )
    if len(grid_ts) < min_points:
        raise SeriesError(f"{len(grid_ts)} points on the grid; expected at least {min_points}")
    constant = all(v == grid_values[0] for v in grid_values)
    return PreparedSeries(
        timestamps=tuple(grid_ts),
        values=tuple(grid_values),
        step_s=step_s,
        dropped_non_finite=dropped,
        filled=filled,
        counter_resets=resets,
        long_gaps=tuple(gaps),
        problem="constant" if constant else None,
    )


def _finite_samples(
    timestamps: Sequence[float], values: Sequence[float]
) -> tuple[list[tuple[float, float]], int]:
    """Samples sorted by time without NaN/±inf; a repeated timestamp keeps its last value."""
    samples: dict[float, float] = {}
    dropped = 0
    for ts, value in zip(timestamps, values, strict=True):
        if math.isfinite(ts) and math.isfinite(value):
            samples[ts] = value
        else:
            dropped += 1
    return sorted(samples.items()), dropped


def _reset_corrected(
    ordered: list[tuple[float, float]],
) -> tuple[list[tuple[float, float]], int]:
    """Prometheus' counter correction: after a decrease the new value is the increase."""
    if not ordered:
        return ordered, 0
    corrected = [ordered[0]]
    total = ordered[0][1]
    resets = 0
    for (_, previous), (ts, value) in itertools.pairwise(ordered):
        if value < previous:
            resets += 1
            total += value
        else:
            total += value - previous
        corrected.append((ts, total))
    return corrected, resets


def _regularise(
    ordered: list[tuple[float, float]], *, step_s: float, max_gap_s: float, refuse_long_gaps: bool
) -> tuple[list[float], list[float], list[tuple[float, float]], int]:
    """Grid timestamps and values, the long gaps met, and how many points filled short gaps."""
    grid_ts: list[float] = []
    grid_values: list[float] = []
    gaps: list[tuple[float, float]] = []
    filled = 0
    start, end = ordered[0][0], ordered[-1][0]
    index = 0
    for k in range(int((end - start) // step_s) + 1):
        t = start + k * step_s
        while index + 1 < len(ordered) and ordered[index + 1][0] <= t:
            index += 1
        left_t, left_v = ordered[index]
        if left_t == t:
            grid_ts.append(t)
            grid_values.append(left_v)
            continue
        right_t, right_v = ordered[index + 1]
        if right_t - left_t > max_gap_s:
            if refuse_long_gaps:
                raise SeriesError(
                    f"gap of {right_t - left_t:g} s from {left_t:g} to {right_t:g}; "
                    f"expected at most {max_gap_s:g} s between samples"
                )
            if not gaps or gaps[-1] != (left_t, right_t):
                gaps.append((left_t, right_t))
            continue
        if right_t - left_t > step_s:
            filled += 1
        grid_ts.append(t)
        grid_values.append(left_v + (right_v - left_v) * (t - left_t) / (right_t - left_t))
    return grid_ts, grid_values, gaps, filled


@dataclass(frozen=True)
class Utilization:
    """current = last value / limit; peak = max value / limit (fractions, 1 = at the limit)."""

    current: float
    peak: float


def utilization(values: Sequence[float], *, limit: float) -> Utilization:
    """Current and peak utilization of a non-empty series against a positive limit."""
    if not values:
        raise SeriesError("no values; expected at least one")
    if not (math.isfinite(limit) and limit > 0):
        raise SeriesError(f"limit {limit!r}; expected a positive finite number")
    return Utilization(current=values[-1] / limit, peak=max(values) / limit)


@dataclass(frozen=True)
class Growth:
    """Least-squares slope × MONTH_S (`per_month`, in the series' unit), and that divided by
    the series mean (`ratio_per_month`; None when the mean is 0)."""

    per_month: float
    ratio_per_month: float | None


def growth_per_month(timestamps: Sequence[float], values: Sequence[float]) -> Growth:
    """Ordinary least squares: slope = Σ(t − t̄)(y − ȳ) / Σ(t − t̄)², per second, × MONTH_S."""
    if len(timestamps) != len(values) or len(values) < 2:
        raise SeriesError("growth needs at least two points with one timestamp each")
    mean_t = math.fsum(timestamps) / len(timestamps)
    mean_y = math.fsum(values) / len(values)
    spread = math.fsum((t - mean_t) ** 2 for t in timestamps)
    if spread == 0:
        raise SeriesError("every timestamp is equal; expected points spread in time")
    slope = (
        math.fsum((t - mean_t) * (y - mean_y) for t, y in zip(timestamps, values, strict=True))
        / spread
    )
    per_month = slope * MONTH_S
    return Growth(per_month=per_month, ratio_per_month=per_month / mean_y if mean_y else None)


@dataclass(frozen=True)
class Crossing:
    """When a path first reaches a level.

    state "already_above": current usage is over the level (at is None); "crosses": `at` is
    the first instant the path reaches the level, linearly interpolated between steps;
    "never": not within the horizon (at is None).
    """

    state: Literal["already_above", "crosses", "never"]
    at: float | None


def crossing(
    timestamps: Sequence[float], path: Sequence[float], *, level: float, current: float
) -> Crossing:
    """First instant `path` ≥ `level`; "already_above" when `current` > `level`.

    A first step already at the level crosses at its own timestamp (the forecast's origin is
    not known here).
    """
    if len(timestamps) != len(path):
        raise SeriesError(f"{len(timestamps)} timestamps but {len(path)} forecast values")
    if current > level:
        return Crossing(state="already_above", at=None)
    previous_t, previous_v = None, current
    for t, v in zip(timestamps, path, strict=True):
        if v >= level:
            if previous_t is None:
                return Crossing(state="crosses", at=t)
            fraction = (level - previous_v) / (v - previous_v)
            return Crossing(state="crosses", at=previous_t + fraction * (t - previous_t))
        previous_t, previous_v = t, v
    return Crossing(state="never", at=None)


def months_until(crossed: Crossing, *, now: float) -> float | None:
    """(at − now) / MONTH_S; 0 when already above; None when never crossed in the horizon."""
    if crossed.state == "already_above":
        return 0.0
    if crossed.at is None:
        return None
    return max(0.0, (crossed.at - now) / MONTH_S)


def replicas_for(
    forecast_peak: float, *, per_pod_capacity: float, target_utilization: float
) -> int:
    """ceil(forecast_peak / (per_pod_capacity × target_utilization)), at least 1.

    The quotient is rounded to 9 decimals first so 140 / (50 × 0.7) is 4, not 5 from float noise.
    """
    if not (per_pod_capacity > 0 and 0 < target_utilization <= 1):
        raise SeriesError("per-pod capacity must be > 0 and target utilization in (0, 1]")
    quotient = forecast_peak / (per_pod_capacity * target_utilization)
    return max(1, math.ceil(round(quotient, 9)))


@dataclass(frozen=True)
class Recommendation:
    """The plan for one resource.

    `scale_by` is when the upper bound crosses the headroom target (`now` when usage is
    already above it; None when it never does in the horizon: no action needed).
    `scale_to` is the capacity keeping the upper forecast peak at the headroom target:
    upper peak / headroom. `replicas` is set when a per-pod capacity is known.
    """

    limit_median: Crossing
    limit_upper: Crossing
    headroom_median: Crossing
    headroom_upper: Crossing
    months_until_capacity: float | None
    scale_by: float | None
    scale_to: float
    forecast_peak_upper: float
    replicas: int | None
    above_max_replicas: bool


def recommend(
    timestamps: Sequence[float],
    *,
    median: Sequence[float],
    upper: Sequence[float],
    current: float,
    limit: float,
    headroom: float,
    now: float,
    per_pod_capacity: float | None = None,
    target_utilization: float = 1.0,
    max_replicas: int | None = None,
) -> Recommendation:
    """Crossings of the limit and of headroom × limit, at the median and the upper bound.

    Months until capacity are counted to the limit crossing at the upper bound.
    """
    if not upper:
        raise SeriesError("empty forecast; expected at least one step")
    if not (math.isfinite(limit) and limit > 0):
        raise SeriesError(f"limit {limit!r}; expected a positive finite number")
    if not 0 < headroom <= 1:
        raise SeriesError(f"headroom {headroom!r}; expected a fraction in (0, 1]")
    target = headroom * limit
    limit_upper = crossing(timestamps, upper, level=limit, current=current)
    headroom_upper = crossing(timestamps, upper, level=target, current=current)
    if headroom_upper.state == "already_above":
        scale_by: float | None = now
    else:
        scale_by = headroom_upper.at
    peak = max(*upper, current)
    replicas = (
        replicas_for(peak, per_pod_capacity=per_pod_capacity, target_utilization=target_utilization)
        if per_pod_capacity is not None
        else None
    )
    return Recommendation(
        limit_median=crossing(timestamps, median, level=limit, current=current),
        limit_upper=limit_upper,
        headroom_median=crossing(timestamps, median, level=target, current=current),
        headroom_upper=headroom_upper,
        months_until_capacity=months_until(limit_upper, now=now),
        scale_by=scale_by,
        scale_to=peak / headroom,
        forecast_peak_upper=peak,
        replicas=replicas,
        above_max_replicas=(
            replicas is not None and max_replicas is not None and replicas > max_replicas
        ),
    )


@dataclass(frozen=True)
class HpaMetric:
    """One HPA metric: current value and target in the same unit (utilization %, rps per pod)."""

    name: str
    current: float
    target: float


@dataclass(frozen=True)
class HpaDecision:
    """`proposals` per metric before clamping; `desired` after max and clamp; `above_max` when
    the unclamped maximum exceeds max_replicas."""

    proposals: tuple[tuple[str, int], ...]
    desired: int
    above_max: bool


def hpa_desired_replicas(
    current_replicas: int,
    *,
    metrics: Sequence[HpaMetric],
    min_replicas: int,
    max_replicas: int,
    tolerance: float = HPA_TOLERANCE,
) -> HpaDecision:
    """Kubernetes' rule: per metric keep current within tolerance, else ceil(ratio × current)."""
    if not metrics:
        raise SeriesError("no HPA metric; expected at least one")
    if not 0 < min_replicas <= max_replicas:
        raise SeriesError("expected 0 < min_replicas <= max_replicas")
    proposals: list[tuple[str, int]] = []
    for metric in metrics:
        if not metric.target > 0:
            raise SeriesError(f"HPA metric {metric.name!r}: target must be > 0")
        ratio = metric.current / metric.target
        if abs(1.0 - ratio) <= tolerance:
            proposals.append((metric.name, current_replicas))
        else:
            proposals.append((metric.name, math.ceil(ratio * current_replicas)))
    wanted = max(p for _, p in proposals)
    return HpaDecision(
        proposals=tuple(proposals),
        desired=min(max(wanted, min_replicas), max_replicas),
        above_max=wanted > max_replicas,
    )


@dataclass(frozen=True)
class Accuracy:
    """How an earlier forecast's median did against what was observed since.

    `points` observed samples fell within the forecast's span; `mae` is mean |F − A| in the
    series' unit; `mape` mean 100·|F − A|/|A| over the samples with A ≠ 0 (None if none);
    `bias` mean (F − A): positive when the forecast was too high.
    """

    points: int
    mae: float
    mape: float | None
    bias: float


def forecast_accuracy(
    forecast_at: Sequence[float],
    median: Sequence[float],
    *,
    observed_at: Sequence[float],
    observed: Sequence[float],
) -> Accuracy | None:
    """Compare each observed sample inside [first, last] forecast instant with the median
    linearly interpolated at its time; None when no sample falls there.
    """
    if len(forecast_at) != len(median) or len(observed_at) != len(observed):
        raise SeriesError("expected one value per timestamp")
    if not forecast_at:
        return None
    pairs: list[tuple[float, float]] = []
    index = 0
    for t, actual in sorted(zip(observed_at, observed, strict=True)):
        if not (forecast_at[0] <= t <= forecast_at[-1] and math.isfinite(actual)):
            continue
        while index + 1 < len(forecast_at) and forecast_at[index + 1] < t:
            index += 1
        left_t, left_v = forecast_at[index], median[index]
        if t == left_t or index + 1 == len(forecast_at):
            predicted = left_v
        else:
            right_t, right_v = forecast_at[index + 1], median[index + 1]
            predicted = left_v + (right_v - left_v) * (t - left_t) / (right_t - left_t)
        pairs.append((predicted, actual))
    if not pairs:
        return None
    errors = [f - a for f, a in pairs]
    relative = [100 * abs(f - a) / abs(a) for f, a in pairs if a != 0]
    return Accuracy(
        points=len(pairs),
        mae=math.fsum(abs(e) for e in errors) / len(errors),
        mape=math.fsum(relative) / len(relative) if relative else None,
        bias=math.fsum(errors) / len(errors),
    )
