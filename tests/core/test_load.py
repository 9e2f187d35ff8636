"""k6's threshold grammar, verdicts, the open model's arrival schedule and outcomes, by hand."""

from __future__ import annotations

import math
from itertools import islice

import pytest

from srekit.core.load import (
    ClosedModel,
    LoadPlan,
    LoadRequest,
    MetricSummary,
    OpenModel,
    Outcome,
    Stage,
    aggregate,
    arrival_offsets,
    classify_outcome,
    evaluate_threshold,
    expected_arrivals,
    parse_duration_s,
    parse_metric_key,
    parse_threshold,
    percentiles_needed,
    planned_iterations,
    share_of,
)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("1m30s", 90), ("500ms", 0.5), ("2h", 7200), ("1.5s", 1.5), ("1h1m1s", 3661)],
)
def test_durations_read_as_k6_writes_them(text: str, seconds: float) -> None:
    assert parse_duration_s(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "30", "-1s", "1d", "s", "1m 30s", "30s!"])
def test_malformed_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="expected a duration"):
        parse_duration_s(text)


def test_metric_keys_and_sub_metrics() -> None:
    assert parse_metric_key("http_reqs") == ("http_reqs", ())
    assert parse_metric_key("http_req_duration{name:login}") == (
        "http_req_duration",
        (("name", "login"),),
    )
    assert parse_metric_key("http_req_duration{status:200, name : login}") == (
        "http_req_duration",
        (("name", "login"), ("status", "200")),
    )
    for bad, words in [
        ("Http_Reqs", "expected a metric name"),
        ("http_req_waiting", "expected one of the metrics"),
        ("http_reqs{name}", "expected tags"),
        ("http_reqs{:x}", "expected tags"),
    ]:
        with pytest.raises(ValueError, match=words):
            parse_metric_key(bad)


def _trend(**values: float) -> MetricSummary:
    return MetricSummary(
        metric_type="trend",
        count=4,
        total=400.0,  # avg 100
        minimum=10.0,
        maximum=250.0,
        percentiles={50.0: 90.0, 95.0: 240.0, 99.9: 249.0},
        **values,  # type: ignore[arg-type]
    )


RATE = MetricSummary(metric_type="rate", count=200, hits=3)  # 0.015
COUNTER = MetricSummary(metric_type="counter", count=600, elapsed_s=60.0)  # 10/s
GAUGE = MetricSummary(metric_type="gauge", value=50.0)


@pytest.mark.parametrize(
    ("key", "expression", "summary", "observed", "passed"),
    [
        ("http_req_duration", "p(95)<200", _trend(), 240.0, False),
        ("http_req_duration", "p(95)<250", _trend(), 240.0, True),
        ("http_req_duration", " p( 99.9 ) <= 249 ", _trend(), 249.0, True),
        ("http_req_duration", "med>90", _trend(), 90.0, False),
        ("http_req_duration", "med>=90", _trend(), 90.0, True),
        ("http_req_duration", "avg==100", _trend(), 100.0, True),
        ("http_req_duration", "avg===100", _trend(), 100.0, True),
        ("http_req_duration", "avg!=100", _trend(), 100.0, False),
        ("http_req_duration", "min>5", _trend(), 10.0, True),
        ("http_req_duration", "max<1e3", _trend(), 250.0, True),
        ("http_req_duration", "p(90)<300", _trend(), None, False),  # not computed: no data
        ("http_req_failed", "rate<0.01", RATE, 0.015, False),
        ("http_req_failed", "rate<0.02", RATE, 0.015, True),
        ("http_reqs", "count>=600", COUNTER, 600.0, True),
        ("http_reqs", "rate>10", COUNTER, 10.0, False),
        ("vus", "value==50", GAUGE, 50.0, True),
        ("http_req_duration{name:login}", "p(95)<300", _trend(), 240.0, True),
    ],
)
def test_thresholds_against_hand_computed_figures(
    key: str, expression: str, summary: MetricSummary, observed: float | None, passed: bool
) -> None:
    verdict = evaluate_threshold(parse_threshold(key, expression), summary)
    assert verdict.observed == (pytest.approx(observed) if observed is not None else None)
    assert verdict.passed is passed


