"""`/status`, the public status page, and `/badge/slo/...`, SLO badges: no login.

Only services in `SREKIT_STATUS_PAGE_SERVICES` appear (`flows.status_page`). A badge of an SLO
of another service answers only with `?sig=`, an HMAC of its path under the store's `badges`
secret (`srekit badge url`); without it, or with a wrong one, it answers 404 exactly as an SLO
that does not exist, so a stranger learns nothing.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from srekit.core.status_page import (
    BANNER_LABELS,
    CONDITION_LABELS,
    PUBLIC_STATE_LABELS,
    BadgeKind,
    badge_face,
    badge_path,
    signature_matches,
)
from srekit.flows.status_page import StatusPage, badge_secret, status_page
from srekit.web import svg
from srekit.web.auth import web_state
from srekit.web.templating import PAGE_HEADERS, environment, static_url

router = APIRouter(include_in_schema=False)

#: shields.io's colour names as the SVG badge draws them.
SHIELDS_COLOURS = {
    "brightgreen": "#44cc11",
    "yellow": "#dfb317",
    "orange": "#fe7d37",
    "red": "#e05d44",
    "lightgrey": "#9f9f9f",
}
_MAX_NAME = 200
_MAX_SIGNATURE = 128
_NOT_FOUND = {"detail": "Not Found"}
_BADGE_HEADERS = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}


def day_bar_titles(days: tuple[tuple[object, float | None], ...]) -> list[str]:
    return [f"{day}: no data" if sli is None else f"{day}: SLI {sli:.3%}" for day, sli in days]


def render_status_page(page: StatusPage, *, stylesheet: str) -> str:
    """The page as HTML, its stylesheet linked at `stylesheet` (the export links a file beside
    it): the same bytes for the same page."""
    bars = {
        f"{service.name}/{slo.name}": svg.day_bars(
            [sli for _, sli in slo.days],
            objective=slo.objective,
            titles=day_bar_titles(slo.days),
            width=page.days * 4,
            height=32,
            label=f"{service.name} {slo.name}: daily SLI against the objective,"
            f" last {page.days} days",
        )
        for service in page.services
        for slo in service.slos
    }
    return (
        environment()
        .get_template("status.html")
        .render(
            stylesheet=stylesheet,
            banner=page.banner,
            banner_label=BANNER_LABELS[page.banner] if page.banner else None,
            services=page.services,
            incidents=page.incidents,
            condition_labels=CONDITION_LABELS,
            state_labels=PUBLIC_STATE_LABELS,
            bars=bars,
            days=page.days,
            at=page.at,
        )
    )


@router.get("/status", response_class=HTMLResponse)
async def public_status(request: Request) -> HTMLResponse:
    state = web_state(request).api
    services = state.settings.status_page_service_names
    statuses = await state.statuses.get() if services else []
    page = await run_in_threadpool(
        status_page, state.engine, statuses=statuses, services=services, now=datetime.now(UTC)
    )
    body = render_status_page(page, stylesheet=static_url("status.css"))
    return HTMLResponse(body, headers=PAGE_HEADERS)


def _plain_name(value: str) -> bool:
    return 0 < len(value) <= _MAX_NAME and value.isprintable()


@router.get("/badge/slo/{service}/{slo}/{file}", response_model=None)
async def slo_badge(
    request: Request,
    service: str,
    slo: str,
    file: str,
    sig: Annotated[str | None, Query(max_length=_MAX_SIGNATURE)] = None,
) -> Response:
    """The badge as SVG (`<kind>.svg`) or shields.io endpoint JSON (`<kind>.json`)."""
    kind_name, _, extension = file.partition(".")
    if (
        extension not in ("svg", "json")
        or kind_name not in {kind.value for kind in BadgeKind}
        or not (_plain_name(service) and _plain_name(slo))
    ):
        return JSONResponse(_NOT_FOUND, status_code=404)
    kind = BadgeKind(kind_name)
    state = web_state(request).api
    statuses = await state.statuses.get()
    status = next((s for s in statuses if s.service == service and s.slo == slo), None)
    if status is None:
        return JSONResponse(_NOT_FOUND, status_code=404)
    if service not in state.settings.status_page_service_names:
        if sig is None:
            return JSONResponse(_NOT_FOUND, status_code=404)
        secret = await run_in_threadpool(badge_secret, state.engine)
        if not signature_matches(secret, badge_path(service, slo, kind), sig):
            return JSONResponse(_NOT_FOUND, status_code=404)
    face = badge_face(status, kind, thresholds=state.settings.badge_thresholds())
    if extension == "json":
        body = {
            "schemaVersion": 1,
            "label": face.label,
            "message": face.message,
            "color": face.color,
        }
        return Response(json.dumps(body), media_type="application/json", headers=_BADGE_HEADERS)
    drawn = svg.badge(face.label, face.message, colour=SHIELDS_COLOURS[face.color])
    return Response(drawn, media_type="image/svg+xml", headers=_BADGE_HEADERS)
