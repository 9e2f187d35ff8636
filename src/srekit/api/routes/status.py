"""`GET /api/v1/status`: every SLO's latest status, from the evaluator's memory."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response

from srekit.api.deps import StateDep, Viewer
from srekit.api.responses import AUTH_ERRORS
from srekit.api.statuses import status_response
from srekit.contracts import StatusOut

router = APIRouter(prefix="/api/v1", tags=["status"])


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
