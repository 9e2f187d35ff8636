"""Canary analysis: the Mann-Whitney U test at the sizes an analysis meets, and a whole
`analyze_canary` against a real Prometheus serving the tests' generated canary history.

Targets: the test on a day of minutes per side (1,440 × 1,440) ≤ 10 ms; an analysis of three
metrics over 30 minutes ≤ 200 ms (Argo and Flagger call it every analysis interval).

    python -m benchmarks.bench_canary      # needs Debian's prometheus; writes results/canary.json
"""

from __future__ import annotations

import functools
import json
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from tests.canary_data import AT, serve_canary_history

from srekit.config import Settings
from srekit.core.canary import CanaryMetric, mann_whitney_u, plan_analysis
from srekit.flows.canary import analyze_canary, prometheus_querier

RESULTS = Path(__file__).resolve().parent / "results"
RUNS = 7


def _median_ms(work: Callable[[], object], runs: int = RUNS) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _test_figures() -> dict[str, float]:
    rng = random.Random(20261203)
    figures: dict[str, float] = {}
    for n1, n2, label in (
        (30, 30, "normal_30x30"),
        (1440, 1440, "normal_1440x1440"),
        (10_000, 10_000, "normal_10000x10000"),
        (8, 30, "exact_8x30"),
        (8, 1440, "exact_8x1440"),
    ):
        first = [rng.random() + 0.01 for _ in range(n1)]
        second = [rng.random() for _ in range(n2)]
        test = functools.partial(mann_whitney_u, first, second)
        figures[f"{label}_p50_ms"] = round(_median_ms(test), 3)
    return figures


def _analysis_figures() -> dict[str, float]:
    figures: dict[str, float] = {}
    RESULTS.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory(prefix="srekit-bench-", dir=RESULTS) as tmp,
        serve_canary_history(Path(tmp)) as history,
        prometheus_querier(Settings(), history.url) as querier,
    ):
        for window_s, step_s, label in ((1800, 60, "30m_1m"), (7200, 15, "2h_15s")):
            plan = plan_analysis(
                canary='app="shop",track="worse"',
                baseline='app="shop",track="stable"',
                window_s=window_s,
                step_s=step_s,
                metrics=list(CanaryMetric),
            )
            analysis = functools.partial(analyze_canary, querier, plan, at=AT)
            analysis()  # warm Prometheus's caches
            figures[f"analysis_{label}_p50_ms"] = round(_median_ms(analysis), 1)
    return figures


def main() -> dict[str, float]:
    figures = {**_test_figures(), **_analysis_figures()}
    figures |= {"test_1440_target_ms": 10.0, "analysis_30m_target_ms": 200.0}
    (RESULTS / "canary.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))
    return figures


if __name__ == "__main__":
    main()
