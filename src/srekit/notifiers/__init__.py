"""Paging people over email (SMTP), generic webhooks, Slack-compatible incoming webhooks and
PagerDuty's Events API v2, behind `core.ports.Notifier`.

Each transport makes one attempt and reports it as a `core.notify.Attempt`; `deliver` (a page)
and `deliver_notice` (a notice: the on-call handoff) retry by core's schedule and always
return a `core.notify.Delivery`, never raising for a delivery that failed. `Notifiers` (built
from Settings by `notifiers_of`) picks the transport of a contact's kind. What each channel
says is rendered in `core.notify`.
"""

from __future__ import annotations

from srekit.notifiers.base import Notifiers, Transport, deliver, deliver_notice
from srekit.notifiers.factory import notifiers_of
from srekit.notifiers.http import PagerDutyTransport, SlackTransport, WebhookTransport
from srekit.notifiers.smtp import SmtpTransport

__all__ = [
    "Notifiers",
    "PagerDutyTransport",
    "SlackTransport",
    "SmtpTransport",
    "Transport",
    "WebhookTransport",
    "deliver",
    "deliver_notice",
    "notifiers_of",
]
