"""`/ui/`: the Overview. How many SLOs are met, at risk, breached or without data
(`core.dashboard`), the burn-rate alerts firing, open incidents (editors may acknowledge a
triggered one: the form posts to `web.pages.incidents`), who is on call now, each service's
deploy gate for a feature change, and a 30-day heatmap of the daily burn rate of the SLOs with
the least budget left (`flows.dashboard`; at most `HEATMAP_SLOS` rows, so the page stays light
at thousands of SLOs: the SLO list has them all)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from srekit.core.dashboard import SloHealth, burn_level, health_counts
from srekit.core.policy import Decision
from srekit.core.status import SloStatus
from srekit.flows.dashboard import DailyReading, Overview, SloLine, overview
from srekit.flows.gate import Catalog
from srekit.flows.incidents import list_incident_views
from srekit.web import svg
from srekit.web.auth import PageViewer, web_state
from srekit.web.templating import render

if TYPE_CHECKING:
    from srekit.web.app import WebState

router = APIRouter(prefix="/ui", include_in_schema=False)

HEALTH_LABELS: dict[SloHealth, str] = {
    SloHealth.MET: "Met",
    SloHealth.AT_RISK: "At risk",
    SloHealth.BREACHED: "Breached",
    SloHealth.NO_DATA: "No data",
}
_HEAT_COLOURS = {"none": "none", "low": "good", "high": "warn", "severe": "bad"}
#: Services the deploy-gate table lists, denied first, then under review, then allowed; the
#: SLO list's gate column has every one.
GATE_ROWS = 25
_GATE_RANK = {Decision.DENY: 0, Decision.REVIEW: 1, Decision.ALLOW: 2}


def _heat_title(line: SloLine, reading: DailyReading) -> str:
    day = reading.day.isoformat()
    if not reading.recorded:
        return f"{line.key} {day}: no history recorded that day"
    if reading.burn_1d is None:
        return f"{line.key} {day}: no data (no events in the day)"
    return f"{line.key} {day}: burn rate over 1d {reading.burn_1d:.2f}"


def burn_heatmap(
    lines: Sequence[SloLine], history: Mapping[str, Sequence[DailyReading]], *, days: int
) -> str:
    """One row per SLO of `lines`, one cell per day of its `history`: the day's 1-day burn
    rate, graded by `burn_level`; a day with no recorded snapshot is grey and its tooltip
    says so."""
    rows = [
        (
            line.key,
            [
                svg.HeatCell(
                    _HEAT_COLOURS[burn_level(reading.burn_1d).value]
                    if reading.recorded
                    else "none",
                    _heat_title(line, reading),
                )
                for reading in history.get(line.key, ())
            ],
        )
        for line in lines
    ]
    return svg.heatmap(rows, label=f"daily burn rate per SLO over the last {days} days")


def _view(found: Overview) -> dict[str, Any]:
    counts = health_counts(line.status for line in found.lines)
    firing = [(line, alert) for line in found.lines for alert in line.status.alerts if alert.firing]
    gates = sorted(
        {line.status.service: line.gate for line in found.lines}.items(),
        key=lambda item: (_GATE_RANK[item[1].decision], item[0]),
    )
    recorded_days = sum(1 for days in found.history.values() for day in days if day.recorded)
    return {
        "title": "Overview",
        "active": "overview",
        "at": found.at,
        "counts": [(health, HEALTH_LABELS[health], counts[health]) for health in SloHealth],
        "total": len(found.lines),
        "firing": firing,
        "incidents": found.incidents,
        "on_call": found.on_call,
        "gates": gates[:GATE_ROWS],
        "gates_more": max(0, len(gates) - GATE_ROWS),
        "heatmap": burn_heatmap(found.worst, found.history, days=len(found.days))
        if found.worst
        else None,
        "heat_rows": len(found.worst),
        "days": found.days,
        "history_missing": recorded_days == 0,
        "problems": found.problems,
    }


def _read(web: WebState, statuses: list[SloStatus], catalog: Catalog) -> Overview:
    now = datetime.now(UTC)
    views = list_incident_views(web.api.engine, state="open", limit=1000)
    return overview(
        web.api.engine,
        statuses=statuses,
        incidents=web.api.gate.incidents,
        now=now,
        max_status_age_s=web.api.settings.gate_max_status_age_s,
        load_test=web.api.gate.load_test,
        catalog=catalog,
        open_incidents=views,
        lines=web.lines.of(
            web.api, statuses=statuses, catalog=catalog, open_incidents=views, now=now
        ),
    )


@router.get("/", response_class=HTMLResponse)
async def overview_page(request: Request, user: PageViewer) -> HTMLResponse:
    web = web_state(request)
    statuses = await web.api.statuses.get()
    catalog = await web.api.gate.catalog()
    found = await run_in_threadpool(_read, web, statuses, catalog)
    return render(request, "overview.html", _view(found))
