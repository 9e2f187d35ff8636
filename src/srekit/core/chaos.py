"""Chaos experiments as Chaos Toolkit defines them, and how a run of one unfolds.

An experiment (`Experiment`) is a steady-state hypothesis (probes, each with a tolerance), a
method (actions and probes), rollbacks, and runtime strategies. This module holds the model,
the values a run substitutes (`${name}` from the configuration and secrets, as chaoslib does),
every tolerance kind (`tolerance_met`), and the run itself as a pure state machine
(`start_run`, `begin_next`, `record_outcome`, `record_during`, `interrupt`, `abort`,
`journal_of`): the runner executes what `begin_next` hands it and reports each outcome; this
module decides what comes next and what the journal says. No clock: every outcome carries its
own start and end.

The order of a run (the rules chaoslib follows, with srekit's safer rollback default):

1. steady state before (strategies default, before-method-only, continuously): probes run in
   order and stop at the first that fails or misses its tolerance; then the method is skipped
   and the run's status is `failed` (Chaos Toolkit leaves `completed` when the probes ran but
   a tolerance was missed; srekit counts a broken steady state as a failed run either way).
2. the method: every activity in order, background ones beside the rest; a failed activity
   does not stop the method (as in Chaos Toolkit). With a `during` strategy the runner reports
   whole hypothesis rounds (`record_during`); with `fail_fast` a failing share of rounds at or
   above `fail_fast_ratio` percent fails the run and stops the method.
3. steady state after (default, after-method-only, continuously), unless the run was
   interrupted or aborted: a missed tolerance marks the run `deviated`; a probe that failed
   outright also makes it `failed`.
4. rollbacks by strategy: `always` (srekit's default: every rollback runs, whatever happened,
   and one that fails does not stop the others), `default` (Chaos Toolkit's meaning: unless
   the run failed or was interrupted), `deviated` (only when it deviated), `never`.

An interruption stops starting new activities, lets those under way report, then goes to the
rollbacks (so with `always` they still run); an interruption during the rollbacks stops them.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
from collections import ChainMap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from srekit.core.jsonpath import JsonPath

__all__ = [
    "Activity",
    "ActivityOutcome",
    "ActivityRun",
    "ActivityStatus",
    "ActivityType",
    "DryMode",
    "ExactTolerance",
    "Experiment",
    "ExperimentError",
    "HttpProvider",
    "Hypothesis",
    "HypothesisResult",
    "HypothesisStrategy",
    "JsonPathTolerance",
    "ListTolerance",
    "Pauses",
    "Phase",
    "ProbeTolerance",
    "ProcessProvider",
    "Provider",
    "PythonProvider",
    "RangeTolerance",
    "RegexTolerance",
    "RollbackStrategy",
    "RunState",
    "RunStatus",
    "Runtime",
    "SloGuard",
    "SrekitExtension",
    "Step",
    "Tolerance",
    "abort",
    "activity_targets",
    "begin_next",
    "deviations_of",
    "exit_code",
    "freeze",
    "interrupt",
    "journal_of",
    "outside_blast_radius",
    "passed",
    "record_during",
    "record_outcome",
    "resolve_configuration",
    "resolve_secrets",
    "skipped_dry",
    "start_run",
    "substitute",
    "substitution_values",
    "thaw",
    "tolerance_met",
    "wants_during",
]


class ExperimentError(ValueError):
    """What is wrong with an experiment, and where (`field`: a dotted path into the file)."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.detail = message


def freeze(value: Any) -> Any:
    """A JSON-like value made immutable: mappings become read-only, lists become tuples."""
    if isinstance(value, Mapping):
        return MappingProxyType({key: freeze(item) for key, item in value.items()})
    if isinstance(value, list | tuple):
        return tuple(freeze(item) for item in value)
    return value


def thaw(value: Any) -> Any:
    """The inverse of `freeze`: plain dicts and lists, ready for `json.dumps`."""
    if isinstance(value, Mapping):
        return {key: thaw(item) for key, item in value.items()}
    if isinstance(value, tuple | list):
        return [thaw(item) for item in value]
    return value


# ---------------------------------------------------------------------------------------------
# configuration, secrets and ${name} substitution

# string.Template's placeholders, as chaoslib substitutes them: $$, $name, ${name}
_PLACEHOLDER = re.compile(
    r"\$(?:(?P<escaped>\$)|(?P<named>[_a-z][_a-z0-9]*)|\{(?P<braced>[_a-z][_a-z0-9]*)\})",
    re.IGNORECASE | re.ASCII,
)
_ENV_TYPES = ("str", "string", "int", "integer", "float", "number", "bool", "json")


