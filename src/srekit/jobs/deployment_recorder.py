"""Records the gate's decisions in the store in batches, from a thread of its own, so deciding
never waits on a write (the gate is asked on every step of every rollout)."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from srekit.core.policy import GateDecision
from srekit.errors import SrekitError, StoreUnavailable
from srekit.store import StoreEngine
from srekit.store.database import transaction
from srekit.store.repo import deployment_values, record_deployments

__all__ = ["DeploymentRecorder", "PendingDeployment"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PendingDeployment:
    """A gate decision waiting to be recorded, with what was asked."""

    service: str
    change_type: str
    decision: GateDecision
    version: str | None
    commit_time: datetime | None
    requested_by: str | None
    source: str
    at: datetime


class DeploymentRecorder:
    """Writes gate decisions to the store in batches, from a thread of its own.

    Decisions wait in memory while the store is down (up to `max_pending`, then the oldest are
    dropped, and logged); `healthy` is False from a failed write until the next one succeeds,
    and the gate fails closed meanwhile, since nothing it decides could be recorded.
    """

    def __init__(
        self, engine: StoreEngine, *, interval_s: float = 0.2, max_pending: int = 100_000
    ) -> None:
        self.engine = engine
        self.interval_s = interval_s
        self.healthy = True
        self.last_error: str | None = None
        self._pending: deque[PendingDeployment] = deque(maxlen=max_pending)
        self._flush_lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None

    def add(self, pending: PendingDeployment) -> None:
        if len(self._pending) == self._pending.maxlen:
            log.error("gate decisions pending over the limit: dropping the oldest")
        self._pending.append(pending)

    def start(self) -> None:
        if self._thread is None:
            self._stopping = False
            self._thread = threading.Thread(
                target=self._run, name="srekit-deployment-recorder", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        """Stop the thread, then write what is still pending (if the store lets us)."""
        self._stopping = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        try:
            self.flush()
        except SrekitError as error:
            log.error("%d gate decision(s) not recorded at exit: %s", len(self._pending), error)

    def _run(self) -> None:
        while not self._stopping:
            self._wake.wait(self.interval_s)
            self._wake.clear()
            try:
                self.flush()
            except SrekitError:
                time.sleep(min(1.0, self.interval_s * 5))  # back off while the store is down

    def flush(self) -> None:
        """Write every pending decision now; StoreUnavailable (decisions kept) on failure."""
        with self._flush_lock:
            batch: list[PendingDeployment] = []
            while self._pending:
                batch.append(self._pending.popleft())
            if not batch:
                return
            try:
                self._write(batch)
            except SrekitError as error:
                self._pending.extendleft(reversed(batch))
                self.healthy = False
                # the gate's answers show it: without the database's path
                self.last_error = (
                    error.public if isinstance(error, StoreUnavailable) else str(error)
                )
                raise
            self.healthy = True
            self.last_error = None

    def _write(self, batch: Sequence[PendingDeployment]) -> None:
        rows = [
            deployment_values(
                service=item.service,
                change_type=item.change_type,
                decision=item.decision,
                version=item.version,
                commit_time=item.commit_time,
                requested_by=item.requested_by,
                source=item.source,
                now=item.at,
            )
            for item in batch
        ]
        with transaction(self.engine) as session:
            record_deployments(session, rows=rows)
