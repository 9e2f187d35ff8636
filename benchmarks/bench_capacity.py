"""Capacity forecasting: 1,000 synthetic hourly series of 28 days (672 points) with daily
seasonality, a trend and noise (fixed seed), forecast 24 h ahead.

Measures the wall time of `core.forecast.forecast_many` (every candidate backtested at three
rolling origins, the weekly season included, the best chosen by MASE, 80 % and 95 % intervals
with their backtest coverage) against the target of 10 s on 2 cores, and accuracy on the 24 h
holdout nobody fitted on: mean MASE (MAE over the holdout / in-sample MAE of the seasonal
naive at lag 24) for ours and for the seasonal naive, and the holdout coverage of our
intervals. When statsforecast is installed (benchmarks/requirements-capacity.txt, in a venv of
its own: it is no srekit dependency), its AutoETS runs on the same series for comparison.

python -m benchmarks.bench_capacity   # prints figures, writes results/capacity.json
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from srekit.core.forecast import forecast_many

RESULTS = Path(__file__).resolve().parent / "results"
SERIES = 1000
HISTORY = 672
HOLDOUT = 24
DAY = 24
TARGET_S = 10.0


def synthetic(count: int, *, seed: int) -> np.ndarray:
    """Usage-like series: level, a per-series trend, a daily shape of two harmonics, noise."""
    rng = np.random.default_rng(seed)
    times = np.arange(HISTORY + HOLDOUT)
    level = rng.uniform(20, 200, (count, 1))
    slope = rng.uniform(-0.02, 0.1, (count, 1))
    amplitude = rng.uniform(0.05, 0.3, (count, 1)) * level
    shift = rng.uniform(0, 2 * np.pi, (count, 1))
    daily = amplitude * (
        np.sin(2 * np.pi * times / DAY + shift) + 0.3 * np.sin(4 * np.pi * times / DAY + shift)
    )
    noise = rng.normal(0, 1, (count, times.size)) * rng.uniform(0.02, 0.08, (count, 1)) * level
    return level + slope * times + daily + noise


def mean_mase(history: np.ndarray, holdout: np.ndarray, point: np.ndarray) -> float:
    """Mean over series of MAE(holdout) / in-sample MAE of the lag-24 seasonal naive."""
    scale = np.abs(history[:, DAY:] - history[:, :-DAY]).mean(axis=1)
    return float((np.abs(point - holdout).mean(axis=1) / scale).mean())


def _statsforecast(history: np.ndarray) -> dict[str, Any]:
    try:  # present only in the comparison venv (benchmarks/requirements-capacity.txt)
        import pandas as pd
        from statsforecast import StatsForecast  # type: ignore[import-not-found]
        from statsforecast.models import AutoETS  # type: ignore[import-not-found]
    except ImportError:
        return {"skipped": "statsforecast not installed"}
    count = history.shape[0]
    frame = pd.DataFrame(
        {
            "unique_id": np.repeat(np.arange(count), HISTORY),
            "ds": np.tile(pd.date_range("2026-01-01", periods=HISTORY, freq="h"), count),
            "y": history.reshape(-1),
        }
    )
    engine = StatsForecast(models=[AutoETS(season_length=DAY)], freq="h", n_jobs=2)
    started = time.perf_counter()
    predicted = engine.forecast(df=frame, h=HOLDOUT)
    seconds = time.perf_counter() - started
    ordered = predicted.reset_index().sort_values(["unique_id", "ds"])
    point = ordered["AutoETS"].to_numpy().reshape(count, HOLDOUT)
    return {"seconds": round(seconds, 2), "point": point}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="capacity forecasting benchmark")
    parser.add_argument("--series", type=int, default=SERIES)
    parser.add_argument("--seed", type=int, default=20261202)
    args = parser.parse_args(argv)
    data = synthetic(args.series, seed=args.seed)
    history, holdout = data[:, :HISTORY], data[:, HISTORY:]
    rows = history.tolist()
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    started = time.perf_counter()
    results = forecast_many(rows, horizon=HOLDOUT, season=DAY, weekly_season=7 * DAY)
    seconds = time.perf_counter() - started
    load_after = Path("/proc/loadavg").read_text().split()[:3]
    point = np.array([result.point for result in results])
    coverage = {}
    for index, result_level in enumerate(("80", "95")):
        lower = np.array([result.intervals[index].lower for result in results])
        upper = np.array([result.intervals[index].upper for result in results])
        measured = [result.intervals[index].backtest_coverage for result in results]
        coverage[result_level] = {
            "holdout": round(float(((holdout >= lower) & (holdout <= upper)).mean()), 3),
            "backtest_mean": round(float(np.mean([m for m in measured if m is not None])), 3),
        }
    figures: dict[str, Any] = {
        "series": args.series,
        "points": HISTORY,
        "horizon": HOLDOUT,
        "forecast_s": round(seconds, 2),
        "target_s": TARGET_S,
        "loadavg_before": load_before,
        "loadavg_after": load_after,
        "mase_ours": round(mean_mase(history, holdout, point), 4),
        "mase_seasonal_naive": round(mean_mase(history, holdout, history[:, HISTORY - DAY :]), 4),
        "coverage": coverage,
        "chosen": dict(Counter(result.model for result in results).most_common()),
    }
    print(
        f"{args.series:,} series x {HISTORY} hourly points, 24 h ahead with 80/95 % intervals: "
        f"{seconds:.2f} s (target <= {TARGET_S:.0f} s); loadavg {' '.join(load_before)} before, "
        f"{' '.join(load_after)} after"
    )
    print(
        f"holdout MASE: ours {figures['mase_ours']}, seasonal naive "
        f"{figures['mase_seasonal_naive']}"
    )
    for level, found in coverage.items():
        print(
            f"{level} % interval coverage: holdout {found['holdout']}, "
            f"backtest mean {found['backtest_mean']}"
        )
    print(f"chosen: {figures['chosen']}")
    compared = _statsforecast(history)
    if "skipped" in compared:
        print(f"statsforecast AutoETS: {compared['skipped']}")
        figures["statsforecast_autoets"] = compared
    else:
        mase = round(mean_mase(history, holdout, compared["point"]), 4)
        figures["statsforecast_autoets"] = {"seconds": compared["seconds"], "mase": mase}
        print(f"statsforecast AutoETS: {compared['seconds']} s, holdout MASE {mase}")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "capacity.json"
    out.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
