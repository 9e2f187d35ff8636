"""The server's history compaction: every interval, the complete hours of SLO snapshots rolled
up, the raw snapshots past SREKIT_HISTORY_RAW_S deleted and the rollups past
SREKIT_HISTORY_HOURLY_S too (`flows.history.compact_history`).

A job of its own rather than a step of the evaluator's round: catching up on days of
snapshots (after an upgrade, or a long stop) takes seconds to minutes, and no evaluation round
should wait for it. Several replicas on PostgreSQL: the one holding the compaction's advisory
lock (`store.locks.LeaderLock`, a key of its own) compacts, the others skip; on SQLite it
always compacts, and two processes sharing a file still insert each rollup once (the unique
`(slo_id, hour_start)`). A round that fails is logged; the next one starts afresh.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from srekit.core.history import rollup_horizon
from srekit.flows.history import CompactionReport, compact_history
from srekit.jobs.periodic import PeriodicJob
from srekit.store import StoreEngine

__all__ = ["HISTORY_LOCK_KEY", "HistoryCompactor"]

logger = logging.getLogger(__name__)

# Any constant works, as long as every replica uses it and it differs from the other locks.
HISTORY_LOCK_KEY = 0x5E_41_57_0C


class HistoryCompactor(PeriodicJob):
    """Compacts the SLO history now and then every `interval_s`, in a daemon thread.

    It remembers the hours it rolled up and purged, so a round after the first queries only
    the hours that became due since (a restart checks them all once).
    """

    def __init__(
        self,
        engine: StoreEngine,
        *,
        raw_s: float,
        hourly_s: float,
        interval_s: float = 300.0,
    ) -> None:
        for label, value in (("raw", raw_s), ("hourly", hourly_s), ("interval", interval_s)):
            if value <= 0:
                raise ValueError(f"expected a positive {label} duration, got {value}s")
        super().__init__(
            engine, lock_key=HISTORY_LOCK_KEY, name="history compaction", interval_s=interval_s
        )
        self.raw_s = raw_s
        self.hourly_s = hourly_s
        self._rolled: set[datetime] = set()
        self._purged: set[datetime] = set()

    def run_once(self, *, at: datetime) -> CompactionReport | None:
        """One round at `at`; None when another replica holds the compaction's lock."""
        report = self._led(lambda: self._compact(at))
        if report is None:
            return None
        if report.rollups or report.deleted_snapshots or report.deleted_rollups:
            logger.info(
                "history: %d rollups of %d hours, %d raw snapshots and %d rollups deleted",
                report.rollups,
                len(report.rolled_hours),
                report.deleted_snapshots,
                report.deleted_rollups,
            )
        return report

    def _compact(self, at: datetime) -> CompactionReport:
        report = compact_history(
            self.engine,
            now=at,
            raw_s=self.raw_s,
            hourly_s=self.hourly_s,
            rolled=self._rolled,
            purged=self._purged,
        )
        self._rolled.update(report.rolled_hours)
        self._purged.update(report.purged_hours)
        # hours past the hourly horizon are gone: no need to remember them
        keep_from = rollup_horizon(at, hourly_s=self.hourly_s)
        self._rolled = {hour for hour in self._rolled if hour >= keep_from}
        self._purged = {hour for hour in self._purged if hour >= keep_from}
        return report

    def _tick(self) -> None:
        self.run_once(at=datetime.now(UTC))
