"""`/ui/canary`: the canary analyses kept per service, newest first, with their verdicts,
confidence and each metric's figures. Figures come from `flows.canary_records`, as
`GET /api/v1/canary/analyses` serves them; a query value that names nothing is ignored."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from srekit.core.names import name_problem
from srekit.flows.canary_records import StoredAnalysis, recent_analyses
from srekit.web.auth import PageViewer, web_state
from srekit.web.query import clean
from srekit.web.templating import render

router = APIRouter(prefix="/ui", include_in_schema=False)

ANALYSES_SHOWN = 50


@dataclass(frozen=True)
class CanaryPage:
    service: str | None
    analyses: list[StoredAnalysis]


def _read(request: Request, service: str | None) -> CanaryPage:
    engine = web_state(request).api.engine
    return CanaryPage(service, recent_analyses(engine, service=service, limit=ANALYSES_SHOWN))


@router.get("/canary", response_class=HTMLResponse)
async def canary_page(request: Request, user: PageViewer) -> HTMLResponse:
    service = clean(request.query_params.get("service"))
    if service is not None and name_problem(service) is not None:
        service = None
    page = await run_in_threadpool(_read, request, service)
    return render(request, "canary.html", {"title": "Canary", "active": "canary", "page": page})
