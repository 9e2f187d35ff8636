"""Canary analysis: is the canary worse than the baseline, and how sure are we?

Each metric (the error rate, a latency percentile) is read per interval for the canary and
for the baseline over the same window. The two samples of per-interval values are compared
with a one-sided Mann-Whitney U test in the "worse" direction (higher is worse for every
metric here), as Kayenta's classifier does: it makes no assumption about the values'
distribution, and it reports a confidence (1 − p) rather than a raw difference.

A metric's verdict, in this order:

1. `inconclusive` when either side has fewer than `min_intervals` intervals holding at
   least `min_requests` requests (intervals below that are left out: a rate over three
   requests is noise, not evidence);
2. `fail` when the canary is worse with p < `alpha` **and** its mean exceeds the baseline's
   by more than the tolerance: `mean_canary > mean_baseline × (1 + max_relative_increase)
   + max_absolute_increase` (the effect size, Kayenta's ratio of means: a significant but
   tiny difference passes; means, not medians, since an error rate is mostly zeros);
3. `pass` otherwise.

The analysis's verdict is `fail` when any metric fails, else `inconclusive` when any is,
else `pass`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal, Protocol

__all__ = [
    "DEFAULT_THRESHOLDS",
    "MAX_INTERVALS",
    "CanaryError",
    "CanaryMetric",
    "CanaryPlan",
    "CanaryQueries",
    "CanaryReport",
    "Interval",
    "MannWhitney",
    "MetricQueries",
    "MetricResult",
    "RangeQuerier",
    "Thresholds",
    "Verdict",
    "intervals_of",
    "judge_metric",
    "mann_whitney_u",
    "metric_queries",
    "overall_verdict",
    "parse_matchers",
    "plan_analysis",
]

# Prometheus refuses range queries of more than 11,000 points
MAX_INTERVALS = 10_000
# scipy's rule for its default method: exact below this size on one side and without ties
_EXACT_MAX_N = 8

_LABEL_NAME = r"[a-zA-Z_][a-zA-Z0-9_]*"
_STRING = r'"(?:[^"\\\x00-\x1f]|\\.)*"'
_MATCHER = re.compile(rf"\s*({_LABEL_NAME})\s*(=~|!~|!=|=)\s*({_STRING})\s*")
_METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_MAX_SELECTOR_CHARS = 2_000


class CanaryMetric(StrEnum):
    ERROR_RATE = "error-rate"
    LATENCY_P95 = "latency-p95"
    LATENCY_P99 = "latency-p99"


class Verdict(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"


class CanaryError(ValueError):
    """A request the analysis cannot run: names the field and what was expected."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class RangeQuerier(Protocol):
    """Prometheus's range queries, as `sources.prometheus.PrometheusClient` answers them."""

    def query_range(
        self, query: str, start: datetime, end: datetime, step_s: int
    ) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class MannWhitney:
    """The U statistic of the first sample, the one-sided p-value that it is stochastically
    greater than the second, and how the p-value was computed."""

    u: float
    p_value: float
    method: Literal["exact", "normal"]


def _average_ranks(values: Sequence[float]) -> tuple[list[float], list[int]]:
    """1-based ranks, tied values sharing their average rank; and the size of each tie group."""
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    groups: list[int] = []
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        rank = (start + end) / 2 + 1
        for position in range(start, end + 1):
            ranks[order[position]] = rank
        groups.append(end - start + 1)
        start = end + 1
    return ranks, groups


def _u_frequencies(n1: int, n2: int) -> list[int]:
    """How many of the C(n1 + n2, n1) orderings give each U = 0 … n1·n2 (no ties): the
    coefficients of the Gaussian binomial, ∏ (1 − q^(n2+i)) / (1 − q^i) for i = 1 … n1."""
    frequencies = [0] * (n1 * n2 + 1)
    frequencies[0] = 1
    for i in range(1, n1 + 1):
        step = n2 + i
        for k in range(len(frequencies) - 1, step - 1, -1):
            frequencies[k] -= frequencies[k - step]
        for k in range(i, len(frequencies)):
            frequencies[k] += frequencies[k - i]
    return frequencies


