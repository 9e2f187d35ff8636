"""`POST /api/v1/alertmanager`: Alertmanager's webhook, into alerts and incidents.

The answer comes after the commit: a 200 means the notification is stored. Notifications
arriving together are stored together, in one transaction and one commit
(`jobs.intake_queue`); each still gets its own answer. Retries, re-sent
groups and an HA pair's twin deliveries change nothing more (`flows.intake`). A payload srekit
cannot read is a 422 naming the field: Alertmanager does not retry a 4xx, so a malformed
payload is refused once, not forever.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from fastapi import APIRouter, Request

from srekit.api.deps import Ingester, StateDep
from srekit.api.responses import BODY_ERRORS, WRITE_ERRORS
from srekit.api.schemas.alertmanager import ALERTMANAGER_PATH, IntakeOut, WebhookIn
from srekit.core.intake import AlertStatus, ReceivedAlert

router = APIRouter(prefix=ALERTMANAGER_PATH, tags=["incidents"])


@router.post("", response_model=IntakeOut, responses={**WRITE_ERRORS, **BODY_ERRORS})
async def receive_alerts(
    payload: WebhookIn, request: Request, state: StateDep, principal: Ingester
) -> IntakeOut:
    """Store the notification's alerts; open, join and resolve incidents as the routing says
    (the `default` AlertRouting, or srekit's built-in one). Needs an `ingest` token."""
    from srekit.flows.intake import Notification

    body = await request.body()
    notification = Notification(
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
    result = await asyncio.wrap_future(state.intake.submit(notification, now=datetime.now(UTC)))
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
