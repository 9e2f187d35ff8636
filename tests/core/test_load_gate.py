"""The load gate against hand-computed figures: every limit, noise floor and sample count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from srekit.core.load_gate import (
    DURATION,
    FAILED,
    REQUESTS,
    CheckOutcome,
    GateRules,
    LoadSummary,
    LoadTestPolicy,
    MetricSummary,
    Threshold,
    gate_load,
    load_test_requirement,
    require_load_test,
    rounding_ms,
)
from srekit.core.policy import Decision, GateDecision

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def run(
    *,
    p95: float | None = 100.0,
    p99: float | None = 150.0,
    requests: float = 1000,
    throughput: float | None = 50.0,
    error_rate: float | None = 0.0,
    rounded: bool = False,
    thresholds: tuple[Threshold, ...] = (),
) -> LoadSummary:
    metrics = [
        MetricSummary(DURATION, p95=p95, p99=p99, rounded=rounded),
        MetricSummary(REQUESTS, count=requests, rate=throughput),
    ]
    if error_rate is not None:
        metrics.append(MetricSummary(FAILED, count=requests, rate=error_rate))
    return LoadSummary("k6", tuple(metrics), thresholds)


def outcomes(current: LoadSummary, **kwargs: object) -> dict[str, CheckOutcome]:
    verdict = gate_load(current, **kwargs)  # type: ignore[arg-type]
    return {check.check: check.outcome for check in verdict.checks}


@pytest.mark.parametrize(
    ("value", "rounding"),
    [(0.4, 1.0), (99.0, 1.0), (100.0, 10.0), (147.0, 10.0), (999.0, 10.0), (3432.0, 100.0)],
)
def test_rounding_follows_two_significant_digits(value: float, rounding: float) -> None:
    assert rounding_ms(value) == rounding


def test_summary_figures_and_keys() -> None:
    summary = run(requests=1234, throughput=41.5, error_rate=0.02)
    assert summary.requests == 1234
    assert summary.throughput == 41.5
    assert summary.error_rate == 0.02
    assert summary.latency is not None
    assert summary.latency.key == DURATION
    tagged = MetricSummary(DURATION, (("name", "/a"), ("method", "GET")))
    assert tagged.key == "http_req_duration{name:/a,method:GET}"
    empty = LoadSummary("k6", ())
    assert (empty.requests, empty.throughput, empty.error_rate, empty.latency) == (
        0,
        None,
        None,
        None,
    )


def test_rounded_error_is_half_the_bucket() -> None:
    exact = MetricSummary(DURATION, p95=147.0)
    rounded = MetricSummary(DURATION, p95=150.0, p99=None, rounded=True)
    assert exact.error_ms("p95") == 0.0
    assert rounded.error_ms("p95") == 5.0  # 150 ms sits in 10 ms buckets
    assert rounded.error_ms("p99") == 0.0


# baseline p95 100 ms: the limit is 120 ms (+20 %), the floor 2 ms
@pytest.mark.parametrize(
    ("base_p95", "p95", "expected"),
    [
        (100.0, 120.0, CheckOutcome.PASS),  # exactly +20 %: not above
        (100.0, 120.5, CheckOutcome.FAIL),  # +20.5 % and 20.5 ms > 2 ms
        (5.0, 6.5, CheckOutcome.PASS),  # +30 % but only 1.5 ms: under the 2 ms noise floor
        (5.0, 7.5, CheckOutcome.FAIL),  # +50 % and 2.5 ms
        (0.0, 3.0, CheckOutcome.FAIL),  # from zero: infinite increase, 3 ms > floor
        (100.0, 80.0, CheckOutcome.PASS),  # faster
    ],
)
def test_latency_against_baseline(base_p95: float, p95: float, expected: CheckOutcome) -> None:
    checks = outcomes(run(p95=p95), baseline=run(p95=base_p95))
    assert checks["p95"] is expected


def test_latency_failure_reason_has_the_hand_computed_increase() -> None:
    verdict = gate_load(run(p95=130.0), baseline=run(p95=100.0))
    p95 = next(c for c in verdict.checks if c.check == "p95")
    assert p95.limit == pytest.approx(120.0)
    assert "+30 ms (+30.0%)" in p95.reason
    assert verdict.outcome is CheckOutcome.FAIL
    assert verdict.passed is False


def test_locust_rounding_widens_the_noise_floor() -> None:
    # 12 vs 15 ms (+25 %, 3 ms): rounded to 1 ms, the floor stays max(2, 0.5 + 0.5) = 2 ms
    base = run(p95=12.0, rounded=True)
    assert outcomes(run(p95=15.0, rounded=True), baseline=base)["p95"] is CheckOutcome.FAIL
    # 150 vs 190 ms (+26.7 %, 40 ms) fails with a 2 ms floor; a 50 ms floor lets it pass, and
    # Locust's rounding (5 + 5 ms) does not reach 40 ms
    base = run(p95=150.0, rounded=True)
    assert outcomes(run(p95=190.0, rounded=True), baseline=base)["p95"] is CheckOutcome.FAIL
    wide = GateRules(latency_noise_floor_ms=50.0)
    assert (
        outcomes(run(p95=190.0, rounded=True), baseline=base, rules=wide)["p95"]
        is CheckOutcome.PASS
    )
    # above 1 s Locust reports in 100 ms buckets: two figures may be off by 50 + 50 = 100 ms
    base = run(p95=3000.0, rounded=True)
    tight = GateRules(latency_increase=0.01)
    verdict = gate_load(run(p95=3090.0, rounded=True), baseline=base, rules=tight)
    p95 = next(c for c in verdict.checks if c.check == "p95")
    # +90 ms (+3 %) is above 1 % but under the 100 ms the two rounded figures may be off by
    assert p95.outcome is CheckOutcome.PASS
    assert "noise floor 100 ms" in p95.reason


def test_absolute_latency_limits() -> None:
    rules = GateRules(max_p95_ms=200.0, max_p99_ms=300.0)
    assert outcomes(run(p95=150.0, p99=250.0), rules=rules) == {
        "p95": CheckOutcome.PASS,
        "p99": CheckOutcome.PASS,
        "error_rate": CheckOutcome.PASS,
        "throughput": CheckOutcome.SKIPPED,
    }
    checks = outcomes(run(p95=201.0, p99=None), rules=rules)
    assert checks["p95"] is CheckOutcome.FAIL
    assert checks["p99"] is CheckOutcome.INCONCLUSIVE  # asked for, not measured
    # with a baseline the absolute limit still applies, even inside the +20 %
    assert outcomes(run(p95=210.0), baseline=run(p95=190.0), rules=rules)["p95"] is (
        CheckOutcome.FAIL
    )
    few = outcomes(run(p95=150.0, requests=10), rules=rules)
    assert few["p95"] is CheckOutcome.INCONCLUSIVE


def test_no_baseline_no_limit_is_skipped_and_passes() -> None:
    verdict = gate_load(run())
    assert {c.check: c.outcome for c in verdict.checks} == {
        "p95": CheckOutcome.SKIPPED,
        "p99": CheckOutcome.SKIPPED,
        "error_rate": CheckOutcome.PASS,
        "throughput": CheckOutcome.SKIPPED,
    }
    assert verdict.outcome is CheckOutcome.PASS
    assert verdict.passed


def test_missing_statistics() -> None:
    both = outcomes(run(p99=None), baseline=run(p99=None))
    assert both["p99"] is CheckOutcome.SKIPPED
    current = gate_load(run(p99=None), baseline=run())
    p99 = next(c for c in current.checks if c.check == "p99")
    assert (p99.outcome, p99.reason) == (CheckOutcome.INCONCLUSIVE, "not in the run")
    base = gate_load(run(), baseline=run(p99=None))
    p99 = next(c for c in base.checks if c.check == "p99")
    assert (p99.outcome, p99.reason) == (CheckOutcome.INCONCLUSIVE, "not in the baseline")
    no_trend = LoadSummary("k6", (MetricSummary(REQUESTS, count=500, rate=5.0),))
    checks = outcomes(no_trend, baseline=no_trend)
    assert checks["p95"] is CheckOutcome.SKIPPED
    assert checks["error_rate"] is CheckOutcome.INCONCLUSIVE
    no_rate = LoadSummary("k6", (MetricSummary(REQUESTS, count=500),))
    assert outcomes(no_rate, baseline=run())["throughput"] is CheckOutcome.INCONCLUSIVE


@pytest.mark.parametrize(
    ("base_rate", "rate", "expected"),
    [
        (None, 0.01, CheckOutcome.PASS),  # at the 1 % ceiling
        (None, 0.0101, CheckOutcome.FAIL),
        (0.02, 0.03, CheckOutcome.PASS),  # +1 point exactly
        (0.02, 0.031, CheckOutcome.FAIL),  # +1.1 points
    ],
)
def test_error_rate(base_rate: float | None, rate: float, expected: CheckOutcome) -> None:
    baseline = None if base_rate is None else run(error_rate=base_rate)
    assert outcomes(run(error_rate=rate), baseline=baseline)["error_rate"] is expected


@pytest.mark.parametrize(
    ("base", "current", "expected"),
    [
        (100.0, 90.0, CheckOutcome.PASS),  # -10 % exactly: not above
        (100.0, 89.0, CheckOutcome.FAIL),  # -11 %, 11 req/s
        (5.0, 4.2, CheckOutcome.PASS),  # -16 % but 0.8 req/s: under the 1 req/s floor
        (5.0, 3.9, CheckOutcome.FAIL),  # -22 %, 1.1 req/s
        (100.0, 150.0, CheckOutcome.PASS),
    ],
)
def test_throughput_drop(base: float, current: float, expected: CheckOutcome) -> None:
    verdict = gate_load(run(throughput=current), baseline=run(throughput=base))
    check = next(c for c in verdict.checks if c.check == "throughput")
    assert check.outcome is expected
    assert check.limit == pytest.approx(base * 0.9)


def test_too_few_samples_is_inconclusive_and_fails_closed() -> None:
    verdict = gate_load(run(requests=99), baseline=run(requests=50))
    assert {c.outcome for c in verdict.checks} == {CheckOutcome.INCONCLUSIVE}
    reason = verdict.checks[0].reason
    assert reason == "the run has 99 requests and the baseline has 50 requests, fewer than 100"
    assert verdict.outcome is CheckOutcome.INCONCLUSIVE
    assert verdict.passed is False
    allowed = gate_load(run(requests=99), rules=GateRules(allow_inconclusive=True))
    assert allowed.outcome is CheckOutcome.INCONCLUSIVE
    assert allowed.passed is True
    # a failure outweighs inconclusive rows
    failing = gate_load(run(requests=99, thresholds=(Threshold(DURATION, "p(95)<1", False),)))
    assert failing.outcome is CheckOutcome.FAIL


def test_tool_thresholds_become_rows() -> None:
    verdict = gate_load(
        run(
            thresholds=(
                Threshold(DURATION, "p(95)<500", True),
                Threshold(FAILED, "rate<0.01", False),
            )
        )
    )
    rows = {c.check: (c.outcome, c.reason) for c in verdict.checks[:2]}
    assert rows == {
        "threshold http_req_duration: p(95)<500": (CheckOutcome.PASS, "held"),
        "threshold http_req_failed: rate<0.01": (CheckOutcome.FAIL, "k6 reported it crossed"),
    }
    assert verdict.passed is False


@pytest.mark.parametrize(
    "bad",
    [
        {"latency_increase": -0.1},
        {"latency_noise_floor_ms": float("nan")},
        {"max_p95_ms": float("inf")},
        {"throughput_drop": -1.0},
    ],
)
def test_rules_refuse_nonsense(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="expected a finite number >= 0"):
        GateRules(**bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="min_samples"):
        GateRules(min_samples=-1)


def test_load_test_requirement() -> None:
    def ask(change_type: str, last: datetime | None) -> str | None:
        return load_test_requirement(
            "api",
            change_type=change_type,
            policy=LoadTestPolicy(required_for=("feature",), max_age_days=7),
            last_passed=last,
            now=NOW,
        )

    assert ask("config", None) is None
    assert ask("feature", NOW - timedelta(days=7)) is None  # exactly 7 days: still fresh
    assert ask("feature", NOW + timedelta(seconds=1)) is not None  # not yet, as of NOW
    missing = ask("feature", None)
    assert missing == "feature deploys need a passed load test and api has none in the last 7 days"
    stale = ask("feature", NOW - timedelta(days=7, seconds=1))
    assert stale is not None
    assert "within 7 days" in stale


def test_require_load_test_denies_with_the_reason_first() -> None:
    allowed = GateDecision("api", "feature", True, Decision.ALLOW, "normal", ("budget fine",))
    assert require_load_test(allowed, None) is allowed
    denied = require_load_test(allowed, "no load test")
    assert (denied.allowed, denied.decision, denied.state) == (False, Decision.DENY, "normal")
    assert denied.reasons == ("no load test", "budget fine")
