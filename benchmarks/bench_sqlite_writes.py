"""SQLite's write path under contention: how writers wait for each other, compared.

Writer threads (as the API's thread pool runs them) each create teams in transactions that
read, then write (`upsert_team`: look up, insert, audit), while one thread records a batch of
100 snapshots every 0.5 s (as the evaluator does) and one a batch of gate decisions every
0.2 s (as the deployment recorder does). Variants:

- `deferred`: a plain `BEGIN` (what srekit did before): a transaction that reads and then
  writes fails at once when another holds the lock ("database is locked").
- `immediate`: `BEGIN IMMEDIATE`: SQLite's busy handler polls for the lock (sleeping 1, 2, 5,
  ... up to 100 ms between tries) for up to busy_timeout.
- `immediate+lock`: the writers of this process first queue on a lock of the process, then
  `BEGIN IMMEDIATE` (waiting only for other processes); what srekit does now.

    python -m benchmarks.bench_sqlite_writes [--threads 20] [--duration 8]

Prints and writes results/sqlite_writes.json: writes done, per second, failures, and the
latency of a write (p50, p99, max), per variant.
"""

from __future__ import annotations

import argparse
import functools
import json
import shutil
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from srekit.core.policy import denied_decision
from srekit.core.slo import SLO, EventsRatio
from srekit.core.status import unavailable_status
from srekit.core.window import RollingWindow
from srekit.errors import SrekitError
from srekit.store import StoreEngine, StoreSession, database
from srekit.store.repo import (
    apply_slo,
    deployment_values,
    list_slos,
    record_deployments,
    record_snapshots,
    upsert_team,
)

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
VARIANTS = ("deferred", "immediate", "immediate+lock")
SLOS = [
    SLO(
        service=f"svc-{index}",
        name="availability",
        objective=0.99,
        window=RollingWindow(86400),
        indicator=EventsRatio(good="status < 500"),
    )
    for index in range(100)
]


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def _engine(variant: str, path: Path) -> StoreEngine:
    engine = database.open_store(f"sqlite:///{path}")
    if variant == "deferred":  # as before srekit began writers IMMEDIATE
        from sqlalchemy import event

        event.remove(engine, "begin", database._sqlite_begin)
        event.listen(engine, "begin", lambda connection: connection.exec_driver_sql("BEGIN"))
    if variant != "immediate+lock":  # queue on SQLite's busy handler alone
        database._WRITER_LOCKS.pop(engine)
    with database.transaction(engine) as session:
        for slo in SLOS:
            apply_slo(session, slo=slo, actor="bench")
    return engine


def _snapshots(session: StoreSession) -> None:
    """An evaluation round's write: read the SLOs, record a snapshot of each."""
    at = datetime.now(UTC)
    list_slos(session)
    statuses = [unavailable_status(slo, at=at, detail="bench") for slo in SLOS]
    record_snapshots(session, statuses=statuses, now=at)


def _decisions(session: StoreSession) -> None:
    """A deployment recorder's batch: 20 gate decisions."""
    decision = denied_decision("svc-1", "feature", "bench")
    rows = [
        deployment_values(
            service="svc-1",
            change_type="feature",
            decision=decision,
            version=f"v{index}",
            now=datetime.now(UTC),
        )
        for index in range(20)
    ]
    record_deployments(session, rows=rows)


class _Load:
    """Writes timed and counted, from many threads."""

    def __init__(self, engine: StoreEngine) -> None:
        self.engine = engine
        self.stop = threading.Event()
        self.latencies: list[float] = []
        self.failures: list[str] = []

    def timed(self, work: Callable[[StoreSession], object]) -> None:
        started = time.perf_counter()
        try:
            with database.transaction(self.engine) as session:
                work(session)
        except SrekitError as error:
            self.failures.append(str(error).splitlines()[0].rsplit(": ", 1)[-1])
            return
        self.latencies.append(time.perf_counter() - started)

    def writer(self, number: int) -> None:
        index = 0
        while not self.stop.is_set():
            name = f"t{number}-{index}"
            self.timed(functools.partial(upsert_team, name=name, actor="bench"))
            index += 1

    def every(self, interval_s: float, work: Callable[[StoreSession], object]) -> None:
        while not self.stop.wait(interval_s):
            self.timed(work)


def _run(variant: str, *, threads: int, duration_s: float) -> dict[str, Any]:
    home = Path(tempfile.mkdtemp(prefix="srekit-bench-writes-"))
    load = _Load(_engine(variant, home / "srekit.db"))
    workers = [threading.Thread(target=load.writer, args=(n,)) for n in range(threads)]
    workers += [
        threading.Thread(target=load.every, args=(0.5, _snapshots)),
        threading.Thread(target=load.every, args=(0.2, _decisions)),
    ]
    started = time.monotonic()
    for worker in workers:
        worker.start()
    time.sleep(duration_s)
    load.stop.set()
    for worker in workers:
        worker.join()
    elapsed = time.monotonic() - started
    load.engine.dispose()
    shutil.rmtree(home, ignore_errors=True)
    latencies = load.latencies
    return {
        "writes": len(latencies),
        "writes_per_s": round(len(latencies) / elapsed, 1),
        "failures": len(load.failures),
        "failure_kinds": sorted(set(load.failures)),
        "latency_p50_ms": round(_percentile(latencies, 0.5) * 1000, 2),
        "latency_p99_ms": round(_percentile(latencies, 0.99) * 1000, 2),
        "latency_max_ms": round(max(latencies, default=0.0) * 1000, 2),
        "latency_mean_ms": round(statistics.fmean(latencies) * 1000, 2) if latencies else 0.0,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=20, help="writer threads")
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per variant")
    parser.add_argument("--variant", choices=VARIANTS, action="append", help="default: all")
    options = parser.parse_args(argv)
    figures: dict[str, Any] = {
        "threads": options.threads,
        "duration_s": options.duration,
        "background": "100 snapshots every 0.5 s, 20 gate decisions every 0.2 s",
    }
    for variant in options.variant or VARIANTS:
        figures[variant] = _run(variant, threads=options.threads, duration_s=options.duration)
        print(variant, json.dumps(figures[variant]), flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "sqlite_writes.json").write_text(json.dumps(figures, indent=2) + "\n")
    return figures


if __name__ == "__main__":
    main()
