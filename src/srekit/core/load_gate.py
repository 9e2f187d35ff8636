"""Load-test results and the regression gate that compares a run with a service's baseline.

A run is summarised the way k6 names its metrics (k6's summary is the common currency between
srekit's own generator, k6 and Locust): `http_req_duration` (a trend, milliseconds),
`http_reqs` (a counter: count and rate per second) and `http_req_failed` (a rate: the fraction
of failed requests). A metric tagged `{name:/checkout}` is the same metric for part of the run.

The gate checks, in this order, each as one row of its table:

    threshold         a threshold the tool itself reported as crossed fails
    p95, p99          absolute: current > max_p95_ms / max_p99_ms fails
                      against a baseline: fails when the increase is above `latency_increase`
                      (relative, 20 % by default) AND above the noise floor (ms): the larger of
                      `latency_noise_floor_ms` and the two figures' rounding (Locust rounds
                      percentiles to two significant digits: see `rounding_ms`)
    error_rate        without a baseline: current > `max_error_rate` fails; with one: an
                      increase of more than `error_rate_increase` (absolute, a fraction) fails
    throughput        against a baseline: a drop of more than `throughput_drop` (relative)
                      AND more than `throughput_noise_floor` requests/s fails
    per tag set       against a baseline, for each tag set a run reports latency or errors
                      for (k6's sub-metrics such as `http_req_duration{name:login}`, Locust's
                      rows per request name): p95, p99 and error_rate rows judged as above,
                      with `min_samples` requests of that tag set on both sides (counted from
                      `http_reqs{tags}`, else the trend's or the failure rate's count; a run
                      that does not say is inconclusive). No absolute limits per tag; a tag
                      set only one run has is skipped; k6's `expected_response` is not a tag
                      set of its own (it is the successful requests of the whole run).

A comparison needs at least `min_samples` requests on both sides; with fewer it is
inconclusive. A statistic missing from the run (k6 omits p99 unless asked) is inconclusive
too, and one missing from both runs is skipped. The verdict is `fail` when any row fails, else
`inconclusive` when any row is, else `pass`; an inconclusive verdict passes only when the rules
say `allow_inconclusive` (it fails closed by default).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from srekit.core.policy import Decision, GateDecision

__all__ = [
    "DEFAULT_RULES",
    "DURATION",
    "FAILED",
    "NO_LOAD_TEST",
    "REQUESTS",
    "TREND_STATS",
    "CheckOutcome",
    "GateCheck",
    "GateRules",
    "LoadSummary",
    "LoadTestPolicy",
    "LoadVerdict",
    "MetricSummary",
    "Threshold",
    "gate_load",
    "load_test_requirement",
    "require_load_test",
    "rounding_ms",
]

DURATION = "http_req_duration"
REQUESTS = "http_reqs"
FAILED = "http_req_failed"
TREND_STATS = ("avg", "min", "med", "max", "p90", "p95", "p99")


def rounding_ms(value: float) -> float:
    """Locust's bucket width at `value` ms: 1 ms below 100 ms, then two significant digits
    (10 ms below 1 s, 100 ms below 10 s, ...). A percentile it reports is off by at most half."""
    if value < 100:
        return 1.0
    return float(10 ** (math.floor(math.log10(value)) - 1))


@dataclass(frozen=True)
class MetricSummary:
    """One metric of a run (optionally for one tag set): a trend's statistics in ms, a
    counter's `count` and `rate` per second, or a rate metric's `rate` (a fraction) with
    `count` the number of values.

    `resolution_ms` is how finely the tool reported the trend's percentiles (0: exactly;
    Locust: the `rounding_ms` of each value, so it is marked `rounded`).
    """

    name: str
    tags: tuple[tuple[str, str], ...] = ()
    count: float | None = None
    rate: float | None = None
    avg: float | None = None
    min: float | None = None
    med: float | None = None
    max: float | None = None
    p90: float | None = None
    p95: float | None = None
    p99: float | None = None
    rounded: bool = False

    @property
    def key(self) -> str:
        """`name` or `name{tag:value,...}`, as k6 writes a sub-metric."""
        if not self.tags:
            return self.name
        return self.name + "{" + ",".join(f"{k}:{v}" for k, v in self.tags) + "}"

    def stat(self, name: str) -> float | None:
        """The trend statistic `name` (one of TREND_STATS)."""
        value: float | None = getattr(self, name)
        return value

    def error_ms(self, name: str) -> float:
        """Half the reporting resolution of statistic `name` (0 when reported exactly)."""
        value = self.stat(name)
        if not self.rounded or value is None:
            return 0.0
        return rounding_ms(value) / 2


@dataclass(frozen=True)
class Threshold:
    """A threshold the load tool evaluated: its metric, expression and whether it held."""

    metric: str
    expression: str
    ok: bool


@dataclass(frozen=True)
class LoadSummary:
    """A run's results: which tool produced it, its metrics and the tool's thresholds."""

    tool: str
    metrics: tuple[MetricSummary, ...]
    thresholds: tuple[Threshold, ...] = ()
    duration_s: float | None = None

    def metric(self, name: str, tags: tuple[tuple[str, str], ...] = ()) -> MetricSummary | None:
        return next((m for m in self.metrics if m.name == name and m.tags == tags), None)

    @property
    def requests(self) -> int:
        """Requests made (0 when the run reports none)."""
        counter = self.metric(REQUESTS)
        return int(counter.count) if counter and counter.count is not None else 0

    @property
    def throughput(self) -> float | None:
        """Requests per second over the run."""
        counter = self.metric(REQUESTS)
        return counter.rate if counter else None

    @property
    def error_rate(self) -> float | None:
        """Failed requests / requests, a fraction in [0, 1]."""
        failed = self.metric(FAILED)
        return failed.rate if failed else None

    @property
    def latency(self) -> MetricSummary | None:
        return self.metric(DURATION)


@dataclass(frozen=True)
class GateRules:
    """The limits of the load gate (see the module docstring for how each is applied)."""

    latency_increase: float = 0.20
    latency_noise_floor_ms: float = 2.0
    max_p95_ms: float | None = None
    max_p99_ms: float | None = None
    max_error_rate: float = 0.01
    error_rate_increase: float = 0.01
    throughput_drop: float = 0.10
    throughput_noise_floor: float = 1.0
    min_samples: int = 100
    allow_inconclusive: bool = False

    def __post_init__(self) -> None:
        limits = {
            "latency_increase": self.latency_increase,
            "latency_noise_floor_ms": self.latency_noise_floor_ms,
            "max_error_rate": self.max_error_rate,
            "error_rate_increase": self.error_rate_increase,
            "throughput_drop": self.throughput_drop,
            "throughput_noise_floor": self.throughput_noise_floor,
            "max_p95_ms": self.max_p95_ms if self.max_p95_ms is not None else 0.0,
            "max_p99_ms": self.max_p99_ms if self.max_p99_ms is not None else 0.0,
        }
        for name, value in limits.items():
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{name}: expected a finite number >= 0, got {value!r}")
        if self.min_samples < 0:
            raise ValueError(f"min_samples: expected an integer >= 0, got {self.min_samples}")


#: The gate's limits when none is given: the defaults of the CLI's options and the API's query.
DEFAULT_RULES = GateRules()


class CheckOutcome(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class GateCheck:
    """One row of the gate's table: what was compared, the figures, the limit, the outcome;
    `tags` names the tag set of a per-tag row (`name:login`, as k6 writes a sub-metric)."""

    check: str
    outcome: CheckOutcome
    current: float | None
    baseline: float | None = None
    limit: float | None = None
    reason: str = ""
    tags: str = ""


@dataclass(frozen=True)
class LoadVerdict:
    """The gate's answer: `passed` is what a pipeline acts on; `outcome` says why."""

    outcome: CheckOutcome
    passed: bool
    checks: tuple[GateCheck, ...] = field(default_factory=tuple)


