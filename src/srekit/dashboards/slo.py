"""The two SLO dashboards, over the series srekit's rules record (`rules.prometheus`):

- the overview (`srekit-slos-overview`): every SLO of the services chosen (all by default), its
  error budget remaining, SLI, and burn rates over 1h, 6h and 3d;
- the detail (`srekit-slo-detail`): one SLO chosen by the `service` and `slo` variables, with
  every recorded burn-rate window, the SLI against its objective, the budget over time and the
  hourly event counts.

Burn rate = error ratio / (1 − objective), from `srekit_slo:error_ratio:rate<w>` and
`srekit_slo:objective:ratio`, the same formula as `core.budget`. The budget remaining and the SLI
over the SLO's window are recorded for rolling windows of counted indicators only (`ratio` with
`good` or `bad`, `latency`); calendar-window SLOs show their 1d figures instead.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from srekit.core.alerts import burn_rate_alerts
from srekit.core.promql import ROLLUP_GOOD_METRIC, ROLLUP_TOTAL_METRIC
from srekit.core.window import format_duration
from srekit.dashboards.grafana import Dashboard, GridPos, Panel, Target, Threshold, Variable
from srekit.rules.prometheus import RECORDED_WINDOWS_S, ROLLUP_WINDOWS_S

__all__ = [
    "DASHBOARD_FILES",
    "OBJECTIVE_METRIC",
    "REMAINING_METRIC",
    "WINDOW_ERROR_METRIC",
    "detail_dashboard",
    "error_ratio_metric",
    "overview_dashboard",
    "render_dashboard",
]

OBJECTIVE_METRIC = "srekit_slo:objective:ratio"
REMAINING_METRIC = "srekit_slo:error_budget:remaining_ratio"
WINDOW_ERROR_METRIC = "srekit_slo:error_ratio:window"
_IDENTITY = "srekit_service, srekit_slo"
_LEGEND = "{{srekit_service}}/{{srekit_slo}}"
_ALL_WINDOWS_S = (*RECORDED_WINDOWS_S, *ROLLUP_WINDOWS_S)
_MONTH_S = 30 * 86_400


def error_ratio_metric(window_s: int) -> str:
    """The recorded error ratio over `window_s` (`srekit_slo:error_ratio:rate1h`)."""
    return f"srekit_slo:error_ratio:rate{format_duration(window_s)}"


def _burn(window_s: int, selector: str) -> str:
    return (
        f"{error_ratio_metric(window_s)}{selector}\n/ on({_IDENTITY})\n"
        f"(1 - {OBJECTIVE_METRIC}{selector})"
    )


def _burn_thresholds() -> tuple[Threshold, ...]:
    """Green below burn 1, then a colour per alert factor of a 30-day window (1, 3, 6, 14.4):
    a line at each on the burn-rate charts."""
    factors = sorted({round(alert.factor, 6) for alert in burn_rate_alerts(_MONTH_S)})
    colours = ("yellow", "orange", "red", "dark-red")
    steps = [Threshold(None, "green")]
    steps += [Threshold(f, colours[min(i, len(colours) - 1)]) for i, f in enumerate(factors)]
    return tuple(steps)


_BUDGET_THRESHOLDS = (
    Threshold(None, "red"),
    Threshold(0.1, "orange"),
    Threshold(0.25, "yellow"),
    Threshold(0.5, "green"),
)


def _datasource() -> Variable:
    return Variable("datasource", "Prometheus", "datasource")


def overview_dashboard() -> Dashboard:
    """Every SLO at a glance: counts, budgets, SLIs and burn rates, filtered by service."""
    sel = '{srekit_service=~"$service"}'
    burn_steps = _burn_thresholds()
    page_factor = burn_steps[-1].value
    panels = (
        Panel(
            "stat",
            "SLOs",
            GridPos(0, 0, 4, 4),
            (Target(f"count({OBJECTIVE_METRIC}{sel})", instant=True),),
            description="SLOs whose rules are loaded in Prometheus.",
        ),
        Panel(
            "stat",
            "Budgets below 25 %",
            GridPos(4, 0, 5, 4),
            (Target(f"count({REMAINING_METRIC}{sel} < 0.25) or vector(0)", instant=True),),
            thresholds=(Threshold(None, "green"), Threshold(1, "orange")),
        ),
        Panel(
            "stat",
            f"Burning over {page_factor:g}x (1h)",
            GridPos(9, 0, 5, 4),
            (Target(f"count(({_burn(3600, sel)}) > {page_factor:g}) or vector(0)", instant=True),),
            description="SLOs whose 1-hour burn rate is above the fast page factor.",
            thresholds=(Threshold(None, "green"), Threshold(1, "red")),
        ),
        Panel(
            "stat",
            "Lowest budget remaining",
            GridPos(14, 0, 5, 4),
            (Target(f"min({REMAINING_METRIC}{sel})", instant=True),),
            unit="percentunit",
            decimals=1,
            thresholds=_BUDGET_THRESHOLDS,
        ),
        Panel(
            "stat",
            "Highest burn rate (1h)",
            GridPos(19, 0, 5, 4),
            (Target(f"max({_burn(3600, sel)})", instant=True),),
            decimals=2,
            thresholds=burn_steps,
        ),
        Panel(
            "gauge",
            "Error budget remaining",
            GridPos(0, 4, 24, 8),
            (Target(f"{REMAINING_METRIC}{sel}", _LEGEND, instant=True),),
            description="Over each SLO's rolling window; below 0 the budget is overspent.",
            unit="percentunit",
            decimals=1,
            minimum=0,
            maximum=1,
            thresholds=_BUDGET_THRESHOLDS,
        ),
        Panel(
            "stat",
            "SLI over the SLO window",
            GridPos(0, 12, 12, 7),
            (Target(f"1 - {WINDOW_ERROR_METRIC}{sel}", _LEGEND, instant=True),),
            description="Rolling windows; calendar-window SLOs are in the 1d panel.",
            unit="percentunit",
            decimals=3,
        ),
        Panel(
            "stat",
            "SLI over the last day",
            GridPos(12, 12, 12, 7),
            (Target(f"1 - {error_ratio_metric(86_400)}{sel}", _LEGEND, instant=True),),
            unit="percentunit",
            decimals=3,
        ),
        *(
            Panel(
                "timeseries",
                f"Burn rate over {format_duration(window_s)}",
                GridPos(12 * (index % 2), 19 + 9 * (index // 2), 12, 9),
                (Target(_burn(window_s, sel), _LEGEND),),
                description="1 spends exactly the whole budget over the SLO's window.",
                decimals=2,
                minimum=0,
                thresholds=burn_steps,
                threshold_lines=True,
            )
            for index, window_s in enumerate((3600, 21_600, 259_200))
        ),
        Panel(
            "timeseries",
            "Error budget remaining over time",
            GridPos(12, 28, 12, 9),
            (Target(f"{REMAINING_METRIC}{sel}", _LEGEND),),
            unit="percentunit",
            thresholds=_BUDGET_THRESHOLDS,
            threshold_lines=True,
        ),
        Panel(
            "timeseries",
            "SLI (1h)",
            GridPos(0, 37, 24, 9),
            (Target(f"1 - {error_ratio_metric(3600)}{sel}", _LEGEND),),
            unit="percentunit",
            decimals=3,
        ),
    )
    return Dashboard(
        uid="srekit-slos-overview",
        title="srekit / SLOs",
        description="Every SLO srekit's rules record: error budgets, SLIs and burn rates.",
        panels=panels,
        variables=(
            _datasource(),
            Variable(
                "service",
                "Service",
                "query",
                f"label_values({OBJECTIVE_METRIC}, srekit_service)",
                include_all=True,
            ),
        ),
        links=(_link("srekit-slo-detail", "One SLO"),),
    )


def detail_dashboard() -> Dashboard:
    """One SLO, chosen by service and SLO name, with every recorded window."""
    sel = '{srekit_service="$service",srekit_slo="$slo"}'
    burn_steps = _burn_thresholds()
    panels = (
        Panel(
            "stat",
            "Objective",
            GridPos(0, 0, 4, 5),
            (Target(f"{OBJECTIVE_METRIC}{sel}", instant=True),),
            unit="percentunit",
            decimals=3,
        ),
        Panel(
            "stat",
            "SLI over the SLO window",
            GridPos(4, 0, 5, 5),
            (Target(f"1 - {WINDOW_ERROR_METRIC}{sel}", instant=True),),
            unit="percentunit",
            decimals=3,
        ),
        Panel(
            "gauge",
            "Error budget remaining",
            GridPos(9, 0, 5, 5),
            (Target(f"{REMAINING_METRIC}{sel}", instant=True),),
            unit="percentunit",
            decimals=1,
            minimum=0,
            maximum=1,
            thresholds=_BUDGET_THRESHOLDS,
        ),
        *(
            Panel(
                "stat",
                f"Burn rate ({format_duration(window_s)})",
                GridPos(14 + 5 * index, 0, 5, 5),
                (Target(_burn(window_s, sel), instant=True),),
                decimals=2,
                thresholds=burn_steps,
            )
            for index, window_s in enumerate((3600, 21_600))
        ),
        Panel(
            "timeseries",
            "Burn rates",
            GridPos(0, 5, 24, 9),
            tuple(Target(_burn(s, sel), format_duration(s)) for s in _ALL_WINDOWS_S),
            description="Lines at the alert factors of a 30-day window: a page needs the long"
            " and the short window above the same line (1h and 5m above 14.4, 6h and 30m above"
            " 6); a ticket 1d and 2h above 3, or 3d and 6h above 1.",
            decimals=2,
            minimum=0,
            thresholds=burn_steps,
            threshold_lines=True,
        ),
        Panel(
            "timeseries",
            "SLI against the objective",
            GridPos(0, 14, 12, 9),
            (
                Target(f"1 - {error_ratio_metric(3600)}{sel}", "SLI 1h"),
                Target(f"1 - {error_ratio_metric(86_400)}{sel}", "SLI 1d"),
                Target(f"{OBJECTIVE_METRIC}{sel}", "objective"),
            ),
            unit="percentunit",
            decimals=3,
        ),
        Panel(
            "timeseries",
            "Error budget remaining",
            GridPos(12, 14, 12, 9),
            (Target(f"{REMAINING_METRIC}{sel}", "remaining"),),
            unit="percentunit",
            thresholds=_BUDGET_THRESHOLDS,
            threshold_lines=True,
        ),
        Panel(
            "timeseries",
            "Events per hour",
            GridPos(0, 23, 12, 9),
            (
                Target(f"{ROLLUP_TOTAL_METRIC}{sel}", "total"),
                Target(f"{ROLLUP_GOOD_METRIC}{sel}", "good"),
            ),
            description="The hourly rollups the long windows are computed from.",
            minimum=0,
        ),
        Panel(
            "timeseries",
            "Error ratio against the budget",
            GridPos(12, 23, 12, 9),
            (
                Target(f"{error_ratio_metric(300)}{sel}", "error ratio 5m"),
                Target(f"{error_ratio_metric(3600)}{sel}", "error ratio 1h"),
                Target(f"1 - {OBJECTIVE_METRIC}{sel}", "budget (1 - objective)"),
            ),
            unit="percentunit",
            decimals=3,
            minimum=0,
        ),
    )
    return Dashboard(
        uid="srekit-slo-detail",
        title="srekit / SLO detail",
        description="One SLO: burn rates over every recorded window, SLI, budget and events.",
        panels=panels,
        variables=(
            _datasource(),
            Variable(
                "service", "Service", "query", f"label_values({OBJECTIVE_METRIC}, srekit_service)"
            ),
            Variable(
                "slo",
                "SLO",
                "query",
                f'label_values({OBJECTIVE_METRIC}{{srekit_service="$service"}}, srekit_slo)',
            ),
        ),
        links=(_link("srekit-slos-overview", "All SLOs"),),
    )


def _link(uid: str, title: str) -> dict[str, object]:
    """A link to the other dashboard, by uid, keeping the time range and the variables."""
    return {
        "title": title,
        "type": "link",
        "url": f"/d/{uid}",
        "keepTime": True,
        "includeVars": True,
        "icon": "dashboard",
        "tags": [],
        "targetBlank": False,
    }


DASHBOARD_FILES: dict[str, Callable[[], Dashboard]] = {
    "srekit-slos-overview.json": overview_dashboard,
    "srekit-slo-detail.json": detail_dashboard,
}


def render_dashboard(dashboard: Dashboard) -> str:
    """The dashboard as the JSON Grafana imports, indented, ending with a newline."""
    return json.dumps(dashboard.to_json(), indent=2, ensure_ascii=False) + "\n"
