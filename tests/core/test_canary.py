"""Canary analysis: the Mann-Whitney U test by hand and against scipy, the verdict rules,
the selectors a request may give and the queries built from them."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

import pytest
from scipy.stats import mannwhitneyu

from srekit.core.canary import (
    DEFAULT_THRESHOLDS,
    MAX_INTERVALS,
    CanaryError,
    CanaryMetric,
    CanaryQueries,
    CanaryReport,
    Interval,
    MetricResult,
    Thresholds,
    Verdict,
    intervals_of,
    judge_metric,
    mann_whitney_u,
    metric_queries,
    overall_verdict,
    parse_matchers,
    plan_analysis,
)


@pytest.mark.parametrize(
    ("sample", "other", "u", "p_value", "method"),
    [
        # every canary value above every baseline value: U = n1·n2 = 9, and only 1 of the
        # C(6, 3) = 20 orderings is that extreme
        ([4, 5, 6], [1, 2, 3], 9.0, 1 / 20, "exact"),
        # every canary value below: U = 0, and every ordering has U ≥ 0
        ([1, 2, 3], [4, 5, 6], 0.0, 1.0, "exact"),
        # canary ranks {2, 4} in [1, 2, 3, 4]: U = 6 − 3 = 3. The 6 possible rank pairs give
        # U = 0 {1,2}, 1 {1,3}, 2 {1,4}, 2 {2,3}, 3 {2,4}, 4 {3,4}: P(U ≥ 3) = 2/6
        ([2, 4], [1, 3], 3.0, 2 / 6, "exact"),
        # a single pair, canary higher: U = 1, P(U ≥ 1) = 1/2
        ([2], [1], 1.0, 0.5, "exact"),
    ],
)
def test_hand_checked_exact(
    sample: list[float], other: list[float], u: float, p_value: float, method: str
) -> None:
    result = mann_whitney_u(sample, other)
    assert result.u == u
    assert result.p_value == pytest.approx(p_value, rel=1e-12)
    assert result.method == method


def test_ties_use_average_ranks_and_the_normal_approximation() -> None:
    # pooled [0, 0, 0, 1, 1, 2]: ranks 2, 2, 2, 4.5, 4.5, 6; canary [1, 2, 0] ranks
    # 4.5 + 6 + 2 = 12.5, U = 12.5 − 6 = 6.5; ties of 3 and 2: Σ(t³ − t) = 24 + 6 = 30
    result = mann_whitney_u([1, 2, 0], [0, 0, 1])
    assert result.u == 6.5
    assert result.method == "normal"
    variance = 3 * 3 / 12 * (7 - 30 / (6 * 5))
    z = (6.5 - 4.5 - 0.5) / math.sqrt(variance)
    assert result.p_value == pytest.approx(0.5 * math.erfc(z / math.sqrt(2)), rel=1e-12)


def test_all_tied_is_no_evidence() -> None:
    result = mann_whitney_u([0.0] * 12, [0.0] * 15)
    assert result.u == 12 * 15 / 2
    assert result.p_value == 1.0


def test_empty_sample_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one value"):
        mann_whitney_u([], [1.0])


def _samples(seed: int) -> list[tuple[list[float], list[float]]]:
    rng = random.Random(seed)
    cases = []
    for n1, n2 in [(1, 1), (3, 4), (8, 8), (5, 40), (9, 9), (30, 30), (60, 45), (2, 100)]:
        for kind in ("continuous", "tied", "shifted"):
            if kind == "tied":
                first = [float(rng.randint(0, 4)) for _ in range(n1)]
                second = [float(rng.randint(0, 3)) for _ in range(n2)]
            else:
                shift = 0.3 if kind == "shifted" else 0.0
                first = [rng.random() + shift for _ in range(n1)]
                second = [rng.random() for _ in range(n2)]
            cases.append((first, second))
    return cases


@pytest.mark.parametrize(("sample", "other"), _samples(20261203))
def test_agrees_with_scipy(sample: list[float], other: list[float]) -> None:
    """scipy's default (`auto`: exact for a side of at most 8 without ties), one-sided."""
    expected = mannwhitneyu(sample, other, alternative="greater")
    result = mann_whitney_u(sample, other)
    assert result.u == pytest.approx(float(expected.statistic), abs=1e-9)
    assert result.p_value == pytest.approx(float(expected.pvalue), rel=1e-9, abs=1e-15)


def _intervals(values: Sequence[float | None], requests: float = 100.0) -> list[Interval]:
    return [Interval(60.0 * i, requests, value) for i, value in enumerate(values)]


THRESHOLDS = Thresholds(min_requests=50, min_intervals=5, max_relative_increase=0.1)


