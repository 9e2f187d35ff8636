"""Worker processes for a run, and the parent's side: the merged measurements, live.

Several processes (one per core by default) each run an asyncio loop (`worker.run_worker`);
they start together at one instant of the system's monotonic clock, which every process on the
machine shares. Their deltas arrive once a second and are merged at once, so the parent can show
progress and judge `abortOnFail` thresholds on the whole run so far.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from srekit.core.load import LoadPlan
from srekit.loadgen.recorder import SeriesSet
from srekit.loadgen.worker import WorkerShare, run_worker

__all__ = ["RunState", "default_workers", "run_plan"]

START_DELAY_S = 0.2
_READY_TIMEOUT_S = 60.0


def default_workers() -> int:
    """One worker per core this process may use."""
    return max(len(os.sched_getaffinity(0)), 1)


@dataclass
class RunState:
    """The run so far: every delta merged, the errors' first messages, how long it has run."""

    measured: SeriesSet = field(default_factory=SeriesSet)
    errors: dict[str, str] = field(default_factory=dict)
    started: float = 0.0
    elapsed_s: float = 0.0
    aborted: bool = False
    workers: int = 0

    def add(self, data: dict[str, Any]) -> None:
        self.measured.add_encoded(data["measured"])
        for outcome, detail in data["errors"].items():
            self.errors.setdefault(outcome, detail)


def _child(  # noqa: PLR0917 - a Process target takes its arguments by position
    plan: LoadPlan,
    index: int,
    count: int,
    messages: Any,
    ready: Any,
    go: Any,
    start_at: Any,
    stop: Any,
) -> None:
    """A worker process's body: say ready, wait for the start, send its share."""
    ready.release()
    go.wait()
    share = WorkerShare(index=index, count=count, start=start_at.value)

    def send(kind: str, data: Any) -> None:
        messages.put((kind, index, data))

    try:
        run_worker(plan, share, send, stop.is_set)
    except Exception as error:  # a worker that dies says why, rather than hanging the run
        messages.put(("failed", index, f"{type(error).__name__}: {error}"))


def run_plan(
    plan: LoadPlan,
    *,
    workers: int,
    on_tick: Callable[[RunState], bool] | None = None,
) -> RunState:
    """Run `plan` on `workers` processes; `on_tick(state)` is called about once a second with
    the run so far and returns True to stop it early (a failed abortOnFail threshold)."""
    context = multiprocessing.get_context("spawn")
    messages = context.Queue()
    ready = context.Semaphore(0)
    go = context.Event()
    stop = context.Event()
    start_at = context.Value("d", 0.0)
    processes = [
        context.Process(
            target=_child,
            args=(plan, index, workers, messages, ready, go, start_at, stop),
            daemon=True,
        )
        for index in range(workers)
    ]
    for process in processes:
        process.start()
    state = RunState(workers=workers)
    try:
        for _ in processes:
            if not ready.acquire(timeout=_READY_TIMEOUT_S):
                raise RuntimeError("a load worker did not start")
        start_at.value = time.monotonic() + START_DELAY_S
        state.started = start_at.value
        go.set()
        finished = 0
        last_tick = time.monotonic()
        while finished < workers:
            try:
                kind, _, data = messages.get(timeout=0.25)
            except queue.Empty:
                if not any(p.is_alive() for p in processes):
                    raise RuntimeError("the load workers stopped without a result") from None
                kind, data = "", None
            if kind == "failed":
                raise RuntimeError(f"a load worker failed: {data}")
            if kind in ("progress", "done"):
                state.add(data)
            if kind == "done":
                finished += 1
            now = time.monotonic()
            state.elapsed_s = max(now - state.started - plan.warmup_s, 0.0)
            if now - last_tick >= 1.0 and on_tick is not None:
                last_tick = now
                if on_tick(state) and not stop.is_set():
                    state.aborted = True
                    stop.set()
        state.elapsed_s = max(time.monotonic() - state.started - plan.warmup_s, 0.0)
    finally:
        stop.set()
        go.set()
        for process in processes:
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
                process.join()
    return state
