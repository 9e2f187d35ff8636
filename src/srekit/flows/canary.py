"""Canary analysis against Prometheus: read each metric per interval for the canary and the
baseline (range queries), let `core.canary` judge, and shape the report as the CLI prints it
and the API serves it (`report_document`).

The requests query a latency percentile needs is shared between p95 and p99: each distinct
query is asked once per side.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from srekit.config import Settings
from srekit.core.canary import (
    DEFAULT_THRESHOLDS,
    CanaryError,
    CanaryMetric,
    CanaryPlan,
    CanaryQueries,
    CanaryReport,
    Interval,
    MetricResult,
    RangeQuerier,
    Thresholds,
    intervals_of,
    judge_metric,
    metric_queries,
    overall_verdict,
    plan_analysis,
)
from srekit.core.instant import format_instant
from srekit.core.window import format_duration, parse_duration
from srekit.errors import SourceUnavailable, SpecError

__all__ = ["analyze_canary", "plan_request", "prometheus_querier", "report_document"]

DEFAULT_METRICS = (CanaryMetric.ERROR_RATE, CanaryMetric.LATENCY_P95)


def plan_request(
    *,
    canary: str,
    baseline: str,
    window: str,
    step: str,
    metrics: Sequence[str] = (),
    alpha: float | None = None,
    min_requests: float | None = None,
    min_intervals: int | None = None,
    tolerances: Mapping[str, tuple[float, float]] | None = None,
    requests_metric: str | None = None,
    errors_matchers: str | None = None,
    latency_metric: str | None = None,
) -> CanaryPlan:
    """An analysis request as the CLI and the API receive it, checked into a plan: durations
    in Prometheus's spelling, metric names, the overrides of every metric's default
    thresholds, each metric's tolerance (relative, absolute). A SpecError names the field."""
    try:
        window_s = _duration("window", window)
        step_s = _duration("step", step)
        chosen = [_metric("metrics", name) for name in metrics] or list(DEFAULT_METRICS)
        overrides: dict[str, Any] = {
            name: value
            for name, value in (
                ("alpha", alpha),
                ("min_requests", min_requests),
                ("min_intervals", min_intervals),
            )
            if value is not None
        }
        thresholds: dict[CanaryMetric, Thresholds] = {}
        for metric in chosen:
            thresholds[metric] = replace(DEFAULT_THRESHOLDS[metric], **overrides)
        for name, (relative, absolute) in (tolerances or {}).items():
            metric = _metric("tolerance", name)
            if metric in thresholds:
                try:
                    thresholds[metric] = replace(
                        thresholds[metric],
                        max_relative_increase=relative,
                        max_absolute_increase=absolute,
                    )
                except CanaryError as error:
                    raise CanaryError("tolerance", f"{name}: {error.message}") from None
        defaults = CanaryQueries()
        return plan_analysis(
            canary=canary,
            baseline=baseline,
            window_s=window_s,
            step_s=step_s,
            metrics=chosen,
            thresholds=thresholds,
            queries=CanaryQueries(
                requests_metric=requests_metric or defaults.requests_metric,
                errors_matchers=errors_matchers or defaults.errors_matchers,
                latency_metric=latency_metric or defaults.latency_metric,
            ),
        )
    except CanaryError as error:
        raise SpecError(error.message, field=error.field) from None


def _duration(field: str, text: str) -> int:
    try:
        return parse_duration(text)
    except ValueError as error:
        raise CanaryError(field, str(error)) from None


def _metric(field: str, name: str) -> CanaryMetric:
    try:
        return CanaryMetric(name)
    except ValueError:
        choices = ", ".join(metric.value for metric in CanaryMetric)
        raise CanaryError(field, f"expected one of {choices}, got {name[:100]!r}") from None


