"""srekit's Prometheus rules for SLOs: hourly rollups, error-ratio recordings, burn-rate alerts.

Per SLO (labels `srekit_service`, `srekit_slo` and the SLO's own labels), three groups:

- `<id>-rollup` (interval 1h): `srekit_slo:good_events:increase1h` and
  `srekit_slo:total_events:increase1h`, the events since the previous rollup counted from
  the counters' samples without extrapolation (`core.promql.counter_delta`), so consecutive
  rollups add up exactly. Windows of a day and more are derived from these, so reading 30
  days costs 720 samples per series instead of 43,200 raw ones.
- `<id>-sli`: `srekit_slo:error_ratio:rate<w>` for w in 5m 30m 1h 2h 6h (raw) and 1d 3d (from
  the rollups), the objective, and for rolling windows the window's error ratio and the
  remaining budget.
- `<id>-alerts`: page and ticket multi-window multi-burn-rate alerts (core.alerts factors for the
  SLO's window) and a no-data alert when the SLI stops being recorded.

A ratio over rollups is Σgood/Σtotal of hourly increases, so it is the same whether the rollup
group runs hourly (in Prometheus) or every minute (in `promtool test rules`).
"""

from __future__ import annotations

import gc
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from srekit.core.alerts import BurnRateAlert, burn_rate_alerts
from srekit.core.promql import (
    ROLLUP_GOOD_METRIC,
    ROLLUP_TOTAL_METRIC,
    error_ratio_expr,
    good_events_expr,
    latency_exprs,
    range_before,
    ratio_exprs,
    rollup_exprs,
)
from srekit.core.slo import SLO, PromErrorRatio, PromLatency, PromRatio
from srekit.core.window import CalendarWindow, RollingWindow, Window, format_duration

__all__ = [
    "RECORDED_WINDOWS_S",
    "ROLLUP_WINDOWS_S",
    "GeneratedRules",
    "generate_rules",
    "nominal_window_s",
    "render_rules",
]

RECORDED_WINDOWS_S: tuple[int, ...] = (300, 1800, 3600, 7200, 21600)
ROLLUP_WINDOWS_S: tuple[int, ...] = (86400, 259200)
_NOMINAL_CALENDAR_S = {"day": 86400, "week": 604800, "month": 2592000, "quarter": 7776000}


def nominal_window_s(window: Window) -> int:
    """W for static alert factors: a rolling window's length; 30d for a month, 90d a quarter."""
    if isinstance(window, RollingWindow):
        return window.duration_s
    unit_s = _NOMINAL_CALENDAR_S.get(window.unit, 365 * 86400)
    return unit_s * window.count


def event_queries(slo: SLO, window_s: int) -> tuple[str, str] | None:
    """(good, total) PromQL over a window, or None for indicators without event counts.

    A `bad` indicator's good events are total − (bad or 0): a service without errors yet has
    no error series at all, and the rollup must still record its good events.
    """
    indicator = slo.indicator
    if isinstance(indicator, PromLatency):
        return latency_exprs(indicator, window_s)
    if isinstance(indicator, PromRatio):
        return good_events_expr(indicator, window_s), ratio_exprs(indicator, window_s)[1]
    return None


def _number(value: float) -> str:
    return repr(round(value, 12))


def _raw_error_ratio(slo: SLO, window_s: int) -> str:
    indicator = slo.indicator
    if isinstance(indicator, PromErrorRatio):
        return error_ratio_expr(indicator, window_s)
    if isinstance(indicator, PromRatio) and indicator.bad is not None:
        bad, total = ratio_exprs(indicator, window_s)
        return f"(({bad}) or vector(0))\n/\n({total})"
    queries = event_queries(slo, window_s)
    assert queries is not None
    good, total = queries
    return f"1 - (\n  ({good})\n  /\n  ({total})\n)"


def _rollup_error_ratio(selector: str, window_s: int) -> str:
    """1 − Σgood/Σtotal of the hourly rollups in the last `window_s` (start sample excluded)."""
    window = range_before(window_s)
    return (
        f"1 - (\n  sum_over_time({ROLLUP_GOOD_METRIC}{selector}[{window}])\n  /\n"
        f"  sum_over_time({ROLLUP_TOTAL_METRIC}{selector}[{window}])\n)"
    )