def mann_whitney_u(sample: Sequence[float], other: Sequence[float]) -> MannWhitney:
    """One-sided Mann-Whitney U test: is `sample` stochastically greater than `other`?

    U = R₁ − n₁(n₁+1)/2, R₁ the sum of `sample`'s ranks in both samples pooled (ties get
    their average rank). The p-value is P(U' ≥ U) under the null hypothesis: exact (the
    distribution of U counted over every ordering) when one sample has at most 8 values and
    no value is tied; otherwise the normal approximation with the tie correction,
    σ² = n₁n₂/12 · ((n + 1) − Σ(t³ − t)/(n(n − 1))), and a continuity correction of ½,
    p = Φ̄((U − n₁n₂/2 − ½) / σ). When every value is tied (σ = 0) there is no evidence
    either way: p = 1. These are scipy.stats.mannwhitneyu's defaults, which the tests use
    as the oracle. Both samples must be non-empty.
    """
    n1, n2 = len(sample), len(other)
    if not n1 or not n2:
        raise ValueError("the Mann-Whitney U test needs at least one value in each sample")
    ranks, groups = _average_ranks([*sample, *other])
    u = sum(ranks[:n1]) - n1 * (n1 + 1) / 2
    tied = any(size > 1 for size in groups)
    if min(n1, n2) <= _EXACT_MAX_N and not tied:
        frequencies = _u_frequencies(n1, n2)
        at_least = sum(frequencies[math.ceil(u) :])
        return MannWhitney(u, min(1.0, at_least / math.comb(n1 + n2, n1)), "exact")
    n = n1 + n2
    tie_term = sum(size**3 - size for size in groups)
    variance = n1 * n2 / 12 * ((n + 1) - tie_term / (n * (n - 1)))
    if variance <= 0:
        return MannWhitney(u, 1.0, "normal")
    z = (u - n1 * n2 / 2 - 0.5) / math.sqrt(variance)
    return MannWhitney(u, min(1.0, 0.5 * math.erfc(z / math.sqrt(2))), "normal")


@dataclass(frozen=True)
class Thresholds:
    """When a metric's evidence is enough, and how much worse is too much.

    `alpha`: the significance level (a fail needs confidence 1 − p above 1 − alpha);
    `min_requests`: requests an interval needs to count; `min_intervals`: counted intervals
    each side needs; the tolerance: `max_relative_increase` (a fraction of the baseline's
    mean) plus `max_absolute_increase` (in the metric's unit: a fraction for error rates,
    seconds for latencies).
    """

    alpha: float = 0.05
    min_requests: float = 20.0
    min_intervals: int = 10
    max_relative_increase: float = 0.1
    max_absolute_increase: float = 0.0

    def __post_init__(self) -> None:
        checks = (
            ("alpha", 0 < self.alpha < 1, "a fraction between 0 and 1 (exclusive)"),
            ("min_requests", math.isfinite(self.min_requests), "a finite number"),
            ("min_requests", self.min_requests >= 0, "at least 0"),
            ("min_intervals", self.min_intervals >= 1, "at least 1"),
            ("max_relative_increase", math.isfinite(self.max_relative_increase), "finite"),
            ("max_relative_increase", self.max_relative_increase >= 0, "at least 0"),
            ("max_absolute_increase", math.isfinite(self.max_absolute_increase), "finite"),
            ("max_absolute_increase", self.max_absolute_increase >= 0, "at least 0"),
        )
        for name, ok, expected in checks:
            if not ok:
                raise CanaryError(name, f"expected {expected}, got {getattr(self, name)!r}")


