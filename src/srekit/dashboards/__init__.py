"""Grafana dashboards over srekit's own recording rules (`srekit.rules.prometheus`): an
overview of every SLO and a detail page for one, written as Grafana's dashboard JSON from a
small typed builder (`dashboards.grafana`)."""

from __future__ import annotations

from srekit.dashboards.grafana import Dashboard, GridPos, Panel, Target, Variable
from srekit.dashboards.slo import (
    DASHBOARD_FILES,
    detail_dashboard,
    overview_dashboard,
    render_dashboard,
)

__all__ = [
    "DASHBOARD_FILES",
    "Dashboard",
    "GridPos",
    "Panel",
    "Target",
    "Variable",
    "detail_dashboard",
    "overview_dashboard",
    "render_dashboard",
]
