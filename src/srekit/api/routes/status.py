"""`GET /api/v1/status`: every SLO's latest status, from the evaluator's memory."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from srekit.api.deps import ApiState, StateDep, Viewer
from srekit.api.routes.common import AUTH_ERRORS
from srekit.api.schemas import StatusOut
from srekit.core.status import SloStatus
from srekit.serialize import status_document

router = APIRouter(prefix="/api/v1", tags=["status"])


async def latest_statuses(state: ApiState, service: str | None) -> list[SloStatus]:
    """Every SLO's (or `service`'s) latest status, from the app's short-lived cache."""
    statuses = await state.statuses.get()
    return statuses if service is None else [s for s in statuses if s.service == service]


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
) -> JSONResponse:
    """Each SLO's latest status, as `srekit status --format json` prints it."""
    statuses = await latest_statuses(state, service)
    return JSONResponse([status_document(s) for s in statuses])
