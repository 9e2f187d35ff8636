"""`/api/v1/chaos`: the stored chaos runs (per service, newest first; one with its journal),
and validating an experiment without running it. Experiments run from `srekit chaos run`,
never from the server: a request must not make the server inject faults."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request

from srekit.api.deps import StateDep, Viewer
from srekit.api.responses import BODY_ERRORS, READ_ERRORS
from srekit.api.schemas.chaos import ChaosRunShownOut, ExperimentCheckOut
from srekit.contracts import ChaosRunOut, chaos_run_document
from srekit.errors import SpecError

router = APIRouter(prefix="/api/v1/chaos", tags=["chaos"])

_SOURCE = "request body"
RunId = Annotated[int, Path(ge=1, le=2**62, description="the run's id")]


@router.get("/runs", response_model=list[ChaosRunOut], responses=READ_ERRORS)
def list_runs(
    state: StateDep,
    principal: Viewer,
    service: Annotated[str | None, Query(max_length=200, description="one service")] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="at most this many runs")] = 100,
) -> list[ChaosRunOut]:
    from srekit.store.repo.chaos import chaos_runs

    with state.session(read_only=True) as session:
        return [
            ChaosRunOut.model_validate(chaos_run_document(row))
            for row in chaos_runs(session, service=service, limit=limit)
        ]


@router.get("/runs/{run_id}", response_model=ChaosRunShownOut, responses=READ_ERRORS)
def show_run(
    run_id: RunId,
    state: StateDep,
    principal: Viewer,
) -> ChaosRunShownOut:
    from srekit.store.repo.chaos import chaos_run

    with state.session(read_only=True) as session:
        row = chaos_run(session, run_id=run_id)
        return ChaosRunShownOut.model_validate({**chaos_run_document(row), "journal": row.journal})


def _refuse_constant(name: str) -> Any:
    raise SpecError(f"expected a finite number, got {name}", file=_SOURCE)


@router.post("/validate", response_model=ExperimentCheckOut, responses=BODY_ERRORS)
async def validate(request: Request, principal: Viewer) -> ExperimentCheckOut:
    """Read the experiment in the body (Chaos Toolkit's JSON) as `srekit chaos run` would,
    blast radius included; 422 naming the field when it is wrong. Environment references
    resolve against an empty environment: give them defaults to validate here."""
    from srekit.flows.chaos import check_blast_radius
    from srekit.spec.chaos import FILE_BYTES, parse_experiment

    raw = await request.body()
    if len(raw) > FILE_BYTES:
        raise SpecError(f"expected an experiment of at most {FILE_BYTES} bytes", file=_SOURCE)
    try:
        data = json.loads(raw, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as error:
        if isinstance(error, SpecError):
            raise
        raise SpecError(f"expected a JSON document: {error}", file=_SOURCE) from None
    experiment = parse_experiment(data, file=_SOURCE, environ={})
    check_blast_radius(experiment)
    extension = experiment.srekit
    return ExperimentCheckOut(
        title=experiment.title,
        probes=len(experiment.probes),
        method=len(experiment.method),
        rollbacks=len(experiment.rollbacks),
        hypothesis_strategy=str(experiment.runtime.hypothesis_strategy),
        rollback_strategy=str(experiment.runtime.rollback_strategy),
        service=extension.service,
        blast_radius=list(extension.allowed_targets),
        ttl_s=extension.ttl_s,
    )
