"""The Grafana dashboards: JSON Grafana 10+ imports, every query over a series srekit's rules
record for the example SLOs, valid PromQL for promtool, panels that neither collide nor
overlap, and well-formed template variables."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from srekit.dashboards import DASHBOARD_FILES, GridPos, render_dashboard
from srekit.rules.prometheus import generate_rules
from srekit.spec.loader import load_specs
from tests.rules.promtool import promtool

ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS = {
    name: json.loads(render_dashboard(build())) for name, build in DASHBOARD_FILES.items()
}

# PromQL words that are not metric names: functions (followed by "("), aggregations, operators
_KEYWORDS = frozenset(
    {"and", "or", "unless", "on", "ignoring", "group_left", "group_right", "by", "without",
     "bool", "offset"}
)  # fmt: skip


def _recorded_names() -> set[str]:
    """What `srekit rules generate` records for the bundled SLOs read from Prometheus.

    examples/slos reads srekit's event store, so it gets no rules (they are listed as skipped);
    examples/prometheus holds the Prometheus SLOs, a ratio and a latency one over 30 days."""
    specs = load_specs([ROOT / "examples" / "slos", ROOT / "examples" / "prometheus"])
    generated = generate_rules(specs.slos)
    assert len(generated.skipped) == 4  # the event-store SLOs of examples/slos
    return {
        rule["record"] for group in generated.groups for rule in group["rules"] if "record" in rule
    }


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads: label matchers, ranges, label lists and
    strings removed, what is left that names no function or keyword."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = re.sub(r"\b(on|ignoring|by|without|group_left|group_right)\s*\([^)]*\)", " ", text)
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", text):
        word = match.group()
        if word in _KEYWORDS or text[match.end() :].lstrip().startswith("("):
            continue
        names.add(word)
    return names


def test_metric_names_reads_a_query_as_promql_does() -> None:
    expr = (
        'count((srekit_slo:error_ratio:rate1h{srekit_service=~"$service"}\n'
        '/ on(srekit_service, srekit_slo)\n(1 - srekit_slo:objective:ratio{a="b"})) > 14.4)'
        " or vector(0) and sum by (job) (rate(http_requests_total[5m]))"
    )
    assert metric_names(expr) == {
        "srekit_slo:error_ratio:rate1h",
        "srekit_slo:objective:ratio",
        "http_requests_total",
    }


def _panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    return list(dashboard["panels"])


def _expressions(dashboard: dict[str, Any]) -> list[str]:
    return [target["expr"] for panel in _panels(dashboard) for target in panel["targets"]]


@pytest.mark.parametrize("name", DASHBOARDS)
def test_the_dashboard_is_grafana_10_json(name: str) -> None:
    dashboard = DASHBOARDS[name]
    assert render_dashboard(DASHBOARD_FILES[name]()).endswith("}\n")
    assert dashboard["schemaVersion"] >= 36
    assert dashboard["id"] is None  # Grafana assigns it on import
    assert name == f"{dashboard['uid']}.json"
    assert len(dashboard["uid"]) <= 40  # Grafana's limit
    assert dashboard["title"].startswith("srekit / ")
    assert {panel["type"] for panel in _panels(dashboard)} == {"timeseries", "stat", "gauge"}
    for panel in _panels(dashboard):
        assert panel["title"]
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        assert panel["targets"], panel["title"]
        ref_ids = [target["refId"] for target in panel["targets"]]
        assert len(set(ref_ids)) == len(ref_ids)
        for target in panel["targets"]:
            assert target["datasource"] == panel["datasource"]
            assert target["expr"].strip()
        defaults = panel["fieldConfig"]["defaults"]
        steps = defaults["thresholds"]["steps"]
        assert steps[0]["value"] is None
        values = [step["value"] for step in steps[1:]]
        assert values == sorted(values)


@pytest.mark.parametrize("name", DASHBOARDS)
def test_every_query_reads_a_series_srekit_records(name: str) -> None:
    recorded = _recorded_names()
    used = set().union(*(metric_names(expr) for expr in _expressions(DASHBOARDS[name])))
    assert used, name
    assert used - recorded == set()
    for variable in DASHBOARDS[name]["templating"]["list"]:
        if variable["type"] == "query":
            series = re.fullmatch(r"label_values\((.*), (\w+)\)", variable["definition"])
            assert series is not None, variable["definition"]
            assert metric_names(series.group(1)) <= recorded


def test_the_two_dashboards_read_every_kind_of_recorded_series() -> None:
    used = set().union(*(metric_names(e) for d in DASHBOARDS.values() for e in _expressions(d)))
    assert used == _recorded_names()  # every window, the objective, budget, window and rollups


@pytest.mark.parametrize("name", DASHBOARDS)
def test_panel_ids_are_unique_and_the_grid_has_no_overlap(name: str) -> None:
    panels = _panels(DASHBOARDS[name])
    ids = [panel["id"] for panel in panels]
    assert len(set(ids)) == len(ids)
    assert all(isinstance(i, int) and i > 0 for i in ids)
    grids = [GridPos(**panel["gridPos"]) for panel in panels]
    for index, grid in enumerate(grids):
        assert grid.x + grid.w <= 24
        for other in grids[index + 1 :]:
            assert not grid.overlaps(other), (grid, other)
    # the rows are filled: no column left empty in the first row
    first_row = [g for g in grids if g.y == 0]
    assert sum(g.w for g in first_row) == 24


def test_overlapping_panels_are_refused() -> None:
    assert GridPos(0, 0, 12, 4).overlaps(GridPos(11, 3, 4, 4))
    assert not GridPos(0, 0, 12, 4).overlaps(GridPos(12, 0, 12, 4))
    assert not GridPos(0, 0, 12, 4).overlaps(GridPos(0, 4, 12, 4))
    with pytest.raises(ValueError, match="x \\+ w must be at most 24"):
        GridPos(20, 0, 8, 4)
    with pytest.raises(ValueError, match="positive sizes"):
        GridPos(0, 0, 0, 4)
    from srekit.dashboards import Dashboard, Panel, Target

    with pytest.raises(ValueError, match="'a' and 'b' overlap"):
        Dashboard(
            uid="x",
            title="x",
            description="",
            panels=(
                Panel("stat", "a", GridPos(0, 0, 12, 4), (Target("up"),)),
                Panel("stat", "b", GridPos(6, 2, 12, 4), (Target("up"),)),
            ),
            variables=(),
        )


@pytest.mark.parametrize("name", DASHBOARDS)
def test_template_variables_are_well_formed(name: str) -> None:
    dashboard = DASHBOARDS[name]
    variables = dashboard["templating"]["list"]
    names = [variable["name"] for variable in variables]
    assert len(set(names)) == len(names)
    assert variables[0] == {
        "name": "datasource",
        "label": "Prometheus",
        "type": "datasource",
        "query": "prometheus",
        "current": {},
        "hide": 0,
        "includeAll": False,
        "multi": False,
        "options": [],
        "refresh": 1,
        "regex": "",
    }
    for position, variable in enumerate(variables[1:], 1):
        assert variable["type"] == "query"
        assert variable["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        assert variable["query"]["query"] == variable["definition"]
        assert re.fullmatch(
            r"label_values\(srekit_slo:objective:ratio(\{.*\})?, \w+\)", variable["definition"]
        )
        # a variable refers only to variables defined before it
        for used in re.findall(r"\$(\w+)", variable["definition"]):
            assert used in names[:position]
        assert variable["allValue"] == (".*" if variable["includeAll"] else None)
    # every variable a query names exists; every variable but the datasource is used
    text = json.dumps(dashboard["panels"])
    used = set(re.findall(r"\$\{?(\w+)", text))
    assert used == set(names)


def test_the_detail_dashboard_picks_one_slo_and_the_overview_all() -> None:
    detail = DASHBOARDS["srekit-slo-detail.json"]
    for expr in _expressions(detail):
        for selector in re.findall(r"\{[^}]*\}", expr):
            assert selector == '{srekit_service="$service",srekit_slo="$slo"}'
    overview = DASHBOARDS["srekit-slos-overview.json"]
    for expr in _expressions(overview):
        for selector in re.findall(r"\{[^}]*\}", expr):
            assert selector == '{srekit_service=~"$service"}'
    burn = next(p for p in _panels(detail) if p["title"] == "Burn rates")
    assert [t["legendFormat"] for t in burn["targets"]] == [
        "5m",
        "30m",
        "1h",
        "2h",
        "6h",
        "1d",
        "3d",
    ]
    steps = [s["value"] for s in burn["fieldConfig"]["defaults"]["thresholds"]["steps"]]
    assert steps == [None, 1, 3, 6, 14.4]  # the 30-day window's alert factors


def test_promtool_accepts_every_query(tmp_path: Path) -> None:
    """Each query, its variables given values, as a recording rule `promtool check rules`
    parses: PromQL that Prometheus would refuse fails here."""
    values = {"$service": "api", "$slo": "availability"}
    rules: list[dict[str, str]] = []
    for dashboard in DASHBOARDS.values():
        for query in _expressions(dashboard):
            expr = query
            for variable, value in values.items():
                expr = expr.replace(variable, value)
            rules.append({"record": f"dashboard:query{len(rules)}", "expr": expr})
    (tmp_path / "queries.yml").write_text(
        json.dumps({"groups": [{"name": "dashboards", "rules": rules}]})
    )
    result = promtool("check", "rules", tmp_path / "queries.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(rules)} rules found" in result.stdout
