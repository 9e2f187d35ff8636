"""Group commit for the alert intake: one writer thread applies every notification waiting at
that moment in one transaction, so a burst of webhooks costs one commit (one fsync), not one
each.

Senders `submit` a notification and wait on the future it returns (the API awaits it); the
future is done only after the commit that stored the notification, or with the error its
sender gets. While a batch is being written, the next notifications queue up and go together
in the next one: the busier the intake, the bigger the batches, and a lone notification is
written at once. `flows.intake.receive_notifications` says what a batch does on failures.

The wait is bounded: past `max_waiting` notifications, `submit` refuses with `IntakeFull` (the
API answers 503 with Retry-After, which Alertmanager retries), so a flood while the store is
slow costs a retry later, not the server's memory.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime

from srekit.errors import StoreUnavailable
from srekit.flows.intake import IntakeResult, Notification, RoutingOf, receive_notifications
from srekit.store import StoreEngine

__all__ = ["IntakeFull", "IntakeQueue"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Pending:
    notification: Notification
    received_at: datetime
    future: Future[IntakeResult]


class IntakeFull(StoreUnavailable):
    """Too many notifications wait for the writer: the sender should try again later."""


class IntakeQueue:
    """Notifications waiting for the intake's writer thread, applied in batches of up to
    `max_notifications` notifications and about `max_alerts` alerts (a batch never splits a
    notification), in the order they were submitted.

    The thread starts with the first `submit` (or `start`); `stop` writes what is waiting,
    then ends it.
    """

    def __init__(
        self,
        engine: StoreEngine,
        *,
        routing_of: RoutingOf | None = None,
        max_notifications: int = 256,
        max_alerts: int = 5_000,
        max_waiting: int = 10_000,
    ) -> None:
        self.engine = engine
        self.routing_of = routing_of
        self.max_notifications = max_notifications
        self.max_alerts = max_alerts
        self.max_waiting = max_waiting
        self.refused = 0  # notifications refused because the queue was full
        self.batches = 0  # transactions written: fewer than notifications when they group
        self._waiting: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._count = 0  # notifications submitted and not yet taken by the writer
        self._thread: threading.Thread | None = None

    def submit(self, notification: Notification, *, now: datetime) -> Future[IntakeResult]:
        """Queue a notification received at `now`; the future holds its result once stored.

        Raises `IntakeFull` when `max_waiting` notifications already wait (nothing is queued).
        """
        future: Future[IntakeResult] = Future()
        self.start()
        with self._lock:
            if self._count >= self.max_waiting:
                self.refused += 1
                raise IntakeFull(
                    f"the alert intake has {self._count} notifications waiting to be stored;"
                    " send this one again later"
                )
            self._count += 1
        self._waiting.put(_Pending(notification, now, future))
        return future

    def start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="srekit-intake-writer", daemon=True
                )
                self._thread.start()

    def stop(self, *, timeout_s: float = 30.0) -> None:
        """Write every notification submitted so far, then end the thread."""
        with self._lock:
            thread, self._thread = self._thread, None
            if thread is None:
                return
            self._waiting.put(None)
        thread.join(timeout=timeout_s)
        if thread.is_alive():
            log.error("the intake writer did not finish within %g s", timeout_s)

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._waiting.get()
            if first is None:
                return
            batch, alerts = [first], len(first.notification.alerts)
            while len(batch) < self.max_notifications and alerts < self.max_alerts:
                try:
                    pending = self._waiting.get_nowait()
                except queue.Empty:
                    break
                if pending is None:
                    stopping = True
                    break
                batch.append(pending)
                alerts += len(pending.notification.alerts)
            with self._lock:
                self._count -= len(batch)
            self._write(batch)

    def _write(self, batch: Sequence[_Pending]) -> None:
        # a sender that gave up (its request cancelled) is not waited for; its notification
        # is not applied, and Alertmanager, having no answer, sends it again
        live = [pending for pending in batch if pending.future.set_running_or_notify_cancel()]
        if not live:
            return
        self.batches += 1
        try:
            outcomes = receive_notifications(
                self.engine,
                [(pending.notification, pending.received_at) for pending in live],
                routing_of=self.routing_of,
            )
        except Exception as error:  # a bug: every sender gets it, the writer goes on
            log.exception("the intake writer failed on a batch of %d notifications", len(live))
            outcomes = [error] * len(live)
        for pending, outcome in zip(live, outcomes, strict=True):
            if isinstance(outcome, Exception):
                pending.future.set_exception(outcome)
            else:
                pending.future.set_result(outcome)