@dataclass(frozen=True)
class GeneratedRules:
    """Rule groups, and the SLOs that got none (with why)."""

    groups: list[dict[str, Any]]
    skipped: list[tuple[str, str]]


def _camel(text: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^a-zA-Z0-9]+", text) if part)


def _selector(labels: Mapping[str, str]) -> str:
    return "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"


@cache  # thousands of SLOs share a handful of (window, objective) pairs
def _burn_clauses(
    conditions: tuple[BurnRateAlert, ...], objective: float
) -> tuple[tuple[str, ...], str]:
    """Per condition, `%s`-templates of its expression (the selector goes in twice), and the
    description's list of thresholds."""
    budget = _number(1.0 - objective)
    clauses = tuple(
        f"(\n  srekit_slo:error_ratio:rate{c.long_window}%s"
        f" > ({_number(c.factor)} * {budget})\n  and\n"
        f"  srekit_slo:error_ratio:rate{c.short_window}%s"
        f" > ({_number(c.factor)} * {budget})\n)"
        for c in conditions
    )
    windows = ", ".join(
        f"{c.long_window}/{c.short_window} > {_number(c.factor)}x" for c in conditions
    )
    return (
        clauses,
        f"Objective {objective:.4%}: the burn rate exceeds {windows} of the budget rate.",
    )


def _alert_rule(
    slo: SLO,
    *,
    severity: Literal["page", "ticket"],
    conditions: tuple[BurnRateAlert, ...],
    identity: Mapping[str, str],
    base_labels: Mapping[str, str],
) -> dict[str, Any]:
    selector = _selector(identity)
    templates, description = _burn_clauses(conditions, slo.objective)
    spec = slo.alerting.page if severity == "page" else slo.alerting.ticket
    name = slo.alerting.name or f"{_camel(slo.service)}{_camel(slo.name)}ErrorBudgetBurn"
    annotations: dict[str, str] = {
        "summary": f"{slo.service}/{slo.name} is burning its error budget too fast ({severity})",
        "description": description,
    }
    if slo.runbook_url:
        annotations["runbook_url"] = slo.runbook_url
    annotations.update(slo.alerting.annotations)
    annotations.update(spec.annotations)
    labels = {**base_labels, **slo.alerting.labels, "severity": severity, **spec.labels}
    return {
        "alert": name,
        "expr": "\nor\n".join(t % (selector, selector) for t in templates),
        "labels": labels,
        "annotations": annotations,
    }


