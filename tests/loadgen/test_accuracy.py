"""The generator against a local server of known latency: percentiles, stalls, rate.

The server's latency is known twice: as asked (`latency_s`) and as it answered, measured on
the server (its sleep overshoots on a busy machine); figures are held to the second, plus the
loopback round trip measured with a plain socket.
"""

from __future__ import annotations

import socket
import statistics
import time

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
from tests.loadgen.target import Target, serve_target, serve_target_process

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


def _loopback_round_trip_ms(port: int, *, count: int = 200) -> float:
    """The median round trip of a tiny request to a server answering at once, timed with a
    plain blocking socket (none of srekit's code), one every 2 ms."""
    times = []
    with socket.create_connection(("127.0.0.1", port)) as connection:
        for _ in range(count):
            began = time.monotonic()
            connection.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            answer = b""
            while not answer.endswith(b"ok"):
                answer += connection.recv(4096)
            times.append((time.monotonic() - began) * 1000)
            time.sleep(0.002)
    return statistics.median(times)


def test_fixed_latency_percentiles_against_the_truth() -> None:
    # the truth of each request: what the server spent on it, timed by the server (its sleep
    # overshoots on a busy machine), plus the loopback round trip measured apart, in ms; the
    # server runs in a process of its own, so nothing of the test's process delays it
    with serve_target_process(Target(latency_s=0.0)) as idle:
        round_trip_ms = _loopback_round_trip_ms(idle.port)
    target = Target(latency_s=0.020)
    with serve_target_process(target) as served:
        report = run_load_test(_plan(served.url, OpenModel(100, (Stage(4, 100),))), workers=1)
    truth = [seconds * 1000 + round_trip_ms for seconds in target.answered_s]
    duration = report.summaries["http_req_duration"]
    service = report.summaries["http_req_service_time"]
    assert target.requests == 400  # 100/s for 4 s, as the server counted
    assert duration.count == pytest.approx(350, abs=2)  # 3.5 s measured after the warm-up
    # the measured requests are the last 350 the server answered
    expected = {
        percent: _percentile(truth[-duration.count :], percent) for percent in (50.0, 95.0, 99.0)
    }
    assert expected[50.0] >= 20
    figures = (duration.percentiles, service.percentiles, expected, round_trip_ms)
    # from the actual send (the client's own measurement): p50 within 1 ms or 5 % (seen:
    # +0.06 to +0.9 ms); from the intended send (the open model's latency, the generator's own
    # lateness added: its timer wakes within ~0.3 ms at p50, then waits for a core) within
    # 2 ms (seen: +0.7 to +1.7 ms at load 7-9 on the 2 shared cores when this was written)
    allowed_ms = max(1.0, 0.05 * expected[50.0])
    assert -0.5 <= service.percentiles[50.0] - expected[50.0] <= allowed_ms, figures
    assert -0.5 <= duration.percentiles[50.0] - expected[50.0] <= 2.0, figures
    # the tails hold the moments a woken process waited for a core, which on a shared machine
    # come and go (seen at p95: +0.5 to +8 ms, at p99 +0.3 to +29 ms, and once, with both
    # cores taken by other work, +132 and +264 ms: the worker ran for none of 250 ms;
    # docs/load.md, "Accuracy"): no bound above is robust there, but none may fall below
    # the truth, which a generator that lost or shortened its slow samples would
    for percent in (95.0, 99.0):
        for measured in (service, duration):
            assert measured.percentiles[percent] - expected[percent] >= -0.5, figures
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