def test_clearly_worse_canary_fails() -> None:
    canary = _intervals([0.05, 0.06, 0.07, 0.05, 0.06, 0.08])
    baseline = _intervals([0.01, 0.02, 0.01, 0.015, 0.01, 0.02])
    result = judge_metric(CanaryMetric.ERROR_RATE, canary, baseline, THRESHOLDS)
    assert result.verdict is Verdict.FAIL
    # every canary value above every baseline value: U = 6 × 6 = 36; the baseline's tied
    # values (0.01 three times) call for the normal approximation
    assert result.u == 36.0
    assert result.method == "normal"
    assert result.confidence is not None
    assert result.confidence > 0.99
    assert result.canary_mean == pytest.approx(0.37 / 6)
    assert result.baseline_mean == pytest.approx(0.085 / 6)
    assert result.limit == pytest.approx(0.085 / 6 * 1.1)
    assert result.mean_ratio == pytest.approx(0.37 / 0.085)
    assert result.canary_median == pytest.approx(0.06)
    assert result.baseline_median == pytest.approx(0.0125)
    assert "worse with confidence" in result.reason


def test_significant_but_tiny_difference_passes() -> None:
    canary = _intervals([0.101, 0.102, 0.103, 0.104, 0.105])
    baseline = _intervals([0.096, 0.097, 0.098, 0.099, 0.1])
    result = judge_metric(CanaryMetric.LATENCY_P95, canary, baseline, THRESHOLDS)
    assert result.p_value == pytest.approx(1 / math.comb(10, 5))  # exact, the extreme order
    assert result.verdict is Verdict.PASS
    assert "within the tolerated" in result.reason


def test_no_significant_difference_passes() -> None:
    values = [0.1, 0.3, 0.2, 0.5, 0.4]
    result = judge_metric(
        CanaryMetric.LATENCY_P99, _intervals(values), _intervals(values[::-1]), THRESHOLDS
    )
    assert result.verdict is Verdict.PASS
    assert result.p_value == pytest.approx(
        float(mannwhitneyu(values, values[::-1], alternative="greater").pvalue)
    )
    assert "no significant difference" in result.reason


def test_zero_baseline_mean_has_no_ratio() -> None:
    canary = _intervals([0.2] * 5)
    result = judge_metric(CanaryMetric.ERROR_RATE, canary, _intervals([0.0] * 5), THRESHOLDS)
    assert result.mean_ratio is None
    assert result.verdict is Verdict.FAIL


def test_too_little_traffic_is_inconclusive() -> None:
    canary = _intervals([0.5] * 10, requests=49)  # each interval below min_requests
    baseline = _intervals([0.01, None, math.nan, 0.02, 0.01, 0.03])  # 4 usable values
    result = judge_metric(CanaryMetric.ERROR_RATE, canary, baseline, THRESHOLDS)
    assert result.verdict is Verdict.INCONCLUSIVE
    assert (result.canary_intervals, result.baseline_intervals) == (0, 4)
    assert "the canary has 0 intervals with at least 50 requests, 5 needed" in result.reason
    assert "the baseline has 4 intervals" in result.reason
    assert result.p_value is None


def _result(verdict: Verdict) -> MetricResult:
    return MetricResult(CanaryMetric.ERROR_RATE, verdict, "", THRESHOLDS, 0, 0)


@pytest.mark.parametrize(
    ("verdicts", "overall"),
    [
        ([Verdict.PASS, Verdict.PASS], Verdict.PASS),
        ([Verdict.PASS, Verdict.INCONCLUSIVE], Verdict.INCONCLUSIVE),
        ([Verdict.INCONCLUSIVE, Verdict.FAIL], Verdict.FAIL),
        ([Verdict.FAIL, Verdict.PASS], Verdict.FAIL),
        ([], Verdict.INCONCLUSIVE),
    ],
)
def test_overall_verdict(verdicts: list[Verdict], overall: Verdict) -> None:
    assert overall_verdict([_result(verdict) for verdict in verdicts]) is overall


@pytest.mark.parametrize(
    ("text", "matchers"),
    [
        ('{app="checkout",track="canary"}', 'app="checkout",track="canary"'),
        (' app = "a,b" , track!~"c.*" , ', 'app="a,b",track!~"c.*"'),
        ('{version=~"v2\\\\..*"}', 'version=~"v2\\\\..*"'),
        ('pod!="x\\"y"', 'pod!="x\\"y"'),
    ],
)
def test_matchers_are_written_back_canonically(text: str, matchers: str) -> None:
    assert parse_matchers(text, field="canary") == matchers


@pytest.mark.parametrize(
    "text",
    [
        "",
        "{}",
        'app="x"} or vector(1) or {a="b"',
        'http_requests_total{app="x"}',
        "app='x'",
        'app="x',
        ',app="x"',
        'app="x",,track="y"',
        'app="a\nb"',
        "x" * 2001,
    ],
)
def test_anything_but_matchers_is_refused(text: str) -> None:
    with pytest.raises(CanaryError, match=r"^canary: expected label matchers") as caught:
        parse_matchers(text, field="canary")
    assert caught.value.field == "canary"


