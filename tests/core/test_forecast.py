"""Forecast models by hand on short series, the backtest's scores, and bad input."""

from __future__ import annotations

import numpy as np
import pytest

from srekit.core import forecast
from srekit.core.forecast import forecast_many, forecast_series

SIX = [3.0, 5.0, 4.0, 6.0, 8.0, 7.0]


def _model(name: str, values: list[float], horizon: int, season: int) -> list[float]:
    history = np.array([values], dtype=np.float64)
    return [float(x) for x in forecast._SIMPLE[name](history, horizon, season)[0]]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("naive", [7.0, 7.0, 7.0]),
        ("seasonal_naive", [8.0, 7.0, 8.0]),  # one season (2) back, repeated
        ("drift", [7.8, 8.6, 9.4]),  # slope (7 − 3)/5 = 0.8
        # least squares: slope 15.5/17.5 = 31/35, intercept 5.5 − 2.5·31/35 = 115/35
        ("linear_trend", [301 / 35, 332 / 35, 363 / 35]),
        # detrended residuals ×35: −10, 29, −37, 2, 41, −25 → phase means −2/35, +2/35
        ("seasonal_trend", [299 / 35, 334 / 35, 361 / 35]),
    ],
)
def test_each_simple_model_by_hand(name: str, expected: list[float]) -> None:
    assert _model(name, SIX, 3, 2) == pytest.approx(expected, abs=1e-12)


def test_backtest_scores_by_hand() -> None:
    """One origin at 4: fit on 3, 5, 4, 6 and score 8, 7; MASE scale mean(|4−3|, |6−5|) = 1."""
    result = forecast_series(SIX, horizon=2, season=2, origins=1)
    scores = {score.model: score for score in result.scores}
    assert result.backtest_origins == (4,)
    assert result.backtest_horizon == 2
    naive = scores["naive"]  # 6, 6 against 8, 7
    assert naive.mase == pytest.approx(1.5)
    assert naive.mape == pytest.approx((100 * 2 / 8 + 100 * 1 / 7) / 2)
    assert naive.smape == pytest.approx((200 * 2 / 14 + 200 * 1 / 13) / 2)
    assert scores["drift"].mase == pytest.approx(1.0)  # 7, 8: errors −1, 1
    assert scores["seasonal_naive"].mase == pytest.approx(2.5)  # 4, 6: errors 4, 1
    best = min(scores.values(), key=lambda score: score.mase)
    assert result.model == best.model
    assert "holt_winters(m=2)" in scores
    assert result.skipped == ()


def test_mape_skips_zero_actuals_and_smape_counts_double_zeros_as_zero() -> None:
    result = forecast_series([1.0, 0.0, 2.0, 0.0, 3.0, 0.0], horizon=2, season=24, origins=1)
    naive = next(score for score in result.scores if score.model == "naive")
    # naive from 1, 0, 2, 0 says 0, 0 against 3, 0: only the 3 counts for MAPE
    assert naive.mape == pytest.approx(100.0)
    assert naive.smape == pytest.approx((200.0 + 0.0) / 2)


def test_the_final_forecast_and_conformal_intervals_of_a_simple_model() -> None:
    ramp = [float(x) for x in range(10)]
    result = forecast_series(ramp, horizon=2, season=24, origins=2)
    assert result.model == "drift"  # exact on a ramp; ties go to the earlier candidate
    assert result.point == pytest.approx((10.0, 11.0))
    assert result.growth_per_step == pytest.approx(1.0)
    for interval in result.intervals:
        assert interval.method == "conformal"
        assert interval.lower == pytest.approx(result.point)  # no backtest error: zero width
        assert interval.backtest_coverage == 1.0


def test_conformal_width_is_the_rank_ceil_n_plus_1_times_level() -> None:
    errors = np.array([[-1.0, 2.0, -3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0]])
    assert forecast._conformal_width(errors, 0.8)[0] == 9.0  # ⌈11·0.8⌉ = 9th smallest
    assert forecast._conformal_width(errors, 0.95)[0] == 10.0  # rank 11 > 10: the largest


