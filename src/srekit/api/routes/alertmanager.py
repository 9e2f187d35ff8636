"""`POST /api/v1/alertmanager`: Alertmanager's webhook, into alerts and incidents.

The answer comes after the commit: a 200 means the notification is stored. Notifications
arriving together are stored together, in one transaction and one commit
(`jobs.intake_queue`); each still gets its own answer. Retries, re-sent groups and an HA
pair's twin deliveries change nothing more (`flows.intake`). A payload srekit cannot read is
a 422 naming the field: Alertmanager does not retry a 4xx, so a malformed payload is refused
once, not forever. Incidents the notification resolved have their Alertmanager silences
expired after the answer is sent (`flows.silences.expire_silences`), so Alertmanager's
delivery never waits on Alertmanager's own API. `api.fastpath` answers good payloads with good
tokens without FastAPI's machinery, as this route does (`api.intake`).
"""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Request

from srekit.api.deps import Ingester, StateDep
from srekit.api.intake import receive_webhook, silences_expiry
from srekit.api.responses import BODY_ERRORS, WRITE_ERRORS
from srekit.api.schemas.alertmanager import ALERTMANAGER_PATH, IntakeOut, WebhookIn

router = APIRouter(prefix=ALERTMANAGER_PATH, tags=["incidents"])


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
    answer = await receive_webhook(state, payload, await request.body())
    expiry = silences_expiry(state, answer)
    if expiry is not None:
        background.add_task(expiry)
    return answer