def test_queries() -> None:
    queries = CanaryQueries()
    error_rate = metric_queries(CanaryMetric.ERROR_RATE, 'track="canary"', "1m", queries)
    assert error_rate.requests == 'sum(increase(http_requests_total{track="canary"}[1m]))'
    assert error_rate.measured == (
        'sum(increase(http_requests_total{track="canary",code=~"5.."}[1m]))'
    )
    p99 = metric_queries(CanaryMetric.LATENCY_P99, 'track="canary"', "30s", queries)
    assert p99.requests == 'sum(increase(http_request_duration_seconds_count{track="canary"}[30s]))'
    assert p99.measured == (
        "histogram_quantile(0.99, sum by (le)"
        ' (increase(http_request_duration_seconds_bucket{track="canary"}[30s])))'
    )


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"requests_metric": "http requests"}, "requests_metric"),
        ({"latency_metric": "x{}"}, "latency_metric"),
        ({"errors_matchers": "code=5xx"}, "errors_matchers"),
    ],
)
def test_bad_queries_are_refused(settings: dict[str, str], field: str) -> None:
    with pytest.raises(CanaryError) as caught:
        CanaryQueries(**settings)
    assert caught.value.field == field


def test_intervals_of() -> None:
    requests = {120.0: 100.0, 60.0: 50.0, 180.0: 0.0}
    errors = {60.0: 5.0, 120.0: 101.0}  # Prometheus's extrapolation can exceed the requests
    assert intervals_of(CanaryMetric.ERROR_RATE, requests, errors) == (
        Interval(60.0, 50.0, 0.1),
        Interval(120.0, 100.0, 1.0),
        Interval(180.0, 0.0, None),
    )
    assert intervals_of(CanaryMetric.ERROR_RATE, {60.0: 10.0}, {}) == (Interval(60.0, 10.0, 0.0),)
    latency = intervals_of(
        CanaryMetric.LATENCY_P95,
        {60.0: 10.0, 120.0: 0.0, 180.0: 5.0},
        {60.0: 0.25, 120.0: math.nan},
    )
    assert latency == (
        Interval(60.0, 10.0, 0.25),
        Interval(120.0, 0.0, None),
        Interval(180.0, 5.0, None),
    )


def test_plan() -> None:
    plan = plan_analysis(
        canary='{track="canary"}',
        baseline='track="stable"',
        window_s=1800,
        step_s=60,
        metrics=[CanaryMetric.ERROR_RATE, CanaryMetric.LATENCY_P95, CanaryMetric.ERROR_RATE],
        thresholds={CanaryMetric.ERROR_RATE: THRESHOLDS},
    )
    assert plan.canary == 'track="canary"'
    assert plan.intervals == 30
    assert plan.metrics == (CanaryMetric.ERROR_RATE, CanaryMetric.LATENCY_P95)
    assert plan.thresholds[CanaryMetric.ERROR_RATE] is THRESHOLDS
    assert plan.thresholds[CanaryMetric.LATENCY_P95] is DEFAULT_THRESHOLDS[CanaryMetric.LATENCY_P95]
    assert plan.queries == CanaryQueries()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"baseline": ' track = "canary" '}, "baseline"),
        ({"step_s": 0}, "step"),
        ({"window_s": 30}, "window"),
        ({"window_s": (MAX_INTERVALS + 1) * 60}, "step"),
        ({"metrics": []}, "metrics"),
        ({"canary": "up"}, "canary"),
    ],
)
def test_bad_plans_are_refused(changes: dict[str, object], field: str) -> None:
    arguments: dict[str, object] = {
        "canary": 'track="canary"',
        "baseline": 'track="stable"',
        "window_s": 1800,
        "step_s": 60,
        "metrics": [CanaryMetric.ERROR_RATE],
    } | changes
    with pytest.raises(CanaryError) as caught:
        plan_analysis(**arguments)  # type: ignore[arg-type]
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"alpha": 0.0}, "alpha"),
        ({"alpha": 1.0}, "alpha"),
        ({"min_requests": math.nan}, "min_requests"),
        ({"min_requests": -1.0}, "min_requests"),
        ({"min_intervals": 0}, "min_intervals"),
        ({"max_relative_increase": math.inf}, "max_relative_increase"),
        ({"max_relative_increase": -0.1}, "max_relative_increase"),
        ({"max_absolute_increase": 1e309}, "max_absolute_increase"),
        ({"max_absolute_increase": -1.0}, "max_absolute_increase"),
    ],
)
def test_bad_thresholds_are_refused(settings: dict[str, float], field: str) -> None:
    with pytest.raises(CanaryError) as caught:
        Thresholds(**settings)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_report_confidence_is_the_highest_judged() -> None:
    def result(confidence: float | None) -> MetricResult:
        verdict = Verdict.INCONCLUSIVE if confidence is None else Verdict.PASS
        return MetricResult(
            CanaryMetric.ERROR_RATE,
            verdict,
            "",
            DEFAULT_THRESHOLDS[CanaryMetric.ERROR_RATE],
            30,
            30,
            confidence=confidence,
        )

    judged = (result(0.4), result(None), result(0.97))
    assert CanaryReport(Verdict.PASS, judged).confidence == 0.97
    assert CanaryReport(Verdict.INCONCLUSIVE, (result(None),)).confidence is None
