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

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from srekit.core.ports import Silencer
from srekit.flows.silences import RoutingOf, WatchReport, watch_silenced_incidents
from srekit.store import StoreEngine
from srekit.store.locks import LeaderLock

__all__ = ["SILENCE_WATCH_LOCK_KEY", "SilenceWatch"]

logger = logging.getLogger(__name__)

# Any constant works, as long as every replica uses it and it differs from the other locks.
SILENCE_WATCH_LOCK_KEY = 0x5E_51_1E_7C


class SilenceWatch:
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
        if interval_s <= 0:
            raise ValueError(f"expected a positive interval, got {interval_s}s")
        self.engine = engine
        self.silencer = silencer
        self.interval_s = interval_s
        self.startup_grace_s = startup_grace_s
        self.routing_of = routing_of
        self.on_resolved = on_resolved
        self._round = threading.Lock()
        self._lock = LeaderLock(engine, key=SILENCE_WATCH_LOCK_KEY, name="silence watch")
        # silences whose failure to expire is in their incident's timeline already
        self._reported: set[str] = set()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self, *, at: datetime) -> WatchReport | None:
        """One round at `at`; None when another replica holds the watch's lock."""
        with self._round:
            if not self._lock.try_acquire():
                return None
            report = watch_silenced_incidents(
                self.engine,
                self.silencer,
                now=at,
                routing_of=self.routing_of,
                startup_grace_s=self.startup_grace_s,
                quiet=self._reported,
            )
            self._reported.update(report.expiry.unexpired)
        if report.resolved and self.on_resolved is not None:
            self.on_resolved(report.resolved)
        return report

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Watch in a daemon thread until `stop()`."""
        if self.running:
            raise RuntimeError("the silence watch is already running")
        self._stopping.clear()
        self._thread = threading.Thread(target=self._loop, name="srekit-silence-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the loop, wait for a round in progress, and release the lock."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        with self._round:
            self._lock.release()

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                self.run_once(at=datetime.now(UTC))
            except Exception:
                # never let one round end the loop: the next one starts afresh
                logger.exception("silence watch round failed; retrying in %gs", self.interval_s)
            self._stopping.wait(self.interval_s)
