"""`/ui/`: the Overview. How many SLOs are met, at risk, breached or without data
(`core.dashboard`), the burn-rate alerts firing, open incidents (editors may acknowledge a
triggered one: the form posts to `web.pages.incidents`), who is on call now, each service's
deploy gate for a feature change, and a 30-day heatmap of each SLO's daily burn rate
(`flows.dashboard`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from srekit.core.dashboard import SloHealth, burn_level, health_counts
from srekit.flows.dashboard import Overview, SloLine, overview
from srekit.web import svg
from srekit.web.auth import PageViewer, web_state
from srekit.web.templating import render

router = APIRouter(prefix="/ui", include_in_schema=False)

HEALTH_LABELS: dict[SloHealth, str] = {
    SloHealth.MET: "Met",
    SloHealth.AT_RISK: "At risk",
    SloHealth.BREACHED: "Breached",
    SloHealth.NO_DATA: "No data",
}
_HEAT_COLOURS = {"none": "none", "low": "good", "high": "warn", "severe": "bad"}


def _heat_title(line: SloLine, index: int) -> str:
    reading = line.history[index]
    day = reading.day.isoformat()
    if not reading.recorded:
        return f"{line.key} {day}: no history recorded that day"
    if reading.burn_1d is None:
        return f"{line.key} {day}: no data (no events in the day)"
    return f"{line.key} {day}: burn rate over 1d {reading.burn_1d:.2f}"


def burn_heatmap(lines: tuple[SloLine, ...]) -> str:
    """One row per SLO, one cell per day: the day's 1-day burn rate, graded by `burn_level`;
    a day with no recorded snapshot is grey and its tooltip says so."""
    rows = [
        (
            line.key,
            [
                svg.HeatCell(
                    _HEAT_COLOURS[burn_level(reading.burn_1d).value]
                    if reading.recorded
                    else "none",
                    _heat_title(line, index),
                )
                for index, reading in enumerate(line.history)
            ],
        )
        for line in lines
    ]
    return svg.heatmap(rows, label="daily burn rate per SLO over the last 30 days")


def _view(found: Overview) -> dict[str, Any]:
    counts = health_counts(line.status for line in found.lines)
    firing = [(line, alert) for line in found.lines for alert in line.status.alerts if alert.firing]
    gates = {line.status.service: line.gate for line in found.lines}
    recorded_days = sum(1 for line in found.lines for day in line.history if day.recorded)
    return {
        "title": "Overview",
        "active": "overview",
        "at": found.at,
        "counts": [(health, HEALTH_LABELS[health], counts[health]) for health in SloHealth],
        "total": len(found.lines),
        "firing": firing,
        "incidents": found.incidents,
        "on_call": found.on_call,
        "gates": sorted(gates.items()),
        "heatmap": burn_heatmap(found.lines) if found.lines else None,
        "days": found.days,
        "history_missing": recorded_days == 0,
        "problems": found.problems,
    }


@router.get("/", response_class=HTMLResponse)
async def overview_page(request: Request, user: PageViewer) -> HTMLResponse:
    state = web_state(request).api
    statuses = await state.statuses.get()
    found = await run_in_threadpool(
        overview,
        state.engine,
        statuses=statuses,
        incidents=state.gate.incidents,
        now=datetime.now(UTC),
        max_status_age_s=state.settings.gate_max_status_age_s,
    )
    return render(request, "overview.html", _view(found))
