"""Rule generation for 10,000 SLOs: target ≤ 2 s (generate + render the YAML).

python -m benchmarks.bench_rules        # prints figures, writes benchmarks/results/rules.json
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from srekit.core.slo import SLO, PromLatency, PromRatio
from srekit.core.window import RollingWindow
from srekit.rules.prometheus import generate_rules, render_rules

RESULTS = Path(__file__).resolve().parent / "results"
SLO_COUNT = 10_000


def _slos(count: int) -> list[SLO]:
    """Half availability SLOs over counters, half latency SLOs over histograms."""
    slos = []
    for index in range(count):
        service = f"service-{index // 2:05d}"
        if index % 2 == 0:
            indicator: PromRatio | PromLatency = PromRatio(
                bad=f'http_requests_total{{service="{service}",code=~"5.."}}',
                total=f'http_requests_total{{service="{service}"}}',
            )
            name = "availability"
        else:
            indicator = PromLatency("http_request_duration_seconds", 0.3, f'service="{service}"')
            name = "latency"
        slos.append(
            SLO(
                service=service,
                name=name,
                objective=0.999,
                window=RollingWindow(30 * 86400),
                indicator=indicator,
                labels={"team": f"team-{index % 37}"},
            )
        )
    return slos


def main() -> dict[str, float]:
    slos = _slos(SLO_COUNT)
    started = time.perf_counter()
    generated = generate_rules(slos)
    generated_s = time.perf_counter() - started
    text = render_rules(generated)
    total_s = time.perf_counter() - started
    rules = sum(len(group["rules"]) for group in generated.groups)
    figures = {
        "slos": SLO_COUNT,
        "groups": len(generated.groups),
        "rules": rules,
        "bytes": len(text.encode()),
        "generate_s": round(generated_s, 3),
        "generate_and_render_s": round(total_s, 3),
        "target_s": 2.0,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "rules.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))
    return figures


if __name__ == "__main__":
    main()
