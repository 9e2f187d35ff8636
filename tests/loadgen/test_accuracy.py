"""The generator against a local server of known latency: percentiles, stalls, rate.

The server's latency is known twice: as asked (`latency_s`) and as it answered, measured on
the server (its sleep overshoots on a busy machine); figures are held to the second.
"""

from __future__ import annotations

import pytest

from srekit.core.load import (
    ClosedModel,
    LoadPlan,
    LoadRequest,
    OpenModel,
    Stage,
    parse_threshold,
)
from srekit.flows.load import LoadReport, run_load_test
from tests.loadgen.target import Target, serve_target

pytestmark = pytest.mark.integration


def _plan(url: str, model: OpenModel | ClosedModel, *, warmup_s: float = 0.5) -> LoadPlan:
    return LoadPlan(
        name="accuracy",
        target=url,
        requests=(LoadRequest(name="home", method="GET", path="/"),),
        journeys=(),
        model=model,
        warmup_s=warmup_s,
        timeout_s=5,
        thresholds=(parse_threshold("http_req_duration", "p(99)<100"),),
    )


def _percentile(values: list[float], percent: float) -> float:
    """The nearest-rank percentile, as HdrHistogram reports it."""
    ordered = sorted(values)
    rank = max(int(-(-percent / 100 * len(ordered) // 1)), 1)
    return ordered[rank - 1]


def _run(target: Target, model: OpenModel | ClosedModel, workers: int = 1) -> LoadReport:
    with serve_target(target) as served:
        return run_load_test(_plan(served.url, model), workers=workers)


def test_fixed_latency_percentiles_within_5_percent_of_the_truth() -> None:
    # the round trip of this machine's loopback and both event loops, at no latency
    baseline = _run(Target(latency_s=0.0), OpenModel(100, (Stage(1.5, 100),)))
    round_trip_ms = baseline.summaries["http_req_service_time"].percentiles[50.0]
    target = Target(latency_s=0.020)
    report = _run(target, OpenModel(100, (Stage(4, 100),)))
    duration = report.summaries["http_req_duration"]
    # the truth: what the server took, measured on the server, plus the round trip, in ms
    truth = [seconds * 1000 + round_trip_ms for seconds in target.answered_s]
    assert duration.count == pytest.approx(350, abs=2)  # 3.5 s measured at 100/s
    expected = {percent: _percentile(truth, percent) for percent in (50.0, 95.0, 99.0)}
    assert expected[50.0] >= 20
    # 5 % of 20 ms is 1 ms; a process woken from sleep on a shared two-core machine under load
    # (load average 5-6 when this was written) waits up to ~1.5 ms more for a core, and the
    # tail holds that jitter several times over (3-6 ms seen): p50 held to 2 ms, the tail to
    # 10 ms, and never below the truth (docs/load.md, "Accuracy")
    assert duration.percentiles[50.0] == pytest.approx(expected[50.0], rel=0.05, abs=2.0)
    assert duration.percentiles[50.0] >= expected[50.0] - 1.0
    for percent in (95.0, 99.0):
        assert duration.percentiles[percent] == pytest.approx(
            expected[percent], rel=0.05, abs=10.0
        ), (percent, duration.percentiles, expected, round_trip_ms)
        assert duration.percentiles[percent] >= expected[percent] - 1.0
    assert report.verdicts[0].passed


def test_a_stall_shows_in_the_open_model_and_hides_in_the_closed_models_service_time() -> None:
    # 1 s frozen at the start of every 3 s: a third of the open model's arrivals land in it
    open_report = _run(Target(0.005, stall_every_s=3.0), OpenModel(100, (Stage(6.5, 100),)))
    open_duration = open_report.summaries["http_req_duration"]
    assert open_duration.percentiles[99.0] > 900  # up to the whole second, from intended
    assert open_duration.percentiles[50.0] < 100
    assert not open_report.verdicts[0].passed  # p(99)<100 fails
    # one user: the stall delays one request per stall, among ~700
    closed_report = _run(Target(0.005, stall_every_s=3.0), ClosedModel(vus=1, duration_s=6.5))
    service = closed_report.summaries["http_req_service_time"]
    closed_duration = closed_report.summaries["http_req_duration"]
    assert service.count > 400
    assert service.maximum > 500  # the stall happened and was measured once
    assert service.percentiles[99.0] < 50  # and hides below p99
    assert closed_duration.percentiles[99.0] < 50
    assert closed_report.verdicts[0].passed


def test_arrival_rate_within_2_percent_while_the_server_keeps_up() -> None:
    report = _run(Target(latency_s=0.002), OpenModel(400, (Stage(4, 400),)), workers=2)
    assert report.asked_rate == 400
    assert report.achieved_rate == pytest.approx(400, rel=0.02)
    assert report.summaries["http_reqs"].count == pytest.approx(400 * 3.5, abs=2)
    assert report.state.measured.outcomes == {"ok": report.summaries["http_reqs"].count}


def test_failures_are_classified() -> None:
    report = _run(Target(status=503), OpenModel(50, (Stage(1.5, 50),)))
    assert set(report.state.measured.outcomes) == {"status"}
    failed = report.summaries["http_req_failed"]
    assert failed.hits == failed.count == 50
    refused = run_load_test(
        _plan("http://127.0.0.1:9", OpenModel(20, (Stage(1, 20),)), warmup_s=0), workers=1
    )
    assert set(refused.state.measured.outcomes) == {"connect"}
    assert "connect" in refused.state.errors
