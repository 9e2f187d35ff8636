"""`/ui/slos`: every SLO in one table, worst budget first.

Columns: service, team, SLO, objective, window, SLI, budget remaining (a bar), burn rates over
1h, 6h and 3d, time to exhaustion, a 30-day sparkline of the remaining budget, the service's
gate for a feature change, open incidents and the health class. Every figure is the status's
(`flows.dashboard.slo_lines`), formatted only.

Every choice is in the URL query, so a view is a link: `service`, `team`, `state` (a health
class) filter; `sort` (a column's key) and `dir` (`asc`, `desc`) order; `group` (`service`,
`team`, `state` or `label:<name>`) groups; `page` (from 1) picks the page: 50 SLOs a page,
so the page stays light (at 1,000 SLOs the whole table weighed 2 MB), and only the page's
SLOs have their history read. A value that is too
long, holds control characters or names nothing known is ignored, never an error. htmx
re-renders the view (`#slo-view`) when a filter changes; a plain GET of the same URL renders
the whole page.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from srekit.core.dashboard import SloHealth
from srekit.core.policy import Decision
from srekit.core.status import SloStatus
from srekit.flows.dashboard import DailyReading, SloLine, daily_history
from srekit.flows.gate import Catalog
from srekit.flows.incidents import list_incident_views
from srekit.web import svg
from srekit.web.auth import PageViewer, web_state
from srekit.web.lines import LineCache
from srekit.web.pages.overview import HEALTH_LABELS
from srekit.web.templating import render

if TYPE_CHECKING:
    from srekit.web.app import WebState

router = APIRouter(prefix="/ui", include_in_schema=False)

_VALUE_LIMIT = 200
#: SLOs a page of the list shows: at 50 rows with their sparklines a page, its scripts and
#: styles weigh under 250 KB.
PAGE_SIZE = 50
_GATE_ORDER = {Decision.DENY: 0, Decision.REVIEW: 1, Decision.ALLOW: 2}
_HEALTH_ORDER = {
    SloHealth.BREACHED: 0,
    SloHealth.AT_RISK: 1,
    SloHealth.NO_DATA: 2,
    SloHealth.MET: 3,
}


def _remaining(line: SloLine) -> float | None:
    budget = line.status.error_budget
    return budget.remaining if budget is not None else None


def _burn(window: str) -> Callable[[SloLine], float | None]:
    return lambda line: line.status.burn_rates.get(window)


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    value: Callable[[SloLine], object]
    numeric: bool = False


COLUMNS: tuple[Column, ...] = (
    Column("service", "Service", lambda line: line.status.service),
    Column("team", "Team", lambda line: line.team),
    Column("slo", "SLO", lambda line: line.status.slo),
    Column("objective", "Objective", lambda line: line.status.objective, numeric=True),
    Column("window", "Window", lambda line: line.status.window_s, numeric=True),
    Column("sli", "SLI", lambda line: line.status.sli, numeric=True),
    Column("budget", "Budget left", _remaining, numeric=True),
    Column("burn_1h", "Burn 1h", _burn("1h"), numeric=True),
    Column("burn_6h", "Burn 6h", _burn("6h"), numeric=True),
    Column("burn_3d", "Burn 3d", _burn("3d"), numeric=True),
    Column("exhaustion", "Empty in", lambda line: line.status.time_to_exhaustion_s, True),
    Column("trend", "30 days", lambda line: None),
    Column("gate", "Gate", lambda line: _GATE_ORDER[line.gate.decision]),
    Column("incidents", "Incidents", lambda line: line.open_incidents, numeric=True),
    Column("state", "State", lambda line: _HEALTH_ORDER[line.health]),
)
_SORTABLE = {column.key: column for column in COLUMNS if column.key != "trend"}
DEFAULT_SORT = "budget"


def _clean(value: str | None) -> str | None:
    """A query value worth reading: present, not too long, without control characters."""
    if not value or len(value) > _VALUE_LIMIT:
        return None
    if any(ord(char) < 0x20 or 0x7F <= ord(char) < 0xA0 for char in value):
        return None
    return value


@dataclass(frozen=True)
class TableQuery:
    """The view the URL asks for, every value checked (unknown ones dropped)."""

    service: str | None = None
    team: str | None = None
    state: SloHealth | None = None
    sort: str = DEFAULT_SORT
    descending: bool = False
    group: str | None = None
    page: int = 1

    def params(self, **changes: object) -> str:
        """This view's query string, with `changes` applied (None drops a parameter)."""
        values: dict[str, object] = {
            "service": self.service,
            "team": self.team,
            "state": self.state.value if self.state else None,
            "sort": self.sort if self.sort != DEFAULT_SORT else None,
            "dir": "desc" if self.descending else None,
            "group": self.group,
            "page": self.page if self.page != 1 else None,
        }
        values.update(changes)
        return urlencode({key: str(value) for key, value in values.items() if value is not None})


