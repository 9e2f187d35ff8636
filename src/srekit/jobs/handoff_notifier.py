"""The server's handoff notifier (SREKIT_HANDOFF_NOTIFY, off by default): every
SREKIT_HANDOFF_NOTIFY_INTERVAL_S (60 s by default), each stored rotation's primary-layer
handoffs since the last round are sent to the incoming primary as the handoff checklist
(`flows.handoff.notify_handoffs`).

Each handoff is claimed in the store before it is sent, so a restarted server or a second
replica never sends it twice (at most once: a crash between the claim and the send loses that
notice). A round looks back to the last one it checked, a day at most
(`core.handoff.NOTIFY_LOOKBACK`), so a restart or a replica taking the lead catches up; a
handoff seen more than an hour late is recorded, not sent. Several replicas on PostgreSQL: the
one holding the notifier's advisory lock runs the rounds. A round that fails is logged and the
next one looks back to the last round that finished.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from srekit.config import Settings
from srekit.core.handoff import notify_since
from srekit.flows.handoff import HandoffNotified, NoticeSender, SilenceSource, notify_handoffs
from srekit.jobs.periodic import PeriodicJob
from srekit.store import StoreEngine

__all__ = ["HANDOFF_LOCK_KEY", "HandoffNotifier"]

logger = logging.getLogger(__name__)

# Any constant works, as long as every replica uses it and it differs from the other locks.
HANDOFF_LOCK_KEY = 0x5E_4A_00_FF


class HandoffNotifier(PeriodicJob):
    """Sends the handoffs as they happen, a round now and then every `interval_s`.

    `clock` gives the rounds' `now` (tests pass their own); `close` is called by `stop`
    (the notifiers the settings opened).
    """

    def __init__(
        self,
        engine: StoreEngine,
        sender: NoticeSender,
        *,
        public_url: str,
        max_status_age_s: float,
        silences: SilenceSource | None = None,
        interval_s: float = 60.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        close: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(
            engine, lock_key=HANDOFF_LOCK_KEY, name="handoff notifier", interval_s=interval_s
        )
        self.sender = sender
        self.public_url = public_url
        self.max_status_age_s = max_status_age_s
        self.silences = silences
        self.clock = clock
        self.last_checked: datetime | None = None
        self._close = close

    @classmethod
    def from_settings(
        cls, engine: StoreEngine, settings: Settings, *, silences: SilenceSource | None = None
    ) -> HandoffNotifier:
        """The notifier `srekit serve` runs: every notifier the settings configure (closed by
        `stop`), links under SREKIT_PUBLIC_URL, a round every SREKIT_HANDOFF_NOTIFY_INTERVAL_S."""
        from srekit.notifiers import notifiers_of

        notifiers = notifiers_of(settings)
        return cls(
            engine,
            notifiers,
            public_url=settings.public_url,
            max_status_age_s=settings.gate_max_status_age_s,
            silences=silences,
            interval_s=settings.handoff_notify_interval_s,
            close=notifiers.close,
        )

    def run_once(self, *, at: datetime | None = None) -> list[HandoffNotified] | None:
        """One round at `at` (default: the clock's now) over (last checked, at]; None when
        another replica leads."""
        now = at if at is not None else self.clock()
        return self._led(lambda: self._notify(now))

    def _notify(self, now: datetime) -> list[HandoffNotified]:
        done = notify_handoffs(
            self.engine,
            sender=self.sender,
            since=notify_since(self.last_checked, now=now),
            now=now,
            max_status_age_s=self.max_status_age_s,
            public_url=self.public_url,
            silences=self.silences,
        )
        self.last_checked = now
        for item in done:
            if item.stale:
                logger.warning(
                    "handoff of %s to %s at %s seen too late: recorded, not sent",
                    item.rotation,
                    item.due.member,
                    item.due.at.isoformat(),
                )
            elif item.sent is not None and not item.sent.delivered:
                logger.warning(
                    "handoff of %s to %s at %s not delivered: %s",
                    item.rotation,
                    item.due.member,
                    item.due.at.isoformat(),
                    item.sent.problem or "no contact method received it",
                )
        return done

    def _tick(self) -> None:
        self.run_once()

    def stop(self) -> None:
        """Stop the loop, wait for a round in progress, release the lock, close the notifiers."""
        super().stop()
        if self._close is not None:
            self._close()
            self._close = None
