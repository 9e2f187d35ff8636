"""A small typed builder for Grafana's classic dashboard JSON model (Grafana 10 and later).

Frozen values in, a plain `dict` out (`Dashboard.to_json`): panels placed on Grafana's 24-column
grid (`GridPos`), Prometheus queries (`Target`) that name the dashboard's datasource variable,
and template variables (`Variable`). Nothing here knows SLOs; `dashboards.slo` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "DATASOURCE",
    "GRID_COLUMNS",
    "SCHEMA_VERSION",
    "Dashboard",
    "GridPos",
    "Panel",
    "Target",
    "Threshold",
    "Variable",
]

SCHEMA_VERSION = 39  # Grafana 10.4's; Grafana migrates anything older on import
GRID_COLUMNS = 24
DATASOURCE: dict[str, str] = {"type": "prometheus", "uid": "${datasource}"}

PanelType = Literal["timeseries", "stat", "gauge"]


@dataclass(frozen=True)
class GridPos:
    """Where a panel sits: `x` and `w` in columns of 24, `y` and `h` in grid rows (30 px)."""

    x: int
    y: int
    w: int
    h: int

    def __post_init__(self) -> None:
        if self.w <= 0 or self.h <= 0 or self.x < 0 or self.y < 0:
            raise ValueError(f"gridPos: positive sizes and offsets expected, got {self}")
        if self.x + self.w > GRID_COLUMNS:
            raise ValueError(f"gridPos: x + w must be at most {GRID_COLUMNS}, got {self}")

    def overlaps(self, other: GridPos) -> bool:
        """Whether the two rectangles share a cell."""
        return (
            self.x < other.x + other.w
            and other.x < self.x + self.w
            and self.y < other.y + other.h
            and other.y < self.y + self.h
        )

    def to_json(self) -> dict[str, int]:
        return {"h": self.h, "w": self.w, "x": self.x, "y": self.y}


@dataclass(frozen=True)
class Target:
    """One PromQL query of a panel; `legend` is Grafana's legend format (`{{label}}`)."""

    expr: str
    legend: str = ""
    instant: bool = False

    def to_json(self, ref_id: str) -> dict[str, Any]:
        return {
            "datasource": dict(DATASOURCE),
            "editorMode": "code",
            "expr": self.expr,
            "instant": self.instant,
            "legendFormat": self.legend or "__auto",
            "range": not self.instant,
            "refId": ref_id,
        }


@dataclass(frozen=True)
class Threshold:
    """A colour from `value` upwards (None: the base colour, below every other step)."""

    value: float | None
    color: str

    def to_json(self) -> dict[str, Any]:
        return {"color": self.color, "value": self.value}


@dataclass(frozen=True)
class Panel:
    """A timeseries, stat or gauge panel; `unit` is a Grafana unit id (`percentunit`, `none`)."""

    type: PanelType
    title: str
    grid: GridPos
    targets: tuple[Target, ...]
    description: str = ""
    unit: str = "none"
    decimals: int | None = None
    minimum: float | None = None
    maximum: float | None = None
    thresholds: tuple[Threshold, ...] = (Threshold(None, "green"),)
    threshold_lines: bool = False

    def to_json(self, panel_id: int) -> dict[str, Any]:
        defaults: dict[str, Any] = {
            "unit": self.unit,
            "thresholds": {"mode": "absolute", "steps": [t.to_json() for t in self.thresholds]},
            "color": {"mode": "palette-classic" if self.type == "timeseries" else "thresholds"},
        }
        if self.decimals is not None:
            defaults["decimals"] = self.decimals
        if self.minimum is not None:
            defaults["min"] = self.minimum
        if self.maximum is not None:
            defaults["max"] = self.maximum
        options: dict[str, Any] = {
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}
        }
        if self.type == "timeseries":
            defaults["custom"] = {
                "drawStyle": "line",
                "lineWidth": 1,
                "fillOpacity": 0,
                "showPoints": "never",
                "spanNulls": False,
                "thresholdsStyle": {"mode": "line" if self.threshold_lines else "off"},
            }
            options = {
                "legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
                "tooltip": {"mode": "multi", "sort": "desc"},
            }
        elif self.type == "stat":
            options |= {"colorMode": "value", "graphMode": "none", "textMode": "auto"}
        else:
            options |= {"showThresholdLabels": False, "showThresholdMarkers": True}
        return {
            "id": panel_id,
            "type": self.type,
            "title": self.title,
            "description": self.description,
            "datasource": dict(DATASOURCE),
            "gridPos": self.grid.to_json(),
            "fieldConfig": {"defaults": defaults, "overrides": []},
            "options": options,
            "targets": [
                target.to_json(chr(ord("A") + index)) for index, target in enumerate(self.targets)
            ],
        }


@dataclass(frozen=True)
class Variable:
    """A template variable: the Prometheus datasource, or the values of a label (`query`,
    Grafana's `label_values(metric{...}, label)`)."""

    name: str
    label: str
    kind: Literal["datasource", "query"]
    query: str = "prometheus"
    include_all: bool = False

    def to_json(self) -> dict[str, Any]:
        if self.kind == "datasource":
            return {
                "name": self.name,
                "label": self.label,
                "type": "datasource",
                "query": self.query,
                "current": {},
                "hide": 0,
                "includeAll": False,
                "multi": False,
                "options": [],
                "refresh": 1,
                "regex": "",
            }
        chosen: dict[str, Any] = {}
        if self.include_all:  # all services by default, matched as a regular expression
            chosen = {"selected": True, "text": ["All"], "value": ["$__all"]}
        return {
            "name": self.name,
            "label": self.label,
            "type": "query",
            "allValue": ".*" if self.include_all else None,
            "datasource": dict(DATASOURCE),
            "definition": self.query,
            "query": {"qryType": 1, "query": self.query, "refId": "PrometheusVariableQueryEditor"},
            "current": chosen,
            "hide": 0,
            "includeAll": self.include_all,
            "multi": self.include_all,
            "options": [],
            "refresh": 2,  # on time range change: a new SLO shows up without a reload
            "regex": "",
            "sort": 1,
        }


@dataclass(frozen=True)
class Dashboard:
    """A whole dashboard; panel ids are given in order, from 1, so they are unique."""

    uid: str
    title: str
    description: str
    panels: tuple[Panel, ...]
    variables: tuple[Variable, ...]
    tags: tuple[str, ...] = ("srekit", "slo")
    time_from: str = "now-7d"
    refresh: str = "1m"
    links: Sequence[dict[str, Any]] = field(default=())

    def __post_init__(self) -> None:
        for index, panel in enumerate(self.panels):
            for other in self.panels[index + 1 :]:
                if panel.grid.overlaps(other.grid):
                    raise ValueError(f"panels {panel.title!r} and {other.title!r} overlap")

    def to_json(self) -> dict[str, Any]:
        return {
            "id": None,
            "uid": self.uid,
            "title": self.title,
            "description": self.description,
            "tags": list(self.tags),
            "timezone": "utc",
            "editable": True,
            "graphTooltip": 1,
            "fiscalYearStartMonth": 0,
            "liveNow": False,
            "links": [dict(link) for link in self.links],
            "panels": [panel.to_json(index) for index, panel in enumerate(self.panels, 1)],
            "refresh": self.refresh,
            "schemaVersion": SCHEMA_VERSION,
            "templating": {"list": [variable.to_json() for variable in self.variables]},
            "annotations": {"list": []},
            "time": {"from": self.time_from, "to": "now"},
            "timepicker": {},
            "version": 1,
            "weekStart": "",
        }