@contextmanager
def prometheus_querier(settings: Settings, url: str) -> Iterator[RangeQuerier]:
    """A client of the Prometheus API at `url` with the settings' timeout and token, closed
    after use."""
    from srekit.sources.prometheus.client import PrometheusClient

    client = PrometheusClient(
        url,
        timeout_s=settings.prometheus_timeout_s,
        retries=3,
        backoff_s=0.25,
        token=settings.prometheus_token,
        basic_auth=None,
        headers=None,
        client=None,
    )
    try:
        yield client
    finally:
        client.close()


def _points(
    querier: RangeQuerier, query: str, plan: CanaryPlan, at: datetime
) -> dict[float, float]:
    """Unix seconds → value of a range query whose points end each interval of the window;
    the values of several series at one instant are added (a `sum` gives one series)."""
    from srekit.sources.prometheus.client import QueryRefusedError

    start = at - timedelta(seconds=plan.window_s - plan.step_s)
    try:
        series = querier.query_range(query, start, at, plan.step_s)
    except QueryRefusedError as error:
        raise SpecError(f"Prometheus refused the query {query}: {error.error}") from None
    points: dict[float, float] = {}
    for one in series:
        values = one.get("values")
        if not isinstance(values, list):
            raise SourceUnavailable(f"Prometheus answered a range query without values: {query}")
        for point in values:
            try:
                instant, value = float(point[0]), float(point[1])
            except (TypeError, ValueError, IndexError):
                raise SourceUnavailable(
                    f"Prometheus answered a point srekit cannot read: {point!r}"
                ) from None
            points[instant] = points.get(instant, 0.0) + value if math.isfinite(value) else value
    return points


def analyze_canary(querier: RangeQuerier, plan: CanaryPlan, *, at: datetime) -> CanaryReport:
    """Each metric of `plan` judged over the window ending at `at` (timezone-aware)."""
    step = format_duration(plan.step_s)
    asked: dict[str, dict[float, float]] = {}

    def points(query: str) -> dict[float, float]:
        if query not in asked:
            asked[query] = _points(querier, query, plan, at)
        return asked[query]

    results: list[MetricResult] = []
    for metric in plan.metrics:
        sides: list[tuple[Interval, ...]] = []
        for matchers in (plan.canary, plan.baseline):
            queries = metric_queries(metric, matchers, step, plan.queries)
            sides.append(intervals_of(metric, points(queries.requests), points(queries.measured)))
        results.append(judge_metric(metric, sides[0], sides[1], plan.thresholds[metric]))
    return CanaryReport(overall_verdict(results), tuple(results))


def _metric_document(result: MetricResult) -> dict[str, Any]:
    thresholds = result.thresholds
    return {
        "metric": result.metric.value,
        "verdict": result.verdict.value,
        "reason": result.reason,
        "confidence": result.confidence,
        "p_value": result.p_value,
        "u": result.u,
        "method": result.method,
        "canary": {
            "intervals": result.canary_intervals,
            "mean": result.canary_mean,
            "median": result.canary_median,
        },
        "baseline": {
            "intervals": result.baseline_intervals,
            "mean": result.baseline_mean,
            "median": result.baseline_median,
        },
        "mean_ratio": result.mean_ratio,
        "limit": result.limit,
        "thresholds": {
            "alpha": thresholds.alpha,
            "min_requests": thresholds.min_requests,
            "min_intervals": thresholds.min_intervals,
            "max_relative_increase": thresholds.max_relative_increase,
            "max_absolute_increase": thresholds.max_absolute_increase,
        },
    }


def report_document(report: CanaryReport, plan: CanaryPlan, *, at: datetime) -> dict[str, Any]:
    """The analysis as JSON: `verdict` on top (Argo Rollouts' `successCondition: result.verdict
    == "pass"`), the selectors as read, the window and step in seconds, each metric's figures."""
    return {
        "verdict": report.verdict.value,
        "canary": "{" + plan.canary + "}",
        "baseline": "{" + plan.baseline + "}",
        "at": format_instant(at),
        "window_s": plan.window_s,
        "step_s": plan.step_s,
        "metrics": [_metric_document(result) for result in report.metrics],
    }