DEFAULT_THRESHOLDS: Mapping[CanaryMetric, Thresholds] = {
    # a rate 20 % above the baseline's and 0.1 percentage point more
    CanaryMetric.ERROR_RATE: Thresholds(max_relative_increase=0.2, max_absolute_increase=0.001),
    # a percentile 10 % slower and 5 ms more
    CanaryMetric.LATENCY_P95: Thresholds(max_relative_increase=0.1, max_absolute_increase=0.005),
    CanaryMetric.LATENCY_P99: Thresholds(max_relative_increase=0.1, max_absolute_increase=0.005),
}


@dataclass(frozen=True)
class Interval:
    """One interval ending at `end_s` (Unix seconds): its requests and the metric's value
    (None when it has none: no requests, or a percentile Prometheus answered NaN for)."""

    end_s: float
    requests: float
    value: float | None


@dataclass(frozen=True)
class MetricResult:
    """A metric's verdict and the figures it rests on (None where there was too little data).

    `confidence` is 1 − p; `mean_ratio` is the canary's mean over the baseline's (None when
    the baseline's mean is 0); `limit` is the canary mean above which a significant
    difference fails.
    """

    metric: CanaryMetric
    verdict: Verdict
    reason: str
    thresholds: Thresholds
    canary_intervals: int
    baseline_intervals: int
    canary_mean: float | None = None
    baseline_mean: float | None = None
    canary_median: float | None = None
    baseline_median: float | None = None
    mean_ratio: float | None = None
    limit: float | None = None
    u: float | None = None
    p_value: float | None = None
    confidence: float | None = None
    method: Literal["exact", "normal"] | None = None


@dataclass(frozen=True)
class CanaryReport:
    """The analysis: the overall verdict and each metric's."""

    verdict: Verdict
    metrics: tuple[MetricResult, ...]

    @property
    def confidence(self) -> float | None:
        """The highest confidence that the canary is worse, over the metrics judged (None:
        none had the data): the figure a list of analyses shows beside the verdict."""
        judged = [m.confidence for m in self.metrics if m.confidence is not None]
        return max(judged) if judged else None


def _counted(intervals: Sequence[Interval], minimum: float) -> list[float]:
    return [
        interval.value
        for interval in intervals
        if interval.value is not None
        and math.isfinite(interval.value)
        and interval.requests >= minimum
    ]


def _median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def judge_metric(
    metric: CanaryMetric,
    canary: Sequence[Interval],
    baseline: Sequence[Interval],
    thresholds: Thresholds,
) -> MetricResult:
    """The metric's verdict by the rules of the module docstring."""
    canary_values = _counted(canary, thresholds.min_requests)
    baseline_values = _counted(baseline, thresholds.min_requests)
    counted = len(canary_values), len(baseline_values)
    short = [
        f"the {side} has {len(values)} intervals with at least {thresholds.min_requests:g}"
        f" requests, {thresholds.min_intervals} needed"
        for side, values in (("canary", canary_values), ("baseline", baseline_values))
        if len(values) < thresholds.min_intervals
    ]
    if short:
        return MetricResult(metric, Verdict.INCONCLUSIVE, "; ".join(short), thresholds, *counted)
    test = mann_whitney_u(canary_values, baseline_values)
    canary_mean = math.fsum(canary_values) / len(canary_values)
    baseline_mean = math.fsum(baseline_values) / len(baseline_values)
    limit = (
        baseline_mean * (1 + thresholds.max_relative_increase) + thresholds.max_absolute_increase
    )
    confidence = 1 - test.p_value
    significant = test.p_value < thresholds.alpha
    if significant and canary_mean > limit:
        verdict = Verdict.FAIL
        reason = (
            f"the canary is worse with confidence {confidence:.4f}, and its mean"
            f" {canary_mean:.6g} exceeds the tolerated {limit:.6g}"
        )
    elif significant:
        verdict = Verdict.PASS
        reason = (
            f"the canary is worse with confidence {confidence:.4f}, but its mean"
            f" {canary_mean:.6g} is within the tolerated {limit:.6g}"
        )
    else:
        verdict = Verdict.PASS
        reason = (
            f"no significant difference: confidence {confidence:.4f} that the canary is worse,"
            f" {1 - thresholds.alpha:g} needed"
        )
    return MetricResult(
        metric,
        verdict,
        reason,
        thresholds,
        *counted,
        canary_mean=canary_mean,
        baseline_mean=baseline_mean,
        canary_median=_median(canary_values),
        baseline_median=_median(baseline_values),
        mean_ratio=canary_mean / baseline_mean if baseline_mean else None,
        limit=limit,
        u=test.u,
        p_value=test.p_value,
        confidence=confidence,
        method=test.method,
    )


