"""`/api/v1/capacity`: forecast a CapacityPlan (viewers; recording it takes an editor) and
list the plans recorded per service."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query

from srekit.api.deps import StateDep, Viewer
from srekit.api.instants import at_or_now
from srekit.api.responses import AUTH_ERRORS, WRITE_ERRORS
from srekit.api.schemas.capacity import (
    CapacityForecastIn,
    CapacityPlanOut,
    StoredCapacityPlanOut,
)
from srekit.core.access import Role
from srekit.core.instant import format_instant
from srekit.errors import SpecError

router = APIRouter(prefix="/api/v1/capacity", tags=["capacity"])


@router.post("/forecast", response_model=CapacityPlanOut, responses=WRITE_ERRORS)
def forecast(body: CapacityForecastIn, state: StateDep, principal: Viewer) -> dict[str, Any]:
    """Forecast every resource of the plan; a resource that cannot be planned is listed in
    `problems` with why. With `record`, the plan is stored and `past_forecasts` says how the
    previous recorded forecasts did (an editor's right)."""
    from srekit.contracts import capacity_plan_document
    from srekit.flows.capacity import UsageSeries, forecast_plan, record_plan
    from srekit.sources.events import EventStore
    from srekit.sources.factory import build_sources, close_sources
    from srekit.sources.prometheus import PrometheusSource

    if body.record and not principal.may(Role.EDITOR):
        raise HTTPException(403, "recording a plan takes the editor role")
    names = {resource.name for resource in body.plan.spec.resources}
    unknown = sorted(set(body.series) - names)
    if unknown:
        raise SpecError(f"no resource named {unknown[0]!r} in the plan", field="series")
    when = at_or_now(body.at)
    given = {
        name: UsageSeries(tuple(t for t, _ in rows), tuple(v for _, v in rows), "request")
        for name, rows in body.series.items()
    }
    sources = build_sources(state.settings) if len(given) < len(names) else None
    try:
        result = forecast_plan(
            body.plan,
            file="request",
            now=when,
            prometheus=(
                sources.prometheus
                if sources and isinstance(sources.prometheus, PrometheusSource)
                else None
            ),
            events=sources.events if sources and isinstance(sources.events, EventStore) else None,
            series=given,
        )
    finally:
        if sources is not None:
            close_sources(sources)
    past = None
    if body.record:
        with state.session() as session:
            past = record_plan(session, result)
    return capacity_plan_document(result, past=past)


@router.get("/plans", response_model=list[StoredCapacityPlanOut], responses=AUTH_ERRORS)
def list_plans(
    state: StateDep,
    principal: Viewer,
    service: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[StoredCapacityPlanOut]:
    """Recorded plans, newest first, of one service or all."""
    from srekit.flows.capacity import stored_plans

    with state.session(read_only=True) as session:
        plans = stored_plans(session, service=service, limit=limit)
    return [
        StoredCapacityPlanOut(
            id=plan.id,
            service=plan.service,
            resource=plan.resource,
            plan=plan.plan,
            made_at=format_instant(plan.made_at),
            model=plan.model,
            step_s=plan.step_s,
            limit=plan.limit,
            summary=plan.summary,
        )
        for plan in plans
    ]
