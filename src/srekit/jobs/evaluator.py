"""The server's background evaluation: every stored SLO, every interval, kept as snapshots.

A round is `flows.evaluate.evaluate_stored`: the stored SLOs against their sources (the same
pipeline as `srekit status`), one snapshot per SLO, the last good figures kept (stale) where a
source failed. The API reads snapshots (`Evaluator.latest_statuses`) instead of querying
Prometheus on every request. The next round retries, so a source that recovers resumes by
itself; a round that raises is logged and counted and the loop carries on.

Several replicas on PostgreSQL: the replica holding a session-level advisory lock evaluates, the
others skip their rounds. The lock is held for the life of the process on a connection of its
own, not per round: per-round locks would let replicas whose loops are out of phase evaluate
one after the other, each once an interval. When the holder exits or its connection drops,
PostgreSQL releases the lock and another replica takes over at its next round. SQLite serves one
process: no lock.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from srekit.config import Settings
from srekit.core.sli import SourceSet
from srekit.core.status import DataState, SloStatus
from srekit.flows.evaluate import evaluate_stored
from srekit.flows.status import latest_statuses, status_version
from srekit.sources.factory import close_sources
from srekit.store import StoreEngine
from srekit.store.locks import LeaderLock
from srekit.telemetry import SrekitMetrics

__all__ = ["EVALUATION_LOCK_KEY", "EvaluationReport", "Evaluator"]

logger = logging.getLogger(__name__)

# Any constant works, as long as every replica uses it and it differs from the migration lock.
EVALUATION_LOCK_KEY = 0x5E_4E_E7_A1
_STALE_AFTER_INTERVALS = 3
_PRUNE_EVERY = timedelta(hours=1)


@dataclass(frozen=True)
class EvaluationReport:
    """What one round did: skipped (another replica evaluates), or the statuses it recorded.

    `source_failures` maps each source that could not answer (`prometheus`, `events`) to why.
    """

    at: datetime
    evaluated: bool
    statuses: tuple[SloStatus, ...] = ()
    recorded: int = 0
    source_failures: Mapping[str, str] = field(default_factory=dict)
    pruned: int = 0
    duration_s: float = 0.0
    skipped_reason: str | None = None

    @property
    def skipped(self) -> bool:
        return not self.evaluated


def _default_sources(settings: Settings) -> Callable[[], SourceSet]:
    """Sources as the CLI builds them from settings (SREKIT_PROMETHEUS_URL, SREKIT_HOME)."""
    from srekit.sources.factory import build_sources

    def sources() -> SourceSet:
        return build_sources(settings, prometheus_url=None, events_store=None)

    return sources


class Evaluator:
    """Evaluates every stored SLO each interval, in a background thread, and keeps snapshots.

    `sources` builds the SLI sources for one round (default: from `settings`, as the CLI does);
    `metrics` receives the evaluator's metrics (default: a registry of its own). Snapshots older
    than `retention_s` are pruned once an hour (None: kept forever).
    """

    def __init__(
        self,
        engine: StoreEngine,
        settings: Settings,
        sources: Callable[[], SourceSet] | None = None,
        *,
        metrics: SrekitMetrics | None = None,
        interval_s: float = 60.0,
        retention_s: float | None = 35 * 86400,
    ) -> None:
        if interval_s <= 0:
            raise ValueError(f"expected a positive interval, got {interval_s}s")
        self.engine = engine
        self.settings = settings
        self.metrics = metrics if metrics is not None else SrekitMetrics()
        self.interval_s = interval_s
        self.retention_s = retention_s
        self._sources = sources if sources is not None else _default_sources(settings)
        self._round = threading.Lock()  # one round at a time; guards the lock connection
        self._lock = LeaderLock(engine, key=EVALUATION_LOCK_KEY, name="evaluation")
        self._pruned_at: datetime | None = None
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    # -- one round ------------------------------------------------------------------------

    def run_once(self, *, at: datetime) -> EvaluationReport:
        """Evaluate every stored SLO at `at` and record the snapshots, unless another replica
        holds the evaluation lock (a skipped report). Raises what the store raises."""
        if at.tzinfo is None:
            raise ValueError(f"expected a timezone-aware time, got {at!r}")
        with self._round:
            if not self._lead():
                self.metrics.rounds.labels("skipped").inc()
                return EvaluationReport(
                    at=at,
                    evaluated=False,
                    skipped_reason="another replica holds the evaluation lock",
                )
            started = time.monotonic()
            try:
                report = self._evaluate(at, started)
            except Exception:
                self.metrics.rounds.labels("failed").inc()
                raise
        self._count(report)
        return report

    def _evaluate(self, at: datetime, started: float) -> EvaluationReport:
        prune = self.retention_s is not None and (
            self._pruned_at is None or abs(at - self._pruned_at) >= _PRUNE_EVERY
        )
        sources = self._sources()
        try:
            done = evaluate_stored(
                self.engine,
                at=at,
                sources=sources,
                prune_older_than=(
                    at - timedelta(seconds=self.retention_s)
                    if prune and self.retention_s is not None
                    else None
                ),
            )
        finally:
            close_sources(sources)
        if prune:
            self._pruned_at = at
        return EvaluationReport(
            at=at,
            evaluated=True,
            statuses=done.statuses,
            recorded=done.recorded,
            source_failures=done.failures,
            pruned=done.pruned,
            duration_s=time.monotonic() - started,
        )

    def _count(self, report: EvaluationReport) -> None:
        metrics = self.metrics
        metrics.rounds.labels("ok").inc()
        metrics.round_duration.observe(report.duration_s)
        for source in report.source_failures:
            metrics.source_failures.labels(source).inc()
        for state in DataState:
            metrics.slos_evaluated.labels(state.value).set(
                sum(1 for status in report.statuses if status.data is state)
            )
        metrics.last_success.set(time.time())

    # -- the lock -------------------------------------------------------------------------

    def _lead(self) -> bool:
        """Whether this replica evaluates: always on SQLite; on PostgreSQL while it holds the
        evaluation lock, taken here when free and kept until `close()`."""
        try:
            return self._lock.try_acquire()
        finally:  # a lock lost with its connection is no longer held, even when taking it fails
            self.metrics.leader.set(1 if self._lock.held else 0)

    def close(self) -> None:
        """Release the evaluation lock (another replica takes over at its next round)."""
        with self._round:
            self._lock.release()
            self.metrics.leader.set(0)

    # -- the loop -------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, interval_s: float | None = None) -> None:
        """Run a round now and then every `interval_s` (default: the constructor's) in a
        daemon thread, until `stop()`."""
        if self.running:
            raise RuntimeError("the evaluator is already running")
        if interval_s is not None:
            if interval_s <= 0:
                raise ValueError(f"expected a positive interval, got {interval_s}s")
            self.interval_s = interval_s
        self._stopping.clear()
        self._thread = threading.Thread(target=self._loop, name="srekit-evaluator", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the loop, wait for a round in progress to end, and release the lock."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self.close()

    def _loop(self) -> None:
        while not self._stopping.is_set():
            started = time.monotonic()
            try:
                self.run_once(at=datetime.now(UTC))
            except Exception:
                # Never let one round end the loop: the next one retries from scratch.
                logger.exception("evaluation round failed; retrying in %gs", self.interval_s)
            self._stopping.wait(max(0.0, self.interval_s - (time.monotonic() - started)))

    # -- reading ---------------------------------------------------------------------------

    def status_version(self) -> object:
        """Changes whenever a round records snapshots or the SLOs change, so a cache of
        `latest_statuses` knows when to read again (`flows.status.status_version`)."""
        return status_version(self.engine)

    def latest_statuses(
        self, service: str | None = None, *, now: datetime | None = None
    ) -> list[SloStatus]:
        """Every stored SLO's newest snapshot as a status, by service then name: stale when
        older than three intervals, an error when never evaluated (`flows.status`)."""
        return latest_statuses(
            self.engine,
            max_age_s=_STALE_AFTER_INTERVALS * self.interval_s,
            service=service,
            now=now,
        )
