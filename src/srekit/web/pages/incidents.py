"""`/ui/incidents`: the incidents, and `/ui/incidents/{id}`: one incident in full.

The list reads `flows.incidents.list_incident_views` as `GET /api/v1/incidents` does, filtered
by `state` (open, closed, all or one state), `severity` and `service` from the URL; htmx
re-renders the table (`#incident-view`) when a filter changes. The detail page reads the
incident (`flows.incidents.incident_view`: timeline, roles, tasks, related incidents), its
escalation (`flows.escalation`), its post-mortem (`flows.postmortems`, with its HTML export at
`/ui/incidents/{id}/postmortem.html`) and the error budget it consumed of each SLO it names
(`flows.incident_stats`, as `GET /api/v1/incidents/stats` reports it).

Editors acknowledge, resolve and annotate from here (forms with a CSRF token; the same flows
as the API's routes, `flows.silences.change_incident` and `flows.incidents.note_incident`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from srekit.core.access import Role
from srekit.core.incident import IncidentState, IncidentView, Severity
from srekit.core.incident_stats import IncidentBudget
from srekit.core.postmortem import PostmortemView
from srekit.errors import NotFound, SrekitError
from srekit.flows.escalation import EscalationView
from srekit.web.auth import PageRefusedError, PageViewer, posted_form, require, web_state
from srekit.web.query import clean, is_htmx, one_of, page_link
from srekit.web.templating import PAGE_HEADERS, render

router = APIRouter(prefix="/ui", include_in_schema=False)

IncidentId = Annotated[int, Path(ge=1, le=2**62)]
_STATES = ("open", "closed", "all", *(state.value for state in IncidentState))
_LIST_LIMIT = 200
_NOTE_LIMIT = 10_000
_ACTIONS = {"acknowledge": IncidentState.ACKNOWLEDGED, "resolve": IncidentState.RESOLVED}


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class IncidentQuery:
    state: str = "open"
    severity: Severity | None = None
    service: str | None = None

    def link(self, **changes: object) -> str:
        values: dict[str, object] = {
            "state": None if self.state == "open" else self.state,
            "severity": self.severity.value if self.severity else None,
            "service": self.service,
        }
        values.update(changes)
        return page_link("/ui/incidents", values)


def read_query(request: Request) -> IncidentQuery:
    params = request.query_params
    severity = one_of(params.get("severity"), {s.value for s in Severity})
    return IncidentQuery(
        state=one_of(params.get("state"), _STATES) or "open",
        severity=Severity(severity) if severity else None,
        service=clean(params.get("service")),
    )


def _listed(request: Request, query: IncidentQuery) -> list[IncidentView]:
    from srekit.flows.incidents import list_incident_views

    chosen = query.state if query.state in {"open", "closed", "all"} else IncidentState(query.state)
    return list_incident_views(
        web_state(request).api.engine,
        service=query.service,
        state=chosen,  # type: ignore[arg-type]
        severity=query.severity,
        limit=_LIST_LIMIT,
    )


@router.get("/incidents", response_class=HTMLResponse)
async def incident_list(request: Request, user: PageViewer) -> HTMLResponse:
    query = read_query(request)
    views = await run_in_threadpool(_listed, request, query)
    context = {
        "title": "Incidents",
        "active": "incidents",
        "query": query,
        "views": views,
        "limit": _LIST_LIMIT,
        "states": _STATES,
        "severities": [s.value for s in Severity],
    }
    template = "incidents_view.html" if is_htmx(request) else "incidents.html"
    return render(request, template, context)


@dataclass(frozen=True)
class IncidentPage:
    view: IncidentView
    escalation: EscalationView | None
    postmortem: PostmortemView | None
    budgets: list[IncidentBudget]
    budgets_problem: str | None


def _budgets(request: Request, view: IncidentView) -> tuple[list[IncidentBudget], str | None]:
    """The budget the incident consumed of each SLO it names: the incident stats flow over the
    second it was opened in, as `GET /api/v1/incidents/stats` computes it."""
    if not view.incident.slos:
        return [], None
    from srekit.flows.incident_stats import stored_incident_stats
    from srekit.sources.factory import build_sources, close_sources

    state = web_state(request).api
    opened = view.incident.opened_at
    try:
        sources = build_sources(state.settings)
    except SrekitError as error:
        return [], str(error)
    try:
        stats = stored_incident_stats(
            state.engine,
            sources=sources,
            start=opened,
            end=opened + timedelta(seconds=1),
            now=_now(),
            severities=state.settings.severity_definitions(),
        )
    except SrekitError as error:
        return [], str(error)
    finally:
        close_sources(sources)
    return [b for b in stats.budgets if b.incident_id == view.incident.id], None


def _detail(request: Request, incident_id: int) -> IncidentPage:
    from srekit.flows.escalation import escalation_view
    from srekit.flows.incidents import incident_view
    from srekit.flows.postmortems import postmortem_view

    engine = web_state(request).api.engine
    view = incident_view(engine, incident_id=incident_id)
    try:
        postmortem: PostmortemView | None = postmortem_view(engine, incident_id=incident_id)
    except NotFound:
        postmortem = None
    budgets, problem = _budgets(request, view)
    return IncidentPage(
        view=view,
        escalation=escalation_view(engine, incident_id=incident_id),
        postmortem=postmortem,
        budgets=budgets,
        budgets_problem=problem,
    )


@router.get("/incidents/{incident_id}", response_class=HTMLResponse)
async def incident_detail(request: Request, user: PageViewer, incident_id: IncidentId) -> Any:
    try:
        found = await run_in_threadpool(_detail, request, incident_id)
    except NotFound as error:
        raise PageRefusedError(404, str(error)) from None
    incident = found.view.incident
    return render(
        request,
        "incident.html",
        {
            "title": f"Incident #{incident.id}",
            "active": "incidents",
            "page": found,
            "incident": incident,
            "roles": sorted((role.value, person) for role, person in incident.roles.items()),
            "may_acknowledge": incident.state is IncidentState.TRIGGERED,
            "may_resolve": incident.state
            in {IncidentState.TRIGGERED, IncidentState.ACKNOWLEDGED, IncidentState.MITIGATED},
            "now": _now(),
        },
    )


@router.get("/incidents/{incident_id}/postmortem.html", response_model=None)
async def postmortem_html(request: Request, user: PageViewer, incident_id: IncidentId) -> Response:
    """The post-mortem's HTML export, as `GET /api/v1/incidents/{id}/postmortem/export`
    serves it (its own strict policy: no script at all)."""
    from srekit.flows.postmortems import export

    engine = web_state(request).api.engine
    try:
        text = await run_in_threadpool(export, engine, incident_id=incident_id, format="html")
    except NotFound as error:
        raise PageRefusedError(404, str(error)) from None
    headers = {
        **PAGE_HEADERS,
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
    }
    return HTMLResponse(text, headers=headers)


def _back(incident_id: int, fields: dict[str, str]) -> str:
    """Where a form returns: the Overview when it was posted from there, else the incident."""
    if fields.get("back") == "overview":
        return "/ui/#incidents"
    return f"/ui/incidents/{incident_id}"


def _refused(error: Exception) -> PageRefusedError:
    if isinstance(error, NotFound):
        return PageRefusedError(404, str(error))
    return PageRefusedError(409, str(error).splitlines()[0])


async def _move(request: Request, user: PageViewer, incident_id: int, verb: str) -> Response:
    """Acknowledge or resolve (editors), as the API's routes do, then back to the page."""
    fields = await posted_form(request, user)
    require(user, Role.EDITOR)
    from srekit.flows.silences import change_incident

    state = web_state(request).api
    note = (fields.get("note") or "").strip()[:_NOTE_LIMIT] or None
    try:
        await run_in_threadpool(
            change_incident,
            state.engine,
            incident_id=incident_id,
            to=_ACTIONS[verb],
            actor=user.name,
            now=_now(),
            note=note or f"{verb}d from the dashboard",
            silencer=state.silencer,
            duration_s=state.settings.silence_duration_s,
        )
    except (SrekitError, ValueError) as error:
        raise _refused(error) from None
    state.gate.incidents_changed()
    return RedirectResponse(_back(incident_id, fields), status_code=303, headers=PAGE_HEADERS)