def read_query(request: Request, *, labels: Sequence[str]) -> TableQuery:
    params = request.query_params
    state = _clean(params.get("state"))
    sort = _clean(params.get("sort"))
    group = _clean(params.get("group"))
    groups = {"service", "team", "state", *(f"label:{name}" for name in labels)}
    return TableQuery(
        service=_clean(params.get("service")),
        team=_clean(params.get("team")),
        state=SloHealth(state) if state in set(SloHealth) else None,
        sort=sort if sort in _SORTABLE else DEFAULT_SORT,
        descending=params.get("dir") == "desc",
        group=group if group in groups else None,
        page=_page(params.get("page")),
    )


def _page(value: str | None) -> int:
    """The page asked for, from 1; anything else (absent, not a number, huge) is page 1."""
    cleaned = _clean(value)
    if cleaned is None or not cleaned.isdigit() or len(cleaned) > 6:
        return 1
    return max(1, int(cleaned))


def sort_lines(lines: Sequence[SloLine], *, key: str, descending: bool) -> list[SloLine]:
    """`lines` ordered by column `key`; SLOs without a value last either way, ties by
    service then SLO."""
    column = _SORTABLE[key]
    ordered = sorted(lines, key=lambda line: (line.status.service, line.status.slo))

    def value(line: SloLine) -> Any:
        found = column.value(line)
        return None if isinstance(found, float) and math.isnan(found) else found

    known = [line for line in ordered if value(line) is not None]
    missing = [line for line in ordered if value(line) is None]
    known.sort(key=value, reverse=descending)
    return known + missing


def _group_of(line: SloLine, group: str) -> str:
    if group == "service":
        return line.status.service
    if group == "team":
        return line.team or "(no team)"
    if group == "state":
        return HEALTH_LABELS[line.health]
    return line.status.labels.get(group.removeprefix("label:"), "(no label)")


def _row(line: SloLine, history: Sequence[DailyReading]) -> dict[str, Any]:
    status = line.status
    remaining = _remaining(line)
    trend = [reading.remaining for reading in history]
    return {
        "line": line,
        "remaining": remaining,
        "bar": svg.budget_bar(remaining, decorative=True),  # the figure is beside it
        "spark": svg.sparkline(trend, width=100, height=20, label="remaining budget, 30 days"),
        "has_trend": any(value is not None for value in trend),
        "burns": [status.burn_rates.get(window) for window in ("1h", "6h", "3d")],
        "health_label": HEALTH_LABELS[line.health],
    }


def _href(params: str) -> str:
    return f"/ui/slos?{params}" if params else "/ui/slos"


@dataclass(frozen=True)
class _Chosen:
    """The SLOs a request's view shows: filtered, ordered, and the page of them."""

    query: TableQuery
    labels: list[str]
    ordered: list[SloLine]
    page: int
    pages: int
    shown: list[SloLine]


