"""Run a chaos experiment: execute what `core.chaos` hands out, report each outcome back, and
return the journal core writes. http and process providers for real, python providers only
from an allow-list (or when the caller trusts the experiment), pauses and timeouts; background
activities run in threads beside the rest, and with the `during-method-only` and
`continuously` strategies the hypothesis runs in a thread beside the method, every
`frequency` seconds, as chaoslib runs it.

Safety: an activity whose target lies outside the declared blast radius refuses the whole run
before anything runs; a run stops (and rolls back by its strategy) when it is interrupted
(Ctrl-C, SIGTERM turned into KeyboardInterrupt by the CLI), when its TTL is over, or when a
guard (the SLO guard: an error budget burning too fast) says so.
"""

from __future__ import annotations

import importlib
import json
import platform
import queue
import shlex
import subprocess
import threading
import time
from collections.abc import Callable, Collection
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from srekit import __version__
from srekit.core.chaos import (
    Activity,
    ActivityOutcome,
    ActivityStatus,
    DryMode,
    Experiment,
    HttpProvider,
    Phase,
    ProbeTolerance,
    ProcessProvider,
    RunState,
    Step,
    abort,
    begin_next,
    interrupt,
    journal_of,
    outside_blast_radius,
    record_during,
    record_outcome,
    skipped_dry,
    start_run,
    thaw,
    tolerance_met,
    wants_during,
)
from srekit.errors import SpecError

__all__ = [
    "DEFAULT_TIMEOUT_S",
    "GUARD_INTERVAL_S",
    "Guard",
    "RunControl",
    "check_blast_radius",
    "execute_activity",
    "run_experiment",
]

DEFAULT_TIMEOUT_S = 30.0  # an activity without a timeout still never hangs the run
GUARD_INTERVAL_S = 5.0  # how often the guard is asked while the method runs

# asked while the method runs: why the run must stop now (an abort), or None to go on
Guard = Callable[[], str | None]


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class RunControl:
    """What may stop a run from outside its own thread: `stop(reason)` ends the current pause
    at once and starts nothing more (the rollbacks still follow their strategy). The first
    reason given is the one kept."""

    _event: threading.Event = field(default_factory=threading.Event)
    reason: str | None = None
    aborted: bool = False

    def stop(self, reason: str, *, aborted: bool = False) -> None:
        if not self._event.is_set():
            self.reason, self.aborted = reason, aborted
            self._event.set()

    @property
    def stopped(self) -> bool:
        return self._event.is_set()

    def pause(self, seconds: float) -> None:
        """Sleep `seconds`, or less when the run is stopped meanwhile."""
        self._event.wait(seconds)


def check_blast_radius(experiment: Experiment) -> None:
    """Refuse (SpecError) an experiment with an activity aimed outside its blast radius."""
    outside = outside_blast_radius(experiment)
    if outside:
        named = "; ".join(f"{name!r} targets {target}" for name, target in outside)
        raise SpecError(
            f"outside the blast radius (allowed_targets): {named}",
            field="extensions.srekit.blast_radius",
        )


