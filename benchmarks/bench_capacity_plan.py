"""Capacity plans end to end: `flows.capacity.forecast_plan` on plans of one resource, 30 days
of hourly usage given outright (the API's inline series), a 90-day horizon (2,160 steps):
series preparation, every candidate backtested, the crossings and the recommendation, then
the JSON document the CLI prints and the API serves. A plan is one series at a time (the
command plans what a team owns), so the figure is the wall time per plan, not a batch's.

python -m benchmarks.bench_capacity_plan   # prints figures, writes results/capacity_plan.json
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from srekit.contracts import capacity_plan_document
from srekit.flows.capacity import UsageSeries, forecast_plan
from srekit.spec.capacity import CapacityPlanDocument

RESULTS = Path(__file__).resolve().parent / "results"
NOW = datetime(2026, 3, 31, tzinfo=UTC)
HOURS = 30 * 24


def _plan() -> CapacityPlanDocument:
    return CapacityPlanDocument.model_validate(
        {
            "apiVersion": "srekit/v1",
            "kind": "CapacityPlan",
            "metadata": {"name": "bench"},
            "spec": {
                "service": "bench",
                "horizon": "90d",
                "history": "30d",
                "resources": [{"name": "cpu", "usage": "sum(cpu)", "unit": "cores", "limit": 400}],
            },
        }
    )


def _series(seed: int) -> UsageSeries:
    rng = np.random.default_rng(seed)
    hours = np.arange(HOURS)
    values = (
        rng.uniform(20, 100)
        + rng.uniform(0, 0.2) * hours
        + rng.uniform(2, 10) * np.sin(2 * math.pi * hours / 24)
        + rng.normal(0, 1, HOURS)
    )
    end = NOW.timestamp() - 3_600
    return UsageSeries(
        tuple(float(end - (HOURS - 1 - k) * 3_600) for k in range(HOURS)),
        tuple(float(v) for v in values),
        "bench",
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="capacity plan benchmark")
    parser.add_argument("--plans", type=int, default=50)
    args = parser.parse_args(argv)
    plan = _plan()
    plan_s: list[float] = []
    document_s: list[float] = []
    models: dict[str, int] = {}
    for seed in range(args.plans):
        usage = _series(seed)
        started = time.perf_counter()
        result = forecast_plan(plan, file="bench", now=NOW, series={"cpu": usage})
        planned = time.perf_counter()
        document = capacity_plan_document(result)
        done = time.perf_counter()
        assert not result.problems, result.problems
        plan_s.append(planned - started)
        document_s.append(done - planned)
        model = document["resources"][0]["model"]
        models[model] = models.get(model, 0) + 1
    figures = {
        "plans": args.plans,
        "history_points": HOURS,
        "horizon_steps": 90 * 24,
        "plan_median_s": statistics.median(plan_s),
        "plan_max_s": max(plan_s),
        "document_median_s": statistics.median(document_s),
        "models": models,
    }
    print(
        f"capacity plan: {args.plans} plans of {HOURS} points, 2,160-step horizon: "
        f"median {figures['plan_median_s'] * 1000:.0f} ms a plan "
        f"(max {figures['plan_max_s'] * 1000:.0f} ms), JSON document "
        f"{figures['document_median_s'] * 1000:.1f} ms; models chosen {models}"
    )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "capacity_plan.json").write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