def _rules_for(slo: SLO, extra_labels: Mapping[str, str]) -> list[dict[str, Any]]:
    identity = {"srekit_service": slo.service, "srekit_slo": slo.name}
    labels = {**extra_labels, **slo.labels, **identity}
    selector = _selector(identity)
    indicator = slo.indicator
    counted = isinstance(indicator, PromRatio | PromLatency)
    groups: list[dict[str, Any]] = []
    if isinstance(indicator, PromRatio | PromLatency):
        good, total = rollup_exprs(indicator)
        groups.append(
            {
                "name": f"srekit-{slo.id}-rollup",
                "interval": "1h",
                "rules": [
                    {"record": "srekit_slo:good_events:increase1h", "expr": good, "labels": labels},
                    {
                        "record": "srekit_slo:total_events:increase1h",
                        "expr": total,
                        "labels": labels,
                    },
                ],
            }
        )
    recordings: list[dict[str, Any]] = [
        {
            "record": f"srekit_slo:error_ratio:rate{format_duration(seconds)}",
            "expr": _raw_error_ratio(slo, seconds),
            "labels": labels,
        }
        for seconds in RECORDED_WINDOWS_S
    ]
    for seconds in ROLLUP_WINDOWS_S:
        expr = _rollup_error_ratio(selector, seconds) if counted else _raw_error_ratio(slo, seconds)
        recordings.append(
            {
                "record": f"srekit_slo:error_ratio:rate{format_duration(seconds)}",
                "expr": expr,
                "labels": labels,
            }
        )
    recordings.append(
        {
            "record": "srekit_slo:objective:ratio",
            "expr": f"vector({_number(slo.objective)})",
            "labels": labels,
        }
    )
    if counted and isinstance(slo.window, RollingWindow):
        recordings.append(
            {
                "record": "srekit_slo:error_ratio:window",
                "expr": _rollup_error_ratio(selector, slo.window.duration_s),
                "labels": labels,
            }
        )
        recordings.append(
            {
                "record": "srekit_slo:error_budget:remaining_ratio",
                "expr": (
                    f"1 - (srekit_slo:error_ratio:window{selector} / {_number(slo.budget_ratio)})"
                ),
                "labels": labels,
            }
        )
    groups.append({"name": f"srekit-{slo.id}-sli", "rules": recordings})

    alerts: list[dict[str, Any]] = []
    conditions = burn_rate_alerts(nominal_window_s(slo.window))
    for severity in ("page", "ticket"):
        spec = slo.alerting.page if severity == "page" else slo.alerting.ticket
        chosen = tuple(c for c in conditions if c.severity == severity)
        if not spec.disabled:
            alerts.append(
                _alert_rule(
                    slo,
                    severity=severity,
                    conditions=chosen,
                    identity=identity,
                    base_labels={**extra_labels, **slo.labels},
                )
            )
    alerts.append(
        {
            "alert": f"{slo.alerting.name or _camel(slo.service) + _camel(slo.name)}SLINoData",
            "expr": f"absent_over_time(srekit_slo:error_ratio:rate5m{selector}[15m])",
            "for": "5m",
            "labels": {**extra_labels, **slo.labels, **identity, "severity": "ticket"},
            "annotations": {
                "summary": f"{slo.service}/{slo.name} has no SLI data",
                "description": "The SLI recording has been absent for 15 minutes: check the "
                "metrics it reads and their scrape targets.",
                **({"runbook_url": slo.runbook_url} if slo.runbook_url else {}),
            },
        }
    )
    groups.append({"name": f"srekit-{slo.id}-alerts", "rules": alerts})
    return groups


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while building millions of acyclic strings, dicts and lists.

    Each collection walks every live object, and rules for 10,000 SLOs make a million of them:
    the collector then takes about a third of the time and finds nothing to free.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def generate_rules(
    slos: Sequence[SLO], *, extra_labels: Mapping[str, str] | None = None
) -> GeneratedRules:
    """Rule groups for every SLO read from Prometheus; others are listed as skipped, with why."""
    with _collector_paused():
        return _generate_rules(slos, extra_labels or {})


def _generate_rules(slos: Sequence[SLO], extra_labels: Mapping[str, str]) -> GeneratedRules:
    groups: list[dict[str, Any]] = []
    skipped: list[tuple[str, str]] = []
    for slo in slos:
        if not isinstance(slo.indicator, PromRatio | PromLatency | PromErrorRatio):
            kind = type(slo.indicator).__name__
            reason = (
                "reads srekit's event store, not Prometheus"
                if kind == "EventsRatio"
                else "threshold (timeslice) indicators have no burn-rate rules"
            )
            skipped.append((f"{slo.service}/{slo.name}", reason))
            continue
        if isinstance(slo.window, CalendarWindow) and slo.window.unit == "year":
            skipped.append((f"{slo.service}/{slo.name}", "yearly windows are too long for rules"))
            continue
        groups.extend(_rules_for(slo, extra_labels))
    return GeneratedRules(groups=groups, skipped=skipped)


_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.:/-]*$")
_RESERVED = frozenset({"y", "n", "yes", "no", "true", "false", "on", "off", "null"})


def _yaml_scalar(value: str | int | float | bool, indent: str) -> str:
    """A YAML scalar: plain when unambiguous, a literal block for PromQL, else JSON-quoted.

    JSON's double-quoted strings are valid YAML, so anything unusual is quoted that way.
    """
    if isinstance(value, bool) or not isinstance(value, str):
        return json.dumps(value)
    if _PLAIN.match(value) and value.lower() not in _RESERVED and not value.endswith(":"):
        return value
    if "\n" in value and not value.startswith((" ", "\n")) and "\r" not in value:
        body = value[:-1] if value.endswith("\n") else value
        if "\n\n" not in value and not body.endswith((" ", "\n")):
            chomp = "|" if value.endswith("\n") else "|-"
            return f"{chomp}\n{indent}" + f"\n{indent}".join(body.split("\n"))
    return json.dumps(value, ensure_ascii=False)


