"""One worker process: an asyncio loop sending its share of a plan's traffic.

Worker `w` of `W` takes arrivals w, w + W, w + 2W, ... of an open model's schedule, or its
share of a closed model's users, and sends the parent what it measured as deltas, once a
second and once at the end, so the parent holds the whole run at any moment.

Timing: in the open model a request's `http_req_duration` runs from its *intended* send time
(the schedule's), so a late send, a full connection pool or a stalled server all count
(coordinated omission corrected); `http_req_service_time` runs from the actual send. In the
closed model the two are the same: a user waits for each response before the next request.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from itertools import accumulate, islice
from typing import Any

from srekit.core.load import (
    ClosedModel,
    Journey,
    LoadPlan,
    LoadRequest,
    Outcome,
    arrival_offsets,
    classify_outcome,
    share_of,
)
from srekit.loadgen.client import (
    Answer,
    ConnectionPool,
    Origin,
    RequestFailedError,
    encode_request,
)
from srekit.loadgen.recorder import SeriesSet
from srekit.loadgen.timer import new_event_loop

__all__ = ["WorkerShare", "run_worker"]

REPORT_EVERY_S = 1.0
#: arrivals sent back to back when behind schedule before the loop reads responses again
_BEHIND_BATCH = 8
#: k6's default gracefulStop: how long an iteration under way at maxDuration may go on
GRACEFUL_STOP_S = 30.0


@dataclass(frozen=True)
class WorkerShare:
    """Which part of the plan one worker sends, and when the run starts (monotonic s)."""

    index: int
    count: int
    start: float


async def _until(instant: float) -> None:
    """Sleep until `instant` (monotonic s). The loop's timers (`srekit.loadgen.timer`) wake
    within the kernel's timer slack, plus whatever wait for a core the machine imposes: that
    lateness is the generator's, and an open model counts it, as a real client's would be.
    A spin would shave the rest at the price of a core kept busy, which on a small machine
    costs the service under test more."""
    await asyncio.sleep(instant - time.monotonic())


class _Worker:
    def __init__(
        self, plan: LoadPlan, share: WorkerShare, send: Callable[[str, Any], None]
    ) -> None:
        self.plan = plan
        self.share = share
        self.send = send
        origin = Origin.parse(plan.target)
        self.pool = ConnectionPool(origin, timeout_s=plan.timeout_s)
        self.wire = [
            encode_request(origin, r.method, r.path, r.headers, r.body) for r in plan.requests
        ]
        self.base_tags = [(("method", r.method), ("name", r.name), *r.tags) for r in plan.requests]
        self.measured = SeriesSet()
        self.random = random.Random(share.index)
        self.stopping = False
        self.in_flight = 0
        self.shared_left = 0  # a shared-iterations pool's iterations not yet taken
        self.measure_from = share.start + plan.warmup_s
        # past maxDuration no iteration starts; one under way may finish its journey within
        # k6's default gracefulStop, and is interrupted between two steps after it
        model = plan.model
        max_duration_s = model.max_duration_s if isinstance(model, ClosedModel) else None
        self.no_start_after = share.start + max_duration_s if max_duration_s else math.inf
        self.interrupt_at = self.no_start_after + GRACEFUL_STOP_S
        self.errors: dict[str, str] = {}
        self.journey_weights = list(accumulate(j.weight for j in plan.journeys))
        self.request_weights = list(accumulate(r.weight for r in plan.requests))
        self.request_range = range(len(plan.requests))
        # (request, status, expected) → its series' tags, built once
        self.tags: dict[tuple[int, int | None, bool], tuple[tuple[str, str], ...]] = {}

    def _pick_iteration(self) -> tuple[Journey | None, int]:
        plan = self.plan
        if plan.journeys:
            if len(plan.journeys) == 1:
                return plan.journeys[0], -1
            return self.random.choices(plan.journeys, cum_weights=self.journey_weights)[0], -1
        if len(plan.requests) == 1:
            return None, 0
        return None, self.random.choices(self.request_range, cum_weights=self.request_weights)[0]

    async def _request(self, index: int, intended: float) -> None:
        sent = time.monotonic()
        try:
            answer: Answer = await self.pool.send_timed(self.wire[index])
        except RequestFailedError as error:
            answer = error
        self._measure(index, intended, sent, answer)

    def _send_alone(self, index: int, intended: float) -> bool:
        """Send a one-request iteration on an idle connection, measured when its answer
        comes, with no task; False, sending nothing, when no connection is idle."""
        sent = time.monotonic()

        def answered(answer: Answer) -> None:
            self.in_flight -= 1
            self._measure(index, intended, sent, answer)
            self._count_iteration(None, index, intended)

        return self.pool.try_send(self.wire[index], answered)

    def _measure(self, index: int, intended: float, sent: float, answer: Answer) -> None:
        """Record one request's answer: its series' count, failure and both latencies."""
        status: int | None = None
        failure: Outcome | None = None
        if isinstance(answer, RequestFailedError):
            failure = answer.outcome
            self.errors.setdefault(failure.value, str(answer))
            done = time.monotonic()
        else:
            status, _, done = answer
        if intended < self.measure_from:
            return
        request: LoadRequest = self.plan.requests[index]
        outcome = classify_outcome(
            status=status, failure=failure, expected=request.expected_statuses
        )
        key = (index, status, outcome is Outcome.OK)
        tags = self.tags.get(key)
        if tags is None:
            tags = self.tags[key] = tuple(
                sorted(
                    (
                        *self.base_tags[index],
                        ("status", str(status) if status is not None else "0"),
                        ("expected_response", "true" if outcome is Outcome.OK else "false"),
                    )
                )
            )
        series = self.measured.of(tags)
        series.requests += 1
        if outcome is not Outcome.OK:
            series.failed += 1
        series.record("http_req_duration", done - intended)
        series.record("http_req_service_time", done - sent)
        self.measured.count_outcome(outcome)
        self.measured.sent(sent)

    async def _iteration(
        self, intended: float, picked: tuple[Journey | None, int] | None = None
    ) -> None:
        journey, index = picked or self._pick_iteration()
        started = intended
        if journey is None:
            await self._request(index, intended)
        else:
            for number, step in enumerate(journey.steps):
                if self.stopping or time.monotonic() >= self.interrupt_at:
                    return  # interrupted: not a completed iteration
                await self._request(step.request, intended if number == 0 else time.monotonic())
                if step.think_s > 0:
                    await asyncio.sleep(step.think_s)
        self._count_iteration(journey, index, started)

    def _count_iteration(self, journey: Journey | None, index: int, started: float) -> None:
        self.measured.completed_iterations += 1
        if started >= self.measure_from:
            tags = (("journey", journey.name if journey else self.plan.requests[index].name),)
            series = self.measured.of(tags)
            series.iterations += 1
            series.record("iteration_duration", time.monotonic() - started)

    async def _open(self) -> None:
        model = self.plan.model
        assert not isinstance(model, ClosedModel)
        share = self.share
        offsets = islice(
            arrival_offsets(start_rate=model.start_rate, stages=model.stages),
            share.index,
            None,
            share.count,
        )
        tasks: set[asyncio.Task[None]] = set()
        alone = not self.plan.journeys  # each iteration one request: sent without a task
        back_to_back = 0
        for offset in offsets:
            if self.stopping:
                break
            intended = share.start + offset
            if intended > time.monotonic():
                await _until(intended)
                back_to_back = 0
            elif back_to_back >= _BEHIND_BATCH:  # behind schedule: read what came meanwhile
                await asyncio.sleep(0)
                back_to_back = 0
            back_to_back += 1
            if self.in_flight >= model.max_in_flight:
                if intended >= self.measure_from:
                    self.measured.dropped_iterations += 1
                continue
            self.in_flight += 1
            picked = self._pick_iteration()
            if alone and self._send_alone(picked[1], intended):
                continue
            task = asyncio.create_task(self._tracked(intended, picked))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        await self._drain(tasks)
        while self.in_flight:  # the ones sent without a task: each ends within its timeout
            await asyncio.sleep(0.005)

    async def _tracked(self, intended: float, picked: tuple[Journey | None, int]) -> None:
        try:
            await self._iteration(intended, picked)
        finally:
            self.in_flight -= 1

    async def _user(self, model: ClosedModel) -> None:
        deadline = self.share.start + model.duration_s if model.duration_s else self.no_start_after
        done = 0
        while not self.stopping:
            now = time.monotonic()
            if now >= deadline:
                return
            if model.shared_iterations:
                if self.shared_left <= 0:
                    return
                self.shared_left -= 1  # taken before the await: no other user takes it
            elif model.iterations is not None and done >= model.iterations:
                return
            await self._iteration(now)
            done += 1

    async def _closed(self, model: ClosedModel) -> None:
        share = self.share
        users = share_of(model.vus, index=share.index, count=share.count)
        if model.shared_iterations and model.iterations is not None:
            # the pool is split between the workers in proportion to their users (the parts
            # telescope to exactly `iterations`); within a worker a free user takes the next
            before = sum(
                share_of(model.vus, index=i, count=share.count) for i in range(share.index)
            )
            total = model.iterations
            self.shared_left = total * (before + users) // model.vus - total * before // model.vus
        await asyncio.sleep(max(share.start - time.monotonic(), 0))
        tasks = {asyncio.create_task(self._user(model)) for _ in range(users)}
        await self._drain(tasks)

    async def _drain(self, tasks: set[asyncio.Task[None]]) -> None:
        """Wait for what is in flight: each request ends within its timeout."""
        if tasks:
            await asyncio.wait(set(tasks))

    def report(self, kind: str) -> None:
        self.send(kind, {"measured": self.measured.encode(), "errors": dict(self.errors)})
        self.measured = SeriesSet()

    async def _reporter(self, stop_requested: Callable[[], bool]) -> None:
        while True:
            await asyncio.sleep(REPORT_EVERY_S)
            if stop_requested():
                self.stopping = True
            self.report("progress")

    async def run(self, stop_requested: Callable[[], bool]) -> None:
        reporter = asyncio.create_task(self._reporter(stop_requested))
        try:
            model = self.plan.model
            if isinstance(model, ClosedModel):
                await self._closed(model)
            else:
                await self._open()
        finally:
            reporter.cancel()
            self.pool.close()
        self.report("done")


def run_worker(
    plan: LoadPlan,
    share: WorkerShare,
    send: Callable[[str, Any], None],
    stop_requested: Callable[[], bool],
) -> None:
    """Send this worker's share of `plan`; `send(kind, data)` carries each delta out."""
    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        runner.run(_Worker(plan, share, send).run(stop_requested))
