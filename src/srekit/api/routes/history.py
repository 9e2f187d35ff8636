"""The SLO history the dashboard charts: `/api/v1/slos/{service}/{name}/history` (series
downsampled to a pixel width), `/overlays` (deploys, gate denials, incidents, alerts over the
same range) and `/api/v1/history/heatmap` (budget spent per SLO per day).

Ranges are `[from, to)`, RFC 3339 with a time zone; `to` defaults to now and `from` to 30 days
before it. A range longer than 400 days, one that ends before it starts, or a width outside
10..4000 is a 422 naming the parameter.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from srekit.api.deps import StateDep, Viewer
from srekit.api.responses import AUTH_ERRORS, READ_ERRORS, ChartJSONResponse
from srekit.api.schemas.base import StoredName
from srekit.contracts import (
    HeatmapOut,
    HistoryOut,
    OverlaysOut,
    heatmap_document,
    history_document,
    overlays_document,
)
from srekit.errors import SpecError

router = APIRouter(prefix="/api/v1", tags=["history"])

MAX_RANGE = timedelta(days=400)
DEFAULT_RANGE = timedelta(days=30)

From = Annotated[
    datetime | None, Query(alias="from", description="RFC 3339; default: 30 days before `to`")
]
To = Annotated[datetime | None, Query(alias="to", description="RFC 3339; default: now")]


def _range(
    start: datetime | None, end: datetime | None, now: datetime
) -> tuple[datetime, datetime]:
    """`[from, to)` in UTC, checked: aware, ordered, at most 400 days (SpecError names which)."""
    for moment, label in ((start, "from"), (end, "to")):
        if moment is not None and moment.tzinfo is None:
            raise SpecError("expected a time zone (Z or +02:00)", file="query", field=label)
    try:
        stop = (end or now).astimezone(UTC)
        begin = start.astimezone(UTC) if start is not None else stop - DEFAULT_RANGE
    except OverflowError as error:  # year 1 shifted to UTC, or 30 days before it
        raise SpecError(
            "expected a time within years 1..9999 in UTC, and a `to` 30 days after year 1",
            file="query",
            field="from" if start is not None else "to",
        ) from error
    if not begin < stop:
        raise SpecError("expected `from` before `to`", file="query", field="from")
    if stop - begin > MAX_RANGE:
        raise SpecError("expected a range of at most 400 days", file="query", field="from")
    return begin, stop


@router.get(
    "/slos/{service}/{name}/history",
    response_model=HistoryOut,
    response_class=ChartJSONResponse,
    responses=READ_ERRORS,
)
def slo_history(
    *,
    service: StoredName,
    name: StoredName,
    state: StateDep,
    principal: Viewer,
    start: From = None,
    end: To = None,
    width: Annotated[int, Query(ge=10, le=4000, description="buckets (chart pixels)")] = 600,
) -> JSONResponse:
    """The SLO's SLI, remaining budget, burn rates and event counts over `[from, to)`, each cut
    into `width` buckets holding min, max, first and last (M4), with the ideal budget line
    and the burn-down of the window ending at `to`."""
    from srekit.flows.history import slo_history_chart

    now = datetime.now(UTC)
    begin, stop = _range(start, end, now)
    chart = slo_history_chart(
        state.engine,
        service=service,
        name=name,
        start=begin,
        end=stop,
        width=width,
        now=now,
        raw_s=state.settings.history_raw_s,
    )
    return ChartJSONResponse(history_document(chart))


@router.get(
    "/slos/{service}/{name}/overlays",
    response_model=OverlaysOut,
    response_class=JSONResponse,
    responses=READ_ERRORS,
)
def slo_overlays(
    *,
    service: StoredName,
    name: StoredName,
    state: StateDep,
    principal: Viewer,
    start: From = None,
    end: To = None,
) -> JSONResponse:
    """Deploys (allowed and denied), incidents on the service and the SLO's alerts that fall in
    (or overlap) `[from, to)`, oldest first."""
    from srekit.flows.history import slo_overlays

    begin, stop = _range(start, end, datetime.now(UTC))
    overlays = slo_overlays(state.engine, service=service, name=name, start=begin, end=stop)
    return JSONResponse(
        overlays_document(overlays, service=service, slo=name, start=begin, end=stop)
    )


@router.get(
    "/history/heatmap",
    response_model=HeatmapOut,
    response_class=ChartJSONResponse,
    responses=AUTH_ERRORS,
)
def heatmap(
    state: StateDep,
    principal: Viewer,
    days: Annotated[int, Query(ge=1, le=400, description="the last this many UTC days")] = 30,
) -> ChartJSONResponse:
    """Per SLO, the share of its window's budget each day spent (today up to its last
    rolled-up hour)."""
    from srekit.flows.history import budget_heatmap

    moments, rows = budget_heatmap(state.engine, days=days, now=datetime.now(UTC))
    return ChartJSONResponse(heatmap_document(moments, rows))
