"""`/ui/chaos`: the stored chaos runs, newest first, per service: outcome, the probes that
deviated, and the error budget each run consumed, as `GET /api/v1/chaos/runs` lists them.
`service` and `limit` come from the URL; a value that names nothing or is out of range is
ignored."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from srekit.web.auth import PageViewer, web_state
from srekit.web.query import clean, whole_number
from srekit.web.templating import render

router = APIRouter(prefix="/ui", include_in_schema=False)

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


@dataclass(frozen=True)
class ChaosQuery:
    service: str | None = None
    limit: int = DEFAULT_LIMIT


def read_query(request: Request) -> ChaosQuery:
    params = request.query_params
    return ChaosQuery(
        service=clean(params.get("service")),
        limit=whole_number(params.get("limit"), low=1, high=MAX_LIMIT) or DEFAULT_LIMIT,
    )


def _read(request: Request, query: ChaosQuery) -> tuple[list[dict[str, Any]], list[str]]:
    """The runs the query asks for (as the API documents them), and every service with runs."""
    from srekit.contracts import chaos_run_document
    from srekit.store.repo.chaos import chaos_runs

    state = web_state(request).api
    with state.session(read_only=True) as session:
        runs = [
            chaos_run_document(row)
            for row in chaos_runs(session, service=query.service, limit=query.limit)
        ]
        services = sorted(
            {row.service for row in chaos_runs(session, limit=MAX_LIMIT) if row.service}
        )
    return runs, services


@router.get("/chaos", response_class=HTMLResponse)
async def chaos_runs_page(request: Request, user: PageViewer) -> HTMLResponse:
    query = read_query(request)
    runs, services = await run_in_threadpool(_read, request, query)
    context = {
        "title": "Chaos",
        "active": "chaos",
        "query": query,
        "runs": runs,
        "services": services,
    }
    return render(request, "chaos.html", context)