def overall_verdict(results: Sequence[MetricResult]) -> Verdict:
    """`fail` when any metric fails, else `inconclusive` when any is, else `pass`; no
    metric at all is inconclusive (nothing was judged)."""
    verdicts = {result.verdict for result in results}
    if Verdict.FAIL in verdicts:
        return Verdict.FAIL
    if Verdict.INCONCLUSIVE in verdicts or not verdicts:
        return Verdict.INCONCLUSIVE
    return Verdict.PASS


def parse_matchers(text: str, *, field: str) -> str:
    """A selector's label matchers, `{app="checkout",track="canary"}` (braces optional),
    checked and written back canonically (`app="checkout",track="canary"`) so that a request
    cannot smuggle anything but matchers into a query. Values are double-quoted PromQL
    strings; at least one matcher is needed."""
    expected = 'label matchers such as {app="checkout",track="canary"}'
    if len(text) > _MAX_SELECTOR_CHARS:
        raise CanaryError(field, f"expected {expected}, got {len(text)} characters")
    inner = text.strip()
    if inner.startswith("{") and inner.endswith("}"):
        inner = inner[1:-1]
    matchers: list[str] = []
    for part in _split_matchers(inner):
        match = _MATCHER.fullmatch(part)
        if match is None:
            raise CanaryError(field, f"expected {expected}, got {text!r}")
        matchers.append("".join(match.groups()))
    if not matchers:
        raise CanaryError(field, f"expected {expected}, got {text!r}")
    return ",".join(matchers)


def _split_matchers(inner: str) -> list[str]:
    """The comma-separated parts of a matcher list, commas inside quoted values kept."""
    parts: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for character in inner:
        if escaped:
            escaped = False
        elif character == "\\" and quoted:
            escaped = True
        elif character == '"':
            quoted = not quoted
        elif character == "," and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(character)
    last = "".join(current)
    if last.strip() or quoted:  # a trailing comma is allowed, as PromQL allows it
        parts.append(last)
    return parts


@dataclass(frozen=True)
class CanaryQueries:
    """Which series the analysis reads: the request counter (`requests_metric`), the
    matchers picking its errors among them, and the latency histogram's name (its
    `_bucket` and `_count` series are read)."""

    requests_metric: str = "http_requests_total"
    errors_matchers: str = 'code=~"5.."'
    latency_metric: str = "http_request_duration_seconds"

    def __post_init__(self) -> None:
        for name in ("requests_metric", "latency_metric"):
            value = getattr(self, name)
            if _METRIC_NAME.fullmatch(value) is None:
                raise CanaryError(name, f"expected a Prometheus metric name, got {value!r}")
        object.__setattr__(
            self, "errors_matchers", parse_matchers(self.errors_matchers, field="errors_matchers")
        )


@dataclass(frozen=True)
class MetricQueries:
    """A metric's two queries for one side: its requests per interval, and the errors per
    interval (error rate) or the percentile (latency)."""

    requests: str
    measured: str


_QUANTILES = {CanaryMetric.LATENCY_P95: "0.95", CanaryMetric.LATENCY_P99: "0.99"}


