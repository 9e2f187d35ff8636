"""Reading load-test results and judging them: a Locust stats CSV of many request names and a
k6 summary with as many tagged sub-metrics, parsed and gated against a baseline; medians of
`--repeat` runs.

Target: a 5,000-name result read and judged in ≤ 0.5 s (a CI step, not a hot path).

    python -m benchmarks.bench_load_gate [--names 5000] [--repeat 5]  # results/load_gate.json
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from pathlib import Path

from srekit.core.load_gate import LoadSummary, gate_load
from srekit.loadresults import parse_results

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
_HEADER = (
    "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,"
    "Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,"
    "50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%"
)


def _locust(names: int, rng: random.Random, slower: float = 1.0) -> bytes:
    lines = [_HEADER]
    for index in range(names):
        p50 = rng.randint(5, 400) * slower
        ladder = [p50 * f for f in (1, 1.2, 1.4, 1.5, 1.9, 2.4, 3, 3.6, 6, 8, 9)]
        lines.append(
            f"GET,/path/{index},1000,{rng.randint(0, 5)},{p50:.0f},{p50 * 1.1:.2f},1.0,"
            f"{ladder[-1]:.1f},512,{rng.uniform(5, 50):.2f},0.01,"
            + ",".join(f"{v:.0f}" for v in ladder)
        )
    total = names * 1000
    lines.append(
        f",Aggregated,{total},{names},60,70.5,1.0,4000.0,512,{names * 20.0:.2f},0.5,"
        + ",".join(
            str(v) for v in (60, 72, 84, 90, 110, 140 * slower, 180, 220 * slower, 400, 500, 600)
        )
    )
    return "\n".join(lines).encode()


def _k6(names: int, rng: random.Random, slower: float = 1.0) -> bytes:
    metrics: dict[str, object] = {
        "http_req_duration": {"avg": 70.0, "med": 60.0, "p(95)": 140.0 * slower, "p(99)": 220.0},
        "http_reqs": {"count": names * 1000, "rate": names * 20.0},
        "http_req_failed": {"passes": names, "fails": names * 999, "value": 0.001},
    }
    for index in range(names):
        p95 = rng.uniform(10, 900) * slower
        metrics[f"http_req_duration{{name:/path/{index}}}"] = {
            "avg": p95 / 2,
            "med": p95 / 2.5,
            "p(95)": p95,
            "thresholds": {"p(95)<1000": p95 >= 1000},
        }
    return json.dumps({"metrics": metrics}).encode()


def _median_s(action: object, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--names", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    figures: dict[str, object] = {"names": args.names, "repeat": args.repeat}
    for tool, make in (("locust", _locust), ("k6", _k6)):
        baseline_raw = make(args.names, random.Random(1))
        current_raw = make(args.names, random.Random(1), slower=1.3)
        baseline = parse_results(baseline_raw, file=f"baseline.{tool}")

        def judged(
            raw: bytes = current_raw, name: str = tool, against: LoadSummary = baseline
        ) -> None:
            gate_load(parse_results(raw, file=f"run.{name}"), baseline=against)

        seconds = _median_s(judged, args.repeat)
        verdict = gate_load(parse_results(current_raw, file="run"), baseline=baseline)
        figures[tool] = {
            "bytes": len(current_raw),
            "read_and_gate_s": round(seconds, 4),
            "outcome": verdict.outcome.value,
        }
        print(
            f"{tool}: {args.names} names, {len(current_raw) / 1e6:.2f} MB read and gated in"
            f" {seconds * 1000:.1f} ms (median of {args.repeat}); verdict {verdict.outcome.value}"
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "load_gate.json").write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
