"""The notifiers the settings describe, built for one use (a job, a command)."""

from __future__ import annotations

import time

from srekit.config import Settings
from srekit.core.notify import ContactKind, RetryPolicy
from srekit.notifiers.base import Clock, Notifiers, Sleep, Transport, utc_now
from srekit.notifiers.http import PagerDutyTransport, SlackTransport, WebhookTransport
from srekit.notifiers.smtp import SmtpTransport

__all__ = ["notifiers_of", "retry_policy_of"]

_BACKOFF_CAP_S = 30.0
_MAX_RETRY_AFTER_S = 120.0


def retry_policy_of(settings: Settings) -> RetryPolicy:
    """SREKIT_NOTIFY_RETRIES attempts, waits doubling from SREKIT_NOTIFY_BACKOFF_S up to 30 s,
    a server's Retry-After honoured up to 2 minutes."""
    return RetryPolicy(
        attempts=settings.notify_retries,
        base_s=settings.notify_backoff_s,
        cap_s=max(_BACKOFF_CAP_S, settings.notify_backoff_s),
        max_retry_after_s=_MAX_RETRY_AFTER_S,
    )


def notifiers_of(
    settings: Settings, *, sleep: Sleep = time.sleep, now: Clock = utc_now
) -> Notifiers:
    """Every channel: email when SREKIT_SMTP_HOST is set, the HTTP channels always (their
    targets are the contacts' own URLs and routing keys)."""
    transports: dict[ContactKind, Transport] = {
        ContactKind.WEBHOOK: WebhookTransport(
            timeout_s=settings.notify_timeout_s,
            bearer=(
                settings.notify_webhook_token.get_secret_value()
                if settings.notify_webhook_token
                else None
            ),
            now=now,
        ),
        ContactKind.SLACK: SlackTransport(timeout_s=settings.notify_timeout_s, now=now),
        ContactKind.PAGERDUTY: PagerDutyTransport(
            events_url=settings.pagerduty_events_url, timeout_s=settings.notify_timeout_s, now=now
        ),
    }
    if settings.smtp_host:
        transports[ContactKind.EMAIL] = SmtpTransport(
            host=settings.smtp_host,
            port=settings.smtp_port,
            tls=settings.smtp_tls,
            username=settings.smtp_username,
            password=(
                settings.smtp_password.get_secret_value() if settings.smtp_password else None
            ),
            from_address=settings.smtp_from,
            timeout_s=settings.smtp_timeout_s,
        )
    return Notifiers(transports, policy=retry_policy_of(settings), sleep=sleep, now=now)
