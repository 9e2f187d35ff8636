"""`/ui/slos/{service}/{name}`: one SLO in detail.

Tiles (objective, SLI, budget remaining as a share and in events or minutes, burn rate, time
to exhaustion, the service's gate for a feature change), each with an "Explain this number"
block showing its formula with the status's own inputs filled in; two uPlot charts (remaining
budget against the ideal line, the SLI against the objective) drawn by `static/slo_detail.js`
from `/ui/slos/{service}/{name}/history.json`, with deploys and incidents as markers and the
SLO's alerts as bands, over the range and burn-down view the URL picks (`?range=&view=`);
the month-by-month compliance grid (`flows.history.slo_monthly_compliance`); the
multi-window burn-rate table; the spec as YAML and its versions.

Every figure is the status's (`flows.dashboard.slo_lines`, as on the SLO list) or the history
flow's (`flows.history`, as `/api/v1/slos/{service}/{name}/history` serves it): this page
formats and explains, it does not compute. An SLO that is not stored, or a path value that is
too long or holds control characters, is a 404 page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

import yaml
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.concurrency import run_in_threadpool

from srekit.api.responses import ChartJSONResponse
from srekit.contracts import history_document, overlays_document
from srekit.core.compliance import BURNDOWN_VIEWS, BurndownView, MonthCompliance
from srekit.core.status import SloStatus
from srekit.errors import NotFound
from srekit.flows.dashboard import SloLine, slo_lines
from srekit.flows.slo_detail import StoredSlo, stored_slo
from srekit.web.auth import PageRefusedError, PageViewer, web_state
from srekit.web.pages.overview import HEALTH_LABELS
from srekit.web.templating import PAGE_HEADERS, render

__all__ = [
    "CHART_RANGE",
    "CHART_RANGES",
    "CHART_WIDTH",
    "ChartChoice",
    "Explained",
    "chart_choice",
    "explain",
    "router",
]

router = APIRouter(prefix="/ui", include_in_schema=False)

#: What the charts cover and how many buckets they get (about one per pixel).
CHART_RANGE = timedelta(days=30)
CHART_WIDTH = 600
#: The series the charts draw (with the burn-down and the ideal line): the others are left
#: out of `history.json`, a third of its bytes and time.
CHART_FIGURES = ("sli", "remaining")
_VALUE_LIMIT = 200
#: The range picker's choices ("window": the SLO's own window up to now).
CHART_RANGES: dict[str, timedelta | None] = {
    "1d": timedelta(days=1),
    "7d": timedelta(days=7),
    "30d": CHART_RANGE,
    "90d": timedelta(days=90),
    "window": None,
}
_VIEW_LABELS = {
    "rolling": "the SLO's window",
    "week": "this calendar week",
    "month": "this calendar month",
    "quarter": "this calendar quarter",
}


@dataclass(frozen=True)
class ChartChoice:
    """What the charts show: the range picker's value and the burn-down's view, as the URL
    holds them (`?range=…&view=…`, so a view can be linked)."""

    range: str = "30d"
    view: BurndownView = "rolling"

    def query(self, **changes: str) -> str:
        """This choice's query string with `changes` applied (for the pickers' links)."""
        values = {"range": self.range, "view": self.view, **changes}
        return "?" + urlencode(values)


def chart_choice(request: Request) -> ChartChoice:
    """The `range` and `view` query values, checked: an unknown one is a 400 page (a deep
    link that cannot be honoured is said so, not silently replaced). Other query values are
    ignored."""
    chosen_range = request.query_params.get("range", "30d")
    chosen_view = request.query_params.get("view", "rolling")
    if chosen_range not in CHART_RANGES:
        raise PageRefusedError(
            400, f"Unknown chart range: expected one of {', '.join(CHART_RANGES)}."
        )
    for view in BURNDOWN_VIEWS:
        if chosen_view == view:
            return ChartChoice(chosen_range, view)
    raise PageRefusedError(
        400, f"Unknown burn-down view: expected one of {', '.join(BURNDOWN_VIEWS)}."
    )


@dataclass(frozen=True)
class Explained:
    """One tile: its label, the figure as shown, and how it was reached (formula, then the
    same with the status's numbers in)."""

    key: str
    label: str
    shown: str
    formula: str
    filled: str
    note: str = ""


def _path_value(value: str) -> str:
    """A path value worth looking up; a 404 page for one no SLO could have."""
    if (
        not value
        or len(value) > _VALUE_LIMIT
        or any(ord(char) < 0x20 or 0x7F <= ord(char) < 0xA0 for char in value)
    ):
        raise PageRefusedError(404, "No such SLO.")
    return value


def _p(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}%}"


