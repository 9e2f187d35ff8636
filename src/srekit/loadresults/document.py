"""srekit's own JSON for a `LoadSummary`: what the store keeps and the API serves.

It is read back with the same care as an upload (a stored document is data from the past,
and a hand-edited database is not unheard of)."""

from __future__ import annotations

import math
from typing import Any

from srekit.core.load_gate import TREND_STATS, LoadSummary, MetricSummary, Threshold
from srekit.errors import SpecError

__all__ = ["summary_document", "summary_from_document"]


def summary_document(summary: LoadSummary) -> dict[str, Any]:
    """`summary` as JSON-ready values: snake_case, durations in ms as the tools report them."""
    return {
        "tool": summary.tool,
        "duration_s": summary.duration_s,
        "requests": summary.requests,
        "throughput": summary.throughput,
        "error_rate": summary.error_rate,
        "metrics": [
            {
                "name": metric.name,
                "tags": dict(metric.tags),
                "count": metric.count,
                "rate": metric.rate,
                **{stat: metric.stat(stat) for stat in TREND_STATS},
                "rounded": metric.rounded,
            }
            for metric in summary.metrics
        ],
        "thresholds": [
            {"metric": t.metric, "expression": t.expression, "ok": t.ok} for t in summary.thresholds
        ],
    }


def _optional(value: Any, field: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise SpecError(f"expected a finite number or null, got {value!r}", field=field)
    return float(value)


def summary_from_document(data: Any) -> LoadSummary:
    """The summary `summary_document` wrote (SpecError naming the field when it is not one)."""
    if not isinstance(data, dict) or not isinstance(data.get("metrics"), list):
        raise SpecError("expected a load summary with metrics", field="metrics")
    metrics = []
    for index, raw in enumerate(data["metrics"]):
        where = f"metrics[{index}]"
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
            raise SpecError("expected a metric with a name", field=where)
        tags = raw.get("tags") or {}
        if not isinstance(tags, dict) or not all(isinstance(v, str) for v in tags.values()):
            raise SpecError("expected tags of strings", field=f"{where}.tags")
        metrics.append(
            MetricSummary(
                name=raw["name"],
                tags=tuple(tags.items()),
                count=_optional(raw.get("count"), f"{where}.count"),
                rate=_optional(raw.get("rate"), f"{where}.rate"),
                rounded=bool(raw.get("rounded", False)),
                **{stat: _optional(raw.get(stat), f"{where}.{stat}") for stat in TREND_STATS},
            )
        )
    thresholds = tuple(
        Threshold(str(t["metric"]), str(t["expression"]), bool(t["ok"]))
        for t in data.get("thresholds") or ()
        if isinstance(t, dict) and {"metric", "expression", "ok"} <= t.keys()
    )
    return LoadSummary(
        tool=str(data.get("tool", "unknown")),
        metrics=tuple(metrics),
        thresholds=thresholds,
        duration_s=_optional(data.get("duration_s"), "duration_s"),
    )
