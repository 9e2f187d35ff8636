"""`GET /api/v1/alerts`: the alert instances Alertmanager delivered, newest first; with
`unrouted=true` those no route took, which srekit keeps and lists rather than drops."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from srekit.api.deps import StateDep, Viewer
from srekit.api.responses import AUTH_ERRORS
from srekit.contracts import ReceivedAlertOut, alert_document
from srekit.core.intake import AlertStatus

router = APIRouter(prefix="/api/v1/alerts", tags=["incidents"])


@router.get("", response_model=list[ReceivedAlertOut], responses=AUTH_ERRORS)
def list_alerts(
    *,
    state: StateDep,
    principal: Viewer,
    unrouted: bool = False,
    incident: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    status: Literal["firing", "resolved"] | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
) -> list[dict[str, Any]]:
    """Alert instances, newest first."""
    from srekit.flows.incidents import list_received_alerts

    alerts = list_received_alerts(
        state.engine,
        unrouted=unrouted,
        incident_id=incident,
        status=None if status is None else AlertStatus(status),
        limit=limit,
    )
    return [alert_document(alert) for alert in alerts]
