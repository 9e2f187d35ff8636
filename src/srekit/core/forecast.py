"""Point forecasts with prediction intervals, chosen by a rolling-origin backtest.

Pure numerics (numpy, no I/O). Every model works on an array shaped (series, time) so a
thousand series cost one pass: recursions loop over time only.

Models (h = steps ahead, m = season length in steps, y_1..y_T the history):

- ``naive``: ŷ_{T+h} = y_T.
- ``seasonal_naive``: ŷ_{T+h} = y_{T+h−m(⌊(h−1)/m⌋+1)} (the same phase one season back).
- ``drift``: ŷ_{T+h} = y_T + h·(y_T − y_1)/(T − 1).
- ``linear_trend``: least-squares line a + b·t on t = 0..T−1, extended.
- ``seasonal_trend``: the line plus the mean, per phase (t mod m), of the detrended series.
- ``holt_winters`` / ``damped_holt_winters`` (with ``(m=…)``): ETS(A,A,A) and ETS(A,Ad,A) in
  error-correction form (Hyndman & Athanasopoulos, FPP ch. 8): with e_t = y_t − ŷ_t,
  ℓ_t = ℓ_{t−1} + φb_{t−1} + αe_t, b_t = φb_{t−1} + βe_t, s_t = s_{t−m} + γe_t.
  α, β, γ, φ come from a grid: the point with the least in-sample squared one-step error.
  Initial states from the first two seasons. Intervals are analytic (class-1 variance):
  σ_h² = σ²(1 + Σ_{j=1}^{h−1} c_j²), c_j = α + βφ(1−φ^j)/(1−φ) (β·j when φ = 1) + γ·[m | j],
  σ² the mean squared one-step error over the fit window.

Seasonal models need two full seasons before the earliest backtest origin; with fewer points
they are skipped (the result says why). The weekly season (m = 168 at hourly steps) is a
candidate only when the caller asks for it and the history allows it.

Backtest: origins o_k = T − k·H for k = 1..K (H = backtest horizon = min(horizon, ⌊(T−2)/(K+1)⌋)),
each fitting on y_1..y_{o_k} only and scoring the next H points. Scores, per candidate:

- MASE = mean|F − A| / (mean |y_t − y_{t−m}| over the fit window), the in-sample
  seasonal-naive MAE (lag 1 when the fit window is no longer than a season); averaged over
  origins. A scale of 0 (flat fit window) gives 0 for exact forecasts and ∞ otherwise.
- MAPE = mean 100·|F − A|/|A| over the points where A ≠ 0 (zeros are skipped; None if all are).
- sMAPE = mean 200·|F − A|/(|A| + |F|), in percent, a point with A = F = 0 counting 0.

The candidate with the lowest mean MASE wins (ties: the earlier in the list above). Intervals at
80 % and 95 % are analytic for the Holt-Winters models, otherwise split-conformal: the
⌈(n+1)·level⌉-th smallest of the n pooled absolute backtest errors of that model (the largest
when n is too small). Measured coverage is the share of backtest actuals inside the interval:
analytic intervals built at each origin; conformal ones from the other origins' errors only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "CandidateScore",
    "Forecast",
    "PredictionInterval",
    "SkippedModel",
    "forecast_many",
    "forecast_series",
    "initial_states",
    "smooth",
]

Array = np.ndarray[Any, np.dtype[np.float64]]

MIN_POINTS = 5
LEVELS = (0.8, 0.95)
_ALPHAS = (0.05, 0.2, 0.5, 0.8)
_BETAS = (0.0, 0.005, 0.05)
_GAMMAS = (0.0, 0.05, 0.2)
_DAMPED_PHIS = (0.9, 0.98)


@dataclass(frozen=True)
class PredictionInterval:
    """Bounds per horizon step at `level`; `backtest_coverage` None when not measurable."""

    level: float
    lower: tuple[float, ...]
    upper: tuple[float, ...]
    method: str  # "analytic" or "conformal"
    backtest_coverage: float | None


@dataclass(frozen=True)
class CandidateScore:
    """Backtest errors of one candidate: MASE (ratio), MAPE and sMAPE in percent."""

    model: str
    mase: float
    mape: float | None
    smape: float | None


@dataclass(frozen=True)
class SkippedModel:
    model: str
    reason: str


@dataclass(frozen=True)
class Forecast:
    """The selected model's forecast for one series, with what the selection saw.

    `growth_per_step` is the forecast's slope per step: the difference between the means of
    its last and first season-long windows over their distance (seasonality cancels), or
    (last − first)/(h − 1) when the horizon is no longer than a season; None when h = 1.
    """

    model: str
    point: tuple[float, ...]
    intervals: tuple[PredictionInterval, ...]
    scores: tuple[CandidateScore, ...]
    skipped: tuple[SkippedModel, ...]
    backtest_origins: tuple[int, ...]
    backtest_horizon: int
    growth_per_step: float | None


@dataclass(frozen=True)
class _Fit:
    """A candidate fitted at one cut: point (n, h) and, when analytic, the σ_h (n, h)."""

    point: Array
    sigma: Array | None


def forecast_series(
    values: Sequence[float],
    *,
    horizon: int,
    season: int = 24,
    weekly_season: int | None = None,
    origins: int = 3,
) -> Forecast:
    """Forecast one series; see `forecast_many`."""
    return forecast_many(
        [values], horizon=horizon, season=season, weekly_season=weekly_season, origins=origins
    )[0]


def forecast_many(
    series: Sequence[Sequence[float]],
    *,
    horizon: int,
    season: int = 24,
    weekly_season: int | None = None,
    origins: int = 3,
) -> tuple[Forecast, ...]:
    """Backtest every candidate on every series (equal lengths) and forecast `horizon` steps.

    Raises ValueError naming what was expected for: no series, unequal lengths, fewer than
    `MIN_POINTS` points, a non-finite value, horizon/season/origins below 1.
    """
    data = _checked(series, horizon=horizon, season=season, origins=origins)
    length = data.shape[1]
    backtest_horizon = min(horizon, max(1, (length - 2) // (origins + 1)))
    count = min(origins, (length - 2) // backtest_horizon)
    cuts = tuple(length - k * backtest_horizon for k in range(count, 0, -1))
    seasons = [season] + ([weekly_season] if weekly_season else [])
    names, skipped = _candidates(seasons, earliest=cuts[0])
    fits = _fit_all(data, names, cuts=(*cuts, length), horizon=horizon, season=season)
    return _select(
        data,
        names,
        fits,
        cuts=cuts,
        horizon=horizon,
        backtest_horizon=backtest_horizon,
        season=season,
        skipped=skipped,
    )


def _checked(
    series: Sequence[Sequence[float]], *, horizon: int, season: int, origins: int
) -> Array:
    if horizon < 1 or season < 1 or origins < 1:
        raise ValueError(
            f"horizon, season and origins must be at least 1, got {horizon}, {season}, {origins}"
        )
    if not series:
        raise ValueError("expected at least one series, got none")
    lengths = {len(values) for values in series}
    if len(lengths) > 1:
        raise ValueError(f"expected series of one length, got lengths {sorted(lengths)}")
    length = lengths.pop()
    if length < MIN_POINTS:
        raise ValueError(f"expected at least {MIN_POINTS} points per series, got {length}")
    data = np.asarray(series, dtype=np.float64)
    bad = np.argwhere(~np.isfinite(data))
    if bad.size:
        row, column = (int(x) for x in bad[0])
        raise ValueError(
            f"series {row} point {column} is {data[row, column]}: expected finite numbers "
            "(fill or drop gaps before forecasting)"
        )
    return data


def _candidates(seasons: list[int], *, earliest: int) -> tuple[list[str], list[SkippedModel]]:
    names = ["naive", "drift", "linear_trend"]
    skipped = []
    for m in seasons:
        seasonal = ["seasonal_naive", "seasonal_trend"] if m == seasons[0] else []
        seasonal += [f"holt_winters(m={m})", f"damped_holt_winters(m={m})"]
        if earliest >= 2 * m:
            names += seasonal
        else:
            why = (
                f"needs two seasons ({2 * m} points) before the earliest backtest origin, "
                f"has {earliest}"
            )
            skipped += [SkippedModel(name, why) for name in seasonal]
    order = ["naive", "seasonal_naive", "drift", "linear_trend", "seasonal_trend"]
    names.sort(key=lambda name: order.index(name) if name in order else len(order))
    return names, skipped


def _fit_all(
    data: Array, names: list[str], *, cuts: tuple[int, ...], horizon: int, season: int
) -> dict[str, list[_Fit]]:
    fits: dict[str, list[_Fit]] = {}
    for name in names:
        if "holt_winters" in name:
            m = int(name.split("=")[1].rstrip(")"))
            fits[name] = _holt_winters_at_cuts(
                data, season=m, cuts=cuts, horizon=horizon, damped=name.startswith("damped")
            )
        else:
            fits[name] = [_Fit(_SIMPLE[name](data[:, :cut], horizon, season), None) for cut in cuts]
    return fits


def _steps(horizon: int) -> Array:
    return np.arange(1, horizon + 1, dtype=np.float64)


def _naive(history: Array, horizon: int, season: int) -> Array:
    return np.repeat(history[:, -1:], horizon, axis=1)


def _seasonal_naive(history: Array, horizon: int, season: int) -> Array:
    length = history.shape[1]
    return history[:, length - season + np.arange(horizon) % season]


def _drift(history: Array, horizon: int, season: int) -> Array:
    slope = (history[:, -1] - history[:, 0]) / (history.shape[1] - 1)
    point: Array = history[:, -1:] + slope[:, None] * _steps(horizon)
    return point


def _line(history: Array) -> tuple[Array, Array]:
    times = np.arange(history.shape[1], dtype=np.float64)
    centred = times - times.mean()
    slope = (history - history.mean(axis=1, keepdims=True)) @ centred / (centred @ centred)
    return history.mean(axis=1) - slope * times.mean(), slope


def _linear_trend(history: Array, horizon: int, season: int) -> Array:
    intercept, slope = _line(history)
    future = history.shape[1] - 1 + _steps(horizon)
    point: Array = intercept[:, None] + slope[:, None] * future
    return point


def _seasonal_trend(history: Array, horizon: int, season: int) -> Array:
    intercept, slope = _line(history)
    length = history.shape[1]
    times = np.arange(length, dtype=np.float64)
    detrended = history - intercept[:, None] - slope[:, None] * times
    phases = np.eye(season)[np.arange(length) % season]  # (time, season) one-hot
    profile = detrended @ phases / phases.sum(axis=0)
    future = length - 1 + _steps(horizon)
    point: Array = (
        intercept[:, None]
        + slope[:, None] * future
        + profile[:, (length + np.arange(horizon)) % season]
    )
    return point


_SIMPLE = {
    "naive": _naive,
    "seasonal_naive": _seasonal_naive,
    "drift": _drift,
    "linear_trend": _linear_trend,
    "seasonal_trend": _seasonal_trend,
}


def initial_states(data: Array, *, season: int) -> tuple[Array, Array, Array]:
    """ℓ_0, b_0, s (phase 0..m−1) from the first two seasons: their means give the slope."""
    first = data[:, :season].mean(axis=1)
    second = data[:, season : 2 * season].mean(axis=1)
    trend = (second - first) / season
    level = first - trend * (season + 1) / 2  # the line's value one step before t = 0
    times = np.arange(2 * season, dtype=np.float64)
    line = level[:, None] + trend[:, None] * (times + 1)
    deviation = data[:, : 2 * season] - line
    seasonal = (deviation[:, :season] + deviation[:, season:]) / 2
    return level, trend, seasonal - seasonal.mean(axis=1, keepdims=True)


def smooth(
    data: Array,
    *,
    season: int,
    alpha: Array,
    beta: Array,
    gamma: Array,
    phi: Array,
    start: tuple[Array, Array, Array],
    cuts: tuple[int, ...],
    horizon: int,
    fitted: Array | None = None,
) -> list[tuple[Array, Array, Array]]:
    """Run ETS(A,Ad,A) for every series (n) and parameter set (g) at once.

    Returns, per cut c (the fit uses y_0..y_{c−1}), the grid's point forecasts (n, g, h), its
    in-sample mean squared one-step error (n, g) and σ_h multipliers √(1 + Σc_j²) (g, h).
    When `fitted` (n, g, T) is given, the one-step fitted values are written into it.
    """
    level = np.repeat(start[0][:, None], alpha.size, axis=1)
    trend = np.repeat(start[1][:, None], alpha.size, axis=1)
    seasonal = np.repeat(start[2][:, None, :], alpha.size, axis=1)
    squared = np.zeros_like(level)
    damping = np.cumsum(phi[:, None] ** _steps(horizon), axis=1)  # Σ_{k≤j} φ^k, (g, h)
    weights = (
        alpha[:, None]
        + beta[:, None] * damping[:, :-1]
        + gamma[:, None] * (_steps(horizon - 1) % season == 0)
    )
    multiplier = np.sqrt(
        1 + np.concatenate([np.zeros((alpha.size, 1)), np.cumsum(weights**2, axis=1)], axis=1)
    )
    results = []
    for time in range(max(cuts)):
        phase = time % season
        expected = level + phi * trend + seasonal[:, :, phase]
        if fitted is not None:
            fitted[:, :, time] = expected
        error = data[:, time, None] - expected
        squared += error * error
        level = level + phi * trend + alpha * error
        trend = phi * trend + beta * error
        seasonal[:, :, phase] += gamma * error
        if time + 1 in cuts:
            ahead = seasonal[:, :, (time + 1 + np.arange(horizon)) % season]
            point = level[:, :, None] + damping * trend[:, :, None] + ahead
            results.append((point, squared / (time + 1), multiplier))
    return results


def _grid(*, damped: bool) -> tuple[Array, Array, Array, Array]:
    rows = [
        (alpha, beta, gamma, phi)
        for alpha in _ALPHAS
        for beta in _BETAS
        for gamma in _GAMMAS
        for phi in (_DAMPED_PHIS if damped else (1.0,))
        if beta <= alpha and gamma <= 1 - alpha
    ]
    columns = np.array(rows, dtype=np.float64).T
    return columns[0], columns[1], columns[2], columns[3]


def _holt_winters_at_cuts(
    data: Array, *, season: int, cuts: tuple[int, ...], horizon: int, damped: bool
) -> list[_Fit]:
    alpha, beta, gamma, phi = _grid(damped=damped)
    start = initial_states(data, season=season)
    runs = smooth(
        data,
        season=season,
        alpha=alpha,
        beta=beta,
        gamma=gamma,
        phi=phi,
        start=start,
        cuts=cuts,
        horizon=horizon,
    )
    rows = np.arange(data.shape[0])
    fits = []
    for point, mean_squared, multiplier in runs:
        best = np.argmin(mean_squared, axis=1)  # chosen on the fit window only
        sigma = np.sqrt(mean_squared[rows, best])[:, None] * multiplier[best]
        fits.append(_Fit(point[rows, best], sigma))
    return fits


def _z(level: float) -> float:
    """Standard normal quantile at (1 + level)/2, by bisection on math.erf (exact enough)."""
    low, high = 0.0, 10.0
    for _ in range(80):
        middle = (low + high) / 2
        if (1 + math.erf(middle / math.sqrt(2))) / 2 < (1 + level) / 2:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def _conformal_width(errors: Array, level: float) -> Array:
    """Per series, the ⌈(n+1)·level⌉-th smallest absolute error (the largest when n is small)."""
    ordered = np.sort(np.abs(errors), axis=1)
    rank = min(math.ceil((ordered.shape[1] + 1) * level), ordered.shape[1])
    return ordered[:, rank - 1]


def _scores(
    data: Array, fit: list[_Fit], *, cuts: tuple[int, ...], backtest_horizon: int, season: int
) -> tuple[Array, Array, Array, Array]:
    """Per series: MASE, MAPE, sMAPE (NaN where undefined) and errors (n, origins, H)."""
    mases, errors, actuals, points = [], [], [], []
    for cut, fitted in zip(cuts, fit, strict=False):
        actual = data[:, cut : cut + backtest_horizon]
        point = fitted.point[:, :backtest_horizon]
        lag = season if cut > season else 1
        scale = np.abs(data[:, lag:cut] - data[:, : cut - lag]).mean(axis=1)
        mae = np.abs(point - actual).mean(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            mases.append(np.where(mae == 0, 0.0, mae / scale))
        errors.append(point - actual)
        actuals.append(actual)
        points.append(point)
    error, actual, point = np.stack(errors, 1), np.stack(actuals, 1), np.stack(points, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ape = np.where(actual != 0, 100 * np.abs(error) / np.abs(actual), np.nan)
        denominator = np.abs(actual) + np.abs(point)
        sape = np.where(denominator == 0, 0.0, 200 * np.abs(error) / denominator)
    nonzero = (actual != 0).sum(axis=(1, 2))
    mape = np.where(nonzero > 0, np.nansum(ape, axis=(1, 2)) / np.maximum(nonzero, 1), np.nan)
    return np.mean(mases, axis=0), mape, sape.mean(axis=(1, 2)), error


def _coverage(
    data: Array, fit: list[_Fit], error: Array, *, cuts: tuple[int, ...], level: float
) -> Array:
    """Share of backtest actuals inside the interval (NaN: one origin and no analytic σ)."""
    count, steps = error.shape[1], error.shape[2]
    inside = []
    for k in range(count):
        if fit[k].sigma is not None:
            width = _z(level) * fit[k].sigma[:, :steps]  # type: ignore[index]
        elif count > 1:
            others = np.delete(error, k, axis=1).reshape(error.shape[0], -1)
            width = np.repeat(_conformal_width(others, level)[:, None], steps, axis=1)
        else:
            return np.full(error.shape[0], np.nan)
        inside.append(np.abs(error[:, k]) <= width)
    share: Array = np.mean(inside, axis=(0, 2))
    return share


def _select(
    data: Array,
    names: list[str],
    fits: dict[str, list[_Fit]],
    *,
    cuts: tuple[int, ...],
    horizon: int,
    backtest_horizon: int,
    season: int,
    skipped: list[SkippedModel],
) -> tuple[Forecast, ...]:
    scored = {
        name: _scores(data, fits[name], cuts=cuts, backtest_horizon=backtest_horizon, season=season)
        for name in names
    }
    covered = {
        (name, level): _coverage(data, fits[name], scored[name][3], cuts=cuts, level=level)
        for name in names
        for level in LEVELS
    }
    mase = np.stack([scored[name][0] for name in names], axis=1)
    chosen = np.argmin(mase, axis=1)
    results = []
    for row in range(data.shape[0]):
        name = names[int(chosen[row])]
        final = fits[name][-1]
        point = final.point[row, :horizon]
        intervals = []
        for level in LEVELS:
            if final.sigma is not None:
                width, method = _z(level) * final.sigma[row, :horizon], "analytic"
            else:
                pooled = scored[name][3][row : row + 1].reshape(1, -1)
                width = np.full(horizon, _conformal_width(pooled, level)[0])
                method = "conformal"
            coverage = covered[name, level][row]
            intervals.append(
                PredictionInterval(
                    level=level,
                    lower=_plain(point - width),
                    upper=_plain(point + width),
                    method=method,
                    backtest_coverage=_maybe(coverage),
                )
            )
        scores = tuple(
            CandidateScore(
                model=other,
                mase=float(scored[other][0][row]),
                mape=_maybe(scored[other][1][row]),
                smape=float(scored[other][2][row]),
            )
            for other in names
        )
        results.append(
            Forecast(
                model=name,
                point=_plain(point),
                intervals=tuple(intervals),
                scores=scores,
                skipped=tuple(skipped),
                backtest_origins=cuts,
                backtest_horizon=backtest_horizon,
                growth_per_step=_growth(point, season=season),
            )
        )
    return tuple(results)


def _growth(point: Array, *, season: int) -> float | None:
    size = point.size
    if size == 1:
        return None
    if size <= season:
        return float((point[-1] - point[0]) / (size - 1))
    return float((point[size - season :].mean() - point[:season].mean()) / (size - season))


def _maybe(value: np.floating[Any]) -> float | None:
    return None if np.isnan(value) else float(value)


def _plain(values: Array) -> tuple[float, ...]:
    return tuple(float(x) for x in values)