def run_experiment(
    experiment: Experiment,
    *,
    python_allowed: Collection[str] = (),
    trusted: bool = False,
    sleep: Callable[[float], None] | None = None,
    now: Callable[[], datetime] = _now,
    control: RunControl | None = None,
    guard: Guard | None = None,
    guard_interval_s: float = GUARD_INTERVAL_S,
    dry: DryMode | None = None,
) -> dict[str, Any]:
    """Run `experiment` to its end and return its journal (Chaos Toolkit's keys).

    A python provider runs only when its module is in `python_allowed`, or when `trusted`:
    an experiment file must not be able to call any function of the machine it runs on.
    Ctrl-C interrupts the run; the rollbacks then follow their strategy. `guard` is asked
    every `guard_interval_s` while the method runs; a reason from it aborts the run. The
    experiment's TTL (`extensions[srekit].ttl`) interrupts a run that lasts longer. `dry`
    walks through the activities it names without calling them (the journal says so).
    """
    check_blast_radius(experiment)
    control = control or RunControl()
    pause = sleep or control.pause
    started_at = now()
    state = start_run(experiment, started_at=started_at)
    under_way: dict[Future[ActivityOutcome], Step] = {}
    rounds: queue.SimpleQueue[list[ActivityOutcome]] = queue.SimpleQueue()
    method_over = threading.Event()
    watchers: list[threading.Thread] = []
    deadline = (
        started_at + timedelta(seconds=experiment.srekit.ttl_s) if experiment.srekit.ttl_s else None
    )

    def execute(activity: Activity) -> ActivityOutcome:
        return execute_activity(
            activity, python_allowed=python_allowed, trusted=trusted, sleep=pause, now=now, dry=dry
        )

    stop_applied = False
    watching = False
    with ThreadPoolExecutor(max_workers=max(1, len(experiment.method))) as pool:
        try:
            while not state.finished:
                interrupted = False
                try:
                    if state.phase is Phase.METHOD and not watching:
                        watchers = _watch_method(
                            experiment,
                            execute=execute,
                            rounds=rounds,
                            method_over=method_over,
                            control=control,
                            guard=guard,
                            guard_interval_s=guard_interval_s,
                            deadline=deadline,
                            now=now,
                        )
                        watching = True
                    state = _drain_rounds(state, rounds)
                    # the run's own rules may have ended it (fail-fast); the rollbacks that
                    # remove the faults are never cut short by the TTL or the guard
                    running = state.status is None and state.phase is not Phase.ROLLBACKS
                    if running and deadline is not None and now() >= deadline:
                        control.stop(f"the run outlived its TTL ({experiment.srekit.ttl_s} s)")
                    if running and control.stopped and not stop_applied:
                        stop_applied = True
                        state = abort(state) if control.aborted else interrupt(state)
                        continue
                    state, interrupted = _advance(
                        state,
                        under_way=under_way,
                        pool=pool,
                        execute=execute,
                        now=now,
                        before_record=lambda state: _drain_rounds(state, rounds),
                    )
                except KeyboardInterrupt:
                    interrupted = True
                if state.phase is not Phase.METHOD:
                    method_over.set()
                if interrupted:
                    if stop_applied or state.phase is Phase.ROLLBACKS:  # stop the rollbacks
                        state = interrupt(state)
                    else:
                        control.stop("interrupted")
        finally:
            method_over.set()
            for watcher in watchers:
                watcher.join()
    journal = journal_of(
        state,
        ended_at=now(),
        platform=platform.platform(),
        node=platform.node(),
        version=__version__,
    )
    extension = _srekit_extension(stopped_because=control.reason, dry=dry)
    if extension is not None:
        journal["extensions"] = [extension]
    return journal


def _srekit_extension(*, stopped_because: str | None, dry: DryMode | None) -> dict[str, Any] | None:
    """srekit's own entry in the journal's `extensions`: why the run stopped early, and
    whether it was a dry run; None when there is neither to say."""
    extension: dict[str, Any] = {}
    if stopped_because is not None:
        extension["stopped_because"] = stopped_because
    if dry is not None:
        extension["dry"] = dry.value
    return {"name": "srekit", **extension} if extension else None


def _drain_rounds(state: RunState, rounds: queue.SimpleQueue[list[ActivityOutcome]]) -> RunState:
    """Record the hypothesis rounds run beside the method since the last look (a round that
    ends after the method is over is dropped: there is no method left to judge)."""
    while not rounds.empty():
        outcomes = rounds.get()
        if state.phase is Phase.METHOD and not state.stopping:
            state = record_during(state, outcomes)
    return state


