"""`/healthz` (the process answers), `/readyz` (the store answers, at the current schema) and
`/metrics` (Prometheus text: request latency and the evaluator's metrics)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from srekit.api.deps import BearerDep, StateDep, authenticate, client_address
from srekit.api.responses import AUTH_ERRORS
from srekit.api.schemas.health import HealthOut
from srekit.core.access import Role
from srekit.errors import StoreUnavailable

router = APIRouter(tags=["health"])


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
    """Prometheus metrics; a viewer token is needed unless SREKIT_METRICS_PUBLIC=true."""
    if not state.settings.metrics_public:
        await authenticate(state, credentials, Role.VIEWER, client=client_address(request))
    body, content_type = state.metrics.exposition()
    return Response(body, media_type=content_type)
