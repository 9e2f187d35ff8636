"""`/api/v1/incidents/{id}/postmortem`: an incident's post-mortem, from the draft to the
published document.

Anyone may read and export; an editor drafts, edits, submits for review, sends back and
publishes. A change the post-mortem's rules refuse (a second draft, an edit of one in review,
publishing without a root cause) is a 409 saying why; every change is in the audit log.
Exports are text: Markdown, the YAML file people edit, or an HTML page that runs no script.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from srekit.api.deps import Editor, StateDep, Viewer
from srekit.api.responses import READ_ERRORS, WRITE_ERRORS
from srekit.api.schemas.postmortems import DraftIn, SectionsIn
from srekit.contracts import PostmortemOut, postmortem_document

router = APIRouter(prefix="/api/v1/incidents/{incident_id}/postmortem", tags=["post-mortems"])

IncidentId = Annotated[int, Path(ge=1, le=2**62, description="the incident's number")]
_MEDIA = {
    "md": "text/markdown; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "yaml": "application/yaml; charset=utf-8",
}


def _now() -> datetime:
    return datetime.now(UTC)


@router.post("", response_model=PostmortemOut, status_code=201, responses=WRITE_ERRORS)
def draft(
    incident_id: IncidentId, state: StateDep, principal: Editor, body: DraftIn | None = None
) -> dict[str, Any]:
    """Draft the incident's post-mortem, pre-filled from its timeline, tasks and the deploys
    before it (201); 409 when it has one already."""
    from srekit.flows.postmortems import draft as draft_postmortem

    given = body or DraftIn()
    view = draft_postmortem(
        state.engine,
        incident_id=incident_id,
        actor=principal.name,
        now=_now(),
        impact=given.budget_consumed,
        affected_share=given.affected_share,
    )
    return postmortem_document(view)


@router.get("", response_model=PostmortemOut, responses=READ_ERRORS)
def show(incident_id: IncidentId, state: StateDep, principal: Viewer) -> dict[str, Any]:
    """The post-mortem, its sections, and what stops it from being published."""
    from srekit.flows.postmortems import postmortem_view

    return postmortem_document(postmortem_view(state.engine, incident_id=incident_id))


@router.put("", response_model=PostmortemOut, responses=WRITE_ERRORS)
def edit(
    incident_id: IncidentId, body: SectionsIn, state: StateDep, principal: Editor
) -> dict[str, Any]:
    """Replace the sections the body gives (the others keep their text) as a new version of
    the draft; with `version`, 409 unless that is the stored version."""
    from srekit.flows.postmortems import edit as edit_postmortem

    view = edit_postmortem(
        state.engine, incident_id=incident_id, sections=body, actor=principal.name, now=_now()
    )
    return postmortem_document(view)


@router.get(
    "/export",
    response_class=Response,
    responses={
        **READ_ERRORS,
        200: {"content": {media: {"schema": {"type": "string"}} for media in _MEDIA.values()}},
    },
)
def export(
    incident_id: IncidentId,
    state: StateDep,
    principal: Viewer,
    format: Annotated[
        Literal["md", "html", "yaml"],
        Query(description="md (Markdown), html (a page) or yaml (the file people edit)"),
    ] = "md",
) -> Response:
    """The post-mortem as a document."""
    from srekit.flows.postmortems import export as export_postmortem

    text = export_postmortem(state.engine, incident_id=incident_id, format=format)
    headers = {
        "Content-Disposition": f'inline; filename="postmortem-{incident_id}.{format}"',
        "X-Content-Type-Options": "nosniff",
    }
    if format == "html":
        headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return Response(content=text, media_type=_MEDIA[format], headers=headers)


@router.post("/review", response_model=PostmortemOut, responses=WRITE_ERRORS)
def review(incident_id: IncidentId, state: StateDep, principal: Editor) -> dict[str, Any]:
    """Submit the draft for review."""
    from srekit.flows.postmortems import submit

    view = submit(state.engine, incident_id=incident_id, actor=principal.name, now=_now())
    return postmortem_document(view)


@router.post("/return", response_model=PostmortemOut, responses=WRITE_ERRORS)
def send_back(incident_id: IncidentId, state: StateDep, principal: Editor) -> dict[str, Any]:
    """Send a post-mortem in review back to draft, for changes."""
    from srekit.flows.postmortems import send_back as send_back_postmortem

    view = send_back_postmortem(
        state.engine, incident_id=incident_id, actor=principal.name, now=_now()
    )
    return postmortem_document(view)


@router.post("/publish", response_model=PostmortemOut, responses=WRITE_ERRORS)
def publish(incident_id: IncidentId, state: StateDep, principal: Editor) -> dict[str, Any]:
    """Publish a post-mortem in review: it needs a root cause, an action item (or `none`), and
    the incident resolved; its action items become follow-up tasks. The incident may then
    close without a waiver."""
    from srekit.flows.postmortems import publish as publish_postmortem

    view = publish_postmortem(
        state.engine, incident_id=incident_id, actor=principal.name, now=_now()
    )
    return postmortem_document(view)
