"""One worker in this process against a local server: how maxDuration ends a count-bounded
run (no iteration starts after it; a journey still going after the grace is interrupted), and
how requests sent without a task end when their connection fails."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import pytest

from srekit.core.load import (
    ClosedModel,
    Journey,
    JourneyStep,
    LoadPlan,
    LoadRequest,
    OpenModel,
    Stage,
)
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


@contextmanager
def _answers_first_only(second: str) -> Iterator[tuple[str, list[int]]]:
    """A server that answers the first request of each connection (keep-alive) and then, to
    the second, closes the connection (`close`) or says nothing (`ignore`). The open model
    sends the second request of a connection on its task-free path, whose answer comes by
    callback: every one must still end, counted once, as ok or as its failure."""
    counts = [0, 0]  # connections, requests read

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        counts[0] += 1
        try:
            await reader.readuntil(b"\r\n\r\n")
            counts[1] += 1
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await reader.readuntil(b"\r\n\r\n")
            counts[1] += 1
            if second == "ignore":
                await asyncio.sleep(30)
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    ready = threading.Event()
    found: dict[str, Any] = {}

    def run() -> None:
        async def main() -> None:
            server = await asyncio.start_server(serve, "127.0.0.1", 0)
            found["port"] = server.sockets[0].getsockname()[1]
            found["stop"] = stop = asyncio.Event()
            found["loop"] = asyncio.get_running_loop()
            ready.set()
            await stop.wait()
            server.close()
            for task in asyncio.all_tasks() - {asyncio.current_task()}:
                task.cancel()

        asyncio.run(main())

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    ready.wait(10)
    try:
        yield f"http://127.0.0.1:{found['port']}", counts
    finally:
        found["loop"].call_soon_threadsafe(found["stop"].set)
        thread.join(10)


@pytest.mark.parametrize(("second", "failure"), [("close", "protocol"), ("ignore", "timeout")])
def test_requests_sent_without_a_task_all_end_once(second: str, failure: str) -> None:
    # 40 arrivals at 40/s, one request each; a connection serves one request and fails the
    # next, so requests alternate between a new connection (a task) and a reused one (no
    # task); a timeout is 0.3 s, swept every 0.05 s
    plan = LoadPlan(
        name="t",
        target="",
        requests=(LoadRequest("home", "GET", "/"),),
        journeys=(),
        model=OpenModel(40, (Stage(1.0, 40),)),
        warmup_s=0.0,
        timeout_s=0.3,
        thresholds=(),
    )
    with _answers_first_only(second) as (url, counts):
        started = time.monotonic()
        ended: list[SeriesSet] = []
        worker_thread = threading.Thread(
            target=lambda: ended.append(_run(replace(plan, target=url))), daemon=True
        )
        worker_thread.start()
        worker_thread.join(15)
        took = time.monotonic() - started
    assert ended, "the worker never ended: an answer's callback was lost"
    measured = ended[0]
    outcomes = measured.outcomes
    assert sum(outcomes.values()) == 40  # each arrival ended, once
    assert set(outcomes) == {"ok", failure}
    assert outcomes["ok"] == counts[0]  # one answered request per connection
    assert counts[1] == 40  # every request reached the server
    assert measured.completed_iterations == 40
    assert took < 1.0 + 0.3 + 0.05 + 0.5  # the schedule, a timeout, a sweep, and slack
