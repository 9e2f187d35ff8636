"""Run a chaos experiment: execute what `core.chaos` hands out, report each outcome back, and
return the journal core writes. A minimal runner: http and process providers for real, python
providers only from an allow-list (or when the caller trusts the experiment), pauses and
timeouts; background activities run in threads beside the rest.

Not yet: hypothesis rounds during the method (`during-method-only`, `continuously` are
refused here, rather than silently skipped), the blast radius, the SLO guard and the TTL.
"""

from __future__ import annotations

import importlib
import json
import platform
import shlex
import subprocess
import time
from collections.abc import Callable, Collection
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import UTC, datetime
from typing import Any

import httpx

from srekit import __version__
from srekit.core.chaos import (
    Activity,
    ActivityOutcome,
    ActivityStatus,
    Experiment,
    HttpProvider,
    ProbeTolerance,
    ProcessProvider,
    RunState,
    Step,
    begin_next,
    interrupt,
    journal_of,
    record_outcome,
    start_run,
    thaw,
    wants_during,
)
from srekit.errors import SpecError

__all__ = ["DEFAULT_TIMEOUT_S", "execute_activity", "run_experiment"]

DEFAULT_TIMEOUT_S = 30.0  # an activity without a timeout still never hangs the run


def _now() -> datetime:
    return datetime.now(UTC)


def run_experiment(
    experiment: Experiment,
    *,
    python_allowed: Collection[str] = (),
    trusted: bool = False,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], datetime] = _now,
) -> dict[str, Any]:
    """Run `experiment` to its end and return its journal (Chaos Toolkit's keys).

    A python provider runs only when its module is in `python_allowed`, or when `trusted`:
    an experiment file must not be able to call any function of the machine it runs on.
    Ctrl-C interrupts the run; the rollbacks then follow their strategy.
    """
    if wants_during(experiment):
        raise SpecError(
            "hypothesis rounds during the method are not run yet; use default,"
            " before-method-only or after-method-only",
            field="runtime.hypothesis.strategy",
        )
    state = start_run(experiment, started_at=now())
    under_way: dict[Future[ActivityOutcome], Step] = {}
    with ThreadPoolExecutor(max_workers=max(1, len(experiment.method))) as pool:
        while not state.finished:
            try:
                state = _advance(
                    state,
                    under_way=under_way,
                    pool=pool,
                    python_allowed=python_allowed,
                    trusted=trusted,
                    sleep=sleep,
                    now=now,
                )
            except KeyboardInterrupt:
                state = interrupt(state)
    return journal_of(
        state,
        ended_at=now(),
        platform=platform.platform(),
        node=platform.node(),
        version=__version__,
    )


def _advance(
    state: RunState,
    *,
    under_way: dict[Future[ActivityOutcome], Step],
    pool: ThreadPoolExecutor,
    python_allowed: Collection[str],
    trusted: bool,
    sleep: Callable[[float], None],
    now: Callable[[], datetime],
) -> RunState:
    """Start the next activity, or wait for one under way in the background."""
    state, step = begin_next(state)
    if step is None:
        done, _ = wait(list(under_way), return_when=FIRST_COMPLETED)
        for future in done:
            state = record_outcome(state, under_way.pop(future), future.result())
        return state

    def run() -> ActivityOutcome:
        return execute_activity(
            step.activity, python_allowed=python_allowed, trusted=trusted, sleep=sleep, now=now
        )

    if step.activity.background:
        under_way[pool.submit(run)] = step
        return state
    return record_outcome(state, step, run())


def execute_activity(
    activity: Activity,
    *,
    python_allowed: Collection[str] = (),
    trusted: bool = False,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], datetime] = _now,
) -> ActivityOutcome:
    """Run one activity with its pauses; any failure is an outcome, never an exception."""
    if activity.pauses.before_s:
        sleep(activity.pauses.before_s)
    started_at = now()
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
    if activity.pauses.after_s:
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
    with httpx.Client(timeout=timeout, follow_redirects=False) as client:
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
            f" ({', '.join(sorted(python_allowed)) or 'empty'})"
        )
    function = getattr(importlib.import_module(module), func)
    return function(**arguments)
