"""Capacity planning: read each resource's usage, forecast it, plan against its limit.

Per `CapacityPlan` and resource: the usage series comes from a file (`--from-file`), the
event store (`source: events`, requests per second from the logs) or a Prometheus range
query over `history` at the plan's step; the limit is a number or an instant PromQL query.
`core.capacity` prepares the series (NaN dropped, short gaps filled, counter resets
corrected), `core.forecast` picks a model by backtest, and `core.capacity.recommend` finds
the crossings. A resource that cannot be planned is a `ResourceProblem` saying why (no data,
one series expected, a long gap, too few points), never an exception, so the other resources
of the plan are still planned; the caller decides the exit code.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from srekit.core import capacity as plan_math
from srekit.core.forecast import MIN_POINTS, Forecast, forecast_series
from srekit.errors import SpecError

if TYPE_CHECKING:
    from srekit.sources.events import EventStore
    from srekit.sources.prometheus import PrometheusSource
    from srekit.spec.capacity import CapacityPlanDocument, HpaSpec, ResourceSpec
    from srekit.store import StoreSession
    from srekit.store.repo.capacity import StoredCapacityPlan

__all__ = [
    "HpaCheck",
    "PastForecast",
    "PlanResult",
    "ResourceForecast",
    "ResourceProblem",
    "UsageSeries",
    "forecast_plan",
    "gap_allowed_s",
    "latest_plans",
    "plan_resource",
    "record_plan",
    "season_steps",
    "stored_plans",
]

DAY_S = 86_400
WEEK_S = 7 * DAY_S
#: The upper bound the plan is made on: the 95 % interval's.
PLAN_LEVEL = 0.95


@dataclass(frozen=True)
class UsageSeries:
    """Raw samples of one resource and where they came from (`prometheus`, `events`, a file)."""

    timestamps: tuple[float, ...]
    values: tuple[float, ...]
    origin: str


@dataclass(frozen=True)
class ResourceForecast:
    """One resource's plan: its prepared history, the forecast and the recommendation.

    Times are Unix seconds; `forecast_at` are the forecast's instants (one step apart after
    the last history point). `notes` say what preparation changed or what to know (a constant
    series, usage already above the limit, seasonal models skipped).
    """

    service: str
    resource: str
    unit: str
    origin: str
    limit: float
    headroom: float
    step_s: int
    history_at: tuple[float, ...]
    history: tuple[float, ...]
    utilization: plan_math.Utilization
    growth: plan_math.Growth
    forecast: Forecast
    forecast_at: tuple[float, ...]
    recommendation: plan_math.Recommendation
    notes: tuple[str, ...]

    @property
    def score(self) -> tuple[float, float | None, float | None]:
        """The chosen model's backtest MASE, MAPE and sMAPE."""
        for score in self.forecast.scores:
            if score.model == self.forecast.model:
                return score.mase, score.mape, score.smape
        raise LookupError(self.forecast.model)  # pragma: no cover - the model is a candidate

    def band(self, level: float) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """(lower, upper) of the interval at `level` (0.8 or 0.95)."""
        for interval in self.forecast.intervals:
            if interval.level == level:
                return interval.lower, interval.upper
        raise LookupError(level)


@dataclass(frozen=True)
class ResourceProblem:
    """A resource that could not be planned, and why (a message for the operator)."""

    service: str
    resource: str
    message: str


@dataclass(frozen=True)
class HpaCheck:
    """What Kubernetes' HPA rule would do now and at the forecast's upper peak."""

    now: plan_math.HpaDecision
    at_peak: plan_math.HpaDecision


@dataclass(frozen=True)
class PlanResult:
    """Every resource of one plan, planned or not, at `now` (Unix seconds)."""

    name: str
    service: str
    file: str
    now: float
    horizon_s: int
    step_s: int
    resources: tuple[ResourceForecast, ...]
    problems: tuple[ResourceProblem, ...]
    hpa: HpaCheck | None


