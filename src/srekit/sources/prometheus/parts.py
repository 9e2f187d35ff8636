"""The PromQL parts of an SLI: what each indicator asks Prometheus per window, and back.

An SLO over a window is read as one or two expressions (its good or bad events and its total,
or an error ratio), each a `Part` that knows its SLO, its window, its role and the spec field it
comes from, so a refused query can be blamed on that field. `part_counts` turns the values the
parts returned into good/total events.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from srekit.core import promql
from srekit.core.sli import EventCounts, WindowQuery, error_ratio_counts
from srekit.core.slo import SLO, PromErrorRatio, PromLatency, PromRatio, PromThreshold
from srekit.errors import SpecError

__all__ = ["Part", "Role", "numerator_role", "part_counts", "part_field", "sli_parts"]

Role = Literal["good", "bad", "total", "error_ratio"]


@dataclass(frozen=True)
class Part:
    """One expression of one SLO over one window, and the spec field it comes from."""

    slo: SLO
    window: WindowQuery
    role: Role
    expr: str
    field: str
    kind: str = ""  # "gap<n>:" for the raw pieces that complete rollups

    @property
    def label(self) -> str:
        return f"{self.kind}{self.role}@{self.window.label}"

    def labelled(self) -> str:
        return promql.labelled(self.expr, self.slo.id, self.label)


def part_field(slo: SLO, role: Role) -> str:
    """The spec field the expression for `role` is built from."""
    indicator = slo.indicator
    if isinstance(indicator, PromLatency):
        return "indicator.threshold" if role == "good" else "indicator.metric"
    if isinstance(indicator, PromErrorRatio):
        return "indicator.error_ratio"
    if isinstance(indicator, PromThreshold):
        return "indicator.query"
    return f"indicator.{role}"


def sli_parts(slo: SLO, window: WindowQuery) -> list[Part]:
    """The expressions that give `slo`'s good and total events over `window`."""
    window_s = window.duration_s
    indicator = slo.indicator
    exprs: list[tuple[Role, str]]
    if isinstance(indicator, PromRatio):
        numerator, total = promql.ratio_exprs(indicator, window_s)
        exprs = [(numerator_role(slo), numerator), ("total", total)]
    elif isinstance(indicator, PromLatency):
        good, total = promql.latency_exprs(indicator, window_s)
        exprs = [("good", good), ("total", total)]
    elif isinstance(indicator, PromErrorRatio):
        exprs = [("error_ratio", promql.error_ratio_expr(indicator, window_s))]
    elif isinstance(indicator, PromThreshold):
        good, total = promql.threshold_slice_exprs(indicator, window_s, slo.timeslice_s or 60)
        exprs = [("good", good), ("total", total)]
    else:
        raise SpecError(
            f"SLO {slo.id}: a {type(indicator).__name__} indicator is not read from Prometheus",
            file=slo.source_file,
            field="indicator",
        )
    return [Part(slo, window, role, expr, part_field(slo, role)) for role, expr in exprs]


def numerator_role(slo: SLO) -> Role:
    """What a ratio or latency SLO's numerator counts: bad events for a `bad` ratio, else good."""
    indicator = slo.indicator
    return "bad" if isinstance(indicator, PromRatio) and indicator.bad is not None else "good"


def part_counts(slo: SLO, values: Mapping[Role, float]) -> EventCounts | None:
    """Good/total from the parts Prometheus returned; no total (or NaN) means no data."""
    if isinstance(slo.indicator, PromErrorRatio):
        ratio = values.get("error_ratio")
        return None if ratio is None else error_ratio_counts(ratio)
    total = values.get("total")
    if total is None or not math.isfinite(total):
        return None
    if isinstance(slo.indicator, PromRatio) and slo.indicator.bad is not None:
        return EventCounts(good=total - values.get("bad", 0.0), total=total)
    return EventCounts(good=values.get("good", 0.0), total=total)