def _samples_problem(current: LoadSummary, baseline: LoadSummary | None, minimum: int) -> str:
    few = [
        f"{side} has {summary.requests} requests"
        for side, summary in (("the run", current), ("the baseline", baseline))
        if summary is not None and summary.requests < minimum
    ]
    return f"{' and '.join(few)}, fewer than {minimum}" if few else ""


def _latency_check(
    stat: str,
    current: LoadSummary,
    baseline: LoadSummary | None,
    rules: GateRules,
    too_few: str,
) -> GateCheck:
    now_trend, base_trend = current.latency, baseline.latency if baseline else None
    value = now_trend.stat(stat) if now_trend else None
    ceiling = rules.max_p95_ms if stat == "p95" else rules.max_p99_ms
    if baseline is not None:
        return _latency_change(stat, now_trend, base_trend, rules, too_few, ceiling=ceiling)
    if ceiling is None:
        return GateCheck(stat, CheckOutcome.SKIPPED, value, reason="no baseline, no limit")
    if value is None:
        return GateCheck(
            stat, CheckOutcome.INCONCLUSIVE, None, limit=ceiling, reason="not in the run"
        )
    if too_few:
        return GateCheck(stat, CheckOutcome.INCONCLUSIVE, value, limit=ceiling, reason=too_few)
    failed = value > ceiling
    return GateCheck(
        stat,
        CheckOutcome.FAIL if failed else CheckOutcome.PASS,
        value,
        limit=ceiling,
        reason=f"{value:g} ms {'>' if failed else '<='} {ceiling:g} ms",
    )


