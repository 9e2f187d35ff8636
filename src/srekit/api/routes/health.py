"""`/healthz` (the process answers), `/readyz` (the store answers, at the current schema) and
`/metrics` (Prometheus text: request latency, the evaluator's metrics and every SLO's figures)."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from srekit.api.deps import BearerDep, StateDep, authenticate, client_address
from srekit.api.responses import AUTH_ERRORS
from srekit.api.schemas.health import HealthOut
from srekit.core.access import Role
from srekit.errors import SrekitError, StoreUnavailable

router = APIRouter(tags=["health"])
logger = logging.getLogger(__name__)


@router.get("/healthz", response_model=HealthOut)
async def healthz() -> HealthOut:
    """The process is up (no I/O: a liveness probe must not fail because the store does)."""
    return HealthOut(status="ok")


@router.get(
    "/readyz",
    response_model=HealthOut,
    responses={503: {"model": HealthOut, "description": "not ready; the reason in detail"}},
)
def readyz(state: StateDep, response: Response) -> HealthOut:
    """Ready when the store answers and its schema is at this srekit's migration head."""
    from srekit.store.database import current_revision, head_revision

    try:
        current = current_revision(state.engine)
    except StoreUnavailable as error:
        response.status_code = 503
        response.headers["Retry-After"] = "5"
        return HealthOut(status="unavailable", detail=error.public.splitlines()[0])
    head = head_revision()
    if current != head:
        response.status_code = 503
        response.headers["Retry-After"] = "5"
        return HealthOut(
            status="unavailable",
            revision=current,
            detail=f"schema at {current or 'none'}, srekit needs {head}: run `srekit db upgrade`",
        )
    return HealthOut(status="ready", revision=current)


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {"content": {"text/plain": {}}, "description": "Prometheus text format"},
        **AUTH_ERRORS,
    },
)
async def metrics(state: StateDep, credentials: BearerDep, request: Request) -> Response:
    """Prometheus metrics; a viewer token is needed unless SREKIT_METRICS_PUBLIC=true.

    The SLOs' figures come from the same cached statuses `/api/v1/status` serves; when those
    cannot be read, the rest is still served, with `srekit_slo_statuses_up 0`.
    """
    if not state.settings.metrics_public:
        await authenticate(state, credentials, Role.VIEWER, client=client_address(request))
    body, content_type = state.metrics.exposition()
    try:
        statuses = await state.statuses.get()
        slos = state.metrics.cached_slo_exposition(statuses)
        if slos is None:  # rendered off the event loop: a thousand SLOs take tens of ms
            slos = await run_in_threadpool(state.metrics.slo_exposition, statuses)
    except SrekitError as error:
        logger.warning("/metrics without SLO figures: %s", str(error).partition("\n")[0])
        slos = state.metrics.slo_exposition(None)
    except Exception:  # a scrape that fails whole would hide the evaluator's metrics too
        logger.exception("/metrics without SLO figures: the statuses could not be exported")
        slos = state.metrics.slo_exposition(None)
    return Response(body + slos, media_type=content_type)