def metric_queries(
    metric: CanaryMetric, matchers: str, step: str, queries: CanaryQueries
) -> MetricQueries:
    """The PromQL for `metric` on the series `matchers` (from `parse_matchers`) select, each
    interval being the `step` (a Prometheus duration) before a point of the range query."""
    if metric is CanaryMetric.ERROR_RATE:
        counter = queries.requests_metric
        return MetricQueries(
            requests=f"sum(increase({counter}{{{matchers}}}[{step}]))",
            measured=f"sum(increase({counter}{{{matchers},{queries.errors_matchers}}}[{step}]))",
        )
    histogram = queries.latency_metric
    return MetricQueries(
        requests=f"sum(increase({histogram}_count{{{matchers}}}[{step}]))",
        measured=(
            f"histogram_quantile({_QUANTILES[metric]}, sum by (le)"
            f" (increase({histogram}_bucket{{{matchers}}}[{step}])))"
        ),
    )


def intervals_of(
    metric: CanaryMetric, requests: Mapping[float, float], measured: Mapping[float, float]
) -> tuple[Interval, ...]:
    """Intervals from the two queries' points (Unix seconds → value), in time order.

    An error rate is errors / requests (an interval with requests and no error series has
    rate 0; one without requests has none); a percentile is read as it is, NaN meaning none.
    """
    intervals: list[Interval] = []
    for end_s in sorted(requests):
        count = requests[end_s]
        value: float | None
        if metric is CanaryMetric.ERROR_RATE:
            value = min(1.0, measured.get(end_s, 0.0) / count) if count > 0 else None
        else:
            value = measured.get(end_s)
        if value is not None and not math.isfinite(value):
            value = None
        intervals.append(Interval(end_s, count, value))
    return tuple(intervals)


@dataclass(frozen=True)
class CanaryPlan:
    """A checked analysis request: the selectors' canonical matchers, the window and the
    interval (seconds), the metrics and their thresholds."""

    canary: str
    baseline: str
    window_s: int
    step_s: int
    metrics: tuple[CanaryMetric, ...]
    thresholds: Mapping[CanaryMetric, Thresholds]
    queries: CanaryQueries

    @property
    def intervals(self) -> int:
        return self.window_s // self.step_s


def plan_analysis(
    *,
    canary: str,
    baseline: str,
    window_s: int,
    step_s: int,
    metrics: Sequence[CanaryMetric],
    thresholds: Mapping[CanaryMetric, Thresholds] | None = None,
    queries: CanaryQueries | None = None,
) -> CanaryPlan:
    """The request checked (CanaryError naming the field otherwise): the step at least 1 s
    and at most the window, at most `MAX_INTERVALS` intervals, at least one metric, and
    selectors that differ (a canary compared with itself always passes)."""
    canary_matchers = parse_matchers(canary, field="canary")
    baseline_matchers = parse_matchers(baseline, field="baseline")
    if canary_matchers == baseline_matchers:
        raise CanaryError("baseline", "expected a selector other than the canary's")
    if step_s < 1:
        raise CanaryError("step", f"expected at least 1 second, got {step_s}")
    if window_s < step_s:
        raise CanaryError("window", f"expected at least the step ({step_s} s), got {window_s} s")
    if window_s // step_s > MAX_INTERVALS:
        raise CanaryError(
            "step", f"expected at most {MAX_INTERVALS} intervals in the window, got more"
        )
    if not metrics:
        raise CanaryError("metrics", "expected at least one metric")
    chosen = tuple(dict.fromkeys(metrics))
    given = thresholds or {}
    return CanaryPlan(
        canary=canary_matchers,
        baseline=baseline_matchers,
        window_s=window_s,
        step_s=step_s,
        metrics=chosen,
        thresholds={metric: given.get(metric, DEFAULT_THRESHOLDS[metric]) for metric in chosen},
        queries=queries or CanaryQueries(),
    )