def _g(value: float | None) -> str:
    return "—" if value is None else f"{value:.6g}"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds >= 86400:
        return f"{seconds / 86400:.1f}d"
    if seconds >= 3600:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 60:.0f}m"


def explain(status: SloStatus, line: SloLine | None) -> list[Explained]:
    """The tiles of `status`, each with its formula and inputs (the status's values only)."""
    objective = status.objective
    fraction = 1 - objective
    budget = status.error_budget
    remaining = budget.remaining if budget is not None else None
    counts = status.counts if status.counts is not None and status.counts.counted else None
    burn_1h = status.burn_rates.get("1h")
    window_s = status.window_s
    tiles = [
        Explained(
            "objective",
            "Objective",
            _p(objective),
            "budget fraction b = 1 − objective",
            f"b = 1 − {_g(objective)} = {_g(fraction)} of the {status.window} window"
            f" ({window_s} s)",
        )
    ]
    if counts is not None:
        tiles.append(
            Explained(
                "sli",
                "SLI",
                _p(status.sli),
                "SLI = good / total over the SLO window",
                f"SLI = {_g(counts.good)} / {_g(counts.total)} = {_p(status.sli, 4)}",
            )
        )
    else:
        tiles.append(
            Explained(
                "sli",
                "SLI",
                _p(status.sli),
                "SLI = 1 − error ratio over the SLO window",
                f"SLI = {_p(status.sli, 4)} (the source gives a ratio, no event counts)",
            )
        )
    if remaining is not None and counts is not None:
        bad = counts.total - counts.good
        allowed = budget.allowed_bad_events if budget is not None else None
        left = None if allowed is None else remaining * allowed
        filled = (
            f"remaining = 1 − ({_g(bad)} / ({_g(counts.total)} × (1 − {_g(objective)})))"
            f" = 1 − {_g(bad)} / {_g(allowed)} = {_p(remaining, 2)}"
        )
        in_units = f"{_g(left)} of {_g(allowed)} allowed bad events left"
    else:
        filled = (
            f"remaining = 1 − consumed = 1 − {_p(budget.consumed, 2)} = {_p(remaining, 2)}"
            if budget is not None
            else "no budget figures: the SLO has no data"
        )
        in_units = ""
    minutes = None if remaining is None else remaining * fraction * window_s / 60
    tiles.append(
        Explained(
            "remaining",
            "Budget remaining",
            _p(remaining, 1),
            "remaining = 1 − (bad / (total × (1 − objective)))",
            filled,
            note="; ".join(
                part
                for part in (
                    in_units,
                    ""
                    if minutes is None
                    else f"{minutes:.1f} minutes of full outage left"
                    f" ({_p(remaining, 2)} × {_g(fraction)} × {window_s} s / 60)",
                )
                if part
            ),
        )
    )
    tiles.append(
        Explained(
            "burn_1h",
            "Burn rate (1h)",
            "—" if burn_1h is None else f"{burn_1h:.2f}",
            "burn(1h) = error_ratio(1h) / (1 − objective)",
            "no data in the last hour"
            if burn_1h is None
            else f"burn(1h) = {_g(burn_1h * fraction)} / {_g(fraction)} = {burn_1h:.2f}",
            note="1 spends exactly the whole budget over the window",
        )
    )
    exhaustion = status.time_to_exhaustion_s
    tiles.append(
        Explained(
            "exhaustion",
            "Time to exhaustion",
            _duration(exhaustion),
            "time = remaining × window / burn(1h), when both are positive",
            f"{_p(remaining, 2)} × {window_s} s / {_g(burn_1h)} = {_g(exhaustion)} s"
            if exhaustion is not None
            else f"none: remaining {_p(remaining, 2)}, burn(1h) {_g(burn_1h)}",
        )
    )
    if line is not None:
        gate = line.gate
        tiles.append(
            Explained(
                "gate",
                "Gate (feature)",
                gate.decision.value,
                "the policy's decision for the service's worst SLO, an open P0/P1 denies",
                f"state {gate.state}: " + ("; ".join(gate.reasons) or "no reason given"),
            )
        )
    return tiles


def _alert_rows(status: SloStatus) -> list[dict[str, Any]]:
    return [
        {
            "alert": alert,
            "long": status.burn_rates.get(alert.long_window),
            "short": status.burn_rates.get(alert.short_window),
        }
        for alert in status.alerts
    ]


def _yaml(spec: dict[str, Any]) -> str:
    return yaml.safe_dump(spec, sort_keys=False, allow_unicode=True)


async def _stored(request: Request, service: str, name: str) -> StoredSlo:
    engine = web_state(request).api.engine
    try:
        return await run_in_threadpool(stored_slo, engine, service=service, name=name)
    except NotFound:
        raise PageRefusedError(404, "No such SLO.") from None