def _watch_method(
    experiment: Experiment,
    *,
    execute: Callable[[Activity], ActivityOutcome],
    rounds: queue.SimpleQueue[list[ActivityOutcome]],
    method_over: threading.Event,
    control: RunControl,
    guard: Guard | None,
    guard_interval_s: float,
    deadline: datetime | None,
    now: Callable[[], datetime],
) -> list[threading.Thread]:
    """Threads beside the method: the hypothesis rounds (with a `during` strategy), and the
    guard and the TTL, which stop the run through `control` (ending a pause at once)."""
    runtime = experiment.runtime

    def hypothesis() -> None:
        missed = total = 0
        while not method_over.is_set() and not control.stopped:
            outcomes: list[ActivityOutcome] = []
            met = True
            for probe in experiment.probes:
                outcomes.append(execute(probe))
                met = _probe_met(probe, outcomes[-1])
                if not met:
                    break
            rounds.put(outcomes)
            total, missed = total + 1, missed + (not met)
            if runtime.fail_fast and missed and missed * 100 / total >= runtime.fail_fast_ratio:
                control.stop(f"the steady state was missed in {missed} of {total} rounds")
                return
            method_over.wait(runtime.frequency_s)

    def watch() -> None:
        while not method_over.is_set() and not control.stopped:
            if deadline is not None and now() >= deadline:
                control.stop(f"the run outlived its TTL ({experiment.srekit.ttl_s} s)")
                return
            reason = guard() if guard is not None else None
            if reason is not None:
                control.stop(reason, aborted=True)
                return
            method_over.wait(guard_interval_s)

    targets: list[Callable[[], None]] = []
    if wants_during(experiment):
        targets.append(hypothesis)
    if guard is not None or deadline is not None:
        targets.append(watch)
    threads = [threading.Thread(target=target, daemon=True) for target in targets]
    for thread in threads:
        thread.start()
    return threads


def _probe_met(probe: Activity, outcome: ActivityOutcome) -> bool:
    if outcome.dry:
        return True
    if outcome.status is ActivityStatus.FAILED or probe.tolerance is None:
        return False
    return tolerance_met(
        probe.tolerance, outcome.output, tolerance_verdict=outcome.tolerance_verdict
    )


def _advance(
    state: RunState,
    *,
    under_way: dict[Future[ActivityOutcome], Step],
    pool: ThreadPoolExecutor,
    execute: Callable[[Activity], ActivityOutcome],
    now: Callable[[], datetime],
    before_record: Callable[[RunState], RunState],
) -> tuple[RunState, bool]:
    """Start the next activity, or wait a little for one under way in the background; True
    beside the state when a foreground activity was interrupted (it is recorded as failed).
    `before_record` sees the state before each outcome is recorded (the hypothesis rounds
    that reported meanwhile are recorded while the method is still under way)."""
    state, step = begin_next(state)
    if step is None:
        if under_way:
            done, _ = wait(list(under_way), timeout=0.2, return_when=FIRST_COMPLETED)
            for future in done:
                state = before_record(state)
                state = record_outcome(state, under_way.pop(future), future.result())
        return state, False
    if step.activity.background:
        under_way[pool.submit(execute, step.activity)] = step
        return state, False
    started_at = now()
    try:
        outcome = execute(step.activity)
    except KeyboardInterrupt:  # cut short: the activity is over, and failed
        outcome = ActivityOutcome(
            ActivityStatus.FAILED, started_at, now(), exception="KeyboardInterrupt: interrupted"
        )
        return record_outcome(before_record(state), step, outcome), True
    return record_outcome(before_record(state), step, outcome), False


def execute_activity(
    activity: Activity,
    *,
    python_allowed: Collection[str] = (),
    trusted: bool = False,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], datetime] = _now,
    dry: DryMode | None = None,
) -> ActivityOutcome:
    """Run one activity with its pauses; any failure is an outcome, never an exception. In
    a dry run an activity `dry` skips is not called, nor are its pauses slept (nor any pause
    with `--dry pause`)."""
    skipped = skipped_dry(dry, activity.type)
    pauses = not skipped and dry is not DryMode.PAUSE
    if pauses and activity.pauses.before_s:
        sleep(activity.pauses.before_s)
    started_at = now()
    if skipped:
        return ActivityOutcome(ActivityStatus.SUCCEEDED, started_at, now(), dry=True)
    try:
        output = _provide(activity, python_allowed=python_allowed, trusted=trusted)
        verdict = None
        if isinstance(activity.tolerance, ProbeTolerance):
            verdict = _judge(activity.tolerance.probe, output, python_allowed, trusted)
        outcome = ActivityOutcome(
            ActivityStatus.SUCCEEDED, started_at, now(), output=output, tolerance_verdict=verdict
        )
    except Exception as error:  # a provider's failure is the activity's outcome
        outcome = ActivityOutcome(
            ActivityStatus.FAILED, started_at, now(), exception=f"{type(error).__name__}: {error}"
        )
    if pauses and activity.pauses.after_s:
        sleep(activity.pauses.after_s)
    return outcome


