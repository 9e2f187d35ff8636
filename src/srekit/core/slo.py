"""The SLO model every spec format is parsed into and every surface reads.

An SLO says: of the events (or time slices) of `service` in `window`, at least `objective`
(a fraction, 0.999) must be good. The indicator says how good and total events are counted,
either in Prometheus (PromQL) or in srekit's embedded event store (SQL predicates).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from srekit.core.window import Window

__all__ = [
    "SLO",
    "AlertSpec",
    "Alerting",
    "BudgetingMethod",
    "EventsRatio",
    "Indicator",
    "PromErrorRatio",
    "PromLatency",
    "PromRatio",
    "PromThreshold",
    "ThresholdOp",
]


class BudgetingMethod(StrEnum):
    """How the SLI is aggregated over the window (OpenSLO's `budgetingMethod`)."""

    OCCURRENCES = "occurrences"
    TIMESLICES = "timeslices"
    RATIO_TIMESLICES = "ratio_timeslices"


@dataclass(frozen=True)
class PromRatio:
    """Good (or bad) and total events from Prometheus counters.

    Each query is either a PromQL template holding `{{.window}}` (Sloth's convention: it must
    return a per-second rate or a count over that window, the same kind for both queries), or a
    bare counter selector (`http_requests_total{job="api"}`) that srekit wraps in
    `sum(increase(...[window]))`. Exactly one of `good` and `bad` is set.
    """

    total: str
    good: str | None = None
    bad: str | None = None

    def __post_init__(self) -> None:
        if (self.good is None) == (self.bad is None):
            raise ValueError("a ratio indicator needs exactly one of good and bad")


@dataclass(frozen=True)
class PromErrorRatio:
    """A PromQL template holding `{{.window}}` that yields the error ratio (Sloth `raw`)."""

    error_ratio: str


@dataclass(frozen=True)
class PromLatency:
    """Requests faster than `threshold_s`, from a Prometheus histogram.

    good = `<metric>_bucket{le="<threshold>"}`, total = `<metric>_count`; `selector` is the label
    matchers inside braces (`job="api",route!="/health"`), empty for none. The threshold must be an
    existing bucket bound; `le="1"` and `le="1.0"` are the same bound.
    """

    metric: str
    threshold_s: float
    selector: str = ""


ThresholdOp = Literal["lt", "lte", "gt", "gte"]


@dataclass(frozen=True)
class PromThreshold:
    """A time slice is good when the query's value compares to `value` with `op` (OpenSLO
    `thresholdMetric`). Only meaningful with timeslice budgeting."""

    query: str
    op: ThresholdOp
    value: float

    def passes(self, value: float) -> bool:
        """Whether a slice whose query gave `value` is good: `value op self.value`."""
        if self.op == "lt":
            return value < self.value
        if self.op == "lte":
            return value <= self.value
        if self.op == "gt":
            return value > self.value
        return value >= self.value


@dataclass(frozen=True)
class EventsRatio:
    """Events in srekit's embedded store: SQL predicates over event columns.

    `good` and `total` are DuckDB boolean expressions over the event columns (`status`,
    `duration_s`, `method`, `path`, ...); `total` narrows which events count at all. Events are
    those whose `service` column equals `stream` (the SLO's service when None).
    """

    good: str
    total: str = "true"
    stream: str | None = None


Indicator = PromRatio | PromErrorRatio | PromLatency | PromThreshold | EventsRatio


@dataclass(frozen=True)
class AlertSpec:
    """One severity of burn-rate alert (page or ticket) and what it carries."""

    disabled: bool = False
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Alerting:
    """Burn-rate alerting for an SLO: the alert name, common labels and the two severities."""

    name: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    page: AlertSpec = field(default_factory=AlertSpec)
    ticket: AlertSpec = field(default_factory=AlertSpec)


@dataclass(frozen=True)
class SLO:
    """A service level objective, whatever format it was written in."""

    service: str
    name: str
    objective: float
    window: Window
    indicator: Indicator
    budgeting: BudgetingMethod = BudgetingMethod.OCCURRENCES
    timeslice_s: int | None = None
    timeslice_target: float | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    alerting: Alerting = field(default_factory=Alerting)
    policy: str | None = None
    description: str | None = None
    owner: str | None = None
    runbook_url: str | None = None
    source_file: str | None = None

    def __post_init__(self) -> None:
        if not 0 < self.objective < 1:
            raise ValueError(f"objective must be a fraction in (0, 1), got {self.objective}")
        if self.budgeting is not BudgetingMethod.OCCURRENCES and not self.timeslice_s:
            raise ValueError("timeslice budgeting needs a timeslice length")

    @property
    def id(self) -> str:
        """`<service>-<name>`, unique within a set of specs (as Sloth names SLOs)."""
        return f"{self.service}-{self.name}"

    @property
    def budget_ratio(self) -> float:
        """b = 1 − objective: the fraction of events allowed to be bad."""
        return 1.0 - self.objective
