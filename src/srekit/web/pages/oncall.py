"""`/ui/oncall`: each stored rotation's layers, who holds them now and who comes next, the next
14 days as a grid (days × layers), links to the iCalendar feeds, and the handoff checklist.

Shifts come from `flows.oncall` (`who`, `schedule`), as `GET /api/v1/oncall/rotations/{name}/who`
and `/schedule` answer; the checklist from `flows.handoff.handoff_checklist`, rendered from
its Markdown (`core.handoff.render_markdown`) with markdown-it-py, raw HTML off, as the
post-mortem's HTML export is. `?rotation=` chooses the rotation whose checklist is shown.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import TYPE_CHECKING

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from srekit.core.rotation import RotationVersion, Shift
from srekit.errors import SrekitError
from srekit.web.auth import PageViewer, web_state
from srekit.web.query import clean
from srekit.web.templating import render

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

router = APIRouter(prefix="/ui", include_in_schema=False)
log = logging.getLogger(__name__)

DAYS = 14


@dataclass(frozen=True)
class LayerNow:
    layer: str
    now: Shift
    next: Shift | None


@dataclass(frozen=True)
class RotationPage:
    name: str
    team: str | None
    layers: list[LayerNow]
    days: list[date]
    grid: list[tuple[date, list[list[str]]]]  # per UTC day, per layer: who holds part of it
    members: list[str]
    checklist: Markup | None
    problem: str | None = None
    calendar_path: str | None = None  # the signed feed a calendar client subscribes to


def calendar_grid(
    shifts: Sequence[Shift], *, layers: Sequence[str], days: Sequence[date]
) -> list[tuple[date, list[list[str]]]]:
    """Per UTC day and layer, who holds part of that day, in order ("nobody" for a gap)."""
    grid = []
    for day in days:
        start = datetime.combine(day, time(), tzinfo=UTC)
        end = start + timedelta(days=1)
        row = []
        for layer in layers:
            held = [
                shift.member or "nobody"
                for shift in shifts
                if shift.layer == layer and shift.start < end and shift.end > start
            ]
            row.append(list(dict.fromkeys(held)))
        grid.append((day, row))
    return grid


@cache
def _markdown() -> MarkdownIt:
    from markdown_it import MarkdownIt

    # CommonMark with tables; raw HTML is shown as text, unsafe link schemes are not linked
    return MarkdownIt("commonmark", {"html": False}).enable("table")


def _checklist(request: Request, versions: Sequence[RotationVersion], *, now: datetime) -> Markup:
    from srekit.alertmanager import alertmanager_of
    from srekit.core.handoff import render_markdown
    from srekit.flows.handoff import handoff_checklist

    settings = web_state(request).api.settings
    silences = alertmanager_of(settings)
    try:
        checklist = handoff_checklist(
            web_state(request).api.engine,
            versions=versions,
            at=now,
            max_status_age_s=settings.gate_max_status_age_s,
            silences=silences,
        )
    finally:
        if silences is not None:
            silences.close()
    # markdown-it escaped every text of the document: what it returns is markup to keep
    return Markup(_markdown().render(render_markdown(checklist)))


def _rotation(
    request: Request, name: str, team: str | None, *, now: datetime, with_checklist: bool
) -> RotationPage:
    from srekit.flows.oncall import schedule, signed_calendar_path, stored_versions, who

    engine = web_state(request).api.engine
    versions = stored_versions(engine, name=name)
    held = who(versions, at=now)
    first = now.date()
    days = [first + timedelta(days=offset) for offset in range(DAYS)]
    start = datetime.combine(first, time(), tzinfo=UTC)
    shifts = schedule(versions, start=start, end=start + timedelta(days=DAYS))
    layers = []
    for layer, current in held.items():
        following = [s for s in shifts if s.layer == layer and s.start >= current.end]
        if not following:  # beyond the grid: ask for the shift after this one
            following = [
                s
                for s in schedule(versions, start=current.end, end=current.end + timedelta(1))
                if s.layer == layer
            ]
        layers.append(LayerNow(layer, current, following[0] if following else None))
    names = list(held)
    rotation = versions[-1].rotation
    members = sorted({m for layer in rotation.layers for m in layer.members})
    return RotationPage(
        name=name,
        team=team,
        layers=layers,
        days=days,
        grid=calendar_grid(shifts, layers=names, days=days),
        members=members,
        checklist=_checklist(request, versions, now=now) if with_checklist else None,
        calendar_path=signed_calendar_path(engine, rotation=name),
    )


def _rotations(request: Request, chosen: str | None, *, now: datetime) -> list[RotationPage]:
    from srekit.store.database import transaction
    from srekit.store.repo import list_rotations

    with transaction(web_state(request).api.engine, read_only=True) as session:
        stored = [(row.name, row.team) for row in list_rotations(session)]
    known = {name for name, _ in stored}
    wanted = chosen if chosen in known else (stored[0][0] if stored else None)
    pages = []
    for name, team in stored:
        try:
            pages.append(_rotation(request, name, team, now=now, with_checklist=name == wanted))
        except SrekitError as error:  # one unreadable rotation must not hide the others
            log.error("rotation %s cannot be read: %s", name, error)
            pages.append(RotationPage(name, team, [], [], [], [], None, problem=str(error)))
    return pages


@router.get("/oncall", response_class=HTMLResponse)
async def oncall_page(request: Request, user: PageViewer) -> HTMLResponse:
    now = datetime.now(UTC)
    chosen = clean(request.query_params.get("rotation"))
    rotations = await run_in_threadpool(_rotations, request, chosen, now=now)
    return render(
        request,
        "oncall.html",
        {
            "title": "On-call",
            "active": "oncall",
            "rotations": rotations,
            "base_url": str(request.base_url).rstrip("/"),
            "at": now,
            "days": DAYS,
        },
    )
