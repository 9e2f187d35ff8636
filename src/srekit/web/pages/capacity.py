"""`/ui/capacity`: per service and resource the latest recorded capacity plan (`srekit
capacity forecast --record`, `POST /api/v1/capacity/forecast` with `record`): its figures,
the recommendation and the forecast drawn as SVG. `service` comes from the URL; a value that
is too long or holds control characters is ignored."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from srekit.web.auth import PageViewer, web_state
from srekit.web.query import clean
from srekit.web.templating import render

router = APIRouter(prefix="/ui", include_in_schema=False)


@dataclass(frozen=True)
class PlanLine:
    """One resource's latest plan as the page shows it; `summary` is the stored figures."""

    service: str
    resource: str
    unit: str
    made_at: Any
    model: str
    limit: float
    summary: dict[str, Any]
    svg: str


def _lines(request: Request, service: str | None) -> list[PlanLine]:
    from srekit.capacity.plot import Band, forecast_svg
    from srekit.flows.capacity import latest_plans

    with web_state(request).api.session(read_only=True) as session:
        plans = latest_plans(session, service=service)
    lines = []
    for plan in plans:
        headroom = plan.summary.get("headroom")
        svg = forecast_svg(
            title=f"{plan.service} {plan.resource} ({plan.unit})",
            history=(plan.history_at, plan.history),
            forecast_at=plan.forecast_at,
            median=plan.median,
            bands=[Band(level, lower, upper) for level, (lower, upper) in plan.bands.items()],
            limit=plan.limit,
            headroom_level=plan.limit * (headroom if isinstance(headroom, float) else 1.0),
        )
        lines.append(
            PlanLine(
                service=plan.service,
                resource=plan.resource,
                unit=plan.unit,
                made_at=plan.made_at,
                model=plan.model,
                limit=plan.limit,
                summary=plan.summary,
                svg=svg,
            )
        )
    return lines


@router.get("/capacity", response_class=HTMLResponse)
async def capacity_page(request: Request, user: PageViewer) -> HTMLResponse:
    service = clean(request.query_params.get("service"))
    lines = await run_in_threadpool(_lines, request, service)
    return render(
        request,
        "capacity.html",
        {
            "title": "Capacity",
            "active": "capacity",
            "service": service,
            "lines": lines,
        },
    )
