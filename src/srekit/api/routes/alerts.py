"""`GET /api/v1/alerts`: the alert instances Alertmanager delivered, newest first; with
`unrouted=true` those no route took, which srekit keeps and lists rather than drops.
`GET /api/v1/alerts/report`: which alert rules are worth waking up for (`core.alert_quality`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from srekit.api.deps import StateDep, Viewer
from srekit.api.responses import AUTH_ERRORS
from srekit.contracts import (
    AlertQualityOut,
    ReceivedAlertOut,
    alert_document,
    alert_quality_document,
)
from srekit.core.intake import AlertStatus
from srekit.core.window import parse_duration
from srekit.errors import SpecError

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


_DURATION = r"^[0-9a-z.]+$"
#: The report's default period: four weekly shifts ending now.
DEFAULT_PERIOD = timedelta(days=28)


def _seconds(value: str, name: str) -> int:
    try:
        return parse_duration(value)
    except ValueError as error:
        raise SpecError(str(error), file="query", field=name) from None


@router.get("/report", response_model=AlertQualityOut, responses=AUTH_ERRORS)
def report(
    *,
    state: StateDep,
    principal: Viewer,
    start: Annotated[
        datetime | None, Query(alias="from", description="RFC 3339; default: 28 days before to")
    ] = None,
    end: Annotated[datetime | None, Query(alias="to", description="RFC 3339; default: now")] = None,
    service: Annotated[str | None, Query(max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")] = None,
    auto_resolve_window: Annotated[
        str,
        Query(
            max_length=32,
            pattern=_DURATION,
            description="an alert over this soon, before any acknowledgement, was a false alarm",
        ),
    ] = "5m",
    shift: Annotated[
        str,
        Query(
            max_length=32,
            pattern=_DURATION,
            description="the on-call shift length: pages per shift",
        ),
    ] = "7d",
) -> dict[str, Any]:
    """Per alert rule, noisiest first: fires, actionable and false-positive rates, refires,
    time to acknowledge (median, p90) and resolve (mean), pages per shift, and the targets
    met or missed. 422 for a period that ends before it starts."""
    from srekit.flows.alert_quality import stored_alert_quality

    for moment, label in ((start, "from"), (end, "to")):
        if moment is not None and moment.tzinfo is None:
            raise SpecError("expected a time zone (Z or +02:00)", file="query", field=label)
    until = end or datetime.now(UTC)
    since = start or until - DEFAULT_PERIOD
    figures = stored_alert_quality(
        state.engine,
        start=since,
        end=until,
        service=service,
        auto_resolve_s=_seconds(auto_resolve_window, "auto_resolve_window"),
        shift_s=_seconds(shift, "shift"),
    )
    return alert_quality_document(figures, service=service)
