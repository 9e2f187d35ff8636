"""The srekit server: `create_app()` builds the FastAPI application behind `srekit serve`.

Routes live in `api/routes/<noun>.py`, one router each, joined here. One error handler turns
srekit's errors into HTTP answers: bad input 422 (naming the field), NotFound 404, Conflict 409,
an unreachable store 503 with Retry-After. Public without a token: `/healthz`, `/readyz`, the
API docs (`/docs`, `/openapi.json`: they describe the API, never data) and `/metrics` when
`SREKIT_METRICS_PUBLIC=true`; everything else needs a bearer token (see `api/deps.py`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from srekit import __version__
from srekit.api.cache import TtlCache
from srekit.api.deps import ApiState, StatusProvider
from srekit.api.fastpath import HotPaths
from srekit.api.gatekeeper import GateKeeper
from srekit.api.instrumentation import RequestMetrics
from srekit.config import Settings
from srekit.core.ports import IncidentRepository
from srekit.errors import Conflict, NotFound, SourceUnavailable, SpecError, StoreUnavailable
from srekit.flows.status import StoredStatuses
from srekit.jobs.deployment_recorder import DeploymentRecorder
from srekit.store import StoreEngine
from srekit.telemetry import SrekitMetrics

__all__ = ["create_app"]

log = logging.getLogger(__name__)

RETRY_AFTER_S = 5
_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _location(file: str | None, field: str | None) -> list[str | int]:
    """`documents[0]`, `spec.objectives[1].target` → `["body", "documents", 0, "spec", ...]`;
    a SpecError about a query parameter names file `query`."""
    location: list[str | int] = ["query"] if file == "query" else ["body"]
    for path in (field,) if file == "query" else (file, field):
        for name, index in _PART.findall(path or ""):
            location.append(int(index) if index else name)
    return location


def _validation(location: Sequence[str | int], message: str, kind: str) -> JSONResponse:
    """A 422 in FastAPI's own shape (`HTTPValidationError`), so every 422 reads alike."""
    return JSONResponse(
        {"detail": [{"loc": list(location), "msg": message, "type": kind}]}, status_code=422
    )


def _unavailable(message: str) -> JSONResponse:
    return JSONResponse(
        {"detail": message}, status_code=503, headers={"Retry-After": str(RETRY_AFTER_S)}
    )


async def _errors(request: Request, error: Exception) -> Response:
    """The one translation of errors to HTTP answers; a 500 means a bug, never bad input."""
    if isinstance(error, HTTPException):
        if error.status_code == 400:  # a body that is not even text (FastAPI says 400)
            return _validation(["body"], str(error.detail), "body_unreadable")
        return await http_exception_handler(request, error)
    if isinstance(error, RequestValidationError):
        return JSONResponse({"detail": _jsonable(error.errors())}, status_code=422)
    if isinstance(error, SpecError):
        return _validation(_location(error.file, error.field), error.detail, "spec_error")
    if isinstance(error, NotFound):
        return JSONResponse({"detail": str(error)}, status_code=404)
    if isinstance(error, Conflict):
        return JSONResponse({"detail": str(error).splitlines()[0]}, status_code=409)
    if isinstance(error, StoreUnavailable):  # never the database's URL or file path
        return _unavailable(error.public.splitlines()[0])
    if isinstance(error, SourceUnavailable):
        return _unavailable(str(error))
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=error)
    return JSONResponse({"detail": "internal error (logged)"}, status_code=500)


def _jsonable(value: Any) -> Any:
    """FastAPI's error list, with values JSON cannot carry (exceptions in `ctx`) as text."""
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def create_app(
    settings: Settings,
    *,
    engine: StoreEngine | None = None,
    evaluator: StatusProvider | None = None,
    metrics: SrekitMetrics | None = None,
    incidents: IncidentRepository | None = None,
    catalog_ttl_s: float = 2.0,
    status_ttl_s: float = 1.0,
) -> FastAPI:
    """The API on `engine` (built from `settings` when not given, and then disposed at exit).

    `evaluator` supplies the latest statuses (without one, the store's newest snapshots); it is
    started and stopped by its owner (`srekit serve`), not here. Statuses are cached for
    `status_ttl_s` and the gate's catalog (services, SLOs, policies) for `catalog_ttl_s`, so
    the gate and status endpoints answer from memory. `metrics` is the registry the
    evaluator reports into, shared so `/metrics` shows both. `incidents` tells the gate
    which P0/P1 incidents are open on a service (none, until srekit has incidents).
    """
    from srekit.api.routes import (
        audit,
        deployments,
        gate,
        health,
        policies,
        services,
        slos,
        status,
        teams,
        tokens,
    )
    from srekit.store.database import create_store_engine

    owns_engine = engine is None
    store = engine if engine is not None else create_store_engine(settings.effective_database_url)
    registry = metrics if metrics is not None else SrekitMetrics()
    recorder = DeploymentRecorder(store)
    provider: StatusProvider = (
        evaluator
        if evaluator is not None
        else StoredStatuses(store, max_age_s=settings.gate_max_status_age_s)
    )
    # a provider that can say cheaply whether its statuses moved is re-read only then
    statuses = TtlCache(
        provider.latest_statuses,
        ttl_s=status_ttl_s,
        version=getattr(provider, "status_version", None),
    )
    state = ApiState(
        settings=settings,
        engine=store,
        metrics=registry,
        evaluator=evaluator,
        statuses=statuses,
        gate=GateKeeper(
            engine=store,
            statuses=statuses,
            recorder=recorder,
            incidents=incidents,
            catalog_ttl_s=catalog_ttl_s,
            max_status_age_s=settings.gate_max_status_age_s,
        ),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        import gc

        gc.freeze()
        recorder.start()
        try:
            yield
        finally:
            recorder.stop()
            if owns_engine:
                store.dispose()

    app = FastAPI(
        title="srekit",
        version=__version__,
        summary="SLOs, error budgets and the deploy gate, as a JSON API.",
        description=(
            "Authenticate with `Authorization: Bearer <token>` (`srekit token create`). Roles: "
            "viewer reads; editor changes SLOs, services and teams; admin also policies and "
            "tokens; deploy asks the gate only. Errors: 401 no or bad token, 403 wrong role, "
            "404 unknown, 409 conflict, 422 bad input (naming the field), 503 store down."
        ),
        lifespan=lifespan,
        openapi_tags=[
            {"name": "gate", "description": "Deploy gate: Argo Rollouts web metric, Flagger."},
            {"name": "slos", "description": "SLO specs, their versions, status and history."},
        ],
    )
    app.state.srekit = state
    app.add_middleware(HotPaths, state=state)  # inside RequestMetrics, so it is measured
    app.add_middleware(RequestMetrics, registry=registry.registry)
    for kind in (
        HTTPException,
        RequestValidationError,
        SpecError,
        NotFound,
        Conflict,
        StoreUnavailable,
        SourceUnavailable,
    ):
        app.add_exception_handler(kind, _errors)
    app.add_exception_handler(Exception, _errors)
    for module in (health, status, gate, slos, services, teams, policies, deployments, audit):
        app.include_router(module.router)
    app.include_router(tokens.router)
    return app
