"""`srekit load run`'s load models end to end: the CLI in a process of its own, its workers in
theirs, against a local server whose own request log is the judge.

The open model's arrival rate is read from the server's timestamps (when each request
arrived), never from srekit's figures; the closed models' iteration counts from the number of
requests the server answered."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import run
from tests.loadgen.target import Target, serve_target

pytestmark = pytest.mark.integration

SPEC = """\
apiVersion: srekit/v1
kind: LoadTest
metadata: {{name: models}}
spec:
  target: {url}
  timeout: 2s
  requests:
    - {{name: home, path: /}}
    - {{name: cart, path: /cart}}
  journeys: {journeys}
  load: {load}
"""
_JSON = ("--format", "json")
_CLI = "import sys; from srekit.cli.main import main; sys.argv[0] = 'srekit'; main()"


def _load_run(tmp_path: Path, url: str, load: str, journeys: str = "[]") -> dict[str, Any]:
    """`srekit load run` on two workers in a process of its own; its JSON document."""
    spec = tmp_path / "models.yaml"
    spec.write_text(SPEC.format(url=url, load=load, journeys=journeys))
    done = subprocess.run(
        [sys.executable, "-c", _CLI, "load", "run", str(spec), "--workers", "2", *_JSON],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    document: dict[str, Any] = json.loads(done.stdout)
    return document


def _count_between(times: list[float], start: float, end: float) -> int:
    return sum(1 for t in times if start <= t < end)


def test_ramping_arrival_rate_holds_each_stage_within_2_percent(tmp_path: Path) -> None:
    # 100/s ramping to 300/s over 1 s, 300/s for 1.5 s, back to 100/s over 1 s: by hand,
    # (100 + 300) / 2 × 1 = 200, 300 × 1.5 = 450 and 200 arrivals, 850 in all
    load = (
        "{executor: ramping-arrival-rate, start_rate: 100, stages: ["
        "{duration: 1s, target: 300}, {duration: 1500ms, target: 300},"
        " {duration: 1s, target: 100}]}"
    )
    with serve_target(Target(latency_s=0.001)) as target:
        document = _load_run(tmp_path, target.url, load)
    arrived = sorted(target.arrived)
    assert len(arrived) == pytest.approx(850, abs=1)
    assert document["metrics"]["http_reqs"]["count"] == len(arrived)
    # the run's start on the server's clock: during the constant stage arrival k (k = 200 to
    # 649) is due at 1 s + (k - 200) / 300 s, so each of those arrivals says when 0 was; their
    # median is robust to the first requests' lateness (each worker opens its connections)
    start = statistics.median(arrived[k] - (1.0 + (k - 200) / 300) for k in range(200, 650))
    stages = [(0.0, 1.0, 200.0), (1.0, 2.5, 300.0), (2.5, 3.5, 200.0)]
    for begin, end, mean_rate in stages:
        achieved = _count_between(arrived, start + begin, start + end) / (end - begin)
        assert achieved == pytest.approx(mean_rate, rel=0.02), (begin, end, achieved)
    # and the ramps are ramps: by hand, the first half of the way up holds ∫ from 100 to 200
    # over 0.5 s = 75 arrivals and the second 125; the way down the reverse
    halves = [(0.0, 0.5, 75), (0.5, 1.0, 125), (2.5, 3.0, 125), (3.0, 3.5, 75)]
    for begin, end, count in halves:
        seen = _count_between(arrived, start + begin, start + end)
        assert seen == pytest.approx(count, abs=3), (begin, end, seen)
    assert arrived[0] - start > -0.002
    assert arrived[-1] - start < 3.5


def test_per_vu_iterations_send_exactly_vus_times_iterations(tmp_path: Path) -> None:
    # 5 users on 2 workers (3 and 2), 40 iterations each, each iteration a journey of two
    # requests: 5 × 40 = 200 iterations, 400 requests
    load = "{executor: per-vu-iterations, vus: 5, iterations: 40}"
    journeys = "[{name: shop, steps: [{request: home}, {request: cart}]}]"
    with serve_target(Target(latency_s=0.002)) as target:
        document = _load_run(tmp_path, target.url, load, journeys)
    assert target.requests == 400
    assert document["metrics"]["iterations"]["count"] == 200
    assert document["metrics"]["http_reqs"]["count"] == 400
    assert document["outcomes"] == {"ok": 400}
    # k6's default maxDuration (10m) did not cut it
    assert document["iterations"] == {
        "planned": 200,
        "done": 200,
        "max_duration_s": 600.0,
        "cut_by_max_duration": False,
    }


@pytest.mark.parametrize(
    ("load", "users", "planned"),
    [
        ("{executor: per-vu-iterations, vus: 2, iterations: 1000, maxDuration: 1s}", 2, 2000),
        ("{executor: shared-iterations, vus: 3, iterations: 1000, max_duration: 1s}", 3, 1000),
    ],
)
def test_max_duration_cuts_an_iteration_run_short(
    tmp_path: Path, load: str, users: int, planned: int
) -> None:
    # the server answers after 50 ms, so a user's iteration (one request) takes at least
    # 50 ms and starts none after 1 s: by hand, at most 1 s / 50 ms + 1 = 21 iterations a
    # user, where the plan would take 1000 × 50 ms = 50 s a user
    with serve_target(Target(latency_s=0.05)) as target:
        document = _load_run(tmp_path, target.url, load)
    assert 10 <= target.requests <= users * 21
    iterations = document["iterations"]
    assert iterations == {
        "planned": planned,
        "done": target.requests,  # the iterations under way at 1 s finished
        "max_duration_s": 1.0,
        "cut_by_max_duration": True,
    }
    assert document["metrics"]["http_reqs"]["count"] == target.requests
    assert document["outcomes"] == {"ok": target.requests}
    assert document["duration_s"] < 5


def test_max_duration_is_reported_in_the_table(tmp_path: Path) -> None:
    spec = tmp_path / "models.yaml"
    load = "{executor: per-vu-iterations, vus: 1, iterations: 1000, maxDuration: 300ms}"
    with serve_target(Target(latency_s=0.05)) as target:
        spec.write_text(SPEC.format(url=target.url, load=load, journeys="[]"))
        code, out, err = run("load", "run", spec, "--workers", "1")
    assert code == 0, out + err
    # at most 300 ms / 50 ms + 1 = 7 iterations started
    assert 1 <= target.requests <= 7
    expected = f"iterations: {target.requests} of 1000 done; maxDuration (0.3 s) ended the run"
    assert expected in " ".join(out.split())


def test_shared_iterations_send_exactly_the_pool(tmp_path: Path) -> None:
    # 3 users (2 on one worker, 1 on the other) share 101 iterations of one request each
    load = "{executor: shared-iterations, vus: 3, iterations: 101}"
    with serve_target(Target(latency_s=0.002)) as target:
        document = _load_run(tmp_path, target.url, load)
    assert target.requests == 101
    assert document["metrics"]["iterations"]["count"] == 101
    assert document["outcomes"] == {"ok": 101}


def test_shared_iterations_with_fewer_users_than_workers(tmp_path: Path) -> None:
    # one user: the other worker has neither users nor iterations, and none are lost
    load = "{executor: shared-iterations, vus: 1, iterations: 7}"
    with serve_target(Target()) as target:
        document = _load_run(tmp_path, target.url, load)
    assert target.requests == 7
    assert document["metrics"]["iterations"]["count"] == 7


@pytest.mark.parametrize(
    ("load", "shown"),
    [
        ("{executor: per-vu-iterations, vus: 4, iterations: 9}", "4 VUs 9 iterations each"),
        ("{executor: shared-iterations, vus: 4, iterations: 9}", "4 VUs 9 iterations between"),
        ("{executor: shared-iterations, vus: 4}", "expected iterations for executor"),
        ("{executor: shared-iterations, iterations: 9}", "expected vus for executor"),
        ("{executor: shared-iterations, vus: 4, iterations: 0}", "spec.load.iterations"),
        (
            "{executor: per-vu-iterations, vus: 4, iterations: 9}",
            "4 VUs 9 iterations each, none started after 600 s (maxDuration)",
        ),
        (
            "{executor: shared-iterations, vus: 4, iterations: 9, maxDuration: 1m30s}",
            "4 VUs 9 iterations between them, none started after 90 s (maxDuration)",
        ),
        (
            "{executor: shared-iterations, vus: 4, iterations: 9, max_duration: 500ms}",
            "4 VUs 9 iterations between them, none started after 0.5 s (maxDuration)",
        ),
        (
            "{executor: per-vu-iterations, vus: 4, iterations: 9, maxDuration: 0s}",
            "spec.load.maxDuration: expected a duration longer than 0s, got '0s'",
        ),
        (
            "{executor: per-vu-iterations, vus: 4, iterations: 9, max_duration: -5s}",
            "spec.load.max_duration: expected a duration like 30s",
        ),
        (
            "{executor: per-vu-iterations, vus: 4, iterations: 9, maxDuration: NaN}",
            "spec.load.maxDuration: expected a duration like 30s",
        ),
        (
            "{executor: per-vu-iterations, vus: 4, iterations: 9, maxDuration: .nan}",
            "spec.load.maxDuration: expected a valid string",
        ),
        (
            "{executor: per-vu-iterations, vus: 4, iterations: 9, maxDuration: ten minutes}",
            "spec.load.maxDuration: expected a duration like 30s",
        ),
        (
            "{executor: per-vu-iterations, vus: 4, iterations: 9, maxDuration: 30}",
            "spec.load.maxDuration: expected a valid string",
        ),
        (
            "{executor: per-vu-iterations, vus: 4, iterations: 9, maxDuration: 8d}",
            "spec.load.maxDuration: expected a duration like 30s",
        ),
        (
            "{executor: constant-vus, vus: 4, duration: 1m, maxDuration: 30s}",
            "expected max_duration only with executor per-vu-iterations or shared-iterations",
        ),
    ],
)
def test_iteration_models_in_the_plan(tmp_path: Path, load: str, shown: str) -> None:
    spec = tmp_path / "models.yaml"
    spec.write_text(SPEC.format(url="http://127.0.0.1:9", load=load, journeys="[]"))
    code, out, err = run("load", "run", spec, "--dry-run")
    assert shown in " ".join((out + err).split())
    assert code == (0 if "VUs" in shown else 2)
