"""The server's escalation job: every SREKIT_ESCALATION_INTERVAL_S (5 s by default), one round
of `flows.escalation.escalate`: start escalations for new incidents that a policy covers, stop
those that were answered, page the steps that fell due.

Several replicas on PostgreSQL: the one holding the job's advisory lock (`store.locks.LeaderLock`,
a key of its own) escalates, the others skip their rounds; on SQLite it always leads. The state
lives in the store, so whichever replica leads next (or this one, restarted) resumes every
escalation where it was. A round that fails is logged and the next one starts afresh.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from srekit.config import Settings
from srekit.flows.escalation import (
    EscalationReport,
    Paging,
    SignedLinks,
    StoredDirectory,
    escalate,
)
from srekit.flows.notify import ack_secret
from srekit.jobs.periodic import PeriodicJob
from srekit.notifiers import notifiers_of
from srekit.store import StoreEngine

__all__ = ["ESCALATION_LOCK_KEY", "EscalationJob"]

# Any constant works, as long as every replica uses it and it differs from the other locks.
ESCALATION_LOCK_KEY = 0x5E_5C_A1_A7


class EscalationJob(PeriodicJob):
    """Runs a round now and then every `interval_s`, in a daemon thread.

    `clock` gives the rounds' `now` (tests pass their own).
    """

    def __init__(
        self,
        engine: StoreEngine,
        paging: Paging,
        *,
        interval_s: float = 5.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        super().__init__(
            engine, lock_key=ESCALATION_LOCK_KEY, name="escalation job", interval_s=interval_s
        )
        self.paging = paging
        self.clock = clock
        self._closing: list[Callable[[], None]] = []

    @classmethod
    def from_settings(cls, engine: StoreEngine, settings: Settings) -> EscalationJob:
        """The job `srekit serve` runs: the store's people and rotations, every notifier the
        settings configure (closed by `stop`), links under SREKIT_PUBLIC_URL signed with
        SREKIT_ACK_LINK_SECRET (or the store's shared secret), the severities' escalation
        windows, a round every SREKIT_ESCALATION_INTERVAL_S."""
        notifiers = notifiers_of(settings)
        paging = Paging(
            directory=StoredDirectory(engine),
            send=notifiers.send,
            links=SignedLinks(
                public_url=settings.public_url,
                secret=ack_secret(engine, settings=settings),
                ttl_s=settings.ack_link_ttl_s,
            ),
            severities=settings.severity_definitions(),
        )
        job = cls(engine, paging, interval_s=settings.escalation_interval_s)
        job._closing.append(notifiers.close)
        return job

    def run_once(self, *, at: datetime | None = None) -> EscalationReport | None:
        """One round at `at` (default: the clock's now); None when another replica leads."""
        return self._led(
            lambda: escalate(self.engine, self.paging, now=at if at is not None else self.clock())
        )

    def _tick(self) -> None:
        self.run_once()

    def stop(self) -> None:
        """Stop the loop, wait for a round in progress, release the lock, close the notifiers."""
        super().stop()
        for close in self._closing:
            close()
        self._closing.clear()
