"""`POST /api/v1/alertmanager`: Alertmanager's webhook, into alerts and incidents.

The answer comes after the commit: a 200 means the notification is stored. Retries, re-sent
groups and an HA pair's twin deliveries change nothing more (`flows.intake`). A payload srekit
cannot read is a 422 naming the field: Alertmanager does not retry a 4xx, so a malformed
payload is refused once, not forever. Incidents the notification resolved have their
Alertmanager silences expired after the answer is sent (`flows.silences.expire_silences`), so
Alertmanager's delivery never waits on Alertmanager's own API.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from fastapi import APIRouter, BackgroundTasks, Request
from starlette.concurrency import run_in_threadpool

from srekit.alertmanager.webhook import received_alerts
from srekit.api.deps import Ingester, StateDep
from srekit.api.responses import BODY_ERRORS, WRITE_ERRORS
from srekit.api.schemas.alertmanager import ALERTMANAGER_PATH, IntakeOut, WebhookIn
from srekit.core.ports import Silencer
from srekit.errors import SrekitError
from srekit.store import StoreEngine

router = APIRouter(prefix=ALERTMANAGER_PATH, tags=["incidents"])
log = logging.getLogger(__name__)


@router.post("", response_model=IntakeOut, responses={**WRITE_ERRORS, **BODY_ERRORS})
async def receive_alerts(
    payload: WebhookIn,
    request: Request,
    state: StateDep,
    principal: Ingester,
    background: BackgroundTasks,
) -> IntakeOut:
    """Store the notification's alerts; open, join and resolve incidents as the routing says
    (the `default` AlertRouting, or srekit's built-in one). Needs an `ingest` token."""
    from srekit.flows.intake import Notification, receive_notification

    body = await request.body()
    notification = Notification(
        receiver=payload.receiver,
        status=payload.status,
        group_key=payload.group_key,
        alerts=received_alerts(payload),
        body=body,
    )
    result = await run_in_threadpool(
        receive_notification,
        state.engine,
        notification,
        routing_of=state.routing_of,
        now=datetime.now(UTC),
    )
    if result.incidents_opened or result.incidents_resolved:
        state.gate.incidents_changed()
    if result.incidents_resolved and state.silencer is not None:
        background.add_task(
            _expire_silences, state.engine, state.silencer, list(result.incidents_resolved)
        )
    return IntakeOut(
        duplicate=result.duplicate,
        new_alerts=result.new_alerts,
        resolved_alerts=result.resolved_alerts,
        unrouted_alerts=result.unrouted_alerts,
        incidents_opened=list(result.incidents_opened or []),
        incidents_resolved=list(result.incidents_resolved or []),
    )


def _expire_silences(engine: StoreEngine, silencer: Silencer, incident_ids: list[int]) -> None:
    """Expire the silences of the incidents a notification resolved, after the answer; what
    fails is logged and left to the silence watch, which tries again."""
    from srekit.flows.silences import SILENCE_ACTOR, expire_silences

    try:
        expire_silences(
            engine,
            silencer,
            actor=SILENCE_ACTOR,
            now=datetime.now(UTC),
            incident_ids=incident_ids,
        )
    except SrekitError as error:
        log.warning("silences of incident(s) %s not expired yet: %s", incident_ids, error)
