"""`/api/v1/load/{service}`: load-test results, baselines and the load gate.

Results are uploaded as the tools write them: the request body is k6's JSON (`--summary-export`
or `handleSummary` data) or Locust's `*_stats.csv`, read by `loadresults` with the same care as
a file (a body that is neither is a 422 naming the field). Anyone may read; an editor uploads
results and sets baselines (audited); the gate may be asked by a deploy token (a pipeline),
and records the run with its verdict. The gate answers 200 with `passed`: a failed verdict is
an answer, not an error.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from srekit.api.deps import Deployer, Editor, StateDep, Viewer
from srekit.api.responses import READ_ERRORS, WRITE_ERRORS
from srekit.api.schemas.base import NewName, StoredName
from srekit.api.schemas.load import (
    BaselineIn,
    GateLimitsQuery,
    LoadBaselineOut,
    LoadRunOut,
    LoadVerdictOut,
)
from srekit.core.load_gate import LoadSummary

router = APIRouter(prefix="/api/v1/load/{service}", tags=["load tests"])

Source = Annotated[
    str,
    Query(
        max_length=200,
        pattern=r"^[^\x00-\x1f\x7f]*$",
        description="the file's name, as errors and listings show it",
    ),
]


def _now() -> datetime:
    return datetime.now(UTC)


async def _summary(request: Request, source: str) -> LoadSummary:
    from srekit.loadresults import parse_results

    raw = await request.body()
    return await run_in_threadpool(parse_results, raw, file=source)


@router.post("/results", response_model=LoadRunOut, status_code=201, responses=WRITE_ERRORS)
async def upload(
    service: NewName,
    request: Request,
    state: StateDep,
    principal: Editor,
    source: Source = "upload",
) -> dict[str, Any]:
    """Store a run's results (the body is the tool's file), unjudged: a candidate baseline."""
    from srekit.flows.load_gate import import_run, run_document

    summary = await _summary(request, source)
    run = await run_in_threadpool(
        lambda: import_run(
            state.engine,
            service=service,
            summary=summary,
            source=source,
            actor=principal.name,
            now=_now(),
        )
    )
    return run_document(run)


@router.get("/results", response_model=list[LoadRunOut], responses=READ_ERRORS)
def results(
    service: StoredName,
    state: StateDep,
    principal: Viewer,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> list[dict[str, Any]]:
    """The service's newest runs first, with their verdicts."""
    from srekit.flows.load_gate import run_document, service_runs

    return [run_document(run) for run in service_runs(state.engine, service=service, limit=limit)]


@router.get("/baselines", response_model=list[LoadBaselineOut], responses=READ_ERRORS)
def baselines(service: StoredName, state: StateDep, principal: Viewer) -> list[dict[str, Any]]:
    """The service's baseline versions, newest (the one in force) first."""
    from srekit.flows.load_gate import baseline_document, service_baselines

    return [baseline_document(b) for b in service_baselines(state.engine, service=service)]


@router.post("/baselines", response_model=LoadBaselineOut, status_code=201, responses=WRITE_ERRORS)
def set_baseline(
    service: NewName, body: BaselineIn, state: StateDep, principal: Editor
) -> dict[str, Any]:
    """Make a stored run of the service its next baseline version (404: no such run)."""
    from srekit.flows.load_gate import baseline_document, make_baseline

    made = make_baseline(
        state.engine, service=service, run_id=body.run_id, actor=principal.name, now=_now()
    )
    return baseline_document(made)


@router.post("/gate", response_model=LoadVerdictOut, responses=WRITE_ERRORS)
async def gate(
    *,
    service: NewName,
    request: Request,
    state: StateDep,
    principal: Deployer,
    source: Source = "upload",
    baseline: Annotated[
        int | None, Query(ge=1, le=2**31, description="baseline version (default: newest)")
    ] = None,
    compare: Annotated[bool, Query(description="false: absolute limits only")] = True,
    record: Annotated[bool, Query(description="store the run and its verdict")] = True,
    limits: Annotated[GateLimitsQuery, Query()],
) -> dict[str, Any]:
    """Judge the uploaded run against the service's baseline; `passed` is the answer."""
    from srekit.flows.load_gate import gate_rules, gate_run, verdict_document

    rules = gate_rules(**limits.model_dump())
    summary = await _summary(request, source)
    gated = await run_in_threadpool(
        lambda: gate_run(
            state.engine,
            service=service,
            summary=summary,
            source=source,
            rules=rules,
            actor=principal.name,
            now=_now(),
            baseline_version=baseline,
            compare=compare,
            record=record,
        )
    )
    return verdict_document(gated)
