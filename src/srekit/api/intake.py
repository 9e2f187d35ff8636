"""Alertmanager's webhook as its route and the short road (`api.fastpath`) both receive it: a
parsed payload in, its notification stored through the intake queue, what it changed out, and
the silences of the incidents it resolved expired after the answer is sent."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from starlette.background import BackgroundTask

from srekit.alertmanager.webhook import WebhookIn, received_alerts
from srekit.api.deps import ApiState
from srekit.api.schemas.alertmanager import IntakeOut
from srekit.core.ports import Silencer
from srekit.errors import SrekitError
from srekit.flows.intake import Notification
from srekit.store import StoreEngine

__all__ = ["receive_webhook", "silences_expiry"]

log = logging.getLogger(__name__)


async def receive_webhook(state: ApiState, payload: WebhookIn, body: bytes) -> IntakeOut:
    """Store the notification (answered after the commit that stores it, or with its error)
    and say what it changed; the gate hears of incidents opened or resolved."""
    notification = Notification(
        receiver=payload.receiver,
        status=payload.status,
        group_key=payload.group_key,
        alerts=received_alerts(payload),
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


def silences_expiry(state: ApiState, answer: IntakeOut) -> BackgroundTask | None:
    """What runs after the answer is sent, so Alertmanager's delivery never waits on
    Alertmanager's own API: expiring the silences of the incidents the notification resolved
    (`flows.silences.expire_silences`). None when it resolved none, or no Alertmanager is set."""
    if not answer.incidents_resolved or state.silencer is None:
        return None
    return BackgroundTask(
        _expire_silences, state.engine, state.silencer, list(answer.incidents_resolved)
    )


def _expire_silences(engine: StoreEngine, silencer: Silencer, incident_ids: list[int]) -> None:
    """What fails is logged and left to the silence watch, which tries again."""
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