def test_conformal_coverage_counts_other_origins_and_is_none_with_one_origin() -> None:
    errors = np.array([[[-1.0], [1.0], [-3.0]]])  # one series, three origins, one step
    fits = [forecast._Fit(np.zeros((1, 1)), None)] * 3
    data = np.zeros((1, 8))
    # leaving one origin out, two errors remain: rank ⌈3·0.8⌉ = 3 > 2 takes the largest,
    # so the widths are 3, 3, 1 and the third error (3) falls outside: 2 of 3
    covered = forecast._coverage(data, fits, errors, cuts=(5, 6, 7), level=0.8)
    assert covered[0] == pytest.approx(2 / 3)
    single = forecast_series([0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 3.0], horizon=1, origins=1)
    assert single.intervals[0].method == "conformal"
    assert single.intervals[0].backtest_coverage is None


def test_constant_and_all_zero_series_give_a_flat_exact_forecast() -> None:
    flat, zeros = forecast_many([[5.0] * 30, [0.0] * 30], horizon=3)
    assert flat.model == "naive"
    assert flat.point == (5.0, 5.0, 5.0)
    assert flat.intervals[1].upper == (5.0, 5.0, 5.0)
    assert all(score.mase == 0.0 for score in flat.scores)
    assert zeros.point == (0.0, 0.0, 0.0)
    assert all(score.mape is None and score.smape == 0.0 for score in zeros.scores)


def test_a_nonzero_error_on_a_flat_fit_window_scores_infinite_mase() -> None:
    result = forecast_series([2.0, 2.0, 2.0, 2.0, 2.0, 9.0], horizon=1, origins=1)
    assert result.backtest_origins == (5,)
    assert all(score.mase == float("inf") for score in result.scores)


def test_fewer_points_than_two_seasons_skip_the_seasonal_models_with_a_reason() -> None:
    result = forecast_series([float(x % 5) for x in range(30)], horizon=4, season=24)
    skipped = {item.model: item.reason for item in result.skipped}
    assert set(skipped) == {
        "seasonal_naive",
        "seasonal_trend",
        "holt_winters(m=24)",
        "damped_holt_winters(m=24)",
    }
    assert "two seasons (48 points)" in skipped["holt_winters(m=24)"]
    assert {score.model for score in result.scores} == {"naive", "drift", "linear_trend"}


def test_the_weekly_season_is_a_candidate_only_with_two_weeks_of_history() -> None:
    hours = [float(x % 24) for x in range(24 * 21)]
    three_weeks = forecast_series(hours, horizon=24, weekly_season=168)
    ten_days = forecast_series(hours[: 24 * 10], horizon=24, weekly_season=168)
    assert "holt_winters(m=168)" in {score.model for score in three_weeks.scores}
    assert {item.model for item in ten_days.skipped} == {
        "holt_winters(m=168)",
        "damped_holt_winters(m=168)",
    }


@pytest.mark.parametrize(
    ("series", "arguments", "message"),
    [
        ([[1.0]], {}, "at least 5 points per series, got 1"),
        ([], {}, "at least one series"),
        ([[1.0] * 6, [1.0] * 7], {}, "one length, got lengths [6, 7]"),
        ([[1.0, 2.0, float("nan"), 3.0, 4.0]], {}, "point 2 is nan: expected finite"),
        ([[1.0] * 6], {"horizon": 0}, "at least 1, got 0, 24, 3"),
        ([[1.0] * 6], {"origins": 0}, "at least 1, got 1, 24, 0"),
    ],
)
def test_bad_input_names_what_was_expected(
    series: list[list[float]], arguments: dict[str, int], message: str
) -> None:
    with pytest.raises(ValueError, match=r"expected|at least") as raised:
        forecast_many(series, **{"horizon": 1, **arguments})
    assert message in str(raised.value)


def test_growth_per_step_by_horizon_length() -> None:
    assert forecast._growth(np.array([4.0]), season=2) is None
    assert forecast._growth(np.array([1.0, 3.0]), season=2) == 2.0
    # means of the last and first 2-step windows: (5 + 8)/2 − (1 + 4)/2 over 2 steps
    assert forecast._growth(np.array([1.0, 4.0, 5.0, 8.0]), season=2) == 2.0


def test_z_is_the_normal_quantile() -> None:
    assert forecast._z(0.8) == pytest.approx(1.2815515655, abs=1e-9)
    assert forecast._z(0.95) == pytest.approx(1.9599639845, abs=1e-9)
