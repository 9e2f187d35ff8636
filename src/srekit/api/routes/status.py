"""`GET /api/v1/status`: every SLO's latest status, from the evaluator's memory."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response

from srekit.api.deps import ApiState, StateDep, Viewer
from srekit.api.routes.common import AUTH_ERRORS
from srekit.contracts import StatusOut, status_document
from srekit.core.status import SloStatus

router = APIRouter(prefix="/api/v1", tags=["status"])


async def latest_statuses(state: ApiState, service: str | None) -> list[SloStatus]:
    """Every SLO's (or `service`'s) latest status, from the app's short-lived cache."""
    statuses = await state.statuses.get()
    return statuses if service is None else [s for s in statuses if s.service == service]


async def status_response(state: ApiState, service: str | None) -> Response:
    """The status JSON, rendered once per refresh of the statuses and per `service` filter.

    Dashboards poll this; rendering 100 statuses costs milliseconds, serving bytes does not.
    """
    statuses = await state.statuses.get()
    key = (id(statuses), service)
    cached = state.rendered.get(key)
    if cached is None:
        chosen = statuses if service is None else [s for s in statuses if s.service == service]
        body = json.dumps(
            [status_document(s) for s in chosen],
            ensure_ascii=False,
            allow_nan=False,
            separators=(",", ":"),
        ).encode()
        if len(state.rendered) > 256 or any(k[0] != id(statuses) for k in state.rendered):
            state.rendered.clear()  # a new refresh: what was rendered before is out of date
        state.rendered[key] = cached = (statuses, body)
    return Response(cached[1], media_type="application/json")


@router.get(
    "/status",
    response_model=list[StatusOut],
    response_class=JSONResponse,
    responses=AUTH_ERRORS,
)
async def status(
    state: StateDep,
    principal: Viewer,
    service: Annotated[str | None, Query(max_length=200, description="only this service")] = None,
) -> Response:
    """Each SLO's latest status, as `srekit status --format json` prints it."""
    return await status_response(state, service)