def test_no_data_fails_every_kind_of_threshold() -> None:
    empty_trend = MetricSummary(metric_type="trend")
    empty_rate = MetricSummary(metric_type="rate")
    no_time = MetricSummary(metric_type="counter", count=5)
    assert not evaluate_threshold(parse_threshold("http_req_duration", "avg<1"), empty_trend).passed
    assert not evaluate_threshold(parse_threshold("http_req_failed", "rate<1"), empty_rate).passed
    verdict = evaluate_threshold(parse_threshold("http_reqs", "rate>0"), no_time)
    assert verdict.observed is None
    assert not verdict.passed
    assert not evaluate_threshold(parse_threshold("http_reqs", "count>0"), None).passed
    assert aggregate(parse_threshold("http_req_duration", "min<1"), empty_trend) is None


@pytest.mark.parametrize(
    ("key", "expression", "words"),
    [
        ("http_req_duration", "p95<200", "expected an expression"),
        ("http_req_duration", "p(95)<", "expected an expression"),
        ("http_req_duration", "p(95)=200", "expected an expression"),
        ("http_req_duration", "p(95)<200ms", "expected an expression"),
        ("http_req_duration", "p<200", r"expected p\(N\)"),
        ("http_req_duration", "p(101)<200", r"expected p\(N\)"),
        ("http_req_duration", "avg(5)<200", r"only p\(N\)"),
        ("http_req_duration", "rate<0.1", r"avg, max, med, min, p\(N\) for http_req_duration"),
        ("http_req_failed", "p(95)<0.1", "expected one of rate for http_req_failed"),
        ("http_reqs", "avg<3", "count, rate for http_reqs"),
        ("vus", "count<3", "value for vus"),
        ("http_req_duration", "avg<1e999", "finite"),
        ("nope", "avg<1", "expected one of the metrics"),
    ],
)
def test_invalid_thresholds_say_what_is_wrong(key: str, expression: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        parse_threshold(key, expression)


def test_threshold_keys_options_and_percentiles_needed() -> None:
    login = parse_threshold(
        "http_req_duration{name:login}", "p(99)<500", abort_on_fail=True, delay_abort_eval_s=10
    )
    assert login.key == "http_req_duration{name:login}"
    assert (login.abort_on_fail, login.delay_abort_eval_s) == (True, 10)
    plain = [parse_threshold("http_req_duration", e) for e in ("p(99)<1", "med<1", "avg<1")]
    assert plain[0].key == "http_req_duration"
    assert percentiles_needed([*plain, login], "http_req_duration") == (50.0, 99.0)
    assert percentiles_needed([*plain, login], "http_req_duration{name:login}") == (99.0,)
    with pytest.raises(ValueError, match="delayAbortEval"):
        parse_threshold("http_reqs", "count>1", delay_abort_eval_s=-1)


def test_constant_rate_sends_at_multiples_of_its_period() -> None:
    offsets = list(arrival_offsets(start_rate=4, stages=[Stage(duration_s=1, target=4)]))
    assert offsets == [0, 0.25, 0.5, 0.75]
    assert expected_arrivals(start_rate=4, stages=[Stage(duration_s=1, target=4)]) == 4


def test_ramping_rate_solves_the_integral_by_hand() -> None:
    # 0 → 4/s over 2 s: N(t) = t², so arrivals at √n: 0, 1, √2, √3 (and √4 = 2 is the end)
    ramp = list(arrival_offsets(start_rate=0, stages=[Stage(duration_s=2, target=4)]))
    assert ramp == pytest.approx([0, 1, math.sqrt(2), math.sqrt(3)])
    # then 2 s at 4/s: N continues from 4 at t=2: arrivals 2, 2.25, ..., 3.75
    both = list(
        arrival_offsets(
            start_rate=0, stages=[Stage(duration_s=2, target=4), Stage(duration_s=2, target=4)]
        )
    )
    assert both[4:] == pytest.approx([2 + k / 4 for k in range(8)])
    # down from 4/s to 0 over 2 s: N(t) = 4t − t², n-th at 2 − √(4 − n)
    down = list(arrival_offsets(start_rate=4, stages=[Stage(duration_s=2, target=0)]))
    assert down == pytest.approx([2 - math.sqrt(4 - n) for n in range(4)])
    assert expected_arrivals(start_rate=4, stages=[Stage(duration_s=2, target=0)]) == 4


def test_idle_and_empty_stages_send_nothing() -> None:
    idle = [Stage(duration_s=5, target=0), Stage(duration_s=0, target=2), Stage(1, 2)]
    assert list(arrival_offsets(start_rate=0, stages=idle)) == [5.0, 5.5]
    assert list(arrival_offsets(start_rate=3, stages=[])) == []


def test_a_long_schedule_stays_in_step() -> None:
    offsets = arrival_offsets(start_rate=1000, stages=[Stage(duration_s=3600, target=1000)])
    assert list(islice(offsets, 1_000_000, 1_000_002)) == pytest.approx([1000.0, 1000.001])


@pytest.mark.parametrize(
    ("status", "failure", "expected", "outcome"),
    [
        (200, None, None, Outcome.OK),
        (399, None, None, Outcome.OK),
        (404, None, None, Outcome.STATUS),
        (503, None, None, Outcome.STATUS),
        (404, None, [404], Outcome.OK),
        (200, None, [201], Outcome.STATUS),
        (None, Outcome.CONNECT, None, Outcome.CONNECT),
        (None, Outcome.TIMEOUT, None, Outcome.TIMEOUT),
        (200, Outcome.PROTOCOL, None, Outcome.PROTOCOL),
        (None, None, None, Outcome.PROTOCOL),
    ],
)
def test_outcomes(
    status: int | None, failure: Outcome | None, expected: list[int] | None, outcome: Outcome
) -> None:
    assert classify_outcome(status=status, failure=failure, expected=expected) is outcome


def _plan(model: OpenModel | ClosedModel) -> LoadPlan:
    request = LoadRequest(name="home", method="GET", path="/")
    return LoadPlan(
        name="t",
        target="http://127.0.0.1:1",
        requests=(request,),
        journeys=(),
        model=model,
        warmup_s=0,
        timeout_s=1,
        thresholds=(),
    )


def test_a_plan_lasts_its_stages_or_its_duration() -> None:
    assert _plan(OpenModel(start_rate=0, stages=(Stage(30, 10), Stage(90, 10)))).duration_s == 120
    assert _plan(ClosedModel(vus=5, duration_s=60)).duration_s == 60
    assert _plan(ClosedModel(vus=5, duration_s=None, iterations=3)).duration_s is None


@pytest.mark.parametrize(
    ("model", "planned"),
    [
        (ClosedModel(vus=5, duration_s=None, iterations=40), 200),  # per user: 5 × 40
        (ClosedModel(vus=5, duration_s=None, iterations=40, shared_iterations=True), 40),
        (ClosedModel(vus=3, duration_s=None, iterations=7, max_duration_s=1.0), 21),
        (ClosedModel(vus=5, duration_s=60), None),  # time-bounded: no count to plan
        (OpenModel(start_rate=10, stages=(Stage(10, 10),)), None),
    ],
)
def test_planned_iterations(model: OpenModel | ClosedModel, planned: int | None) -> None:
    assert planned_iterations(model) == planned


@pytest.mark.parametrize(
    ("total", "count", "parts"),
    [
        (5, 2, [3, 2]),
        (7, 3, [3, 2, 2]),
        (1, 2, [1, 0]),
        (0, 3, [0, 0, 0]),
        (100, 1, [100]),
    ],
)
def test_share_of_splits_a_total_evenly_and_exactly(
    total: int, count: int, parts: list[int]
) -> None:
    assert [share_of(total, index=i, count=count) for i in range(count)] == parts
    assert sum(parts) == total