def _latency_change(
    stat: str,
    now_trend: MetricSummary | None,
    base_trend: MetricSummary | None,
    rules: GateRules,
    too_few: str,
    *,
    ceiling: float | None,
    tags: str = "",
) -> GateCheck:
    """The p95/p99 row against a baseline, for the whole run or (`tags`) one tag set."""
    value = now_trend.stat(stat) if now_trend else None
    before = base_trend.stat(stat) if base_trend else None
    if value is None and before is None:
        return GateCheck(stat, CheckOutcome.SKIPPED, None, reason="in neither run", tags=tags)
    limit = before * (1 + rules.latency_increase) if before is not None else None
    if value is None or before is None or limit is None:
        side = "the run" if value is None else "the baseline"
        return GateCheck(
            stat, CheckOutcome.INCONCLUSIVE, value, before, limit, f"not in {side}", tags
        )
    if too_few:
        return GateCheck(stat, CheckOutcome.INCONCLUSIVE, value, before, limit, too_few, tags)
    rounding = sum(trend.error_ms(stat) for trend in (now_trend, base_trend) if trend)
    floor = max(rules.latency_noise_floor_ms, rounding)
    delta = value - before
    if ceiling is not None and value > ceiling:
        return GateCheck(
            stat, CheckOutcome.FAIL, value, before, ceiling, f"{value:g} ms > {ceiling:g} ms"
        )
    if value > limit and delta > floor:
        relative = delta / before if before > 0 else math.inf
        return GateCheck(
            stat,
            CheckOutcome.FAIL,
            value,
            before,
            limit,
            f"+{delta:g} ms (+{relative:.1%}) over the baseline: more than"
            f" {rules.latency_increase:.0%} and the {floor:g} ms noise floor",
            tags,
        )
    return GateCheck(
        stat,
        CheckOutcome.PASS,
        value,
        before,
        limit,
        f"{delta:+g} ms (noise floor {floor:g} ms)",
        tags,
    )


def _error_rate_check(
    current: LoadSummary, baseline: LoadSummary | None, rules: GateRules, too_few: str
) -> GateCheck:
    before = baseline.error_rate if baseline else None
    return _error_rate_row(current.error_rate, before, rules, too_few, compared=bool(baseline))


