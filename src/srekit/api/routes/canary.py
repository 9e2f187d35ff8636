"""Canary analysis over HTTP: `POST /api/v1/canary/analyze` (an Argo Rollouts `web` metric)
and `POST /api/v1/canary/flagger` (a Flagger webhook). Both need a deploy (or admin) token and
read the Prometheus of SREKIT_PROMETHEUS_URL: a request names series, never a server.

Argo Rollouts reads the body: the analysis answers 200 with `verdict` whatever it is
(`successCondition: result.verdict == "pass"`, `failureCondition: result.verdict == "fail"`;
neither is Argo's inconclusive). Flagger reads the status instead and counts any non-2xx
answer as a failed check: 200 passes, 412 fails (and is inconclusive, unless the metadata
sets `allow_inconclusive: "true"`). Bad input is 422 and an unreadable Prometheus 503, for
both: neither is a pass.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from srekit.api.deps import ApiState, Deployer, StateDep, Viewer
from srekit.api.instants import at_or_now
from srekit.api.responses import AUTH_ERRORS, BODY_ERRORS
from srekit.api.schemas.canary import (
    CanaryAnalysisIn,
    CanaryAnalysisOut,
    CanaryFlaggerPayload,
    CanaryRecordOut,
)
from srekit.errors import SourceUnavailable, SpecError

router = APIRouter(prefix="/api/v1/canary", tags=["canary"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    **AUTH_ERRORS,
    **BODY_ERRORS,
    503: {"description": "Prometheus is not configured or cannot be read (Retry-After)"},
}
FLAGGER_FAILED = 412


def _analyze(state: ApiState, request: CanaryAnalysisIn, actor: str) -> dict[str, Any]:
    """The analysis document (blocking: Prometheus is read over HTTP)."""
    from srekit.flows.canary import (
        analyze_canary,
        plan_request,
        prometheus_querier,
        report_document,
    )

    plan = plan_request(
        canary=request.canary,
        baseline=request.baseline,
        window=request.window,
        step=request.step,
        metrics=request.metrics,
        alpha=request.alpha,
        min_requests=request.min_requests,
        min_intervals=request.min_intervals,
        tolerances={
            name: (tolerance.relative, tolerance.absolute)
            for name, tolerance in request.tolerances.items()
        },
        requests_metric=request.requests_metric,
        errors_matchers=request.errors_matchers,
        latency_metric=request.latency_metric,
    )
    when = at_or_now(request.at)
    settings = state.settings
    if not settings.prometheus_url:
        raise SourceUnavailable("no Prometheus to read: SREKIT_PROMETHEUS_URL is not set")
    with prometheus_querier(settings, settings.prometheus_url) as querier:
        report = analyze_canary(querier, plan, at=when)
    document = report_document(report, plan, at=when)
    if request.service is not None:
        from srekit.flows.canary_records import record_analysis

        record_analysis(
            state.engine,
            service=request.service,
            report=report,
            plan=plan,
            at=when,
            document=document,
            actor=actor,
            now=datetime.now(UTC).replace(microsecond=0),
        )
    return document


@router.post("/analyze", response_model=CanaryAnalysisOut, responses=_ERRORS)
async def analyze(state: StateDep, principal: Deployer, request: CanaryAnalysisIn) -> JSONResponse:
    """Is the canary worse than the baseline? 200 with `verdict` (pass, fail,
    inconclusive), each metric's confidence and figures (Argo Rollouts: `successCondition:
    result.verdict == "pass"`)."""
    document = await run_in_threadpool(_analyze, state, request, principal.name)
    return JSONResponse(document)


_METADATA_NUMBERS = ("alpha", "min_requests", "min_intervals")


def _from_metadata(metadata: dict[str, str]) -> tuple[CanaryAnalysisIn, bool]:
    """Flagger's metadata (strings) read as an analysis request, and whether inconclusive
    passes; a 422 names the metadata key."""
    fields: dict[str, Any] = dict(metadata)
    allow = fields.pop("allow_inconclusive", "false").strip().lower()
    if "metrics" in fields:
        fields["metrics"] = [name.strip() for name in fields["metrics"].split(",") if name.strip()]
    try:
        if allow not in ("true", "false"):
            raise ValueError
        return CanaryAnalysisIn.model_validate(fields), allow == "true"
    except ValidationError as error:
        raise RequestValidationError(
            [
                {**problem, "loc": ("body", "metadata", *problem["loc"])}
                for problem in error.errors(include_url=False, include_context=False)
            ]
        ) from None
    except ValueError:
        raise SpecError(
            f'expected "true" or "false", got {allow[:20]!r}', field="metadata.allow_inconclusive"
        ) from None


@router.post(
    "/flagger",
    response_model=CanaryAnalysisOut,
    responses={
        **_ERRORS,
        FLAGGER_FAILED: {
            "model": CanaryAnalysisOut,
            "description": "the canary failed, or the analysis is inconclusive",
        },
    },
)
async def flagger(
    state: StateDep, principal: Deployer, payload: CanaryFlaggerPayload
) -> JSONResponse:
    """Flagger's webhook (`type: rollout`): 200 when the canary passes, 412 when it fails or
    the analysis is inconclusive (pass with metadata `allow_inconclusive: "true"`). The
    metadata sets `canary` and `baseline` and may set `window`, `step`, `metrics`
    (comma-separated), `alpha`, `min_requests`, `min_intervals`."""
    request, allow_inconclusive = _from_metadata(payload.metadata)
    document = await run_in_threadpool(_analyze, state, request, principal.name)
    verdict = document["verdict"]
    passed = verdict == "pass" or (verdict == "inconclusive" and allow_inconclusive)
    return JSONResponse(document, status_code=200 if passed else FLAGGER_FAILED)


@router.get("/analyses", response_model=list[CanaryRecordOut], responses=AUTH_ERRORS)
def analyses(
    state: StateDep,
    principal: Viewer,
    service: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> list[dict[str, Any]]:
    """The kept analyses (of `service`, or of every service), newest first."""
    from srekit.flows.canary_records import analysis_document, recent_analyses

    kept = recent_analyses(state.engine, service=service, limit=limit)
    return [analysis_document(analysis) for analysis in kept]
