"""Alertmanager's webhook as its route and the short road (`api.fastpath`) both receive it: a
parsed payload in, its notification stored through the intake queue, what it changed out."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from srekit.api.deps import ApiState
from srekit.api.schemas.alertmanager import IntakeOut, WebhookIn
from srekit.core.intake import AlertStatus, ReceivedAlert
from srekit.flows.intake import Notification

__all__ = ["notification_of", "receive_webhook"]


def notification_of(payload: WebhookIn, body: bytes) -> Notification:
    """The flow's notification: the payload's alerts, and the body as received."""
    return Notification(
        receiver=payload.receiver,
        status=payload.status,
        group_key=payload.group_key,
        alerts=tuple(
            ReceivedAlert(
                fingerprint=alert.fingerprint,
                status=AlertStatus(alert.status),
                starts_at=alert.starts_at,
                ends_at=alert.ends_at,
                labels=alert.labels,
                annotations=alert.annotations,
                generator_url=alert.generator_url,
            )
            for alert in payload.alerts
        ),
        body=body,
    )


async def receive_webhook(state: ApiState, payload: WebhookIn, body: bytes) -> IntakeOut:
    """Store the notification (after the commit that stores it, or with its error) and say
    what it changed; the gate hears of incidents opened or resolved."""
    future = state.intake.submit(notification_of(payload, body), now=datetime.now(UTC))
    result = await asyncio.wrap_future(future)
    if result.incidents_opened or result.incidents_resolved:
        state.gate.incidents_changed()
    return IntakeOut(
        duplicate=result.duplicate,
        new_alerts=result.new_alerts,
        resolved_alerts=result.resolved_alerts,
        unrouted_alerts=result.unrouted_alerts,
        incidents_opened=list(result.incidents_opened or []),
        incidents_resolved=list(result.incidents_resolved or []),
    )