#: Reads a usage series for a resource: (plan, resource, start, end, step) → series.
UsageReader = Callable[
    ["CapacityPlanDocument", "ResourceSpec", datetime, datetime, int], UsageSeries
]


def season_steps(step_s: int, season_s: int) -> int | None:
    """Steps per season when the step divides it at least twice, else None (no season)."""
    if season_s % step_s or season_s // step_s < 2:
        return None
    return season_s // step_s


def gap_allowed_s(step_s: int) -> int:
    """The widest gap between samples that is filled by interpolation: 6 steps, at least 6 h.

    Wider gaps are refused: a forecast on invented days would be invented too.
    """
    return max(6 * step_s, 6 * 3_600)


def forecast_plan(
    plan: CapacityPlanDocument,
    *,
    file: str,
    now: datetime,
    prometheus: PrometheusSource | None = None,
    events: EventStore | None = None,
    files: Mapping[str, Path] | None = None,
    series: Mapping[str, UsageSeries] | None = None,
) -> PlanResult:
    """Plan every resource of `plan` at `now`.

    `series` gives a resource's samples outright (the API's inline series), before any file
    or source.
    `files` maps a resource name (or `*`, any resource) to a `timestamp,value` file read
    instead of its source. Without a source for a resource, it is a problem saying which
    source is missing. Errors of a whole source (Prometheus unreachable) propagate as
    SourceUnavailable: nothing could be planned.
    """
    spec = plan.spec
    step_s = spec.step_s
    end = now.astimezone(UTC)
    start = end - timedelta(seconds=spec.history_s)
    planned: list[ResourceForecast] = []
    problems: list[ResourceProblem] = []
    for index, resource in enumerate(spec.resources):
        where = f"spec.resources[{index}]"
        try:
            given = (series or {}).get(resource.name)
            usage = given or _read_usage(
                plan,
                resource,
                start=start,
                end=end,
                step_s=step_s,
                prometheus=prometheus,
                events=events,
                files=files or {},
            )
            usage = _within(usage, start=start.timestamp(), end=end.timestamp())
            limit = _limit(resource, at=end, prometheus=prometheus)
            planned.append(
                plan_resource(
                    service=spec.service,
                    resource=resource,
                    usage=usage,
                    limit=limit,
                    now=end.timestamp(),
                    step_s=step_s,
                    horizon_s=spec.horizon_s,
                    hpa=spec.hpa,
                )
            )
        except (plan_math.SeriesError, _UnplannableError) as error:
            problems.append(ResourceProblem(spec.service, resource.name, f"{where}: {error}"))
        except SpecError as error:
            if error.file is not None:
                raise
            problems.append(ResourceProblem(spec.service, resource.name, f"{where}: {error}"))
    return PlanResult(
        name=plan.metadata.name,
        service=spec.service,
        file=file,
        now=end.timestamp(),
        horizon_s=spec.horizon_s,
        step_s=step_s,
        resources=tuple(planned),
        problems=tuple(problems),
        hpa=_hpa_check(spec.hpa, planned, spec.resources) if spec.hpa else None,
    )


class _UnplannableError(Exception):
    """A resource's data cannot be planned on; the message says why."""


def _within(usage: UsageSeries, *, start: float, end: float) -> UsageSeries:
    """The samples in the history window [start, end]: a file may hold more, and what lies
    after `now` has not happened yet at that instant."""
    kept = [
        (t, v) for t, v in zip(usage.timestamps, usage.values, strict=True) if start <= t <= end
    ]
    if not kept:
        raise _UnplannableError(
            f"no sample ({usage.origin}) between {_day(start)} and {_day(end)}, the history "
            "window ending at the plan's instant"
        )
    return UsageSeries(tuple(t for t, _ in kept), tuple(v for _, v in kept), usage.origin)


