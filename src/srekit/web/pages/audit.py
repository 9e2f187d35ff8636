"""`/ui/audit`: the change log, newest first, as `GET /api/v1/audit` lists it: who changed
what, when, with each entity's state before and after. `kind` (an entity kind the log names),
`actor`, `limit` and `offset` come from the URL; a value that names nothing known or is out
of range is ignored."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from srekit.web.auth import PageViewer, web_state
from srekit.web.query import clean, is_htmx, page_link, whole_number
from srekit.web.templating import render

router = APIRouter(prefix="/ui", include_in_schema=False)

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
MAX_OFFSET = 1_000_000


@dataclass(frozen=True)
class AuditQuery:
    kind: str | None = None
    actor: str | None = None
    limit: int = DEFAULT_LIMIT
    offset: int = 0

    def link(self, **changes: object) -> str:
        values: dict[str, object] = {
            "kind": self.kind,
            "actor": self.actor,
            "limit": None if self.limit == DEFAULT_LIMIT else self.limit,
            "offset": self.offset or None,
        }
        values.update(changes)
        return page_link("/ui/audit", values)


@dataclass(frozen=True)
class AuditLine:
    id: int
    at: datetime
    actor: str
    action: str
    entity_kind: str
    entity_id: str
    before: str | None  # the JSON, indented for reading
    after: str | None


def _json(value: object) -> str | None:
    return None if value is None else json.dumps(value, indent=2, sort_keys=True)


def _read(request: Request) -> tuple[AuditQuery, list[str], list[AuditLine], bool]:
    """The query (its kind checked against the log's kinds), the kinds, one page of rows, and
    whether another page follows."""
    from srekit.store.repo import audit_entity_kinds, list_audit

    params = request.query_params
    with web_state(request).api.session(read_only=True) as session:
        kinds = audit_entity_kinds(session)
        kind = clean(params.get("kind"))
        query = AuditQuery(
            kind=kind if kind in kinds else None,
            actor=clean(params.get("actor")),
            limit=whole_number(params.get("limit"), low=1, high=MAX_LIMIT) or DEFAULT_LIMIT,
            offset=whole_number(params.get("offset"), low=0, high=MAX_OFFSET) or 0,
        )
        rows = list_audit(
            session,
            limit=query.limit + 1,
            entity_kind=query.kind,
            actor=query.actor,
            offset=query.offset,
        )
        lines = [
            AuditLine(
                id=row.id,
                at=row.at,
                actor=row.actor,
                action=row.action,
                entity_kind=row.entity_kind,
                entity_id=row.entity_id,
                before=_json(row.before),
                after=_json(row.after),
            )
            for row in rows
        ]
    return query, kinds, lines[: query.limit], len(lines) > query.limit


@router.get("/audit", response_class=HTMLResponse)
async def audit_log(request: Request, user: PageViewer) -> HTMLResponse:
    query, kinds, lines, more = await run_in_threadpool(_read, request)
    context = {
        "title": "Audit log",
        "active": "audit",
        "query": query,
        "kinds": kinds,
        "lines": lines,
        "previous": query.link(offset=max(query.offset - query.limit, 0) or None)
        if query.offset
        else None,
        "next": query.link(offset=query.offset + query.limit) if more else None,
        "first": query.offset + 1,
        "last": query.offset + len(lines),
    }
    return render(request, "audit_view.html" if is_htmx(request) else "audit.html", context)
