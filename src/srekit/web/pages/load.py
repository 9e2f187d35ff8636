"""`/ui/load`: load-test runs with their figures and gate verdicts, newest first, and, for one
service (`?service=NAME`), its baselines. Figures come from `flows.load_gate`, as
`GET /api/v1/load/{service}/results` serves them; a query value that names nothing is ignored."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from srekit.core.names import name_problem
from srekit.flows.load_gate import StoredBaseline, StoredRun, service_baselines, service_runs
from srekit.web.auth import PageViewer, web_state
from srekit.web.query import clean
from srekit.web.templating import render

router = APIRouter(prefix="/ui", include_in_schema=False)

RUNS_SHOWN = 50


@dataclass(frozen=True)
class LoadPage:
    service: str | None
    runs: list[StoredRun]
    baselines: list[StoredBaseline]


def _read(request: Request, service: str | None) -> LoadPage:
    engine = web_state(request).api.engine
    runs = service_runs(engine, service=service, limit=RUNS_SHOWN)
    baselines = service_baselines(engine, service=service) if service else []
    return LoadPage(service, runs, baselines)


@router.get("/load", response_class=HTMLResponse)
async def load_page(request: Request, user: PageViewer) -> HTMLResponse:
    service = clean(request.query_params.get("service"))
    if service is not None and name_problem(service) is not None:
        service = None
    page = await run_in_threadpool(_read, request, service)
    return render(request, "load.html", {"title": "Load tests", "active": "load", "page": page})
