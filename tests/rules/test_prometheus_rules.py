"""srekit's own rules: valid for promtool, and alerts fire exactly where the math says.

Unit-test series start with large counter values so Prometheus's extrapolation applies the same
factor to errors and totals, and ratios over a window are Δerrors / Δtotal exactly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from srekit.core.slo import SLO, Alerting, AlertSpec, PromErrorRatio, PromLatency, PromRatio
from srekit.core.window import CalendarWindow, RollingWindow
from srekit.rules.prometheus import generate_rules, render_rules
from tests.rules.promtool import promtool

DAY = 86400


def _slo(**kwargs: Any) -> SLO:
    values: dict[str, Any] = {
        "service": "api",
        "name": "availability",
        "objective": 0.999,
        "window": RollingWindow(30 * DAY),
        "indicator": PromRatio(bad='http_requests_total{code=~"5.."}', total="http_requests_total"),
    }
    values.update(kwargs)
    return SLO(**values)


VARIANTS = {
    "bad-selector": _slo(),
    "good-template": _slo(
        indicator=PromRatio(
            good='sum(rate(http_requests_total{code!~"5.."}[{{.window}}]))',
            total="sum(rate(http_requests_total[{{.window}}]))",
        )
    ),
    "expression": _slo(indicator=PromRatio(good='sum(ok{job="a"})', total='sum(all{job="a"})')),
    "latency": _slo(
        name="latency",
        objective=0.95,
        indicator=PromLatency("http_request_duration_seconds", 0.3, 'job="api"'),
        runbook_url="https://runbooks.example/api-latency",
    ),
    "raw": _slo(
        indicator=PromErrorRatio("sum(rate(errors[{{.window}}])) / sum(rate(all[{{.window}}]))")
    ),
    "28d-month": _slo(window=CalendarWindow("month", time_zone="Europe/Paris")),
    "no-page": _slo(
        alerting=Alerting(
            name="ApiAvailability", labels={"team": "core"}, page=AlertSpec(disabled=True)
        )
    ),
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("output", ["prometheus", "k8s"])
def test_promtool_check_rules_accepts_every_variant(
    tmp_path: Path, variant: str, output: str
) -> None:
    text = render_rules(generate_rules([VARIANTS[variant]]), output=output)  # type: ignore[arg-type]
    document = yaml.safe_load(text)
    groups = document["groups"] if output == "prometheus" else document["spec"]["groups"]
    if output == "k8s":
        assert document["kind"] == "PrometheusRule"
    rule_file = tmp_path / "rules.yml"
    rule_file.write_text(yaml.safe_dump({"groups": groups}))
    result = promtool("check", "rules", rule_file)
    assert result.returncode == 0, result.stdout + result.stderr
    alerts = [rule["alert"] for group in groups for rule in group["rules"] if "alert" in rule]
    assert alerts[-1].endswith("SLINoData")
    assert (variant != "no-page") == any(
        r.get("labels", {}).get("severity") == "page"
        for g in groups
        for r in g["rules"]
        if "alert" in r
    )


def test_factors_follow_the_window() -> None:
    text = render_rules(generate_rules([_slo(window=RollingWindow(28 * DAY))]))
    for factor in ("13.44", "5.6", "2.8"):
        assert f"({factor} * 0.001)" in text
    assert "(0.933333333333 * 0.001)" in text


def test_event_store_slos_are_skipped_with_a_reason() -> None:
    from srekit.core.slo import EventsRatio

    generated = generate_rules([_slo(indicator=EventsRatio("status < 500"))])
    assert generated.groups == []
    assert generated.skipped == [("api/availability", "reads srekit's event store, not Prometheus")]


def _series(name: str, start: int, steps: list[tuple[int, int]]) -> str:
    """Expanding notation: from `start`, runs of (increment per minute, minutes)."""
    parts = [str(start)]
    value = start
    for increment, minutes in steps:
        parts.append(f"{value + increment}+{increment}x{minutes - 1}")
        value += increment * minutes
    return " ".join(parts)


def _unit_test(tmp_path: Path, tests: list[dict[str, Any]]) -> str:
    rules = tmp_path / "rules.yml"
    rules.write_text(render_rules(generate_rules([_slo()])))
    suite = {
        "rule_files": [rules.name],
        "evaluation_interval": "1m",
        "group_eval_order": [
            "srekit-api-availability-rollup",
            "srekit-api-availability-sli",
            "srekit-api-availability-alerts",
        ],
        "tests": tests,
    }
    (tmp_path / "test.yml").write_text(yaml.safe_dump(suite, sort_keys=False))
    result = promtool("test", "rules", "test.yml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


LABELS = {"srekit_service": "api", "srekit_slo": "availability"}


def _alert(name: str, severity: str) -> dict[str, Any]:
    """The expected alert, annotations read back from the generated rule of that severity."""
    groups = generate_rules([_slo()]).groups
    rule = next(
        r
        for g in groups
        for r in g["rules"]
        if r.get("alert") == name and r["labels"].get("severity") == severity
    )
    return {"exp_labels": {**LABELS, "severity": severity}, "exp_annotations": rule["annotations"]}


def test_page_fires_when_one_hour_burn_crosses_14_4(tmp_path: Path) -> None:
    # 100 requests/min; from minute 120, 2 of them fail (2 %, burn 20).
    # Over the 1h window the error ratio after k minutes of errors is 2k/5900 when the range is
    # left-open (Prometheus 3) and 2k/6000 when it holds its start sample (Prometheus 2.x): above
    # 14.4 × 0.001 from k = 43 or 44. At k = 42 both are below (0.01424, 0.0140), at k = 45 both
    # above (0.01525, 0.0150). The 5m window is at 2 % by then; the slower ticket conditions
    # (1d/2h > 3, 3d/6h > 1) are met too, so both severities fire at minute 165.
    total = _series("t", 50_000, [(100, 400)])
    errors = _series("e", 1_000, [(0, 120), (2, 280)])
    name = "ApiAvailabilityErrorBudgetBurn"
    _unit_test(
        tmp_path,
        [
            {
                "interval": "1m",
                "input_series": [
                    {"series": 'http_requests_total{code="200"}', "values": total},
                    {"series": 'http_requests_total{code="500"}', "values": errors},
                ],
                "alert_rule_test": [
                    {
                        "eval_time": "162m",
                        "alertname": name,
                        "exp_alerts": [_alert(name, "ticket")],
                    },
                    {
                        "eval_time": "165m",
                        "alertname": name,
                        "exp_alerts": [_alert(name, "page"), _alert(name, "ticket")],
                    },
                ],
            }
        ],
    )


def test_ticket_fires_on_slow_burn_and_page_does_not(tmp_path: Path) -> None:
    # 0.5 % errors from minute 120 (burn 5): never a page (5 < 6 < 14.4). The ticket's 3d/6h
    # condition (burn > 1) needs the 6h ratio 0.005 × (T − 120) / T above 0.001: false at
    # T = 130 (0.00038), true well before T = 200 (0.002); the 3d ratio over the rollups is the
    # same data seen through hourly increases, also above 0.001 by then.
    total = _series("t", 50_000, [(200, 400)])
    errors = _series("e", 1_000, [(0, 120), (1, 280)])
    name = "ApiAvailabilityErrorBudgetBurn"
    series = [
        {"series": 'http_requests_total{code="200"}', "values": total},
        {"series": 'http_requests_total{code="500"}', "values": errors},
    ]
    _unit_test(
        tmp_path,
        [
            {
                "interval": "1m",
                "input_series": series,
                "alert_rule_test": [
                    {"eval_time": "130m", "alertname": name, "exp_alerts": []},
                    {
                        "eval_time": "200m",
                        "alertname": name,
                        "exp_alerts": [_alert(name, "ticket")],
                    },
                    {
                        "eval_time": "390m",
                        "alertname": name,
                        "exp_alerts": [_alert(name, "ticket")],
                    },
                ],
            }
        ],
    )


def test_no_alert_on_clean_traffic_and_no_data_alert_when_absent(tmp_path: Path) -> None:
    total = _series("t", 50_000, [(100, 400)])
    _unit_test(
        tmp_path,
        [
            {
                "interval": "1m",
                "input_series": [
                    {"series": 'http_requests_total{code="200"}', "values": total},
                    {"series": 'http_requests_total{code="500"}', "values": "7+0x400"},
                ],
                "alert_rule_test": [
                    {
                        "eval_time": "390m",
                        "alertname": "ApiAvailabilityErrorBudgetBurn",
                        "exp_alerts": [],
                    },
                    {
                        "eval_time": "390m",
                        "alertname": "ApiAvailabilitySLINoData",
                        "exp_alerts": [],
                    },
                ],
            },
            {
                "interval": "1m",
                "input_series": [{"series": "unrelated_metric", "values": "1+1x60"}],
                "alert_rule_test": [
                    {"eval_time": "4m", "alertname": "ApiAvailabilitySLINoData", "exp_alerts": []},
                    {
                        "eval_time": "6m",
                        "alertname": "ApiAvailabilitySLINoData",
                        "exp_alerts": [_alert("ApiAvailabilitySLINoData", "ticket")],
                    },
                ],
            },
        ],
    )
