"""The monthly SRE report as PDF for 100 SLOs over a month of stored snapshots: target ≤ 10 s.

100 SLOs (99.5 %, 7d, one service each) on SQLite, each with a snapshot every 5 minutes of
November 2026 (864,000 rows, bulk-inserted through `record_snapshots`, as the evaluator writes
them), SLIs drifting day to day so some budgets run out; 200 incidents and 400 deploys. The
figure is `srekit report monthly --format pdf`'s work: the flow reading the store, the JSON
document, and the PDF rendered by WeasyPrint. The median of three runs is reported.

python -m benchmarks.bench_report   # prints figures, writes results/report.json
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from srekit.contracts import report_document
from srekit.core.budget import ErrorBudget
from srekit.core.incident import Severity
from srekit.core.policy import Decision, GateDecision
from srekit.core.report import month_period
from srekit.core.sli import SourceSet
from srekit.core.status import DataState, SloStatus
from srekit.flows.report import stored_report
from srekit.report import ReportFormat, render_report
from srekit.spec.loader import load_specs
from srekit.store.database import create_store_engine, transaction, upgrade
from srekit.store.repo import apply_slo, create_incident, record_deployment, record_snapshots

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"
SLO_COUNT = 100
INTERVAL_S = 300
RUNS = 3
TARGET_S = 10.0
START = datetime(2026, 11, 1, tzinfo=UTC)
AT = datetime(2026, 12, 1, tzinfo=UTC)
OBJECTIVE = 0.995


def _status(service: str, at: datetime, sli: float) -> SloStatus:
    consumed = (1 - sli) / (1 - OBJECTIVE)
    return SloStatus(
        service=service,
        slo="availability",
        objective=OBJECTIVE,
        window="7d",
        window_s=7 * 86_400,
        at=at,
        sli=sli,
        error_budget=ErrorBudget(
            remaining=1 - consumed, consumed=consumed, allowed_bad_events=None
        ),
        burn_rates={"1h": 0.5, "6h": 0.4, "3d": 0.6},
        time_to_exhaustion_s=(1 - consumed) * 7 * 86_400 / 0.5 if consumed < 1 else None,
        alerts=(),
        policy_state="normal",
        data=DataState.OK,
    )


def _store(url: str) -> tuple[int, float]:
    """The month's data; returns (snapshots stored, seconds it took)."""
    started = time.perf_counter()
    engine = create_store_engine(url)
    upgrade(engine)
    rng = random.Random(11)
    template = next(
        slo
        for slo in load_specs([ROOT / "examples" / "slos" / "checkout.yaml"]).slos
        if slo.name == "availability"
    )
    services = [f"service-{index:03d}" for index in range(SLO_COUNT)]
    with transaction(engine) as session:
        for service in services:
            slo = dataclasses.replace(template, service=service, policy=None)
            apply_slo(session, slo=slo, actor="bench", now=START - timedelta(days=30))
    stored = 0
    steps = int((AT - START).total_seconds()) // INTERVAL_S
    levels = {service: rng.uniform(0.994, 0.9995) for service in services}
    batch: list[SloStatus] = []
    for step in range(steps):
        at = START + timedelta(seconds=step * INTERVAL_S)
        if step % 288 == 0:  # a new level each day
            levels = {s: min(0.9999, max(0.99, v + rng.gauss(0, 5e-4))) for s, v in levels.items()}
        batch.extend(_status(service, at, levels[service]) for service in services)
        if len(batch) >= 50_000 or step == steps - 1:
            with transaction(engine) as session:
                stored += record_snapshots(session, statuses=batch)
            batch = []
    with transaction(engine) as session:
        for index in range(200):
            opened = START + timedelta(minutes=rng.randrange(30 * 1440))
            incident = create_incident(
                session,
                title=f"incident {index}",
                severity=rng.choice(list(Severity)),
                opened_at=opened,
                actor="bench",
                services=[rng.choice(services)],
                now=opened,
            )
            incident.state, incident.resolved_at = "resolved", opened + timedelta(hours=2)
        for _ in range(400):
            service = rng.choice(services)
            allowed = rng.random() < 0.9
            decision = GateDecision(
                service=service,
                change_type="feature",
                allowed=allowed,
                decision=Decision.ALLOW if allowed else Decision.DENY,
                state="normal",
                reasons=(),
            )
            record_deployment(
                session,
                service=service,
                change_type="feature",
                decision=decision,
                now=START + timedelta(minutes=rng.randrange(30 * 1440)),
            )
    engine.dispose()
    return stored, time.perf_counter() - started


def main() -> dict[str, object]:
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{scratch}/srekit.db"
        stored, setup_s = _store(url)
        engine = create_store_engine(url)
        runs: list[dict[str, float]] = []
        pdf = b""
        for _ in range(RUNS):
            started = time.perf_counter()
            report = stored_report(
                engine, period=month_period("2026-11"), at=AT, sources=SourceSet()
            )
            read = time.perf_counter()
            document = report_document(report)
            pdf = render_report(document, ReportFormat.PDF)
            done = time.perf_counter()
            runs.append({"total_s": done - started, "flow_s": read - started})
        engine.dispose()
    median = statistics.median(run["total_s"] for run in runs)
    result: dict[str, object] = {
        "slos": SLO_COUNT,
        "snapshots": stored,
        "interval_s": INTERVAL_S,
        "store_setup_s": round(setup_s, 2),
        "report_pdf_s_median": round(median, 3),
        "flow_s_median": round(statistics.median(run["flow_s"] for run in runs), 3),
        "runs_s": [round(run["total_s"], 3) for run in runs],
        "pdf_bytes": len(pdf),
        "target_s": TARGET_S,
        "met": median <= TARGET_S,
        "load_average_1m": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
    }
    print(
        f"monthly report, PDF, {SLO_COUNT} SLOs, {stored:,} snapshots: median {median:.2f} s"
        f" (flow {result['flow_s_median']} s; runs {result['runs_s']}), {len(pdf):,} bytes;"
        f" target ≤ {TARGET_S:g} s: {'met' if result['met'] else 'MISSED'}"
        f" (store filled in {setup_s:.1f} s; load {result['load_average_1m']})"
    )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "report.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
