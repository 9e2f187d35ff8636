"""The srekit server: `create_app()` builds the FastAPI application behind `srekit serve`.

Routes live in `api/routes/<noun>.py`, one router each, joined here. One error handler turns
srekit's errors into HTTP answers: bad input 422 (naming the field), NotFound 404, Conflict 409,
an unreachable store, SLI source or Alertmanager 503 with Retry-After; `api/guard.py` checks
tokens before bodies are read and refuses bodies over `max_body_bytes` (413). Public without a
token: `/healthz`, `/readyz`, the API docs (`/docs`, `/openapi.json`: they describe the API,
never data) and `/metrics` when `SREKIT_METRICS_PUBLIC=true`; `/api/v1/incidents/{id}/ack`
takes the signed token of a page's link instead (`api/routes/ack_links.py`); everything else
needs a bearer token (see `api/deps.py`). The dashboard (`srekit.web`, mounted last) serves
its pages under `/ui/` behind its own login and session cookie; `/` leads there.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from srekit import __version__
from srekit.api.cache import TtlCache
from srekit.api.deps import ApiState, Refused, StatusProvider
from srekit.api.docs import add_docs
from srekit.api.fastpath import HotPaths
from srekit.api.gatekeeper import GateKeeper
from srekit.api.guard import RequestGuard
from srekit.api.instrumentation import RequestMetrics
from srekit.config import Settings
from srekit.core.load_gate import LoadTestPolicy
from srekit.core.ports import IncidentRepository, Silencer
from srekit.errors import (
    Conflict,
    NotFound,
    NotifierUnavailable,
    SourceUnavailable,
    SpecError,
    StoreUnavailable,
)
from srekit.flows.incidents import StoredIncidents
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
    """The one translation of errors to HTTP answers; a 500 means a bug, never bad input.

    Total: whatever the input, building the answer cannot fail (a 422 echoes only small
    JSON-safe values); a refusal is logged as one line, without a traceback.
    """
    try:
        response = await _answer(request, error)
    except Exception:
        log.exception("the error handler failed on %s %s", request.method, request.url.path)
        return JSONResponse({"detail": "internal error (logged)"}, status_code=500)
    if 400 <= response.status_code < 500:
        log.info(
            "refused %s %s: %d %s",
            request.method,
            request.url.path[:_TEXT_LIMIT],
            response.status_code,
            _reason(error),
        )
    return response


async def _answer(request: Request, error: Exception) -> Response:
    if isinstance(error, Refused):
        return error.response()
    if isinstance(error, HTTPException):
        if error.status_code == 400:  # a body that is not even text (FastAPI says 400)
            return _validation(["body"], str(error.detail), "body_unreadable")
        return await http_exception_handler(request, error)
    if isinstance(error, RequestValidationError):
        return JSONResponse({"detail": _safe_errors(error.errors())}, status_code=422)
    if isinstance(error, SpecError):
        return _validation(
            _location(error.file, error.field), _text(error.detail, 2000), "spec_error"
        )
    if isinstance(error, NotFound):
        return JSONResponse({"detail": _text(str(error), 2000)}, status_code=404)
    if isinstance(error, Conflict):
        return JSONResponse({"detail": str(error).splitlines()[0]}, status_code=409)
    if isinstance(error, StoreUnavailable):  # never the database's URL or file path
        return _unavailable(error.public.splitlines()[0])
    if isinstance(error, SourceUnavailable | NotifierUnavailable):
        return _unavailable(str(error))
    log.error(
        "unhandled error on %s %s", request.method, request.url.path[:_TEXT_LIMIT], exc_info=error
    )
    return JSONResponse({"detail": "internal error (logged)"}, status_code=500)


_TEXT_LIMIT = 200  # characters of an input value echoed in a 422, or of a log line's reason
_ERRORS_LIMIT = 20  # validation errors listed in a 422
_LOC_LIMIT = 32  # parts of an error's location


def _text(value: object, limit: int = _TEXT_LIMIT) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _echoable(value: Any) -> bool:
    """Small JSON-safe scalars only: never a container, a non-finite number or a long text."""
    if value is None or isinstance(value, bool):
        return True
    if isinstance(value, int):
        return -(2**53) <= value <= 2**53
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, str) and len(value) <= _TEXT_LIMIT


def _safe_errors(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """FastAPI's error list as JSON can carry it, whatever the input was: `loc`, `msg` and
    `type` as text, `input` and `ctx` values only when `_echoable`, at most `_ERRORS_LIMIT`."""
    safe: list[dict[str, Any]] = []
    for error in list(errors)[:_ERRORS_LIMIT]:
        if not isinstance(error, Mapping):
            continue
        loc = error.get("loc", ())
        entry: dict[str, Any] = {
            "type": _text(error.get("type", "value_error"), 80),
            "loc": [
                part if isinstance(part, int) and _echoable(part) else _text(part, 80)
                for part in (loc if isinstance(loc, (list, tuple)) else [loc])[:_LOC_LIMIT]
            ],
            "msg": _text(error.get("msg", ""), 1000),
        }
        if "input" in error and _echoable(error["input"]):
            entry["input"] = error["input"]
        context = error.get("ctx")
        if isinstance(context, Mapping):
            entry["ctx"] = {
                _text(key, 80): value if _echoable(value) else _text(value)
                for key, value in list(context.items())[:_LOC_LIMIT]
            }
        safe.append(entry)
    return safe


def _reason(error: Exception) -> str:
    """What a log line says of a refusal: never the input itself."""
    if isinstance(error, RequestValidationError):
        found = _safe_errors(error.errors()[:1])
        first = found[0] if found else {"type": "", "loc": []}
        where = ".".join(str(part) for part in first["loc"])
        return _text(f"{len(error.errors())} invalid: {first['type']} at {where}")
    if isinstance(error, HTTPException):
        return _text(error.detail)
    return _text(f"{type(error).__name__}: {str(error).partition(chr(10))[0]}")


def create_app(
    settings: Settings,
    *,
    engine: StoreEngine | None = None,
    evaluator: StatusProvider | None = None,
    metrics: SrekitMetrics | None = None,
    incidents: IncidentRepository | None = None,
    silencer: Silencer | None = None,
    catalog_ttl_s: float = 2.0,
    status_ttl_s: float = 1.0,
) -> FastAPI:
    """The API on `engine` (built from `settings` when not given, and then disposed at exit).

    `evaluator` supplies the latest statuses (without one, the store's newest snapshots); it is
    started and stopped by its owner (`srekit serve`), not here. Statuses are cached for
    `status_ttl_s` and the gate's catalog (services, SLOs, policies) for `catalog_ttl_s`, so
    the gate and status endpoints answer from memory. `metrics` is the registry the
    evaluator reports into, shared so `/metrics` shows both. `incidents` tells the gate
    which P0/P1 incidents are open on a service (by default, the store's). `silencer` is the
    Alertmanager incidents' silences are made in (by default, SREKIT_ALERTMANAGER_URL's, if
    set, closed at exit).
    """
    from srekit.alertmanager import alertmanager_of
    from srekit.api.routes import (
        ack_links,
        alertmanager,
        alerts,
        audit,
        canary,
        capacity,
        chaos,
        deployments,
        escalation,
        gate,
        health,
        history,
        load,
        oncall,
        people,
        policies,
        postmortems,
        reports,
        routings,
        services,
        slos,
        status,
        teams,
        tokens,
    )
    from srekit.api.routes import incidents as incident_routes
    from srekit.store.database import create_store_engine
    from srekit.store.repo import active_routing

    owned_silencer = alertmanager_of(settings) if silencer is None else None
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
        routing_of=active_routing,
        gate=GateKeeper(
            engine=store,
            statuses=statuses,
            recorder=recorder,
            incidents=incidents if incidents is not None else StoredIncidents(store),
            catalog_ttl_s=catalog_ttl_s,
            max_status_age_s=settings.gate_max_status_age_s,
            load_test=LoadTestPolicy(
                required_for=settings.gate_load_test_change_types,
                max_age_days=settings.gate_load_test_max_age_days,
            ),
        ),
        silencer=silencer if silencer is not None else owned_silencer,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        import gc

        gc.freeze()
        recorder.start()
        state.intake.start()
        try:
            yield
        finally:
            state.intake.stop()
            recorder.stop()
            if owned_silencer is not None:
                owned_silencer.close()
            if owns_engine:
                store.dispose()
            # Frozen objects are never collected, not even at exit: DuckDB's binding (nanobind)
            # then finds its objects alive at shutdown and prints "nanobind: leaked ..." lines.
            gc.unfreeze()

    app = FastAPI(
        title="srekit",
        version=__version__,
        summary="SLOs, error budgets and the deploy gate, as a JSON API.",
        description=(
            "Authenticate with `Authorization: Bearer <token>` (`srekit token create`). Roles: "
            "viewer reads; editor changes SLOs, services, teams and alert routings, and runs "
            "incidents; admin also policies and tokens; deploy asks the gate only; ingest "
            "delivers Alertmanager's alerts only. Errors: 401 no or bad token, 403 wrong "
            "role, 404 unknown, 409 conflict, 413 body too large (SREKIT_MAX_BODY_BYTES), "
            "422 bad input (naming the field), 503 store down."
        ),
        lifespan=lifespan,
        docs_url=None,  # served from local assets by `add_docs`, not a CDN
        redoc_url=None,
        openapi_tags=[
            {"name": "gate", "description": "Deploy gate: Argo Rollouts web metric, Flagger."},
            {"name": "slos", "description": "SLO specs, their versions, status and history."},
        ],
    )
    app.state.srekit = state
    add_docs(app)
    app.add_middleware(HotPaths, state=state)  # inside RequestMetrics, so it is measured
    app.add_middleware(RequestGuard, state=state)  # around HotPaths, so no error escapes it
    app.add_middleware(RequestMetrics, registry=registry.registry)
    for kind in (
        HTTPException,
        RequestValidationError,
        SpecError,
        NotFound,
        Conflict,
        StoreUnavailable,
        SourceUnavailable,
        NotifierUnavailable,
    ):
        app.add_exception_handler(kind, _errors)
    app.add_exception_handler(Exception, _errors)
    for module in (
        health,
        status,
        gate,
        canary,
        history,
        slos,
        services,
        teams,
        policies,
        routings,
        deployments,
        audit,
        ack_links,  # public by its signed token; before `/incidents/{id}/{verb}` too
        postmortems,  # before the incidents' `/incidents/{id}/{verb}`, which would take it
        incident_routes,
        alertmanager,
        alerts,
        people,
        escalation,
        oncall,
        reports,
        capacity,
        load,
        chaos,
    ):
        app.include_router(module.router)
    app.include_router(tokens.router)
    from srekit.web import add_web

    add_web(app, state)  # the dashboard's pages under /ui, on the same state
    return app