def _month_cells(months: list[MonthCompliance]) -> list[dict[str, Any]]:
    """The compliance grid's cells, newest last: label, figures as shown, and the state the
    cell's colour and text name (met, missed, no data)."""
    cells = []
    for month in months:
        state = "no-data" if month.met is None else ("met" if month.met else "missed")
        cells.append(
            {
                "key": month.month.strftime("%Y-%m"),
                "label": month.month.strftime("%b %Y"),
                "state": state,
                "state_label": {"no-data": "no data", "met": "met", "missed": "missed"}[state],
                "sli": _p(month.sli, 3),
                "objective": _p(month.objective, 3),
                "consumed": _p(month.budget_consumed, 1),
                "hours": month.hours,
            }
        )
    return cells


@router.get("/slos/{service}/{name}", response_class=HTMLResponse)
async def slo_detail(request: Request, service: str, name: str, user: PageViewer) -> HTMLResponse:
    from srekit.flows.history import slo_monthly_compliance

    service, name = _path_value(service), _path_value(name)
    choice = chart_choice(request)
    stored = await _stored(request, service, name)
    state = web_state(request).api
    try:
        months = await run_in_threadpool(
            slo_monthly_compliance,
            state.engine,
            service=service,
            name=name,
            now=datetime.now(UTC),
        )
    except NotFound:
        raise PageRefusedError(404, "No such SLO.") from None
    # the service's every status: its gate reads all of them, as the gate API does (this
    # SLO's alone would count its siblings as unreadable data)
    of_service = [status for status in await state.statuses.get() if status.service == service]
    found = any(status.slo == name for status in of_service)
    lines = (
        await run_in_threadpool(
            slo_lines,
            state.engine,
            statuses=of_service,
            incidents=state.gate.incidents,
            now=datetime.now(UTC),
            max_status_age_s=state.settings.gate_max_status_age_s,
            load_test=state.gate.load_test,
            catalog=await state.gate.catalog(),
        )
        if found
        else []
    )
    line = next((line for line in lines if line.status.slo == name), None)
    status = line.status if line else None
    return render(
        request,
        "slo_detail.html",
        {
            "title": f"{service}/{name}",
            "active": "slos",
            "stored": stored,
            "line": line,
            "status": status,
            "health_label": HEALTH_LABELS[line.health] if line else None,
            "tiles": explain(status, line) if status else [],
            "alerts": _alert_rows(status) if status else [],
            "spec_yaml": _yaml(stored.spec),
            "versions": [(version, _yaml(version.spec)) for version in stored.versions],
            "history_url": f"/ui/slos/{quote(service, safe='')}/{quote(name, safe='')}"
            "/history.json" + choice.query(),
            "choice": choice,
            "ranges": list(CHART_RANGES),
            "views": [(view, _VIEW_LABELS[view]) for view in BURNDOWN_VIEWS],
            "view_label": _VIEW_LABELS[choice.view],
            "months": _month_cells(months),
        },
    )


@router.get("/slos/{service}/{name}/history.json")
async def slo_detail_history(
    request: Request, service: str, name: str, user: PageViewer
) -> JSONResponse:
    """The charts' data: the history and overlays documents of the API's endpoints, over the
    chosen range (`?range=`, 30 days by default) at 600 buckets, the burn-down over the
    chosen view (`?view=`), for the session's user."""
    from srekit.flows.history import slo_history_chart, slo_overlays, slo_window_start

    service, name = _path_value(service), _path_value(name)
    choice = chart_choice(request)
    state = web_state(request).api
    now = datetime.now(UTC)
    span = CHART_RANGES[choice.range]

    def read() -> dict[str, Any]:
        start = (
            now - span
            if span is not None
            else min(
                slo_window_start(state.engine, service=service, name=name, now=now),
                now - timedelta(hours=1),
            )
        )
        chart = slo_history_chart(
            state.engine,
            service=service,
            name=name,
            start=start,
            end=now,
            width=CHART_WIDTH,
            now=now,
            raw_s=state.settings.history_raw_s,
            view=choice.view,
            figures=CHART_FIGURES,
        )
        overlays = slo_overlays(state.engine, service=service, name=name, start=start, end=now)
        return {
            "range": choice.range,
            "view": choice.view,
            "history": history_document(chart),
            "overlays": overlays_document(
                overlays, service=service, slo=name, start=start, end=now
            ),
        }

    try:
        document = await run_in_threadpool(read)
    except NotFound:
        raise PageRefusedError(404, "No such SLO.") from None
    return ChartJSONResponse(document, headers=PAGE_HEADERS)
