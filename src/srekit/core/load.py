"""Load tests: k6's threshold grammar and its verdicts, the arrival schedule of an open model, and
how one request's outcome is classified. Pure: the generator (`srekit.loadgen`) measures, this
module decides.

Thresholds read as k6 reads them (`http_req_duration: ['p(95)<200']`): an aggregation, an
operator and a number. Which aggregations a metric allows follows from its type:

    trend    avg min max med p(N)       milliseconds (http_req_duration)
    rate     rate                       a fraction of samples that were non-zero (http_req_failed)
    counter  count rate                 a total, and that total per second of the run
    gauge    value                      the last value (vus)

A metric key may name a sub-metric by tags, `http_req_duration{name:login}`: the samples carrying
every tag given.

An open model sends at intended times whatever the responses do (k6's `constant-arrival-rate`,
`ramping-arrival-rate`); `arrival_offsets` computes those times. Latency in an open model is
measured from the intended time, so a stalled server shows in the figures (coordinated omission
corrected).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

__all__ = [
    "AGGREGATIONS",
    "METRIC_TYPES",
    "OPERATORS",
    "ClosedModel",
    "Journey",
    "JourneyStep",
    "LoadPlan",
    "LoadRequest",
    "MetricSummary",
    "OpenModel",
    "Outcome",
    "Stage",
    "Threshold",
    "ThresholdVerdict",
    "aggregate",
    "arrival_offsets",
    "classify_outcome",
    "evaluate_threshold",
    "expected_arrivals",
    "parse_duration_s",
    "parse_metric_key",
    "parse_threshold",
    "percentiles_needed",
    "planned_iterations",
    "share_of",
]

MetricType = Literal["trend", "rate", "counter", "gauge"]

#: The metrics a srekit load test reports, and their k6 type.
METRIC_TYPES: Mapping[str, MetricType] = {
    "http_req_duration": "trend",
    "http_req_service_time": "trend",
    "iteration_duration": "trend",
    "http_req_failed": "rate",
    "http_reqs": "counter",
    "iterations": "counter",
    "dropped_iterations": "counter",
    "vus": "gauge",
}

#: The aggregations each metric type allows (`p(N)` written as `p`).
AGGREGATIONS: Mapping[MetricType, frozenset[str]] = {
    "trend": frozenset({"avg", "min", "max", "med", "p"}),
    "rate": frozenset({"rate"}),
    "counter": frozenset({"count", "rate"}),
    "gauge": frozenset({"value"}),
}

#: k6's operators; `===` is `==` (k6 compares numbers, where the two agree).
OPERATORS = ("<=", ">=", "===", "==", "!=", "<", ">")

_EXPRESSION = re.compile(
    r"\s*(?P<aggregation>[a-z]+)\s*(?:\(\s*(?P<percentile>[0-9]+(?:\.[0-9]+)?)\s*\))?\s*"
    r"(?P<operator><=|>=|===|==|!=|<|>)\s*(?P<value>[-+]?[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?)\s*"
)
_METRIC_KEY = re.compile(r"(?P<name>[a-z_][a-z0-9_]*)(?:\{(?P<tags>[^{}]*)\})?")
_TAG = re.compile(r"\s*(?P<key>[A-Za-z_][A-Za-z0-9_.-]*)\s*:\s*(?P<value>[^,{}:]+?)\s*")
_DURATION_PART = re.compile(r"(?P<count>[0-9]+(?:\.[0-9]+)?)(?P<unit>ms|s|m|h)")
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3_600.0}


def parse_duration_s(text: str) -> float:
    """k6's durations in seconds: `30s` → 30, `1m30s` → 90, `500ms` → 0.5, `2h` → 7,200.

    Parts are summed in the order written; a bare number, a negative or an empty text is a
    ValueError."""
    position = 0
    total = 0.0
    for found in _DURATION_PART.finditer(text):
        if found.start() != position:
            break
        total += float(found["count"]) * _UNIT_S[found["unit"]]
        position = found.end()
    if position == 0 or position != len(text):
        raise ValueError(f"expected a duration like 30s, 1m30s or 500ms, got {text!r}")
    return total


def parse_metric_key(key: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """`http_req_duration{name:login}` → (`http_req_duration`, ((`name`, `login`),)).

    Tags are sorted by key; an unknown metric or a malformed tag list is a ValueError."""
    found = _METRIC_KEY.fullmatch(key)
    if found is None:
        raise ValueError(f"expected a metric name, optionally with {{tag:value}}, got {key!r}")
    name = found["name"]
    if name not in METRIC_TYPES:
        known = ", ".join(sorted(METRIC_TYPES))
        raise ValueError(f"expected one of the metrics {known}, got {name!r}")
    tags: dict[str, str] = {}
    if found["tags"] is not None:
        for part in found["tags"].split(","):
            tag = _TAG.fullmatch(part)
            if tag is None:
                raise ValueError(f"expected tags written as {{key:value,...}}, got {key!r}")
            tags[tag["key"]] = tag["value"]
    return name, tuple(sorted(tags.items()))


@dataclass(frozen=True)
class Threshold:
    """One k6 threshold on one metric (or sub-metric): `p(95) < 200` on `http_req_duration`.

    `abort_on_fail` stops the run when it fails, but not before `delay_abort_eval_s` of the run
    have passed (k6's `abortOnFail`, `delayAbortEval`)."""

    source: str
    metric: str
    tags: tuple[tuple[str, str], ...]
    aggregation: str
    percentile: float | None
    operator: str
    value: float
    abort_on_fail: bool = False
    delay_abort_eval_s: float = 0.0

    @property
    def key(self) -> str:
        """The metric key as k6 writes it: `http_req_duration{name:login}`."""
        if not self.tags:
            return self.metric
        return self.metric + "{" + ",".join(f"{k}:{v}" for k, v in self.tags) + "}"


def parse_threshold(
    key: str, expression: str, *, abort_on_fail: bool = False, delay_abort_eval_s: float = 0.0
) -> Threshold:
    """The threshold `expression` on the metric `key`; a ValueError says what is wrong: an
    unknown metric, a malformed expression, or an aggregation the metric's type does not have
    (`rate` on a trend, `p(95)` on a rate)."""
    metric, tags = parse_metric_key(key)
    found = _EXPRESSION.fullmatch(expression)
    if found is None:
        raise ValueError(
            f"expected an expression like 'p(95)<200' or 'rate<0.01', got {expression!r}"
        )
    aggregation = found["aggregation"]
    metric_type = METRIC_TYPES[metric]
    allowed = AGGREGATIONS[metric_type]
    percentile: float | None = None
    if aggregation == "p":
        if found["percentile"] is None:
            raise ValueError(f"expected p(N) with N in 0..100, got {expression!r}")
        percentile = float(found["percentile"])
        if percentile > 100:
            raise ValueError(f"expected p(N) with N in 0..100, got {expression!r}")
    elif found["percentile"] is not None:
        raise ValueError(f"expected only p(N) to take an argument, got {expression!r}")
    if aggregation not in allowed:
        shown = ", ".join("p(N)" if name == "p" else name for name in sorted(allowed))
        raise ValueError(
            f"expected one of {shown} for {metric} (a {metric_type}), got {aggregation!r}"
        )
    value = float(found["value"])
    if not math.isfinite(value):
        raise ValueError(f"expected a finite number, got {found['value']!r}")
    if delay_abort_eval_s < 0:
        raise ValueError(f"expected delayAbortEval of 0s or more, got {delay_abort_eval_s}")
    return Threshold(
        source=expression,
        metric=metric,
        tags=tags,
        aggregation=aggregation,
        percentile=percentile,
        operator=found["operator"],
        value=value,
        abort_on_fail=abort_on_fail,
        delay_abort_eval_s=delay_abort_eval_s,
    )


@dataclass(frozen=True)
class MetricSummary:
    """What a run measured of one metric (or sub-metric).

    Trends hold milliseconds: `count` samples, their `total`, `minimum`, `maximum` and the
    `percentiles` asked for (percent → value). A rate holds `count` samples of which `hits` were
    non-zero; a counter its `count` over `elapsed_s`; a gauge its `value`."""

    metric_type: MetricType
    count: int = 0
    total: float = 0.0
    minimum: float = 0.0
    maximum: float = 0.0
    percentiles: Mapping[float, float] = field(default_factory=dict)
    hits: int = 0
    elapsed_s: float = 0.0
    value: float = 0.0


def aggregate(threshold: Threshold, summary: MetricSummary) -> float | None:
    """The number a threshold compares, or None when there is none to compare: a trend or a
    rate without samples, a counter's rate over no time."""
    aggregation = threshold.aggregation
    if summary.metric_type == "gauge":
        return summary.value
    if summary.metric_type == "counter":
        if aggregation == "count":
            return float(summary.count)
        return summary.count / summary.elapsed_s if summary.elapsed_s > 0 else None
    if summary.count == 0:
        return None
    if summary.metric_type == "rate":
        return summary.hits / summary.count
    if aggregation == "avg":
        return summary.total / summary.count
    if aggregation == "min":
        return summary.minimum
    if aggregation == "max":
        return summary.maximum
    percentile = 50.0 if aggregation == "med" else threshold.percentile
    return summary.percentiles.get(percentile) if percentile is not None else None


@dataclass(frozen=True)
class ThresholdVerdict:
    """A threshold with the value it was compared against (None: no data) and whether it held."""

    threshold: Threshold
    observed: float | None
    passed: bool


def _holds(observed: float, operator: str, value: float) -> bool:
    if operator == "<":
        return observed < value
    if operator == "<=":
        return observed <= value
    if operator == ">":
        return observed > value
    if operator == ">=":
        return observed >= value
    if operator == "!=":
        return observed != value
    return observed == value  # == and ===


def evaluate_threshold(threshold: Threshold, summary: MetricSummary | None) -> ThresholdVerdict:
    """Whether `threshold` holds over `summary`. No data fails: a threshold is a promise about
    traffic, and a run that measured none has kept no promise (k6 would compare zeros)."""
    observed = aggregate(threshold, summary) if summary is not None else None
    passed = observed is not None and _holds(observed, threshold.operator, threshold.value)
    return ThresholdVerdict(threshold=threshold, observed=observed, passed=passed)


def percentiles_needed(thresholds: Sequence[Threshold], metric_key: str) -> tuple[float, ...]:
    """The percentiles the thresholds on `metric_key` compare, sorted (`med` is 50)."""
    needed = set()
    for threshold in thresholds:
        if threshold.key != metric_key:
            continue
        if threshold.aggregation == "med":
            needed.add(50.0)
        elif threshold.percentile is not None:
            needed.add(threshold.percentile)
    return tuple(sorted(needed))


@dataclass(frozen=True)
class Stage:
    """Ramp the arrival rate linearly to `target` (per second) over `duration_s`."""

    duration_s: float
    target: float


def arrival_offsets(*, start_rate: float, stages: Sequence[Stage]) -> Iterator[float]:
    """The intended send times (s from the start) of an open model, in order.

    The rate r(t) is piecewise linear: from `start_rate` to each stage's target over its
    duration. The n-th arrival (n = 0, 1, ...) is sent when N(t) = ∫r = n, so the first at 0
    and a constant rate r at 0, 1/r, 2/r, ... . Within a stage starting at T with N(T) = C and
    slope a = (r1 − r0)/d, N(T + u) = C + r0·u + a·u²/2, solved for u as
    2(n − C) / (r0 + √(r0² + 2a(n − C))). A stage at rate 0 throughout sends nothing."""
    begun = 0.0
    counted = 0.0
    rate = start_rate
    arrival = 0
    for stage in stages:
        slope = (stage.target - rate) / stage.duration_s if stage.duration_s > 0 else 0.0
        while True:
            due = max(arrival - counted, 0.0)
            denominator = rate + math.sqrt(max(rate * rate + 2 * slope * due, 0.0))
            if rate <= 0 and slope <= 0:
                break  # idle: nothing is due in this stage
            offset = 2 * due / denominator if due > 0 else 0.0
            if offset >= stage.duration_s:
                break
            yield begun + offset
            arrival += 1
        begun += stage.duration_s
        counted += (rate + stage.target) / 2 * stage.duration_s
        rate = stage.target


def expected_arrivals(*, start_rate: float, stages: Sequence[Stage]) -> float:
    """∫r over the stages: how many arrivals the schedule holds, give or take one."""
    total = 0.0
    rate = start_rate
    for stage in stages:
        total += (rate + stage.target) / 2 * stage.duration_s
        rate = stage.target
    return total


class Outcome(StrEnum):
    """How one request ended: a response with an expected status, or one of the failures."""

    OK = "ok"
    STATUS = "status"  # a response whose status was not expected (5xx, 4xx by default)
    CONNECT = "connect"  # no connection: refused, unreachable, DNS
    TIMEOUT = "timeout"  # no whole response within the request's timeout
    PROTOCOL = "protocol"  # a connection closed early, or a response that is not HTTP/1.1


def classify_outcome(
    *, status: int | None, failure: Outcome | None, expected: Sequence[int] | None = None
) -> Outcome:
    """A failure seen by the client wins; else the status is OK when it is in `expected`, or in
    200–399 when nothing is given (k6's default for `http_req_failed`)."""
    if failure is not None:
        return failure
    if status is None:
        return Outcome.PROTOCOL
    if expected:
        return Outcome.OK if status in expected else Outcome.STATUS
    return Outcome.OK if 200 <= status <= 399 else Outcome.STATUS


@dataclass(frozen=True)
class LoadRequest:
    """One request a load test sends; `name` tags its samples (k6's `name` tag)."""

    name: str
    method: str
    path: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    weight: float = 1.0
    expected_statuses: tuple[int, ...] = ()
    tags: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class JourneyStep:
    """A request of a journey (an index into the plan's requests) and the pause after it."""

    request: int
    think_s: float = 0.0


@dataclass(frozen=True)
class Journey:
    """Requests sent one after another by one user, as one iteration."""

    name: str
    steps: tuple[JourneyStep, ...]
    weight: float = 1.0


@dataclass(frozen=True)
class OpenModel:
    """Iterations started at intended times (k6's constant- and ramping-arrival-rate)."""

    start_rate: float
    stages: tuple[Stage, ...]
    max_in_flight: int = 10_000


@dataclass(frozen=True)
class ClosedModel:
    """`vus` users each looping iterations back to back, for `duration_s` or until each has
    done `iterations` (k6's constant-vus and per-vu-iterations); with `shared_iterations`,
    until all of them together have done `iterations` (k6's shared-iterations).

    A count of iterations is also bounded in time, as k6 bounds it: no iteration starts once
    `max_duration_s` of the run have passed (k6's `maxDuration`), so a slow service ends the
    run with fewer iterations done than planned rather than keeping it going for hours."""

    vus: int
    duration_s: float | None
    iterations: int | None = None
    shared_iterations: bool = False
    max_duration_s: float | None = None


def planned_iterations(model: OpenModel | ClosedModel) -> int | None:
    """How many iterations a count-bounded model plans: `vus × iterations` per user
    (per-vu-iterations), `iterations` shared (shared-iterations); None when the run's length
    is time (an open model, constant users)."""
    if not isinstance(model, ClosedModel) or model.iterations is None:
        return None
    if model.shared_iterations:
        return model.iterations
    return model.vus * model.iterations


def share_of(total: int, *, index: int, count: int) -> int:
    """Part `index` (0-based) of `total` split into `count` parts as evenly as whole numbers
    allow: total // count each, and one more for each of the first total % count parts.
    The parts add up to `total` exactly (how a closed model's users and a shared pool of
    iterations are split between worker processes)."""
    return total // count + (1 if index < total % count else 0)


@dataclass(frozen=True)
class LoadPlan:
    """Everything a generator needs: where, what, how much, and what is not measured."""

    name: str
    target: str
    requests: tuple[LoadRequest, ...]
    journeys: tuple[Journey, ...]
    model: OpenModel | ClosedModel
    warmup_s: float
    timeout_s: float
    thresholds: tuple[Threshold, ...]

    @property
    def duration_s(self) -> float | None:
        """How long the run lasts when its length is time (None: a count of iterations)."""
        if isinstance(self.model, OpenModel):
            return sum(stage.duration_s for stage in self.model.stages)
        return self.model.duration_s