def _choose(request: Request, lines: list[SloLine], *, kept: LineCache) -> _Chosen:
    """Every line in the query's order, kept between requests (`LineCache.derived`), then
    filtered: the filters keep that order, so a filtered view costs no sort of its own."""
    labels = kept.derived(
        lines, "labels", lambda: sorted({name for line in lines for name in line.status.labels})
    )
    query = read_query(request, labels=labels)
    ordered = [
        line
        for line in kept.derived(
            lines,
            ("order", query.sort, query.descending),
            lambda: sort_lines(lines, key=query.sort, descending=query.descending),
        )
        if (query.service is None or line.status.service == query.service)
        and (query.team is None or line.team == query.team)
        and (query.state is None or line.health is query.state)
    ]
    pages = max(1, math.ceil(len(ordered) / PAGE_SIZE))
    page = min(query.page, pages)
    shown = ordered[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    return _Chosen(query, labels, ordered, page, pages, shown)


def _view(
    lines: list[SloLine],
    chosen: _Chosen,
    history: Mapping[str, Sequence[DailyReading]],
) -> dict[str, Any]:
    query, labels, ordered, page, pages = (
        chosen.query,
        chosen.labels,
        chosen.ordered,
        chosen.page,
        chosen.pages,
    )
    shown_lines = chosen.shown
    groups: list[tuple[str | None, list[dict[str, Any]]]] = []
    if query.group is None:
        groups.append((None, [_row(line, history.get(line.key, ())) for line in shown_lines]))
    else:
        named: dict[str, list[dict[str, Any]]] = {}
        for line in shown_lines:
            named.setdefault(_group_of(line, query.group), []).append(
                _row(line, history.get(line.key, ()))
            )
        groups.extend(sorted(named.items()))
    headers = []
    for column in COLUMNS:
        sortable = column.key in _SORTABLE
        active = sortable and column.key == query.sort
        descending = not query.descending if active else False
        headers.append(
            {
                "column": column,
                "sortable": sortable,
                "aria_sort": ("descending" if query.descending else "ascending")
                if active
                else None,
                "href": "/ui/slos?"
                + query.params(sort=column.key, dir="desc" if descending else None, page=None),
            }
        )
    return {
        "title": "SLOs",
        "active": "slos",
        "query": query,
        "headers": headers,
        "groups": groups,
        "shown": len(ordered),
        "total": len(lines),
        "page": page,
        "pages": pages,
        "first": (page - 1) * PAGE_SIZE + 1 if ordered else 0,
        "last": (page - 1) * PAGE_SIZE + len(shown_lines),
        "previous_href": _href(query.params(page=page - 1 if page > 2 else None))
        if page > 1
        else None,
        "next_href": _href(query.params(page=page + 1)) if page < pages else None,
        "services": sorted({line.status.service for line in lines}),
        "teams": sorted({line.team for line in lines if line.team}),
        "states": [(health.value, HEALTH_LABELS[health]) for health in SloHealth],
        "group_options": [
            ("service", "service"),
            ("team", "team"),
            ("state", "state"),
            *((f"label:{name}", f"label {name}") for name in labels),
        ],
    }


def _listed(
    web: WebState, request: Request, statuses: list[SloStatus], catalog: Catalog
) -> dict[str, Any]:
    """Every SLO's line (the filters, sort and counts need them all), and the history of
    the page's SLOs only."""
    now = datetime.now(UTC)
    lines = web.lines.of(
        web.api,
        statuses=statuses,
        catalog=catalog,
        open_incidents=list_incident_views(web.api.engine, state="open", limit=1000),
        now=now,
    )
    chosen = _choose(request, lines, kept=web.lines)
    history = daily_history(web.api.engine, chosen.shown, now=now, burn_rates=False)
    return _view(lines, chosen, history)


@router.get("/slos", response_class=HTMLResponse)
async def slo_list(request: Request, user: PageViewer) -> HTMLResponse:
    web = web_state(request)
    statuses = await web.api.statuses.get()
    catalog = await web.api.gate.catalog()
    view = await run_in_threadpool(_listed, web, request, statuses, catalog)
    partial = request.headers.get("hx-request") == "true" and not request.headers.get(
        "hx-history-restore-request"
    )
    return render(request, "slos_view.html" if partial else "slos.html", view)