def _day(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _read_usage(
    plan: CapacityPlanDocument,
    resource: ResourceSpec,
    *,
    start: datetime,
    end: datetime,
    step_s: int,
    prometheus: PrometheusSource | None,
    events: EventStore | None,
    files: Mapping[str, Path],
) -> UsageSeries:
    path = files.get(resource.name, files.get("*"))
    if path is not None:
        from srekit.capacity.series import read_series

        timestamps, values = read_series(path)
        return UsageSeries(tuple(timestamps), tuple(values), f"file {path.name}")
    if resource.source == "events":
        return _events_usage(plan.spec.service, events, start=start, end=end, step_s=step_s)
    if prometheus is None:
        raise _UnplannableError(
            "no Prometheus to query: set SREKIT_PROMETHEUS_URL or --prometheus-url, "
            "or give --from-file"
        )
    return _prometheus_usage(prometheus, resource.usage or "", start=start, end=end, step_s=step_s)


def _prometheus_usage(
    prometheus: PrometheusSource, query: str, *, start: datetime, end: datetime, step_s: int
) -> UsageSeries:
    from srekit.sources.prometheus import QueryRefusedError

    try:
        found = prometheus.range_series(query, start=start, end=end, step_s=step_s)
    except QueryRefusedError as error:
        raise _UnplannableError(f"usage: Prometheus refused the query: {error}") from None
    if not found:
        raise _UnplannableError(
            f"usage: the query returned no data from {start:%Y-%m-%d %H:%M} to "
            f"{end:%Y-%m-%d %H:%M} UTC; expected one series (check the metric and its labels)"
        )
    if len(found) > 1:
        raise _UnplannableError(
            f"usage: the query returned {len(found)} series; expected one "
            "(aggregate it, e.g. sum(...))"
        )
    samples = found[0][1]
    return UsageSeries(tuple(t for t, _ in samples), tuple(v for _, v in samples), "prometheus")


def _events_usage(
    service: str, events: EventStore | None, *, start: datetime, end: datetime, step_s: int
) -> UsageSeries:
    """Requests per second per step; steps before the first and after the last request are
    left out (the logs do not cover them), those between count 0."""
    if events is None:
        raise _UnplannableError(
            "source events: no event store; ingest access logs first (srekit events ingest)"
        )
    counts = events.request_counts(service, start=start, end=end, slice_s=step_s)
    used = [k for k, n in enumerate(counts) if n]
    if not used:
        raise _UnplannableError(
            f"source events: no request of service {service!r} in the event store between "
            f"{start:%Y-%m-%d %H:%M} and {end:%Y-%m-%d %H:%M} UTC"
        )
    first, last = used[0], used[-1]
    origin = start.timestamp()
    return UsageSeries(
        tuple(origin + k * step_s for k in range(first, last + 1)),
        tuple(counts[k] / step_s for k in range(first, last + 1)),
        "events",
    )


def _limit(resource: ResourceSpec, *, at: datetime, prometheus: PrometheusSource | None) -> float:
    if isinstance(resource.limit, float | int):
        return float(resource.limit)
    if prometheus is None:
        raise _UnplannableError("limit: a query, but no Prometheus to ask (SREKIT_PROMETHEUS_URL)")
    from srekit.sources.prometheus import QueryRefusedError

    try:
        values = prometheus.instant_values(resource.limit.query, at=at)
    except QueryRefusedError as error:
        raise _UnplannableError(f"limit: Prometheus refused the query: {error}") from None
    if len(values) != 1:
        raise _UnplannableError(
            f"limit: the query returned {len(values)} series; expected one positive number"
        )
    value = values[0]
    if not (math.isfinite(value) and value > 0):
        raise _UnplannableError(f"limit: the query returned {value!r}; expected a positive number")
    return value


def plan_resource(
    *,
    service: str,
    resource: ResourceSpec,
    usage: UsageSeries,
    limit: float,
    now: float,
    step_s: int,
    horizon_s: int,
    hpa: HpaSpec | None = None,
) -> ResourceForecast:
    """Prepare, forecast and plan one resource's series (SeriesError when it cannot be)."""
    prepared = plan_math.prepare_series(
        usage.timestamps,
        usage.values,
        step_s=step_s,
        max_gap_s=gap_allowed_s(step_s),
        counter=resource.type == "counter",
        min_points=MIN_POINTS,
    )
    notes = _preparation_notes(prepared)
    daily = season_steps(step_s, DAY_S)
    weekly = season_steps(step_s, WEEK_S)
    horizon = max(1, horizon_s // step_s)
    forecast = forecast_series(
        prepared.values,
        horizon=horizon,
        season=daily or 1,
        weekly_season=weekly if weekly and len(prepared.values) >= 3 * weekly else None,
    )
    for reason in dict.fromkeys(skipped.reason for skipped in forecast.skipped):
        models = [skipped.model for skipped in forecast.skipped if skipped.reason == reason]
        notes.append(f"{', '.join(models)} skipped: {reason}")
    last = prepared.timestamps[-1]
    forecast_at = tuple(last + k * step_s for k in range(1, horizon + 1))
    current = prepared.values[-1]
    upper = next(i.upper for i in forecast.intervals if i.level == PLAN_LEVEL)
    recommendation = plan_math.recommend(
        forecast_at,
        median=forecast.point,
        upper=upper,
        current=current,
        limit=limit,
        headroom=resource.headroom,
        now=now,
        per_pod_capacity=resource.per_pod_capacity,
        target_utilization=_target_utilization(resource.name, hpa),
        max_replicas=hpa.max_replicas if hpa else None,
    )
    if current > limit:
        notes.append(
            f"current usage {current:g} {resource.unit} is above the limit {limit:g}: "
            "already over capacity"
        )
    return ResourceForecast(
        service=service,
        resource=resource.name,
        unit=resource.unit,
        origin=usage.origin,
        limit=limit,
        headroom=resource.headroom,
        step_s=step_s,
        history_at=prepared.timestamps,
        history=prepared.values,
        utilization=plan_math.utilization(prepared.values, limit=limit),
        growth=plan_math.growth_per_month(prepared.timestamps, prepared.values),
        forecast=forecast,
        forecast_at=forecast_at,
        recommendation=recommendation,
        notes=tuple(notes),
    )


def _target_utilization(name: str, hpa: HpaSpec | None) -> float:
    """The HPA's target for `cpu` and `memory` (as a fraction), else 1: replicas are sized so
    the forecast peak sits at the target the autoscaler keeps."""
    if hpa is None:
        return 1.0
    if name == "cpu":
        return hpa.cpu_utilization / 100
    if name == "memory":
        return hpa.memory_utilization / 100
    return 1.0


def _preparation_notes(prepared: plan_math.PreparedSeries) -> list[str]:
    notes = []
    if prepared.problem == "constant":
        notes.append("constant series: every value is equal, so no trend can be seen")
    if prepared.dropped_non_finite:
        notes.append(f"{prepared.dropped_non_finite} NaN/inf samples dropped")
    if prepared.filled:
        notes.append(f"{prepared.filled} points interpolated across short gaps")
    if prepared.counter_resets:
        notes.append(f"{prepared.counter_resets} counter resets corrected")
    return notes


def _hpa_check(
    hpa: HpaSpec, planned: Sequence[ResourceForecast], resources: Sequence[ResourceSpec]
) -> HpaCheck | None:
    """The HPA rule on the plan's CPU, memory and request-rate resources.

    A resource named `cpu` or `memory` with a per-pod capacity is a Utilization metric
    (usage / (replicas × per-pod capacity), in percent, against the target); a resource of
    unit `rps` is the Pods metric (usage / replicas against `rps_per_pod`). None without
    `current_replicas` or any such resource.
    """
    if hpa.current_replicas is None:
        return None
    replicas = hpa.current_replicas
    per_pod = {r.name: r.per_pod_capacity for r in resources}
    now_metrics: list[plan_math.HpaMetric] = []
    peak_metrics: list[plan_math.HpaMetric] = []
    for result in planned:
        capacity = per_pod.get(result.resource)
        peak = result.recommendation.forecast_peak_upper
        current = result.history[-1]
        if result.resource in ("cpu", "memory") and capacity:
            target = hpa.cpu_utilization if result.resource == "cpu" else hpa.memory_utilization
            scale = 100 / (replicas * capacity)
        elif result.unit == "rps":
            target, scale = hpa.rps_per_pod, 1 / replicas
        else:
            continue
        now_metrics.append(plan_math.HpaMetric(result.resource, current * scale, target))
        peak_metrics.append(plan_math.HpaMetric(result.resource, peak * scale, target))
    if not now_metrics:
        return None
    bounds = {"min_replicas": hpa.min_replicas, "max_replicas": hpa.max_replicas}
    return HpaCheck(
        now=plan_math.hpa_desired_replicas(replicas, metrics=now_metrics, **bounds),
        at_peak=plan_math.hpa_desired_replicas(replicas, metrics=peak_metrics, **bounds),
    )


@dataclass(frozen=True)
class PastForecast:
    """How the latest earlier recorded forecast of a resource did: its median against the
    usage observed since it was made (`accuracy` None when nothing observed falls in it)."""

    service: str
    resource: str
    made_at: datetime
    model: str
    accuracy: plan_math.Accuracy | None


def record_plan(session: StoreSession, result: PlanResult) -> tuple[PastForecast, ...]:
    """Score each planned resource's latest earlier recorded forecast on the history just
    read, then record this run's plan (median and 95 % upper path, and its summary)."""
    from srekit.contracts import capacity_resource_document
    from srekit.store.repo.capacity import latest_capacity_plans, record_capacity_plan

    made_at = datetime.fromtimestamp(result.now, UTC)
    earlier = latest_capacity_plans(session, service=result.service, before=made_at)
    past = []
    for planned in result.resources:
        stored = earlier.get(planned.resource)
        if stored is not None:
            past.append(
                PastForecast(
                    service=result.service,
                    resource=planned.resource,
                    made_at=stored.made_at,
                    model=stored.model,
                    accuracy=plan_math.forecast_accuracy(
                        stored.forecast_at,
                        stored.median,
                        observed_at=planned.history_at,
                        observed=planned.history,
                    ),
                )
            )
        record_capacity_plan(
            session,
            service=result.service,
            resource=planned.resource,
            plan=result.name,
            made_at=made_at,
            unit=planned.unit,
            model=planned.forecast.model,
            step_s=planned.step_s,
            limit=planned.limit,
            forecast_at=planned.forecast_at,
            median=planned.forecast.point,
            upper=planned.band(PLAN_LEVEL)[1],
            summary=capacity_resource_document(planned, points=False),
            bands={80: planned.band(0.8), 95: planned.band(0.95)},
            history=(planned.history_at, planned.history),
        )
    return tuple(past)


def stored_plans(
    session: StoreSession, *, service: str | None = None, limit: int = 100
) -> list[StoredCapacityPlan]:
    """Recorded plans, newest first (of one service, or all)."""
    from srekit.store.repo.capacity import capacity_plans

    return capacity_plans(session, service=service, limit=limit)


def latest_plans(
    session: StoreSession, *, service: str | None = None, scanned: int = 1_000
) -> list[StoredCapacityPlan]:
    """The latest recorded plan of each (service, resource), by service and resource, among
    the `scanned` newest recorded plans."""
    from srekit.store.repo.capacity import capacity_plans

    latest: dict[tuple[str, str], StoredCapacityPlan] = {}
    for plan in capacity_plans(session, service=service, limit=scanned):
        latest.setdefault((plan.service, plan.resource), plan)
    return [latest[key] for key in sorted(latest)]
