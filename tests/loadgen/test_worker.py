"""One worker in this process against a local server: how maxDuration ends a count-bounded
run (no iteration starts after it; a journey still going after the grace is interrupted)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from srekit.core.load import ClosedModel, Journey, JourneyStep, LoadPlan, LoadRequest
from srekit.loadgen import worker
from srekit.loadgen.recorder import SeriesSet
from srekit.loadgen.worker import WorkerShare, run_worker
from tests.loadgen.target import Target, serve_target


def _plan(url: str, model: ClosedModel, journeys: tuple[Journey, ...] = ()) -> LoadPlan:
    return LoadPlan(
        name="t",
        target=url,
        requests=(LoadRequest("home", "GET", "/"), LoadRequest("cart", "GET", "/cart")),
        journeys=journeys,
        model=model,
        warmup_s=0.0,
        timeout_s=2.0,
        thresholds=(),
    )


def _run(plan: LoadPlan) -> SeriesSet:
    """The worker's whole share, its deltas merged as the parent merges them."""
    merged = SeriesSet()

    def send(kind: str, data: Any) -> None:
        merged.add_encoded(data["measured"])

    run_worker(plan, WorkerShare(index=0, count=1, start=time.monotonic()), send, lambda: False)
    return merged


def test_no_iteration_starts_after_max_duration() -> None:
    # one user, iterations of one request answered after 50 ms: by hand at most
    # 0.3 s / 50 ms + 1 = 7 start before 300 ms, and each that starts completes
    model = ClosedModel(vus=1, duration_s=None, iterations=1000, max_duration_s=0.3)
    with serve_target(Target(latency_s=0.05)) as target:
        measured = _run(_plan(target.url, model))
    assert 1 <= target.requests <= 7
    assert measured.completed_iterations == target.requests
    assert measured.outcomes == {"ok": target.requests}


def test_a_journey_past_the_grace_is_interrupted_between_steps(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # maxDuration 0.2 s and a grace of 0.3 s: the journey's first request goes at 0, its
    # think lasts 1 s, so at 1 s (past 0.5 s) its second request is not sent and the
    # iteration is not done
    monkeypatch.setattr(worker, "GRACEFUL_STOP_S", 0.3)
    buy = Journey("buy", (JourneyStep(0, think_s=1.0), JourneyStep(1)))
    model = ClosedModel(vus=1, duration_s=None, iterations=5, max_duration_s=0.2)
    with serve_target(Target()) as target:
        measured = _run(_plan(target.url, model, (buy,)))
    assert target.requests == 1
    assert measured.completed_iterations == 0
    assert measured.outcomes == {"ok": 1}


def test_a_journey_within_the_grace_finishes() -> None:
    # the same journey with k6's grace (30 s): the iteration under way at 0.2 s finishes,
    # both its requests sent, and no other starts
    buy = Journey("buy", (JourneyStep(0, think_s=0.5), JourneyStep(1)))
    model = ClosedModel(vus=1, duration_s=None, iterations=5, max_duration_s=0.2)
    with serve_target(Target()) as target:
        measured = _run(_plan(target.url, model, (buy,)))
    assert target.requests == 2
    assert measured.completed_iterations == 1