def _yaml_groups(groups: Sequence[Mapping[str, Any]], indent: str) -> list[str]:
    """Block-style YAML for rule groups, written by hand for speed (150,000 rules in ~1 s).

    Rule files repeat the same keys, label values and label maps thousands of times, so
    scalars are rendered once per indentation and a label map once per object.
    """
    scalars: dict[tuple[str, str], str] = {}
    maps: dict[tuple[int, str], list[str]] = {}

    def scalar(value: str, at: str) -> str:
        if len(value) > 80:  # PromQL expressions: unique per SLO, not worth remembering
            return _yaml_scalar(value, at)
        text = scalars.get((value, at))
        if text is None:
            text = scalars[(value, at)] = _yaml_scalar(value, at)
        return text

    def mapping(values: Mapping[str, str], at: str) -> list[str]:
        lines = maps.get((id(values), at))
        if lines is None:
            inner = at + "  "
            lines = [f"{at}{scalar(k, at)}: {scalar(v, inner)}" for k, v in values.items()]
            maps[(id(values), at)] = lines
        return lines

    out: list[str] = []
    rule_at, field_at, value_at = indent + "  ", indent + "    ", indent + "      "
    for group in groups:
        out.append(f"{indent}- name: {scalar(group['name'], indent + '  ')}")
        if "interval" in group:
            out.append(f"{indent}  interval: {scalar(group['interval'], rule_at)}")
        out.append(f"{indent}  rules:")
        for rule in group["rules"]:
            first = True
            for key, value in rule.items():
                lead = f"{rule_at}- " if first else field_at
                first = False
                if isinstance(value, Mapping):
                    if value:
                        out.append(f"{lead}{key}:")
                        out.extend(mapping(value, value_at))
                    else:
                        out.append(f"{lead}{key}: {{}}")
                else:
                    out.append(f"{lead}{key}: {scalar(str(value), value_at)}")
    return out


def _yaml_plain_map(values: Mapping[str, Any], indent: str) -> list[str]:
    """Small nested maps of scalars (a PrometheusRule's metadata)."""
    lines: list[str] = []
    for key, value in values.items():
        if isinstance(value, Mapping):
            lines.append(f"{indent}{_yaml_scalar(key, indent)}:")
            lines.extend(_yaml_plain_map(value, indent + "  "))
        else:
            lines.append(f"{indent}{_yaml_scalar(key, indent)}: {_yaml_scalar(value, indent)}")
    return lines


def render_rules(
    generated: GeneratedRules,
    *,
    output: Literal["prometheus", "k8s"] = "prometheus",
    name: str = "srekit-slos",
    namespace: str | None = None,
    version: str = "dev",
) -> str:
    """YAML text: a Prometheus rule file or a PrometheusRule custom resource."""
    with _collector_paused():
        return _render_rules(generated, output, name, namespace, version)


def _render_rules(
    generated: GeneratedRules,
    output: Literal["prometheus", "k8s"],
    name: str,
    namespace: str | None,
    version: str,
) -> str:
    header = f"# Code generated by srekit {version}. DO NOT EDIT.\n"
    if output == "prometheus":
        return header + "\n".join(["groups:", *_yaml_groups(generated.groups, "")]) + "\n"
    metadata: dict[str, Any] = {"name": name, "labels": {"app.kubernetes.io/managed-by": "srekit"}}
    if namespace:
        metadata["namespace"] = namespace
    lines = [
        "apiVersion: monitoring.coreos.com/v1",
        "kind: PrometheusRule",
        "metadata:",
        *_yaml_plain_map(metadata, "  "),
        "spec:",
        "  groups:",
        *_yaml_groups(generated.groups, "  "),
    ]
    return header + "\n".join(lines) + "\n"
