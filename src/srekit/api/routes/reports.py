"""`GET /api/v1/reports/monthly?month=` and `/weekly?week=`: the SRE report and the weekly
error-budget review (`flows.report`), as JSON (`contracts.ReportOut`), Markdown, HTML or PDF,
rendered as `srekit report` renders them: the same stored data gives the same bytes. A period
without any data is a 404 saying so, never an empty report."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from srekit.api.deps import ApiState, StateDep, Viewer
from srekit.api.responses import AUTH_ERRORS
from srekit.contracts import ReportOut
from srekit.core.instant import format_instant
from srekit.core.report import ReportPeriod, month_period, week_period
from srekit.errors import NotFound, SpecError
from srekit.report import ReportFormat

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])

_NAME = r"^[^\x00-\x1f\x7f]+$"
_MEDIA = {
    ReportFormat.JSON: "application/json",
    ReportFormat.MD: "text/markdown; charset=utf-8",
    ReportFormat.HTML: "text/html; charset=utf-8",
    ReportFormat.PDF: "application/pdf",
}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    **AUTH_ERRORS,
    200: {
        "model": ReportOut,
        "content": {media: {} for media in _MEDIA.values() if media != "application/json"},
        "description": "the report in the format asked for",
    },
    404: {"description": "no data in the period for the scope, or no such team"},
}

ServiceQuery = Annotated[str | None, Query(max_length=200, pattern=_NAME)]
TeamQuery = Annotated[str | None, Query(max_length=200, pattern=_NAME)]
AtQuery = Annotated[datetime | None, Query(description="RFC 3339; default: now")]


def _period(label: str, *, weekly: bool) -> ReportPeriod:
    try:
        return week_period(label) if weekly else month_period(label)
    except ValueError as error:
        raise SpecError(str(error), file="query", field="week" if weekly else "month") from None


def _answer(
    state: ApiState,
    *,
    period: ReportPeriod,
    at: datetime | None,
    service: str | None,
    team: str | None,
    output: ReportFormat,
) -> Response:
    from srekit.contracts import report_document
    from srekit.flows.report import stored_report
    from srekit.report import render_report
    from srekit.sources.factory import build_sources, close_sources

    if at is not None and at.tzinfo is None:
        raise SpecError("expected a time zone (Z or +02:00)", file="query", field="at")
    now = at or datetime.now(UTC).replace(microsecond=0)
    sources = build_sources(state.settings)
    try:
        report = stored_report(
            state.engine,
            period=period,
            at=now,
            sources=sources,
            service=service,
            team=team,
            severities=state.settings.severity_definitions(),
        )
    finally:
        close_sources(sources)
    if not report.has_data:
        raise NotFound(
            f"no data for {report.scope} in {period.title} as at {format_instant(now)}: no SLO"
            " snapshot, incident, deploy or SLO change"
        )
    content = render_report(report_document(report), output)
    headers = {}
    if output is ReportFormat.PDF:
        headers["Content-Disposition"] = f'inline; filename="srekit-{period.label}.pdf"'
    return Response(content, media_type=_MEDIA[output], headers=headers)


@router.get("/monthly", responses=_RESPONSES, response_class=Response)
def monthly(
    *,
    state: StateDep,
    principal: Viewer,
    month: Annotated[str, Query(max_length=16, description="YYYY-MM, UTC")],
    service: ServiceQuery = None,
    team: TeamQuery = None,
    at: AtQuery = None,
    format: ReportFormat = ReportFormat.JSON,
) -> Response:
    """The monthly SRE report of a service, a team's services or everything."""
    period = _period(month, weekly=False)
    return _answer(state, period=period, at=at, service=service, team=team, output=format)


@router.get("/weekly", responses=_RESPONSES, response_class=Response)
def weekly(
    *,
    state: StateDep,
    principal: Viewer,
    week: Annotated[str, Query(max_length=16, description="YYYY-Www (ISO week), UTC")],
    service: ServiceQuery = None,
    team: TeamQuery = None,
    at: AtQuery = None,
    format: ReportFormat = ReportFormat.JSON,
) -> Response:
    """The weekly error-budget review: the report's sections over one ISO week."""
    period = _period(week, weekly=True)
    return _answer(state, period=period, at=at, service=service, team=team, output=format)
