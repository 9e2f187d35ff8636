"""The server's silence watch: every interval, the alerts of silenced incidents checked with
Alertmanager, those that ended fed to the intake, and the silences of incidents that are no
longer open expired (`flows.silences.watch_silenced_incidents`).

Alertmanager mutes the resolved notifications of silenced alerts, so without the watch an
incident acknowledged with a silence would never resolve by its alerts. It runs in `srekit
serve` when SREKIT_ALERTMANAGER_URL is set. Several replicas on PostgreSQL: the one holding the
watch's advisory lock (`store.locks.LeaderLock`, a key of its own) watches, the others skip
their rounds; on SQLite it always watches. A round that fails is logged and the next one
starts afresh.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from srekit.core.ports import Silencer
from srekit.flows.silences import RoutingOf, WatchReport, watch_silenced_incidents
from srekit.jobs.periodic import PeriodicJob
from srekit.store import StoreEngine

__all__ = ["SILENCE_WATCH_LOCK_KEY", "SilenceWatch"]

# Any constant works, as long as every replica uses it and it differs from the other locks.
SILENCE_WATCH_LOCK_KEY = 0x5E_51_1E_7C


class SilenceWatch(PeriodicJob):
    """Runs a round of the silence watch now and then every `interval_s`, in a daemon thread.

    `on_resolved` is called with the incidents a round resolved (the API's gate forgets its
    cached incidents then). `startup_grace_s`: see `flows.silences.watch_silenced_incidents`.
    """

    def __init__(
        self,
        engine: StoreEngine,
        silencer: Silencer,
        *,
        interval_s: float = 15.0,
        startup_grace_s: float = 120.0,
        routing_of: RoutingOf | None = None,
        on_resolved: Callable[[Sequence[int]], None] | None = None,
    ) -> None:
        super().__init__(
            engine, lock_key=SILENCE_WATCH_LOCK_KEY, name="silence watch", interval_s=interval_s
        )
        self.silencer = silencer
        self.startup_grace_s = startup_grace_s
        self.routing_of = routing_of
        self.on_resolved = on_resolved
        # silences whose failure to expire is in their incident's timeline already
        self._reported: set[str] = set()

    def run_once(self, *, at: datetime) -> WatchReport | None:
        """One round at `at`; None when another replica holds the watch's lock."""
        report = self._led(lambda: self._watch(at))
        if report is None:
            return None
        if report.resolved and self.on_resolved is not None:
            self.on_resolved(report.resolved)
        return report

    def _watch(self, at: datetime) -> WatchReport:
        report = watch_silenced_incidents(
            self.engine,
            self.silencer,
            now=at,
            routing_of=self.routing_of,
            startup_grace_s=self.startup_grace_s,
            quiet=self._reported,
        )
        self._reported.update(report.expiry.unexpired)
        return report

    def _tick(self) -> None:
        self.run_once(at=datetime.now(UTC))
