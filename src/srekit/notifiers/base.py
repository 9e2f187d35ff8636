"""Delivering a page: one transport per channel, retried by core's schedule.

`deliver` never raises for a failed delivery: a page that could not be sent is a result the
escalation records and acts on (the next contact method, the next person), not an error.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from types import TracebackType
from typing import Protocol, Self

from srekit.core.notify import (
    Attempt,
    ContactKind,
    ContactMethod,
    Delivery,
    Page,
    RetryPolicy,
    backoff_delays,
    delay_before_retry,
    delivery_of,
    redacted_target,
)

__all__ = ["Clock", "Notifiers", "Sleep", "Transport", "deliver", "utc_now"]

log = logging.getLogger(__name__)

Sleep = Callable[[float], None]
Clock = Callable[[], datetime]

_UNCONFIGURED = {
    ContactKind.EMAIL: "no SMTP server is configured (SREKIT_SMTP_HOST)",
    ContactKind.WEBHOOK: "webhooks are not enabled here",
    ContactKind.SLACK: "Slack webhooks are not enabled here",
    ContactKind.PAGERDUTY: "PagerDuty is not enabled here",
}


def utc_now() -> datetime:
    return datetime.now(UTC)


class Transport(Protocol):
    """One channel's sender: a single attempt, reported; never raises for a failure it can
    name (an unexpected exception is still caught by `deliver`)."""

    def attempt(self, page: Page, contact: ContactMethod) -> Attempt: ...

    def close(self) -> None: ...


def deliver(
    page: Page,
    contact: ContactMethod,
    *,
    transport: Transport | None,
    policy: RetryPolicy,
    sleep: Sleep = time.sleep,
    now: Clock = utc_now,
) -> Delivery:
    """Send `page` to `contact` through `transport`, retrying what may succeed later, and
    return the Delivery. No transport (the channel is not configured): not delivered, 0
    attempts. Waits come from `core.notify.backoff_delays`, jittered by the page and contact
    so that pages sent together do not retry together; `sleep` is injectable for tests."""
    if transport is None:
        return Delivery(
            contact.kind, redacted_target(contact), False, 0, _UNCONFIGURED[contact.kind], now()
        )
    seed = f"{page.incident_id}:{page.person}:{page.step}:{contact.kind.value}"
    delays = backoff_delays(policy.attempts, policy.base_s, policy.cap_s, seed=seed)
    attempts: list[Attempt] = []
    while True:
        try:
            attempt = transport.attempt(page, contact)
        except Exception as error:  # a bug in a transport must not stop an escalation
            log.exception("paging through %s failed unexpectedly", contact.kind.value)
            attempt = Attempt(False, f"unexpected {type(error).__name__}: {error}"[:300])
        attempts.append(attempt)
        wait = delay_before_retry(attempt, tried=len(attempts), delays=delays, policy=policy)
        if wait is None:
            break
        sleep(wait)
    delivery = delivery_of(contact, attempts, at=now(), policy=policy)
    log.info(
        "page of incident %d to %s via %s: %s",
        page.incident_id,
        page.person,
        contact.kind.value,
        "delivered" if delivery.delivered else delivery.detail,
    )
    return delivery


class Notifiers:
    """The `core.ports.Notifier` of srekit: a transport per contact kind, one retry policy.

    Close it (or use it as a context manager) to release the HTTP connections.
    """

    def __init__(
        self,
        transports: Mapping[ContactKind, Transport],
        *,
        policy: RetryPolicy,
        sleep: Sleep = time.sleep,
        now: Clock = utc_now,
    ) -> None:
        self.transports = dict(transports)
        self.policy = policy
        self.sleep = sleep
        self.now = now

    def send(self, page: Page, contact: ContactMethod) -> Delivery:
        """Deliver `page` to `contact` (see `deliver`)."""
        return deliver(
            page,
            contact,
            transport=self.transports.get(contact.kind),
            policy=self.policy,
            sleep=self.sleep,
            now=self.now,
        )

    def close(self) -> None:
        for transport in self.transports.values():
            transport.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