def _error_rate_row(
    value: float | None,
    before: float | None,
    rules: GateRules,
    too_few: str,
    *,
    compared: bool,
    tags: str = "",
) -> GateCheck:
    """The error-rate row: against the baseline's rate when `compared` and it has one, else
    against `max_error_rate`."""
    if not compared or before is None:
        limit = rules.max_error_rate
        why = f"at most {limit:.2%} without a baseline"
    else:
        limit = before + rules.error_rate_increase
        why = f"baseline {before:.2%} + {rules.error_rate_increase:.2%}"
    if value is None:
        return GateCheck(
            "error_rate", CheckOutcome.INCONCLUSIVE, None, before, limit, "not in the run", tags
        )
    if too_few:
        return GateCheck(
            "error_rate", CheckOutcome.INCONCLUSIVE, value, before, limit, too_few, tags
        )
    failed = value > limit
    return GateCheck(
        "error_rate",
        CheckOutcome.FAIL if failed else CheckOutcome.PASS,
        value,
        before,
        limit,
        f"{value:.2%} {'>' if failed else '<='} {limit:.2%} ({why})",
        tags,
    )


def _tag_label(tags: tuple[tuple[str, str], ...]) -> str:
    return ",".join(f"{key}:{value}" for key, value in tags)


def _tag_requests(summary: LoadSummary, tags: tuple[tuple[str, str], ...]) -> float | None:
    """How many requests had `tags`: its `http_reqs` counter, else its trend's or its failure
    rate's count (None: the tool did not say; k6 counts a trend's values only in `http_reqs`)."""
    for name in (REQUESTS, DURATION, FAILED):
        metric = summary.metric(name, tags)
        if metric is not None and metric.count is not None:
            return metric.count
    return None


def _tag_samples_problem(
    current: LoadSummary, baseline: LoadSummary, tags: tuple[tuple[str, str], ...], minimum: int
) -> str:
    label = _tag_label(tags)
    problems = []
    for side, summary in (("the run", current), ("the baseline", baseline)):
        requests = _tag_requests(summary, tags)
        if requests is None:
            problems.append(
                f"{side} does not say how many requests had {label}"
                f" (k6: add a threshold on {REQUESTS}{{{label}}})"
            )
        elif requests < minimum:
            problems.append(f"{side} has {requests:g} requests with {label}, fewer than {minimum}")
    return " and ".join(problems)


def _gated_tag_sets(summary: LoadSummary) -> set[tuple[tuple[str, str], ...]]:
    """The tag sets whose latency or errors a run reports apart: request names and the like.
    k6's `expected_response` sub-metric is the run's successful requests, not a part of it."""
    return {
        metric.tags
        for metric in summary.metrics
        if metric.tags
        and metric.name in (DURATION, FAILED)
        and not any(key == "expected_response" for key, _ in metric.tags)
    }


def _tag_checks(current: LoadSummary, baseline: LoadSummary, rules: GateRules) -> list[GateCheck]:
    """Per tag set, against the baseline: p95, p99 and error rate, each as the whole run's is
    judged (increase, noise floor, `min_samples` requests of that tag set on both sides); a tag
    set only one run has is one skipped row."""
    checks = []
    ours, theirs = _gated_tag_sets(current), _gated_tag_sets(baseline)
    for tags in sorted(ours | theirs):
        label = _tag_label(tags)
        if tags not in ours or tags not in theirs:
            where = "the run" if tags in ours else "the baseline"
            checks.append(
                GateCheck("tag", CheckOutcome.SKIPPED, None, reason=f"only in {where}", tags=label)
            )
            continue
        too_few = _tag_samples_problem(current, baseline, tags, rules.min_samples)
        now_trend, base_trend = current.metric(DURATION, tags), baseline.metric(DURATION, tags)
        for stat in ("p95", "p99"):
            checks.append(
                _latency_change(
                    stat, now_trend, base_trend, rules, too_few, ceiling=None, tags=label
                )
            )
        now_failed, base_failed = current.metric(FAILED, tags), baseline.metric(FAILED, tags)
        value = now_failed.rate if now_failed else None
        before = base_failed.rate if base_failed else None
        if value is None and before is None:
            checks.append(
                GateCheck(
                    "error_rate", CheckOutcome.SKIPPED, None, reason="in neither run", tags=label
                )
            )
        else:
            checks.append(_error_rate_row(value, before, rules, too_few, compared=True, tags=label))
    return checks


