"""Holt-Winters against statsmodels as an independent oracle, and statistical checks.

statsmodels' ExponentialSmoothing (with known initial states and fixed smoothing parameters)
must give our one-step fitted values; its ETSModel, the state-space form, must give our fitted
values, forecasts and the shape of the analytic interval widths. ExponentialSmoothing's own
forecast is not used: at steps that are multiples of the season it reads the seasonal state
from before the last update, where ETSModel and the ETS equations use the updated one.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pytest
from statsmodels.tsa.exponential_smoothing.ets import ETSModel
from statsmodels.tsa.holtwinters import ExponentialSmoothing

from srekit.core.forecast import forecast_many, initial_states, smooth

SEASON = 4
LENGTH = 40
HORIZON = 9


def _series() -> np.ndarray:
    rng = np.random.default_rng(3)
    times = np.arange(LENGTH)
    profile = np.tile([2.0, -1.0, 0.5, -1.5], LENGTH // SEASON)
    series: np.ndarray = 10 + 0.3 * times + profile + rng.normal(0, 0.5, LENGTH)
    return series


@pytest.mark.parametrize(
    ("alpha", "beta", "gamma", "phi"), [(0.4, 0.08, 0.15, 0.95), (0.2, 0.05, 0.1, 1.0)]
)
def test_holt_winters_matches_statsmodels(
    alpha: float, beta: float, gamma: float, phi: float
) -> None:
    values = _series()
    data = values[None, :]
    level, trend, seasonal = initial_states(data, season=SEASON)
    fitted = np.zeros((1, 1, LENGTH))
    [(point, mean_squared, multiplier)] = smooth(
        data,
        season=SEASON,
        alpha=np.array([alpha]),
        beta=np.array([beta]),
        gamma=np.array([gamma]),
        phi=np.array([phi]),
        start=(level, trend, seasonal),
        cuts=(LENGTH,),
        horizon=HORIZON,
        fitted=fitted,
    )
    known = {
        "initialization_method": "known",
        "initial_level": level[0],
        "initial_trend": trend[0],
        "initial_seasonal": seasonal[0],
    }
    damped = phi < 1
    holt = ExponentialSmoothing(
        values,
        trend="add",
        damped_trend=damped,
        seasonal="add",
        seasonal_periods=SEASON,
        **known,
    ).fit(
        smoothing_level=alpha,
        smoothing_trend=beta / alpha,  # ExponentialSmoothing's β* = β/α of the ETS form
        smoothing_seasonal=gamma,
        **({"damping_trend": phi} if damped else {}),
        optimized=False,
    )
    assert fitted[0, 0] == pytest.approx(holt.fittedvalues, abs=1e-9)

    ets = ETSModel(
        pd.Series(values),
        error="add",
        trend="add",
        damped_trend=damped,
        seasonal="add",
        seasonal_periods=SEASON,
        **known,
    )
    smoothed = ets.smooth([alpha, beta, gamma, *([phi] if damped else [])])
    assert fitted[0, 0] == pytest.approx(smoothed.fittedvalues.to_numpy(), abs=1e-9)
    assert point[0, 0] == pytest.approx(smoothed.forecast(HORIZON).to_numpy(), abs=1e-9)
    assert mean_squared[0, 0] == pytest.approx(np.mean((values - holt.fittedvalues) ** 2))
    frame = smoothed.get_prediction(start=LENGTH, end=LENGTH + HORIZON - 1).summary_frame(alpha=0.2)
    half = (frame["pi_upper"] - frame["pi_lower"]).to_numpy() / 2
    assert multiplier[0] / multiplier[0, 0] == pytest.approx(half / half[0], rel=1e-9)
    assert multiplier[0, 0] == 1.0


def _synthetic(count: int, length: int, *, slope: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    times = np.arange(length)
    daily = 10 * np.sin(2 * np.pi * times / 24) + 4 * np.cos(4 * np.pi * times / 24)
    series: np.ndarray = 50 + slope * times + daily + rng.normal(0, 2, (count, length))
    return series


def test_trend_and_interval_coverage_on_synthetic_daily_series() -> None:
    """200 series, 28 days of history, then a week of holdout nobody fitted on."""
    history, holdout = 672, 168
    data = _synthetic(200, history + holdout, slope=0.2, seed=11)
    results = forecast_many(data[:, :history].tolist(), horizon=holdout)
    growth = np.array([result.growth_per_step for result in results])
    assert abs(growth.mean() / 0.2 - 1) < 0.05
    assert np.median(np.abs(growth / 0.2 - 1)) < 0.05
    chosen = Counter(result.model for result in results)
    assert set(chosen) <= {"seasonal_trend", "holt_winters(m=24)", "damped_holt_winters(m=24)"}
    actual = data[:, history:]
    for index, (low, high) in enumerate([(0.70, 0.90), (0.88, 0.99)]):
        lower = np.array([result.intervals[index].lower for result in results])
        upper = np.array([result.intervals[index].upper for result in results])
        coverage = ((actual >= lower) & (actual <= upper)).mean()
        assert low <= coverage <= high, (index, coverage)
        measured = [result.intervals[index].backtest_coverage for result in results]
        assert all(value is not None and 0 <= value <= 1 for value in measured)


def test_holt_winters_intervals_are_analytic_and_widen_with_the_horizon() -> None:
    data = _synthetic(50, 672, slope=0.0, seed=5)
    data += np.random.default_rng(6).normal(0, 3, (50, 672)).cumsum(axis=1) * 0.3
    results = forecast_many(data.tolist(), horizon=48)
    analytic = [result for result in results if "holt_winters" in result.model]
    assert analytic
    for result in analytic:
        eighty, ninety_five = result.intervals
        assert eighty.method == ninety_five.method == "analytic"
        first = eighty.upper[0] - eighty.lower[0]
        assert eighty.upper[-1] - eighty.lower[-1] > first
        ratio = (ninety_five.upper[0] - ninety_five.lower[0]) / first
        assert ratio == pytest.approx(1.959963985 / 1.281551566, rel=1e-6)


def test_selection_beats_seasonal_naive_on_a_holdout() -> None:
    data = _synthetic(100, 672 + 24, slope=0.05, seed=21)
    results = forecast_many(data[:, :672].tolist(), horizon=24)
    ours = np.abs(np.array([result.point for result in results]) - data[:, 672:]).mean()
    seasonal_naive = np.abs(data[:, 648:672] - data[:, 672:]).mean()
    assert ours < seasonal_naive
