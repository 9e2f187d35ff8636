"""`/ui/deployments`: the deploys the gate was asked about and its answers with their reasons,
newest first, as `GET /api/v1/deployments` lists them (the gate's decisions of the last
moments written first). `service`, `allowed` (`yes`, `no`), `limit` and `offset` come from the
URL; a value that names nothing or is out of range is ignored."""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from srekit.errors import SrekitError
from srekit.web.auth import PageViewer, web_state
from srekit.web.query import clean, is_htmx, one_of, page_link, whole_number
from srekit.web.templating import render

router = APIRouter(prefix="/ui", include_in_schema=False)

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
MAX_OFFSET = 1_000_000
_ALLOWED = {"yes": True, "no": False}


@dataclass(frozen=True)
class DeploymentQuery:
    service: str | None = None
    allowed: str | None = None  # "yes", "no" or None for both
    limit: int = DEFAULT_LIMIT
    offset: int = 0

    def link(self, **changes: object) -> str:
        values: dict[str, object] = {
            "service": self.service,
            "allowed": self.allowed,
            "limit": None if self.limit == DEFAULT_LIMIT else self.limit,
            "offset": self.offset or None,
        }
        values.update(changes)
        return page_link("/ui/deployments", values)


def read_query(request: Request) -> DeploymentQuery:
    params = request.query_params
    return DeploymentQuery(
        service=clean(params.get("service")),
        allowed=one_of(params.get("allowed"), _ALLOWED),
        limit=whole_number(params.get("limit"), low=1, high=MAX_LIMIT) or DEFAULT_LIMIT,
        offset=whole_number(params.get("offset"), low=0, high=MAX_OFFSET) or 0,
    )


@dataclass(frozen=True)
class DeploymentLine:
    id: int
    service: str
    version: str | None
    change_type: str
    allowed: bool
    decision: str
    state: str
    reasons: list[str]
    requested_at: Any
    requested_by: str | None
    source: str


def _read(request: Request, query: DeploymentQuery) -> tuple[list[DeploymentLine], bool]:
    """One page of deploys, and whether another page follows."""
    from srekit.store.repo import list_deployments

    state = web_state(request).api
    with suppress(SrekitError):  # reading says so, if the store is down
        state.gate.recorder.flush()
    with state.session(read_only=True) as session:
        rows = list_deployments(
            session,
            service=query.service,
            allowed=None if query.allowed is None else _ALLOWED[query.allowed],
            limit=query.limit + 1,
            offset=query.offset,
        )
        lines = [
            DeploymentLine(
                id=row.id,
                service=row.service,
                version=row.version,
                change_type=row.change_type,
                allowed=row.allowed,
                decision=row.decision,
                state=row.state,
                reasons=list(row.reasons),
                requested_at=row.requested_at,
                requested_by=row.requested_by,
                source=row.source,
            )
            for row in rows
        ]
    return lines[: query.limit], len(lines) > query.limit


@router.get("/deployments", response_class=HTMLResponse)
async def deployment_list(request: Request, user: PageViewer) -> HTMLResponse:
    query = read_query(request)
    lines, more = await run_in_threadpool(_read, request, query)
    context = {
        "title": "Deployments",
        "active": "deployments",
        "query": query,
        "lines": lines,
        "previous": query.link(offset=max(query.offset - query.limit, 0) or None)
        if query.offset
        else None,
        "next": query.link(offset=query.offset + query.limit) if more else None,
        "first": query.offset + 1,
        "last": query.offset + len(lines),
    }
    template = "deployments_view.html" if is_htmx(request) else "deployments.html"
    return render(request, template, context)