def _throughput_check(
    current: LoadSummary, baseline: LoadSummary | None, rules: GateRules, too_few: str
) -> GateCheck:
    value = current.throughput
    if baseline is None:
        return GateCheck("throughput", CheckOutcome.SKIPPED, value, reason="no baseline")
    before = baseline.throughput
    if value is None or before is None:
        side = "the run" if value is None else "the baseline"
        return GateCheck(
            "throughput", CheckOutcome.INCONCLUSIVE, value, before, None, f"not in {side}"
        )
    limit = before * (1 - rules.throughput_drop)
    if too_few:
        return GateCheck("throughput", CheckOutcome.INCONCLUSIVE, value, before, limit, too_few)
    drop = before - value
    if value < limit and drop > rules.throughput_noise_floor:
        return GateCheck(
            "throughput",
            CheckOutcome.FAIL,
            value,
            before,
            limit,
            f"-{drop:g} req/s (-{drop / before:.1%}): more than {rules.throughput_drop:.0%}"
            f" and the {rules.throughput_noise_floor:g} req/s noise floor",
        )
    return GateCheck("throughput", CheckOutcome.PASS, value, before, limit, f"{-drop:+g} req/s")


def gate_load(
    current: LoadSummary, *, baseline: LoadSummary | None = None, rules: GateRules = GateRules()
) -> LoadVerdict:
    """Judge `current` against `rules` and, when given, `baseline` (the module docstring has
    every rule and the order of the table)."""
    checks = [
        GateCheck(
            f"threshold {t.metric}: {t.expression}",
            CheckOutcome.PASS if t.ok else CheckOutcome.FAIL,
            None,
            reason="held" if t.ok else f"{current.tool} reported it crossed",
        )
        for t in current.thresholds
    ]
    too_few = _samples_problem(current, baseline, rules.min_samples)
    checks.append(_latency_check("p95", current, baseline, rules, too_few))
    checks.append(_latency_check("p99", current, baseline, rules, too_few))
    checks.append(_error_rate_check(current, baseline, rules, too_few))
    checks.append(_throughput_check(current, baseline, rules, too_few))
    if baseline is not None:
        checks.extend(_tag_checks(current, baseline, rules))
    outcomes = {check.outcome for check in checks}
    if CheckOutcome.FAIL in outcomes:
        outcome = CheckOutcome.FAIL
    elif CheckOutcome.INCONCLUSIVE in outcomes:
        outcome = CheckOutcome.INCONCLUSIVE
    else:
        outcome = CheckOutcome.PASS
    passed = outcome is CheckOutcome.PASS or (
        outcome is CheckOutcome.INCONCLUSIVE and rules.allow_inconclusive
    )
    return LoadVerdict(outcome, passed, tuple(checks))


@dataclass(frozen=True)
class LoadTestPolicy:
    """Which change types the deploy gate lets through only after a passed load test, and how
    recent that pass must be (in days). None required by default."""

    required_for: tuple[str, ...] = ()
    max_age_days: float = 7.0


NO_LOAD_TEST = LoadTestPolicy()  # the default: no change type needs one


def load_test_requirement(
    service: str,
    *,
    change_type: str,
    policy: LoadTestPolicy,
    last_passed: datetime | None,
    now: datetime,
) -> str | None:
    """Why a deploy of `change_type` to `service` lacks the load test it needs (None: it
    needs none, or has one): a change type in `policy.required_for` needs a passed load-gate
    verdict at most `policy.max_age_days` before `now`."""
    if change_type not in policy.required_for:
        return None
    days = policy.max_age_days
    if last_passed is None or last_passed > now:  # a pass after `now` had not happened yet
        return (
            f"{change_type} deploys need a passed load test and {service} has none"
            f" in the last {days:g} days"
        )
    if now - last_passed > timedelta(days=days):
        return (
            f"{change_type} deploys need a passed load test within {days:g} days;"
            f" {service}'s last passed {last_passed.isoformat()}"
        )
    return None


def require_load_test(decision: GateDecision, missing: str | None) -> GateDecision:
    """`decision`, denied with `missing` as its first reason when a required load test is
    missing (`load_test_requirement`); unchanged when nothing is missing."""
    if missing is None:
        return decision
    return replace(
        decision, allowed=False, decision=Decision.DENY, reasons=(missing, *decision.reasons)
    )
