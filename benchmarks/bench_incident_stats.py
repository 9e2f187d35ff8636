"""Incident figures over 100,000 incidents: target ≤ 1 s (every group's figures and budgets).

A year of generated incidents across 40 services and all severities: times to acknowledge and
resolve drawn log-normally around what each severity's on-call achieves (minutes for a P0,
hours for a P3, with long tails), one in ten naming two services, a few resolving on their
own, the last days' still open, and one budget consumption per incident. The median of three
runs is the figure.

python -m benchmarks.bench_incident_stats   # prints figures, writes results/incident_stats.json
"""

from __future__ import annotations

import gc
import json
import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from srekit.contracts import incident_stats_document
from srekit.core.incident import Incident, IncidentState, Severity
from srekit.core.incident_stats import IncidentBudget, incident_budget, incident_stats
from srekit.core.sli import EventCounts

RESULTS = Path(__file__).resolve().parent / "results"
INCIDENT_COUNT = 100_000
RUNS = 3  # the median is reported: the cores are shared
SERVICE_COUNT = 40
START = datetime(2026, 1, 1, tzinfo=UTC)
END = START + timedelta(days=365)
#: severity: (share of incidents, median seconds to acknowledge, median seconds to resolve)
PROFILE = {
    Severity.P0: (0.03, 180, 2 * 3600),
    Severity.P1: (0.17, 480, 4 * 3600),
    Severity.P2: (0.40, 1800, 12 * 3600),
    Severity.P3: (0.40, 5400, 48 * 3600),
}


def _incidents(count: int, seed: int = 7) -> list[Incident]:
    rng = random.Random(seed)
    severities = list(PROFILE)
    weights = [PROFILE[s][0] for s in severities]
    span_s = (END - START).total_seconds()
    made = []
    for index in range(count):
        severity = rng.choices(severities, weights)[0]
        _, ack_median, resolve_median = PROFILE[severity]
        opened = START + timedelta(seconds=rng.uniform(0, span_s))
        first = f"service-{rng.randrange(SERVICE_COUNT):02d}"
        services: tuple[str, ...] = (first,)
        if rng.random() < 0.1:
            services = (first, f"service-{rng.randrange(SERVICE_COUNT):02d}")
        to_resolve = rng.lognormvariate(0, 1.0) * resolve_median
        resolved = opened + timedelta(seconds=to_resolve)
        acknowledged: datetime | None = opened + timedelta(
            seconds=min(rng.lognormvariate(0, 0.8) * ack_median, to_resolve)
        )
        if rng.random() < 0.05:  # the alert resolved before anyone answered
            acknowledged = None
        if resolved > END:  # still open at the end of the year
            made.append(
                Incident(
                    id=index,
                    title="generated",
                    severity=severity,
                    state=IncidentState.ACKNOWLEDGED if acknowledged else IncidentState.TRIGGERED,
                    opened_at=opened,
                    services=services,
                    slos=(f"{first}/availability",),
                    acknowledged_at=acknowledged if acknowledged and acknowledged <= END else None,
                )
            )
            continue
        made.append(
            Incident(
                id=index,
                title="generated",
                severity=severity,
                state=IncidentState.RESOLVED,
                opened_at=opened,
                services=services,
                slos=(f"{first}/availability",),
                acknowledged_at=acknowledged,
                resolved_at=resolved,
            )
        )
    return made


def _budgets(incidents: list[Incident], seed: int = 8) -> list[IncidentBudget]:
    rng = random.Random(seed)
    return [
        incident_budget(
            incident.id,
            slo=incident.slos[0],
            objective=0.999,
            interval=EventCounts(good=0, total=float(rng.randrange(0, 500))),
            window=EventCounts(good=0, total=float(rng.randrange(1_000_000, 5_000_000))),
        )
        for incident in incidents
    ]


def main() -> dict[str, object]:
    incidents = _incidents(INCIDENT_COUNT)
    budgets = _budgets(incidents)
    runs_s = []
    for _ in range(RUNS):
        # the million objects just generated would otherwise be scanned by the first full
        # collection, inside whichever call happens to trigger it
        gc.collect()
        started = time.perf_counter()
        stats = incident_stats(incidents, start=START, end=END, now=END, budgets=budgets)
        runs_s.append(time.perf_counter() - started)
    started = time.perf_counter()
    document = incident_stats_document(stats)
    document_s = time.perf_counter() - started
    overall = document["overall"]
    figures: dict[str, object] = {
        "incidents": INCIDENT_COUNT,
        "services": len(stats.by_service),
        "service_severity_groups": len(stats.by_service_severity),
        "budgets": len(stats.budgets),
        "open": overall["open"],
        "mtta_s": overall["mtta_s"],
        "mttr_s": overall["mttr_s"],
        "mtbf_s": overall["mtbf_s"],
        "response_share": overall["response_share"],
        "mttr_s_by_severity": {s: f["mttr_s"] for s, f in document["by_severity"].items()},
        "stats_s": round(statistics.median(runs_s), 3),
        "stats_runs_s": [round(run, 3) for run in runs_s],
        "document_s": round(document_s, 3),
        "target_s": 1.0,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "incident_stats.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))
    return figures


if __name__ == "__main__":
    main()