def substitute(value: Any, values: Mapping[str, Any]) -> Any:
    """`value` with every `${name}` (and `$name`) replaced from `values`, recursively in lists
    and mappings; `$$` is a literal `$`. A text that is one placeholder alone takes the value's
    own type (`"${port}"` → 8080); inside longer text the value is written as text. A name
    that `values` lacks is left as written, as chaoslib leaves it."""
    if isinstance(value, str):
        whole = _PLACEHOLDER.fullmatch(value)
        if whole is not None and whole.group("escaped") is None:
            name = whole.group("named") or whole.group("braced")
            if name in values:
                return values[name]

        def replaced(match: re.Match[str]) -> str:
            if match.group("escaped") is not None:
                return "$"
            name = match.group("named") or match.group("braced")
            return str(values[name]) if name in values else match.group()

        return _PLACEHOLDER.sub(replaced, value)
    if isinstance(value, Mapping):
        return {key: substitute(item, values) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [substitute(item, values) for item in value]
    return value


def _env_value(text: str, kind: str | None, *, field_name: str) -> Any:
    """An environment variable's text converted as `env_var_type` asks."""
    try:
        if kind in (None, "str", "string"):
            return text
        if kind in ("int", "integer"):
            return int(text)
        if kind in ("float", "number"):
            number = float(text)
            if not math.isfinite(number):
                raise ValueError
            return number
        if kind == "bool":
            return text.lower() not in ("false", "0", "no")
        return json.loads(text, parse_constant=_refuse_constant)
    except ValueError:
        raise ExperimentError(
            f"expected the environment value to be a {kind}, got {text!r}", field=field_name
        ) from None


def _refuse_constant(name: str) -> Any:
    raise ValueError(name)


def resolve_configuration(
    entries: Mapping[str, Any],
    *,
    environ: Mapping[str, str],
    overrides: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The configuration's values, as chaoslib loads them.

    A value is used as written, unless it is `{type: env, key: NAME}` (optional `default`,
    `env_var_type`: str, int, float, bool or json): the environment variable's value. An
    override (`--var name=value`) replaces the entry, env reference or not. A missing
    variable without a default or an override is an ExperimentError naming the entry.
    """
    overrides = overrides or {}
    resolved: dict[str, Any] = {}
    for key, value in entries.items():
        where = f"configuration.{key}"
        if key in overrides:
            resolved[key] = overrides[key]
        elif isinstance(value, Mapping) and value.get("type") == "env":
            variable = value["key"]
            if variable in environ:
                resolved[key] = _env_value(
                    environ[variable], value.get("env_var_type"), field_name=where
                )
            elif "default" in value:
                resolved[key] = value["default"]
            else:
                raise ExperimentError(
                    f"the environment variable {variable} is not set and the entry has no"
                    " default (set it, add `default`, or pass --var)",
                    field=where,
                )
        else:
            resolved[key] = value
    for key, value in overrides.items():
        resolved.setdefault(key, value)
    return resolved


def resolve_secrets(
    scopes: Mapping[str, Mapping[str, Any]],
    *,
    environ: Mapping[str, str],
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, dict[str, Any]]:
    """The secrets' values by scope (`secrets: {scope: {name: value}}`), as chaoslib loads
    them: inline values, `{type: env, key: NAME}` (the variable must be set), and overrides
    per scope and name."""
    overrides = overrides or {}
    resolved: dict[str, dict[str, Any]] = {}
    for scope, entries in scopes.items():
        given = overrides.get(scope, {})
        values: dict[str, Any] = {}
        for name, value in entries.items():
            if name in given:
                values[name] = given[name]
            elif isinstance(value, Mapping) and value.get("type") == "env":
                variable = value["key"]
                if variable not in environ:
                    raise ExperimentError(
                        f"the environment variable {variable} is not set",
                        field=f"secrets.{scope}.{name}",
                    )
                values[name] = environ[variable]
            else:
                values[name] = value
        resolved[scope] = values
    return resolved


def substitution_values(
    configuration: Mapping[str, Any], secrets: Mapping[str, Mapping[str, Any]]
) -> Mapping[str, Any]:
    """What `${name}` may name: the configuration first, then every secret scope's names."""
    return ChainMap(dict(configuration), *(dict(scope) for scope in secrets.values()))


# ---------------------------------------------------------------------------------------------
# the experiment


class ActivityType(StrEnum):
    PROBE = "probe"
    ACTION = "action"


class RollbackStrategy(StrEnum):
    ALWAYS = "always"
    DEFAULT = "default"
    NEVER = "never"
    DEVIATED = "deviated"


class DryMode(StrEnum):
    """Chaos Toolkit's `--dry`: which activities a run walks through without calling their
    providers (each succeeds with no output, a skipped probe meets its tolerance); `pause`
    calls them all but skips every pause. Skipped activities skip their pauses too."""

    PROBES = "probes"
    ACTIONS = "actions"
    ACTIVITIES = "activities"
    PAUSE = "pause"


def skipped_dry(mode: DryMode | None, kind: ActivityType) -> bool:
    """Whether a dry run in `mode` skips an activity of `kind`, as chaoslib decides."""
    if mode is DryMode.ACTIVITIES:
        return True
    if mode is DryMode.PROBES:
        return kind is ActivityType.PROBE
    if mode is DryMode.ACTIONS:
        return kind is ActivityType.ACTION
    return False


class HypothesisStrategy(StrEnum):
    DEFAULT = "default"
    BEFORE_METHOD_ONLY = "before-method-only"
    AFTER_METHOD_ONLY = "after-method-only"
    DURING_METHOD_ONLY = "during-method-only"
    CONTINUOUSLY = "continuously"


_BEFORE = (
    HypothesisStrategy.DEFAULT,
    HypothesisStrategy.BEFORE_METHOD_ONLY,
    HypothesisStrategy.CONTINUOUSLY,
)
_AFTER = (
    HypothesisStrategy.DEFAULT,
    HypothesisStrategy.AFTER_METHOD_ONLY,
    HypothesisStrategy.CONTINUOUSLY,
)
_DURING = (HypothesisStrategy.DURING_METHOD_ONLY, HypothesisStrategy.CONTINUOUSLY)


@dataclass(frozen=True)
class HttpProvider:
    """Calls `url`; the output is `{status, headers, body}` (the body parsed when JSON)."""

    url: str
    method: str = "GET"
    headers: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    arguments: Any = None
    timeout_s: float | None = None
    expected_status: tuple[int, ...] = ()
    verify_tls: bool = True  # false: any certificate is taken (a staging host's own)
    max_retries: int = 0  # connections tried again when refused or unreachable


@dataclass(frozen=True)
class ProcessProvider:
    """Runs the executable `path`; the output is `{status, stdout, stderr}`."""

    path: str
    arguments: tuple[str, ...] | str = ()
    timeout_s: float | None = None


@dataclass(frozen=True)
class PythonProvider:
    """Calls `module.func(**arguments)`; the output is what it returns."""

    module: str
    func: str
    arguments: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


Provider = HttpProvider | ProcessProvider | PythonProvider


@dataclass(frozen=True)
class Pauses:
    """Seconds to wait before and after an activity."""

    before_s: float = 0.0
    after_s: float = 0.0


@dataclass(frozen=True)
class ExactTolerance:
    """A bool, an integer or a text the output must equal; an integer also matches the
    `status` of an HTTP or process output."""

    expected: bool | int | str


@dataclass(frozen=True)
class ListTolerance:
    """A list: an HTTP or process output's `status` must be in it; otherwise two numbers are
    an inclusive range `[lo, hi]` and anything else a list of allowed values."""

    values: tuple[Any, ...]


@dataclass(frozen=True)
class RangeTolerance:
    """`{type: range, range: [lo, hi], target}`: the number (or numeric text) is in [lo, hi]."""

    low: Decimal
    high: Decimal
    target: str | None = None


@dataclass(frozen=True)
class RegexTolerance:
    """`{type: regex, pattern, target}`: the pattern is found in the text."""

    pattern: str
    target: str | None = None


@dataclass(frozen=True)
class JsonPathTolerance:
    """`{type: jsonpath, path, expect, count, target}`: the path matches something; with
    `count`, exactly that many values; with `expect`, exactly those values (a value that is not
    a list means `[value]`)."""

    path: JsonPath
    target: str | None = None
    expect: Any = None
    has_expect: bool = False
    count: int | None = None


@dataclass(frozen=True)
class ProbeTolerance:
    """`{type: probe, ...}`: another probe judges the output (given as its `value` argument);
    the runner runs it and reports its verdict (`ActivityOutcome.tolerance_verdict`)."""

    probe: Activity


Tolerance = (
    ExactTolerance
    | ListTolerance
    | RangeTolerance
    | RegexTolerance
    | JsonPathTolerance
    | ProbeTolerance
)


@dataclass(frozen=True)
class Activity:
    """A probe or an action; `document` is the activity as written, which the journal shows."""

    type: ActivityType
    name: str
    provider: Provider
    tolerance: Tolerance | None = None
    pauses: Pauses = Pauses()
    background: bool = False
    document: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class Hypothesis:
    title: str
    probes: tuple[Activity, ...] = ()


@dataclass(frozen=True)
class Runtime:
    """`runtime:` of the experiment. `fail_fast_ratio` is a percentage of hypothesis rounds
    during the method (0: the first missed round stops the run)."""

    rollback_strategy: RollbackStrategy = RollbackStrategy.ALWAYS
    hypothesis_strategy: HypothesisStrategy = HypothesisStrategy.DEFAULT
    frequency_s: float = 1.0
    fail_fast: bool = False
    fail_fast_ratio: float = 0.0


@dataclass(frozen=True)
class SloGuard:
    """The SLOs (`service/name`) an experiment must not hurt: stop it when one has less
    budget remaining than `min_remaining` (a fraction) or burns faster than `max_burn_rate`
    over `burn_window` (`core.chaos_guard`); refuse to start it when one is already at the
    policy state `refuse_from` or a lower one."""

    slos: tuple[str, ...]
    min_remaining: float
    max_burn_rate: float | None = None
    burn_window: str = "5m"
    refuse_from: str = "feature_freeze"


@dataclass(frozen=True)
class SrekitExtension:
    """srekit's own settings (`extensions: [{name: srekit, ...}]`): the service the runs are
    stored under, the blast radius (the only targets an activity may touch), the SLO guard
    and the longest the run may last."""

    service: str | None = None
    allowed_targets: tuple[str, ...] = ()
    slo_guard: SloGuard | None = None
    ttl_s: int | None = None


@dataclass(frozen=True)
class Experiment:
    title: str
    description: str
    method: tuple[Activity, ...]
    hypothesis: Hypothesis | None = None
    rollbacks: tuple[Activity, ...] = ()
    tags: tuple[str, ...] = ()
    contributions: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    configuration: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    runtime: Runtime = Runtime()
    srekit: SrekitExtension = SrekitExtension()
    document: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def probes(self) -> tuple[Activity, ...]:
        """The steady-state probes (none without a hypothesis)."""
        return self.hypothesis.probes if self.hypothesis is not None else ()


# ---------------------------------------------------------------------------------------------
# the blast radius

# executables whose last argument names what they hit (a process, a pod), not a file to run
_SIGNALLERS = ("kill", "pkill", "killall", "kubectl")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def activity_targets(activity: Activity) -> tuple[str, ...]:
    """What an activity touches, as the blast radius names it: an http provider's URL; the
    URLs among a process's or python function's arguments; the last argument of `kill`,
    `pkill`, `killall` and `kubectl` (the process or pod they hit). A `{type: probe}`
    tolerance's judging probe counts too."""
    provider = activity.provider
    found: list[str] = []
    if isinstance(provider, HttpProvider):
        found.append(provider.url)
    elif isinstance(provider, ProcessProvider):
        arguments = (
            provider.arguments.split()
            if isinstance(provider.arguments, str)
            else list(provider.arguments)
        )
        found.extend(argument for argument in arguments if "://" in argument)
        executable = provider.path.rsplit("/", 1)[-1]
        if executable in _SIGNALLERS and arguments:
            found.append(arguments[-1])
    else:
        found.extend(_urls_in(thaw(provider.arguments)))
    if isinstance(activity.tolerance, ProbeTolerance):
        found.extend(activity_targets(activity.tolerance.probe))
    return tuple(dict.fromkeys(found))


def _urls_in(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value] if "://" in value else []
    if isinstance(value, dict):
        return [url for item in value.values() for url in _urls_in(item)]
    if isinstance(value, list):
        return [url for item in value for url in _urls_in(item)]
    return []


def _target_allowed(target: str, allowed: Sequence[str]) -> bool:
    """A URL is allowed by an entry that is a prefix of it (`http://host:8080/api`), its host,
    or its `host:port`; anything else (a process, a pod) by an entry equal to it."""
    if "://" not in target:
        return target in allowed
    try:
        parts = urlsplit(target)
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        return False  # not a URL one can reason about: never inside the radius
    host = parts.hostname or ""
    for entry in allowed:
        if "://" in entry:
            prefix = entry.rstrip("/")  # `http://a:1/api` allows `/api/x`, not `/apiary`
            if target.startswith(prefix) and target[len(prefix) : len(prefix) + 1] in "/?#":
                return True
        elif entry in (host, f"{host}:{port}"):
            return True
    return False


def outside_blast_radius(experiment: Experiment) -> tuple[tuple[str, str], ...]:
    """Every `(activity name, target)` the experiment would touch outside its declared blast
    radius (`extensions[srekit].blast_radius.allowed_targets`); empty when all are inside or
    when no radius is declared (the caller decides whether an undeclared radius may run)."""
    allowed = experiment.srekit.allowed_targets
    if not allowed:
        return ()
    activities = (*experiment.probes, *experiment.method, *experiment.rollbacks)
    outside = {
        (activity.name, target): None
        for activity in activities
        for target in activity_targets(activity)
        if not _target_allowed(target, allowed)
    }
    return tuple(outside)


# ---------------------------------------------------------------------------------------------
# tolerances


def _targeted(value: Any, target: str | None) -> Any:
    """The `target` member of an output (`body`, `stdout`), or the output itself."""
    if target and isinstance(value, Mapping):
        return value.get(target, value)
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _decimal(value: Any) -> Decimal | None:
    try:
        number = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return None
    return number if number.is_finite() else None


def tolerance_met(
    tolerance: Tolerance, output: Any, *, tolerance_verdict: bool | None = None
) -> bool:
    """Whether a probe's `output` is within `tolerance`, as chaoslib judges it.

    Where chaoslib would crash on a value of the wrong type (a regex on a number, a range on
    text that is not a number), the tolerance is simply not met. `tolerance_verdict` is the
    judging probe's answer for a `{type: probe}` tolerance; without it that tolerance is not
    met.
    """
    if isinstance(tolerance, ExactTolerance):
        expected = tolerance.expected
        status_code = isinstance(expected, int) and not isinstance(expected, bool)
        if status_code and isinstance(output, Mapping) and "status" in output:
            return bool(output["status"] == expected)
        return bool(output == tolerance.expected)
    if isinstance(tolerance, ListTolerance):
        values = tolerance.values
        if isinstance(output, Mapping) and "status" in output:
            return output["status"] in values
        if len(values) == 2 and all(map(_is_number, values)) and _is_number(output):
            return bool(values[0] <= output <= values[1])
        return output in values
    if isinstance(tolerance, RangeTolerance):
        number = _decimal(_targeted(output, tolerance.target))
        return number is not None and tolerance.low <= number <= tolerance.high
    if isinstance(tolerance, RegexTolerance):
        text = _targeted(output, tolerance.target)
        return isinstance(text, str) and re.search(tolerance.pattern, text) is not None
    if isinstance(tolerance, JsonPathTolerance):
        return _json_path_met(tolerance, output)
    return tolerance_verdict is True


def _json_path_met(tolerance: JsonPathTolerance, output: Any) -> bool:
    document = _targeted(output, tolerance.target)
    if isinstance(document, str):
        with contextlib.suppress(ValueError):
            document = json.loads(document)
    values = tolerance.path.find(document)
    met = len(values) > 0
    if tolerance.count is not None:
        met = len(values) == tolerance.count
    if tolerance.has_expect:
        expected = tolerance.expect
        met = values == (list(expected) if isinstance(expected, list | tuple) else [expected])
    return met


# ---------------------------------------------------------------------------------------------
# the run


class RunStatus(StrEnum):
    COMPLETED = "completed"
    FAILED = "failed"
    ABORTED = "aborted"
    INTERRUPTED = "interrupted"


class ActivityStatus(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Phase(StrEnum):
    BEFORE = "before"
    METHOD = "method"
    AFTER = "after"
    ROLLBACKS = "rollbacks"
    DONE = "done"


@dataclass(frozen=True)
class ActivityOutcome:
    """What the runner saw: `failed` when the provider raised, timed out or (HTTP) answered
    a status outside `expected_status`; `exception` says why."""

    status: ActivityStatus
    started_at: datetime
    ended_at: datetime
    output: Any = None
    exception: str | None = None
    tolerance_verdict: bool | None = None
    dry: bool = False  # skipped by a dry run: a probe's tolerance is not checked


@dataclass(frozen=True)
class ActivityRun:
    activity: Activity
    outcome: ActivityOutcome
    tolerance_met: bool | None = None


@dataclass(frozen=True)
class HypothesisResult:
    """One round of the steady-state probes; `steady_state_met` is None when it was cut short
    by an interruption."""

    probes: tuple[ActivityRun, ...]
    steady_state_met: bool | None


@dataclass(frozen=True)
class Step:
    """An activity for the runner to execute: the `index`-th of its phase."""

    phase: Phase
    index: int
    activity: Activity


@dataclass(frozen=True)
class RunState:
    """Where a run stands. Build it with `start_run`; every function returns a new one."""

    experiment: Experiment
    started_at: datetime
    phase: Phase
    next_index: int = 0
    pending: frozenset[int] = frozenset()
    status: RunStatus | None = None
    deviated: bool = False
    stopping: bool = False
    method_ran: bool = False
    probes: tuple[ActivityRun, ...] = ()
    before: HypothesisResult | None = None
    after: HypothesisResult | None = None
    during: tuple[HypothesisResult, ...] = ()
    runs: tuple[tuple[int, ActivityRun], ...] = ()
    rollbacks: tuple[tuple[int, ActivityRun], ...] = ()

    @property
    def finished(self) -> bool:
        return self.phase is Phase.DONE


def wants_during(experiment: Experiment) -> bool:
    """Whether the runner should run hypothesis rounds beside the method (`record_during`)."""
    return bool(experiment.probes) and experiment.runtime.hypothesis_strategy in _DURING


def start_run(experiment: Experiment, *, started_at: datetime) -> RunState:
    """A run about to begin: its first phase is the first that applies."""
    return _enter(RunState(experiment, started_at, Phase.BEFORE), Phase.BEFORE)


def _activities(state: RunState, phase: Phase) -> tuple[Activity, ...]:
    experiment = state.experiment
    if phase in (Phase.BEFORE, Phase.AFTER):
        return experiment.probes
    if phase is Phase.METHOD:
        return experiment.method
    if phase is Phase.ROLLBACKS:
        return experiment.rollbacks
    return ()


def _applies(state: RunState, phase: Phase) -> bool:
    strategy = state.experiment.runtime.hypothesis_strategy
    probes = bool(state.experiment.probes)
    if phase is Phase.BEFORE:
        return probes and strategy in _BEFORE
    if phase is Phase.METHOD:
        return state.status is None
    if phase is Phase.AFTER:
        return (
            probes
            and strategy in _AFTER
            and state.method_ran
            and state.status not in (RunStatus.INTERRUPTED, RunStatus.ABORTED)
        )
    if phase is Phase.ROLLBACKS:
        return bool(state.experiment.rollbacks) and _plays_rollbacks(state)
    return True


def _plays_rollbacks(state: RunState) -> bool:
    rollback = state.experiment.runtime.rollback_strategy
    if rollback is RollbackStrategy.ALWAYS:
        return True
    if rollback is RollbackStrategy.DEFAULT:
        return state.status not in (RunStatus.FAILED, RunStatus.INTERRUPTED)
    if rollback is RollbackStrategy.DEVIATED:
        return state.deviated
    return False


_ORDER = (Phase.BEFORE, Phase.METHOD, Phase.AFTER, Phase.ROLLBACKS, Phase.DONE)


def _enter(state: RunState, phase: Phase) -> RunState:
    """Move to `phase`, or past it and the next ones while they do not apply."""
    for candidate in _ORDER[_ORDER.index(phase) :]:
        if candidate is Phase.METHOD and not state.experiment.method and _applies(state, candidate):
            state = replace(state, method_ran=True)  # an empty method: only the hypothesis
            continue
        if _applies(state, candidate):
            return replace(
                state,
                phase=candidate,
                next_index=0,
                pending=frozenset(),
                stopping=False,
                probes=(),
                method_ran=state.method_ran or candidate is Phase.METHOD,
            )
    raise AssertionError("unreachable: DONE always applies")  # pragma: no cover


def _next_phase(phase: Phase) -> Phase:
    return _ORDER[_ORDER.index(phase) + 1]


def begin_next(state: RunState) -> tuple[RunState, Step | None]:
    """The next activity to start, marked as under way; None when there is none to start now
    (the run is done, the phase waits for outcomes under way, or it is stopping).

    Hypothesis probes run one at a time. In the method and the rollbacks a background
    activity may be under way while the next starts; a foreground one must report first.
    """
    activities = _activities(state, state.phase)
    if state.phase is Phase.DONE or state.stopping or state.next_index >= len(activities):
        return state, None
    hypothesis = state.phase in (Phase.BEFORE, Phase.AFTER)
    activity_by_index = dict(enumerate(activities))
    if any(hypothesis or not activity_by_index[index].background for index in state.pending):
        return state, None
    index = state.next_index
    step = Step(state.phase, index, activities[index])
    return replace(state, next_index=index + 1, pending=state.pending | {index}), step


def record_outcome(state: RunState, step: Step, outcome: ActivityOutcome) -> RunState:
    """Record what the runner saw of `step`, and move on when its phase is over."""
    if step.phase is not state.phase or step.index not in state.pending:
        raise ValueError(f"{step.phase} activity #{step.index} is not under way")
    state = replace(state, pending=state.pending - {step.index})
    if step.phase in (Phase.BEFORE, Phase.AFTER):
        return _record_probe(state, step.activity, outcome)
    run = ActivityRun(step.activity, outcome)
    if step.phase is Phase.METHOD:
        state = replace(state, runs=(*state.runs, (step.index, run)))
    else:
        state = replace(state, rollbacks=(*state.rollbacks, (step.index, run)))
    return _maybe_phase_over(state)


def _maybe_phase_over(state: RunState) -> RunState:
    activities = _activities(state, state.phase)
    if state.pending or (state.next_index < len(activities) and not state.stopping):
        return state
    return _enter(state, _next_phase(state.phase))


def _judged(activity: Activity, outcome: ActivityOutcome) -> ActivityRun:
    if outcome.dry:  # as chaoslib: a dry probe's tolerance is taken as met
        return ActivityRun(activity, outcome, tolerance_met=True)
    if outcome.status is ActivityStatus.FAILED or activity.tolerance is None:
        return ActivityRun(activity, outcome, tolerance_met=False)
    met = tolerance_met(
        activity.tolerance, outcome.output, tolerance_verdict=outcome.tolerance_verdict
    )
    return ActivityRun(activity, outcome, tolerance_met=met)


def _record_probe(state: RunState, activity: Activity, outcome: ActivityOutcome) -> RunState:
    run = _judged(activity, outcome)
    probes = (*state.probes, run)
    state = replace(state, probes=probes)
    if state.stopping:  # interrupted while this probe ran: the round is cut short
        return _end_hypothesis(state, HypothesisResult(probes, steady_state_met=None))
    if not run.tolerance_met:
        return _end_hypothesis(state, HypothesisResult(probes, steady_state_met=False))
    if state.next_index >= len(state.experiment.probes):
        return _end_hypothesis(state, HypothesisResult(probes, steady_state_met=True))
    return state


def _end_hypothesis(state: RunState, result: HypothesisResult) -> RunState:
    probe_failed = any(run.outcome.status is ActivityStatus.FAILED for run in result.probes)
    if state.phase is Phase.BEFORE:
        state = replace(state, before=result)
        if result.steady_state_met is False:
            state = replace(state, status=RunStatus.FAILED)
    else:
        state = replace(state, after=result)
        if result.steady_state_met is False:
            state = replace(state, deviated=True)
            if probe_failed:
                state = replace(state, status=RunStatus.FAILED)
    return _enter(state, _next_phase(state.phase))


def record_during(state: RunState, outcomes: Sequence[ActivityOutcome]) -> RunState:
    """One round of the hypothesis run beside the method: the outcomes of its probes in
    order, up to the first that fails or misses its tolerance (the runner stops there too).

    With `fail_fast`, when the share of missed rounds so far reaches `fail_fast_ratio`
    percent, the run fails and the method starts nothing more.
    """
    if state.phase is not Phase.METHOD or not wants_during(state.experiment):
        raise ValueError("no hypothesis runs during the method now")
    probes = state.experiment.probes
    if not 0 < len(outcomes) <= len(probes):
        raise ValueError(f"expected between 1 and {len(probes)} probe outcomes")
    runs: list[ActivityRun] = []
    met: bool | None = True
    for activity, outcome in zip(probes, outcomes, strict=False):
        runs.append(_judged(activity, outcome))
        if not runs[-1].tolerance_met:
            met = False
            break
    if len(runs) < len(outcomes):
        raise ValueError("outcomes reported after a probe that missed its tolerance")
    if met and len(runs) < len(probes):
        met = None  # the round was cut short
    during = (*state.during, HypothesisResult(tuple(runs), steady_state_met=met))
    state = replace(state, during=during)
    runtime = state.experiment.runtime
    missed = sum(1 for result in during if result.steady_state_met is False)
    if runtime.fail_fast and missed and missed * 100 / len(during) >= runtime.fail_fast_ratio:
        state = replace(state, status=RunStatus.FAILED, stopping=True)
        return _maybe_phase_over(state)
    return state


def interrupt(state: RunState) -> RunState:
    """The run was told to stop (a signal, the SLO guard, the TTL): start nothing more in this
    phase; the rollbacks follow by strategy. During the rollbacks, they stop too."""
    return _stop(state, RunStatus.INTERRUPTED)


def abort(state: RunState) -> RunState:
    """The runner met an unexpected error it cannot attribute to one activity: like an
    interruption, but the status is `aborted` (Chaos Toolkit's default strategy still rolls
    back an aborted run)."""
    return _stop(state, RunStatus.ABORTED)


def _stop(state: RunState, status: RunStatus) -> RunState:
    if state.phase is Phase.DONE:
        return state
    state = replace(state, status=status, stopping=True)
    if state.pending:
        return state
    if state.phase in (Phase.BEFORE, Phase.AFTER) and state.probes:
        return _end_hypothesis(state, HypothesisResult(state.probes, steady_state_met=None))
    if state.phase is Phase.ROLLBACKS:
        return replace(state, phase=Phase.DONE)
    return _enter(state, _next_phase(state.phase))


def exit_code(status: RunStatus, *, deviated: bool) -> int:
    """0 for a completed run whose steady state held; 1 when it failed, deviated, or was
    aborted or interrupted."""
    return 0 if status is RunStatus.COMPLETED and not deviated else 1


# ---------------------------------------------------------------------------------------------
# the journal


def _instant(moment: datetime) -> str:
    """RFC 3339 in UTC with microseconds, as chaoslib writes its times."""
    return moment.astimezone(UTC).isoformat()


def _run_document(run: ActivityRun, *, with_tolerance: bool) -> dict[str, Any]:
    outcome = run.outcome
    document: dict[str, Any] = {
        "activity": thaw(run.activity.document),
        "output": thaw(outcome.output),
        "status": str(outcome.status),
        "start": _instant(outcome.started_at),
        "end": _instant(outcome.ended_at),
        "duration": (outcome.ended_at - outcome.started_at).total_seconds(),
    }
    if outcome.exception is not None:
        document["exception"] = [outcome.exception]
    if with_tolerance:
        document["tolerance_met"] = run.tolerance_met
    return document


def _hypothesis_document(result: HypothesisResult | None) -> dict[str, Any] | None:
    if result is None:
        return None
    return {
        "steady_state_met": result.steady_state_met,
        "probes": [_run_document(run, with_tolerance=True) for run in result.probes],
    }


def journal_of(
    state: RunState, *, ended_at: datetime, platform: str, node: str, version: str
) -> dict[str, Any]:
    """The run's journal, keyed as Chaos Toolkit writes it (`srekit-version` where chaoslib
    writes `chaoslib-version`); JSON-ready. The run must be finished."""
    if not state.finished:
        raise ValueError("the run is not finished")
    status = state.status or RunStatus.COMPLETED
    return {
        "srekit-version": version,
        "platform": platform,
        "node": node,
        "experiment": thaw(state.experiment.document),
        "start": _instant(state.started_at),
        "end": _instant(ended_at),
        "duration": (ended_at - state.started_at).total_seconds(),
        "status": str(status),
        "deviated": state.deviated,
        "steady_states": {
            "before": _hypothesis_document(state.before),
            "after": _hypothesis_document(state.after),
            "during": [_hypothesis_document(result) for result in state.during],
        },
        "run": _runs_document(state.runs),
        "rollbacks": _runs_document(state.rollbacks),
    }


def _runs_document(runs: tuple[tuple[int, ActivityRun], ...]) -> list[dict[str, Any]]:
    """Runs in the order the experiment declares them (background ones may report later)."""
    return [_run_document(run, with_tolerance=False) for _, run in sorted(runs, key=lambda i: i[0])]


def deviations_of(journal: Mapping[str, Any]) -> tuple[str, ...]:
    """The probes that missed their tolerance in a journal's hypothesis rounds during and
    after the method, as `during[round]: name` and `after: name`, in the order they ran (the
    steady state before the method is a precondition, not a deviation)."""
    states = journal.get("steady_states") or {}
    found: list[str] = []
    for number, result in enumerate(states.get("during") or ()):
        found.extend(f"during[{number}]: {name}" for name in _missed(result))
    found.extend(f"after: {name}" for name in _missed(states.get("after")))
    return tuple(found)


def _missed(result: Mapping[str, Any] | None) -> list[str]:
    if not result:
        return []
    return [
        str(probe["activity"].get("name", "?"))
        for probe in result.get("probes") or ()
        if probe.get("tolerance_met") is False
    ]


def passed(journal: Mapping[str, Any]) -> bool:
    """A run that completed with its steady state held: what readiness may count."""
    return journal.get("status") == RunStatus.COMPLETED and journal.get("deviated") is False