@router.post("/incidents/{incident_id}/acknowledge", response_model=None)
async def acknowledge(request: Request, user: PageViewer, incident_id: IncidentId) -> Response:
    return await _move(request, user, incident_id, "acknowledge")


@router.post("/incidents/{incident_id}/resolve", response_model=None)
async def resolve(request: Request, user: PageViewer, incident_id: IncidentId) -> Response:
    return await _move(request, user, incident_id, "resolve")


@router.post("/incidents/{incident_id}/notes", response_model=None)
async def add_note(request: Request, user: PageViewer, incident_id: IncidentId) -> Response:
    """Add a note to the timeline (editors)."""
    fields = await posted_form(request, user)
    require(user, Role.EDITOR)
    text = fields.get("text", "")
    if len(text) > _NOTE_LIMIT:
        raise PageRefusedError(422, f"a note is at most {_NOTE_LIMIT} characters")
    from srekit.flows.incidents import note_incident

    state = web_state(request).api
    try:
        await run_in_threadpool(
            note_incident,
            state.engine,
            incident_id=incident_id,
            text=text,
            actor=user.name,
            now=_now(),
        )
    except NotFound as error:
        raise PageRefusedError(404, str(error)) from None
    except (SrekitError, ValueError) as error:
        raise PageRefusedError(422, str(error).splitlines()[0]) from None
    return RedirectResponse(_back(incident_id, fields), status_code=303, headers=PAGE_HEADERS)
