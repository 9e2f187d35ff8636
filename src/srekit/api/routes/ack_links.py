"""`/api/v1/incidents/{id}/ack`: the acknowledgement link in a page, usable without a login.

The exception to the API's bearer tokens, on purpose: the signed token in the link
(`core.notify.verify_ack_token`) is the credential, and it grants one thing, acknowledging
that incident as `link:<person>` until it expires. These routes declare no role, so the
request guard reads their (small) bodies; `tests/api/test_ack_links.py` holds them to it.

Mail scanners and chat unfurlers fetch every link they see, so a GET never acknowledges: it
answers a page naming the incident with a button, a form that POSTs the same token. A
browser gets HTML (it asks for `text/html`); any other client JSON. Refusals (a malformed,
altered, foreign or expired token) are 403 saying why, never more.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from srekit.api.deps import ApiState, StateDep
from srekit.api.schemas.base import ErrorOut
from srekit.core.incident import IncidentState
from srekit.core.notify import ACK_TOKEN_MAX_CHARS, AckTokenError

router = APIRouter(prefix="/api/v1", tags=["incidents"])

IncidentId = Annotated[int, Path(ge=1, le=2**62, description="the incident's number")]
Token = Annotated[str | None, Query(description="the signed token of the link in a page (`a1.…`)")]
_HTML: dict[str, Any] = {"text/html": {"schema": {"type": "string"}}}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "HTML for a browser (Accept: text/html), else JSON", "content": _HTML},
    403: {
        "model": ErrorOut,
        "description": "the token is malformed, altered, foreign or expired",
        "content": _HTML,
    },
    404: {"model": ErrorOut, "description": "no such incident"},
}
# the page must not be framed (a hidden button), cached, or leak its URL (the token) onward
_PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}
_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem}"
    "button{font-size:1.1rem;padding:.6rem 1.2rem;cursor:pointer}.muted{color:#555}"
)


def _wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


def _page(title: str, body: str, status: int) -> HTMLResponse:
    document = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f'<meta name="robots" content="noindex"><title>{html.escape(title)}</title>'
        f"<style>{_STYLE}</style></head><body>{body}</body></html>"
    )
    return HTMLResponse(document, status_code=status, headers=_PAGE_HEADERS)


def _refusal(request: Request, message: str) -> Response:
    if _wants_html(request):
        body = (
            "<h1>This link cannot be used</h1>"
            f"<p>{html.escape(message)}.</p>"
            '<p class="muted">Acknowledge the incident in srekit itself.</p>'
        )
        return _page("srekit: link refused", body, 403)
    return JSONResponse({"detail": message}, status_code=403, headers={"Cache-Control": "no-store"})


def _headline(incident_id: int, title: str) -> str:
    return f"Incident {incident_id}: {title}"


async def _claim(state: ApiState, incident_id: int, token: str | None) -> str | AckTokenError:
    """The person of a valid token, or why it is not one."""
    from srekit.flows.notify import check_ack_link

    if not token:
        return AckTokenError("malformed", "the link has no token")
    try:
        claim = await run_in_threadpool(
            check_ack_link,
            state.engine,
            incident_id=incident_id,
            token=token,
            settings=state.settings,
            now=datetime.now(UTC),
        )
    except AckTokenError as error:
        return error
    return claim.person


@router.get(
    "/incidents/{incident_id}/ack",
    responses=_RESPONSES,
)
async def ack_page(
    incident_id: IncidentId, request: Request, state: StateDep, token: Token = None
) -> Response:
    """The page behind a page's acknowledgement link: it names the incident and offers a
    button; opening it acknowledges nothing (link scanners open every link)."""
    from srekit.flows.incidents import incident_view

    person = await _claim(state, incident_id, token)
    if isinstance(person, AckTokenError):
        return _refusal(request, str(person))
    view = await run_in_threadpool(incident_view, state.engine, incident_id=incident_id)
    incident = view.incident
    if not _wants_html(request):
        return JSONResponse(
            {
                "incident_id": incident_id,
                "title": incident.title,
                "state": incident.state.value,
                "person": person,
                "detail": "POST the token to this URL to acknowledge",
            },
            headers={"Cache-Control": "no-store"},
        )
    headline = html.escape(_headline(incident_id, incident.title))
    facts = (
        f"<p>{html.escape(incident.severity.value)} · {html.escape(incident.state.value)}"
        f" · services: {html.escape(', '.join(incident.services) or 'none named')}</p>"
    )
    if incident.state is IncidentState.TRIGGERED:
        action = (
            '<form method="post" action="ack">'
            f'<input type="hidden" name="token" value="{html.escape(token or "")}">'
            f'<button type="submit">Acknowledge as {html.escape(person)}</button></form>'
        )
    else:
        action = f"<p>It is {html.escape(incident.state.value)} already: nothing to do.</p>"
    return _page(f"srekit: incident {incident_id}", f"<h1>{headline}</h1>{facts}{action}", 200)


@router.post(
    "/incidents/{incident_id}/ack",
    responses=_RESPONSES,
)
async def ack_by_link(
    incident_id: IncidentId, request: Request, state: StateDep, token: Token = None
) -> Response:
    """Acknowledge the incident with the token of a page's link, as a form field `token`
    (what the page's button sends) or the query's. 200 also when it was acknowledged
    already (`acknowledged: false` then says it was not this request)."""
    from srekit.flows.notify import acknowledge_by_link

    given = _form_token(await request.body()) or token
    person = await _claim(state, incident_id, given)
    if isinstance(person, AckTokenError):
        return _refusal(request, str(person))
    assert given is not None  # a valid claim came from it
    outcome = await run_in_threadpool(
        acknowledge_by_link,
        state.engine,
        incident_id=incident_id,
        token=given,
        settings=state.settings,
        now=datetime.now(UTC),
    )
    state.gate.incidents_changed()
    if outcome.acknowledged:
        said = f"acknowledged by {outcome.person}"
    else:
        said = f"already {outcome.state.value}: nothing changed"
    if _wants_html(request):
        headline = html.escape(_headline(incident_id, outcome.title))
        return _page(
            f"srekit: incident {incident_id}",
            f"<h1>{headline}</h1><p>{html.escape(said.capitalize())}.</p>",
            200,
        )
    return JSONResponse(
        {
            "incident_id": incident_id,
            "acknowledged": outcome.acknowledged,
            "state": outcome.state.value,
            "person": outcome.person,
            "detail": f"incident {incident_id} {said}",
        },
        headers={"Cache-Control": "no-store"},
    )


def _form_token(body: bytes) -> str | None:
    """`token` of a form body (application/x-www-form-urlencoded), if it has one; other
    bodies have none. Never longer than a token may be, so parsing stays cheap."""
    if not body or len(body) > 4 * ACK_TOKEN_MAX_CHARS:
        return None
    fields = parse_qs(body.decode("utf-8", errors="replace"), max_num_fields=20)
    values = fields.get("token")
    return values[0] if values else None