def _judge(probe: Activity, value: Any, python_allowed: Collection[str], trusted: bool) -> bool:
    """A `{type: probe}` tolerance: the judging probe, given the output as `value`."""
    provider = probe.provider
    if isinstance(provider, HttpProvider | ProcessProvider):
        return bool(_provide(probe, python_allowed=python_allowed, trusted=trusted))
    arguments = {**thaw(provider.arguments), "value": value}
    return bool(_python(provider.module, provider.func, arguments, python_allowed, trusted))


def _provide(activity: Activity, *, python_allowed: Collection[str], trusted: bool) -> Any:
    provider = activity.provider
    if isinstance(provider, HttpProvider):
        return _http(provider)
    if isinstance(provider, ProcessProvider):
        return _process(provider)
    arguments = thaw(provider.arguments)
    return _python(provider.module, provider.func, arguments, python_allowed, trusted)


def _http(provider: HttpProvider) -> dict[str, Any]:
    arguments = thaw(provider.arguments)
    headers = dict(provider.headers)
    options: dict[str, Any] = {}
    if provider.method == "GET":
        options["params"] = arguments
    elif headers.get("Content-Type") == "application/json":
        options["json"] = arguments
    elif arguments is not None:
        options["data"] = arguments
    timeout = provider.timeout_s or DEFAULT_TIMEOUT_S
    # Chaos Toolkit's `max_retries` (requests' adapter): connections refused or unreachable
    # are tried again, a request that reached the server is not
    transport = httpx.HTTPTransport(verify=provider.verify_tls, retries=provider.max_retries)
    with httpx.Client(timeout=timeout, follow_redirects=False, transport=transport) as client:
        response = client.request(provider.method, provider.url, headers=headers, **options)
    body: Any = response.text
    if response.headers.get("Content-Type", "").startswith("application/json"):
        try:
            body = response.json()
        except json.JSONDecodeError:
            body = response.text
    if provider.expected_status and response.status_code not in provider.expected_status:
        raise RuntimeError(
            f"{provider.method} {provider.url} answered {response.status_code}, expected"
            f" {', '.join(map(str, provider.expected_status))}"
        )
    return {"status": response.status_code, "headers": dict(response.headers), "body": body}


def _process(provider: ProcessProvider) -> dict[str, Any]:
    """Runs without a shell: a text of arguments is split as a shell would, never given to
    one, so a substituted value cannot run a second command."""
    arguments = (
        shlex.split(provider.arguments)
        if isinstance(provider.arguments, str)
        else list(provider.arguments)
    )
    completed = subprocess.run(  # the experiment's own command, no shell
        [provider.path, *arguments],
        capture_output=True,
        text=True,
        timeout=provider.timeout_s or DEFAULT_TIMEOUT_S,
        check=False,
    )
    return {"status": completed.returncode, "stdout": completed.stdout, "stderr": completed.stderr}


def _python(
    module: str,
    func: str,
    arguments: dict[str, Any],
    python_allowed: Collection[str],
    trusted: bool,
) -> Any:
    if not trusted and module not in python_allowed:
        raise PermissionError(
            f"python module {module!r} is not in the allow-list"
            f" ({', '.join(sorted(python_allowed)) or 'empty'}); add it to the allow-list,"
            " or run a trusted experiment with --trust"
        )
    function = getattr(importlib.import_module(module), func)
    return function(**arguments)
