"""Delivering a page or a notice: one transport per channel, retried by core's schedule.

`deliver` (a page) and `deliver_notice` (a notice, such as the on-call handoff) never raise
for a failed delivery: a message that could not be sent is a result the caller records and
acts on (the next contact method, the next person), not an error. Both retry in one loop.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from types import TracebackType
from typing import Protocol, Self

from srekit.core.instant import format_instant
from srekit.core.notify import (
    Attempt,
    ContactKind,
    ContactMethod,
    Delivery,
    Message,
    Notice,
    Page,
    RetryPolicy,
    backoff_delays,
    delay_before_retry,
    delivery_of,
    notice_refusal,
    redacted_target,
)

__all__ = ["Clock", "Notifiers", "Sleep", "Transport", "deliver", "deliver_notice", "utc_now"]

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
    """One channel's sender: a single attempt at a page or a notice, reported; never raises
    for a failure it can name (an unexpected exception is still caught by `deliver`)."""

    def attempt(self, message: Message, contact: ContactMethod) -> Attempt: ...

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
        return _unconfigured(contact, now)
    seed = f"{page.incident_id}:{page.person}:{page.step}:{contact.kind.value}"
    delivery = _retried(transport, page, contact, seed=seed, policy=policy, sleep=sleep, now=now)
    log.info(
        "page of incident %d to %s via %s: %s",
        page.incident_id,
        page.person,
        contact.kind.value,
        "delivered" if delivery.delivered else delivery.detail,
    )
    return delivery


def deliver_notice(
    notice: Notice,
    contact: ContactMethod,
    *,
    transport: Transport | None,
    policy: RetryPolicy,
    sleep: Sleep = time.sleep,
    now: Clock = utc_now,
) -> Delivery:
    """Send `notice` to `contact` as `deliver` sends a page, with the same retries. A channel
    that carries no notices (`core.notify.notice_refusal`: PagerDuty) is not tried: 0
    attempts, the Delivery saying why."""
    refusal = notice_refusal(notice, contact)
    if refusal is not None:
        return Delivery(contact.kind, redacted_target(contact), False, 0, refusal, now())
    if transport is None:
        return _unconfigured(contact, now)
    seed = f"{notice.kind}:{notice.person}:{format_instant(notice.at)}:{contact.kind.value}"
    delivery = _retried(transport, notice, contact, seed=seed, policy=policy, sleep=sleep, now=now)
    log.info(
        "%s notice to %s via %s: %s",
        notice.kind,
        notice.person,
        contact.kind.value,
        "delivered" if delivery.delivered else delivery.detail,
    )
    return delivery


def _unconfigured(contact: ContactMethod, now: Clock) -> Delivery:
    return Delivery(
        contact.kind, redacted_target(contact), False, 0, _UNCONFIGURED[contact.kind], now()
    )


def _retried(
    transport: Transport,
    message: Message,
    contact: ContactMethod,
    *,
    seed: str,
    policy: RetryPolicy,
    sleep: Sleep,
    now: Clock,
) -> Delivery:
    """The one retry loop: attempts until delivered, refused for good, or out of tries, with
    waits from `core.notify.backoff_delays` jittered by `seed` (so that messages sent
    together do not retry together)."""
    delays = backoff_delays(policy.attempts, policy.base_s, policy.cap_s, seed=seed)
    attempts: list[Attempt] = []
    while True:
        try:
            attempt = transport.attempt(message, contact)
        except Exception as error:  # a bug in a transport must not stop an escalation
            log.exception("sending through %s failed unexpectedly", contact.kind.value)
            attempt = Attempt(False, f"unexpected {type(error).__name__}: {error}"[:300])
        attempts.append(attempt)
        wait = delay_before_retry(attempt, tried=len(attempts), delays=delays, policy=policy)
        if wait is None:
            break
        sleep(wait)
    return delivery_of(contact, attempts, at=now(), policy=policy)


class Notifiers:
    """The `core.ports.Notifier` of srekit: a transport per contact kind, one retry policy;
    `send` pages, `send_notice` sends a notice.

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

    def send_notice(self, notice: Notice, contact: ContactMethod) -> Delivery:
        """Deliver `notice` to `contact` (see `deliver_notice`)."""
        return deliver_notice(
            notice,
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
