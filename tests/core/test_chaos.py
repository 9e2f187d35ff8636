"""Chaos experiments: substitution, configuration, every tolerance kind, and the run's state
machine driven by hand-built outcomes for every strategy."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from srekit.core.chaos import (
    Activity,
    ActivityOutcome,
    ActivityStatus,
    ActivityType,
    DryMode,
    ExactTolerance,
    Experiment,
    ExperimentError,
    HttpProvider,
    Hypothesis,
    HypothesisStrategy,
    JsonPathTolerance,
    ListTolerance,
    Phase,
    ProbeTolerance,
    RangeTolerance,
    RegexTolerance,
    RollbackStrategy,
    RunState,
    RunStatus,
    Runtime,
    Step,
    Tolerance,
    abort,
    begin_next,
    exit_code,
    freeze,
    interrupt,
    journal_of,
    record_during,
    record_outcome,
    resolve_configuration,
    resolve_secrets,
    skipped_dry,
    start_run,
    substitute,
    substitution_values,
    thaw,
    tolerance_met,
    wants_during,
)
from srekit.core.jsonpath import compile_json_path

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


# --------------------------------------------------------------------------- substitution


def test_substitute_keeps_types_of_whole_placeholders_and_writes_text_inside_text() -> None:
    values = {"port": 8080, "host": "127.0.0.1", "flags": [1, 2]}
    assert substitute("${port}", values) == 8080
    assert substitute("$port", values) == 8080
    assert substitute("http://${host}:${port}/x", values) == "http://127.0.0.1:8080/x"
    assert substitute("${flags}", values) == [1, 2]
    assert substitute("$$port costs $$5", values) == "$port costs $5"
    assert substitute("$$", values) == "$"
    assert substitute("${missing} and $missing", values) == "${missing} and $missing"
    assert substitute("${missing}", values) == "${missing}"
    assert substitute({"a": ["${port}", {"b": "$host"}], "n": 3}, values) == {
        "a": [8080, {"b": "127.0.0.1"}],
        "n": 3,
    }
    assert substitute(("${port}",), values) == [8080]


def test_substitution_values_look_in_configuration_then_secret_scopes() -> None:
    values = substitution_values({"a": 1}, {"scope": {"a": 2, "token": "s3cr3t"}})
    assert values["a"] == 1
    assert values["token"] == "s3cr3t"


def test_configuration_reads_env_defaults_types_and_overrides() -> None:
    entries = {
        "plain": "value",
        "host": {"type": "env", "key": "HOST"},
        "port": {"type": "env", "key": "PORT", "env_var_type": "int"},
        "ratio": {"type": "env", "key": "RATIO", "env_var_type": "float"},
        "on": {"type": "env", "key": "ON", "env_var_type": "bool"},
        "off": {"type": "env", "key": "OFF", "env_var_type": "bool"},
        "doc": {"type": "env", "key": "DOC", "env_var_type": "json"},
        "fallback": {"type": "env", "key": "UNSET", "default": "dflt"},
        "replaced": {"type": "env", "key": "UNSET"},
        "other": {"type": "something", "x": 1},
    }
    environ = {"HOST": "h", "PORT": "81", "RATIO": "0.5", "ON": "yes", "OFF": "no", "DOC": "[1]"}
    resolved = resolve_configuration(
        entries, environ=environ, overrides={"replaced": "r", "extra": 5}
    )
    assert resolved == {
        "plain": "value",
        "host": "h",
        "port": 81,
        "ratio": 0.5,
        "on": True,
        "off": False,
        "doc": [1],
        "fallback": "dflt",
        "replaced": "r",
        "other": {"type": "something", "x": 1},
        "extra": 5,
    }


@pytest.mark.parametrize(
    ("kind", "text"),
    [("int", "eight"), ("float", "nan"), ("float", "1e309"), ("json", "NaN"), ("json", "{")],
)
def test_configuration_refuses_env_values_of_the_wrong_type(kind: str, text: str) -> None:
    with pytest.raises(ExperimentError, match=f"to be a {kind}") as raised:
        resolve_configuration(
            {"v": {"type": "env", "key": "V", "env_var_type": kind}}, environ={"V": text}
        )
    assert raised.value.field == "configuration.v"


def test_configuration_names_a_missing_variable() -> None:
    with pytest.raises(ExperimentError, match="TOKEN is not set") as raised:
        resolve_configuration({"token": {"type": "env", "key": "TOKEN"}}, environ={})
    assert raised.value.field == "configuration.token"


def test_secrets_read_inline_env_and_overrides_per_scope() -> None:
    scopes = {"api": {"token": {"type": "env", "key": "TOKEN"}, "user": "u", "pw": "x"}}
    resolved = resolve_secrets(scopes, environ={"TOKEN": "t"}, overrides={"api": {"pw": "y"}})
    assert resolved == {"api": {"token": "t", "user": "u", "pw": "y"}}
    with pytest.raises(ExperimentError, match="TOKEN is not set") as raised:
        resolve_secrets(scopes, environ={})
    assert raised.value.field == "secrets.api.token"


def test_freeze_and_thaw_round_trip() -> None:
    value = {"a": [1, {"b": (2, 3)}]}
    frozen = freeze(value)
    with pytest.raises(TypeError):
        frozen["a"] = 1
    assert frozen["a"][1]["b"] == (2, 3)
    assert thaw(frozen) == {"a": [1, {"b": [2, 3]}]}


# --------------------------------------------------------------------------- tolerances

HTTP_OUTPUT = {"status": 200, "headers": {}, "body": '{"health": {"ok": true}, "n": 3}'}
PROCESS_OUTPUT = {"status": 0, "stdout": "ready: 12 workers\n", "stderr": ""}


def _path(text: str, **options: Any) -> JsonPathTolerance:
    return JsonPathTolerance(compile_json_path(text), **options)


@pytest.mark.parametrize(
    ("tolerance", "output", "met"),
    [
        (ExactTolerance(True), True, True),
        (ExactTolerance(True), False, False),
        (ExactTolerance(200), HTTP_OUTPUT, True),
        (ExactTolerance(503), HTTP_OUTPUT, False),
        (ExactTolerance(0), PROCESS_OUTPUT, True),
        (ExactTolerance(3), 3, True),
        (ExactTolerance("up"), "up", True),
        (ExactTolerance("up"), "down", False),
        (ExactTolerance(True), {"status": True}, False),  # only an integer reads `status`
        (ListTolerance((200, 201)), HTTP_OUTPUT, True),  # statuses, not a range
        (ListTolerance((201, 299)), HTTP_OUTPUT, False),
        (ListTolerance((1, 10)), 5, True),  # two numbers: a range
        (ListTolerance((1, 10)), 10.0, True),
        (ListTolerance((1, 10)), 11, False),
        (ListTolerance((1, 10)), "5", False),
        (ListTolerance(("a", "z")), "m", False),  # two texts: allowed values, not a range
        (ListTolerance(("a", "z")), "z", True),
        (ListTolerance((1, 2, 3)), 2, True),
        (ListTolerance((1, 2, 3)), 4, False),
        (RangeTolerance(Decimal(1), Decimal(10)), 10, True),
        (RangeTolerance(Decimal(1), Decimal(10)), "2.5", True),
        (RangeTolerance(Decimal(1), Decimal(10)), 0.5, False),
        (RangeTolerance(Decimal(1), Decimal(10)), "many", False),
        (RangeTolerance(Decimal(1), Decimal(10)), float("nan"), False),
        (RangeTolerance(Decimal(1), Decimal(10)), [1], False),
        (RangeTolerance(Decimal(1), Decimal(10)), None, False),
        (RangeTolerance(Decimal(0), Decimal(0), target="status"), PROCESS_OUTPUT, True),
        (RegexTolerance(r"ready: \d+", target="stdout"), PROCESS_OUTPUT, True),
        (RegexTolerance(r"^down", target="stdout"), PROCESS_OUTPUT, False),
        (RegexTolerance(r"\d"), 3, False),  # not text
        (RegexTolerance(r"ok"), "all ok", True),
        (_path("$.health.ok", target="body"), HTTP_OUTPUT, True),
        (_path("$.health.gone", target="body"), HTTP_OUTPUT, False),
        (_path("$.health.ok", target="body", expect=True, has_expect=True), HTTP_OUTPUT, True),
        (_path("$.n", target="body", expect=(3,), has_expect=True), HTTP_OUTPUT, True),
        (_path("$.n", target="body", expect=4, has_expect=True), HTTP_OUTPUT, False),
        (_path("$.*", target="body", count=2), HTTP_OUTPUT, True),
        (_path("$.*", target="body", count=1), HTTP_OUTPUT, False),
        (_path("$.a"), {"a": None}, True),
        (_path("$.a"), "not json", False),
        (_path("$.a", expect=None, has_expect=True), {"a": None}, True),
    ],
)
def test_tolerance_kinds(tolerance: Tolerance, output: Any, met: bool) -> None:
    assert tolerance_met(tolerance, output) is met


def test_probe_tolerance_takes_the_judging_probes_verdict() -> None:
    judge = ProbeTolerance(_activity("judge"))
    assert tolerance_met(judge, 1, tolerance_verdict=True) is True
    assert tolerance_met(judge, 1, tolerance_verdict=False) is False
    assert tolerance_met(judge, 1) is False


# --------------------------------------------------------------------------- the run


def _activity(
    name: str,
    *,
    kind: ActivityType = ActivityType.PROBE,
    tolerance: Tolerance | None = None,
    background: bool = False,
) -> Activity:
    return Activity(
        kind,
        name,
        HttpProvider(url=f"http://127.0.0.1:1/{name}"),
        tolerance=tolerance,
        background=background,
        document=freeze({"type": str(kind), "name": name}),
    )


def _probe(name: str) -> Activity:
    return _activity(name, tolerance=ExactTolerance(200))


def _experiment(
    *,
    probes: tuple[str, ...] = ("p1", "p2"),
    method: tuple[Activity, ...] = (),
    rollbacks: tuple[str, ...] = ("r1", "r2"),
    runtime: Runtime | None = None,
) -> Experiment:
    return Experiment(
        title="t",
        description="d",
        method=method or (_activity("a1", kind=ActivityType.ACTION), _activity("m2")),
        hypothesis=Hypothesis("steady", tuple(_probe(name) for name in probes)),
        rollbacks=tuple(_activity(name, kind=ActivityType.ACTION) for name in rollbacks),
        runtime=runtime or Runtime(),
        document=freeze({"title": "t"}),
    )


def _ok(output: Any = None, *, at: int = 0) -> ActivityOutcome:
    return ActivityOutcome(
        ActivityStatus.SUCCEEDED,
        T0 + timedelta(seconds=at),
        T0 + timedelta(seconds=at, milliseconds=250),
        output={"status": 200} if output is None else output,
    )


def _failed(at: int = 0) -> ActivityOutcome:
    return ActivityOutcome(
        ActivityStatus.FAILED,
        T0 + timedelta(seconds=at),
        T0 + timedelta(seconds=at + 1),
        exception="connection refused",
    )


Decide = Callable[[RunState, Step], ActivityOutcome]


def _drive(state: RunState, decide: Decide | None = None) -> tuple[RunState, list[str]]:
    """Run every step in order, each outcome from `decide` (default: succeeded, 200)."""
    seen: list[str] = []
    while not state.finished:
        state, step = begin_next(state)
        assert step is not None
        seen.append(f"{step.phase}:{step.activity.name}")
        outcome = decide(state, step) if decide else _ok()
        state = record_outcome(state, step, outcome)
    return state, seen


def _bad_probe(name: str, outcome: ActivityOutcome, phase: Phase | None = None) -> Decide:
    def decide(state: RunState, step: Step) -> ActivityOutcome:
        if step.activity.name == name and (phase is None or step.phase is phase):
            return outcome
        return _ok()

    return decide


EVERYTHING = [
    "before:p1",
    "before:p2",
    "method:a1",
    "method:m2",
    "after:p1",
    "after:p2",
    "rollbacks:r1",
    "rollbacks:r2",
]


def test_a_clean_run_does_everything_in_order_and_exits_zero() -> None:
    state, seen = _drive(start_run(_experiment(), started_at=T0))
    assert seen == EVERYTHING
    assert state.status is None
    assert not state.deviated
    assert state.before is not None
    assert state.before.steady_state_met is True
    assert state.after is not None
    assert state.after.steady_state_met is True
    journal = journal_of(
        state, ended_at=T0 + timedelta(seconds=90), platform="Linux", node="n", version="0.1.0"
    )
    assert journal["status"] == "completed"
    assert journal["duration"] == 90.0
    assert journal["srekit-version"] == "0.1.0"
    assert journal["start"] == "2026-12-01T10:00:00+00:00"
    assert journal["experiment"] == {"title": "t"}
    assert [run["activity"]["name"] for run in journal["run"]] == ["a1", "m2"]
    assert journal["run"][0] == {
        "activity": {"type": "action", "name": "a1"},
        "output": {"status": 200},
        "status": "succeeded",
        "start": "2026-12-01T10:00:00+00:00",
        "end": "2026-12-01T10:00:00.250000+00:00",
        "duration": 0.25,
    }
    assert journal["steady_states"]["before"]["probes"][0]["tolerance_met"] is True
    assert journal["steady_states"]["during"] == []
    assert [run["activity"]["name"] for run in journal["rollbacks"]] == ["r1", "r2"]
    assert exit_code(RunStatus(journal["status"]), deviated=journal["deviated"]) == 0


@pytest.mark.parametrize(
    ("outcome", "probe_status"),
    [(_ok({"status": 503}), "succeeded"), (_failed(), "failed")],
)
def test_steady_state_not_met_before_skips_the_method_and_fails(
    outcome: ActivityOutcome, probe_status: str
) -> None:
    state, seen = _drive(start_run(_experiment(), started_at=T0), _bad_probe("p1", outcome))
    assert seen == ["before:p1", "rollbacks:r1", "rollbacks:r2"]  # srekit: always roll back
    journal = journal_of(state, ended_at=T0, platform="p", node="n", version="v")
    assert journal["status"] == "failed"
    assert journal["deviated"] is False
    before = journal["steady_states"]["before"]
    assert before["steady_state_met"] is False
    assert before["probes"][0]["status"] == probe_status
    assert before["probes"][0]["tolerance_met"] is False
    assert journal["run"] == []
    assert journal["steady_states"]["after"] is None
    assert exit_code(RunStatus.FAILED, deviated=False) == 1


def test_failed_probe_records_its_exception() -> None:
    state, _ = _drive(start_run(_experiment(), started_at=T0), _bad_probe("p2", _failed(5)))
    journal = journal_of(state, ended_at=T0, platform="p", node="n", version="v")
    probe = journal["steady_states"]["before"]["probes"][1]
    assert probe["exception"] == ["connection refused"]
    assert probe["duration"] == 1.0


def test_a_missed_tolerance_after_the_method_deviates() -> None:
    decide = _bad_probe("p2", _ok({"status": 500}), phase=Phase.AFTER)
    state, seen = _drive(start_run(_experiment(), started_at=T0), decide)
    assert seen == EVERYTHING
    assert state.deviated
    assert state.status is None  # completed, deviated
    assert state.after is not None
    assert state.after.steady_state_met is False
    assert exit_code(RunStatus.COMPLETED, deviated=True) == 1


def test_a_failed_probe_after_the_method_deviates_and_fails() -> None:
    decide = _bad_probe("p1", _failed(), phase=Phase.AFTER)
    state, seen = _drive(start_run(_experiment(), started_at=T0), decide)
    assert seen == [*EVERYTHING[:5], "rollbacks:r1", "rollbacks:r2"]
    assert state.deviated
    assert state.status is RunStatus.FAILED


def test_a_failed_method_activity_does_not_stop_the_method() -> None:
    state, seen = _drive(start_run(_experiment(), started_at=T0), _bad_probe("a1", _failed()))
    assert seen == EVERYTHING
    assert state.status is None
    journal = journal_of(state, ended_at=T0, platform="p", node="n", version="v")
    assert journal["run"][0]["status"] == "failed"
    assert "tolerance_met" not in journal["run"][0]


def test_a_failed_rollback_does_not_stop_the_others() -> None:
    state, seen = _drive(start_run(_experiment(), started_at=T0), _bad_probe("r1", _failed()))
    assert seen == EVERYTHING
    journal = journal_of(state, ended_at=T0, platform="p", node="n", version="v")
    assert [run["status"] for run in journal["rollbacks"]] == ["failed", "succeeded"]


# (strategy, what happened) → whether the rollbacks ran
@pytest.mark.parametrize(
    ("strategy", "case", "played"),
    [
        (RollbackStrategy.ALWAYS, "clean", True),
        (RollbackStrategy.ALWAYS, "before-failed", True),
        (RollbackStrategy.ALWAYS, "deviated", True),
        (RollbackStrategy.NEVER, "clean", False),
        (RollbackStrategy.NEVER, "deviated", False),
        (RollbackStrategy.DEFAULT, "clean", True),
        (RollbackStrategy.DEFAULT, "deviated", True),
        (RollbackStrategy.DEFAULT, "before-failed", False),
        (RollbackStrategy.DEVIATED, "clean", False),
        (RollbackStrategy.DEVIATED, "before-failed", False),
        (RollbackStrategy.DEVIATED, "deviated", True),
    ],
)
def test_rollback_strategies(strategy: RollbackStrategy, case: str, played: bool) -> None:
    decide = {
        "clean": None,
        "before-failed": _bad_probe("p1", _ok({"status": 500}), phase=Phase.BEFORE),
        "deviated": _bad_probe("p1", _ok({"status": 500}), phase=Phase.AFTER),
    }[case]
    experiment = _experiment(runtime=Runtime(rollback_strategy=strategy))
    _, seen = _drive(start_run(experiment, started_at=T0), decide)
    assert ("rollbacks:r1" in seen) is played


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [
        (HypothesisStrategy.DEFAULT, EVERYTHING),
        (
            HypothesisStrategy.BEFORE_METHOD_ONLY,
            [name for name in EVERYTHING if not name.startswith("after")],
        ),
        (
            HypothesisStrategy.AFTER_METHOD_ONLY,
            [name for name in EVERYTHING if not name.startswith("before")],
        ),
        (
            HypothesisStrategy.DURING_METHOD_ONLY,
            ["method:a1", "method:m2", "rollbacks:r1", "rollbacks:r2"],
        ),
        (HypothesisStrategy.CONTINUOUSLY, EVERYTHING),
    ],
)
def test_hypothesis_strategies(strategy: HypothesisStrategy, expected: list[str]) -> None:
    experiment = _experiment(runtime=Runtime(hypothesis_strategy=strategy))
    _, seen = _drive(start_run(experiment, started_at=T0))
    assert seen == expected
    assert wants_during(experiment) is (
        strategy in (HypothesisStrategy.DURING_METHOD_ONLY, HypothesisStrategy.CONTINUOUSLY)
    )


def test_no_probes_means_no_hypothesis_and_no_rollbacks_means_done() -> None:
    experiment = _experiment(probes=(), rollbacks=())
    _, seen = _drive(start_run(experiment, started_at=T0))
    assert seen == ["method:a1", "method:m2"]
    assert not wants_during(experiment)
    empty = replace(experiment, hypothesis=None, method=())
    assert empty.probes == ()
    state = start_run(empty, started_at=T0)
    assert state.finished
    assert begin_next(state) == (state, None)
    # an empty method only checks the steady state, before and after
    _, seen = _drive(start_run(replace(_experiment(rollbacks=()), method=()), started_at=T0))
    assert seen == ["before:p1", "before:p2", "after:p1", "after:p2"]


def _during_experiment(**runtime: Any) -> Experiment:
    options = {"hypothesis_strategy": HypothesisStrategy.DURING_METHOD_ONLY, **runtime}
    return _experiment(runtime=Runtime(**options))


def test_during_rounds_are_journaled_and_without_fail_fast_do_not_stop() -> None:
    state = start_run(_during_experiment(), started_at=T0)
    state = record_during(state, [_ok(), _ok()])
    state = record_during(state, [_ok({"status": 500})])
    state, seen = _drive(state)
    assert seen == ["method:a1", "method:m2", "rollbacks:r1", "rollbacks:r2"]
    assert [result.steady_state_met for result in state.during] == [True, False]
    assert state.status is None
    journal = journal_of(state, ended_at=T0, platform="p", node="n", version="v")
    assert len(journal["steady_states"]["during"]) == 2
    assert journal["steady_states"]["during"][1]["probes"][0]["tolerance_met"] is False


def test_a_round_cut_short_is_neither_met_nor_missed() -> None:
    state = record_during(start_run(_during_experiment(), started_at=T0), [_ok()])
    assert state.during[0].steady_state_met is None


@pytest.mark.parametrize(
    ("ratio", "rounds", "stopped_after"),
    [
        (0.0, [True, False], 2),  # the first missed round stops
        (50.0, [True, True, False, False], 4),  # 1/3 < 50 %, 2/4 = 50 %
        (100.0, [False], 1),
    ],
)
def test_fail_fast_stops_the_method_when_the_missed_share_reaches_the_ratio(
    ratio: float, rounds: list[bool], stopped_after: int
) -> None:
    experiment = _during_experiment(fail_fast=True, fail_fast_ratio=ratio)
    state = start_run(experiment, started_at=T0)
    state, step = begin_next(state)  # a1 is under way
    assert step is not None
    for number, met in enumerate(rounds, start=1):
        assert state.status is None
        outcome = [_ok(), _ok()] if met else [_ok({"status": 500})]
        state = record_during(state, outcome)
        if number == stopped_after:
            assert state.status is RunStatus.FAILED
    assert begin_next(state) == (state, None)  # nothing more starts
    state = record_outcome(state, step, _ok())
    _, seen = _drive(state)
    assert seen == ["rollbacks:r1", "rollbacks:r2"]


def test_fail_fast_with_nothing_under_way_goes_after_then_rollbacks() -> None:
    experiment = _experiment(
        runtime=Runtime(hypothesis_strategy=HypothesisStrategy.CONTINUOUSLY, fail_fast=True)
    )
    state = start_run(experiment, started_at=T0)
    for _ in range(2):
        state, step = begin_next(state)
        assert step is not None
        state = record_outcome(state, step, _ok())
    assert state.phase is Phase.METHOD
    state = record_during(state, [_failed()])
    _, seen = _drive(state)
    # as in Chaos Toolkit, a run failed by fail-fast still checks the steady state after
    assert seen == ["after:p1", "after:p2", "rollbacks:r1", "rollbacks:r2"]


def test_record_during_refuses_what_cannot_be() -> None:
    with pytest.raises(ValueError, match="no hypothesis runs during"):
        record_during(start_run(_experiment(), started_at=T0), [_ok()])
    state = start_run(_during_experiment(), started_at=T0)
    with pytest.raises(ValueError, match="between 1 and 2"):
        record_during(state, [])
    with pytest.raises(ValueError, match="after a probe that missed"):
        record_during(state, [_ok({"status": 500}), _ok()])


def test_background_activities_run_beside_the_next_and_journal_in_order() -> None:
    method = (
        _activity("bg", kind=ActivityType.ACTION, background=True),
        _activity("fg"),
        _activity("last"),
    )
    state = start_run(_experiment(probes=(), rollbacks=(), method=method), started_at=T0)
    state, background = begin_next(state)
    state, foreground = begin_next(state)
    assert background is not None
    assert foreground is not None
    assert begin_next(state)[1] is None  # a foreground activity is under way
    state = record_outcome(state, foreground, _ok(at=1))
    state, last = begin_next(state)
    assert last is not None
    assert last.activity.name == "last"
    state = record_outcome(state, last, _ok(at=2))
    assert not state.finished  # the background one has not reported
    assert begin_next(state)[1] is None
    state = record_outcome(state, background, _ok(at=3))
    assert state.finished
    journal = journal_of(state, ended_at=T0, platform="p", node="n", version="v")
    assert [run["activity"]["name"] for run in journal["run"]] == ["bg", "fg", "last"]


def test_record_outcome_refuses_a_step_not_under_way() -> None:
    state = start_run(_experiment(), started_at=T0)
    state, step = begin_next(state)
    assert step is not None
    state = record_outcome(state, step, _ok())
    with pytest.raises(ValueError, match="not under way"):
        record_outcome(state, step, _ok())


def test_interruption_in_the_method_rolls_back_by_default_always() -> None:
    state = start_run(_experiment(), started_at=T0)
    state, _ = _drive_until(state, "method:a1")
    state = interrupt(state)
    _, seen = _drive(state)
    assert seen == ["rollbacks:r1", "rollbacks:r2"]


def test_interruption_with_chaos_toolkits_default_does_not_roll_back() -> None:
    experiment = _experiment(runtime=Runtime(rollback_strategy=RollbackStrategy.DEFAULT))
    state, _ = _drive_until(start_run(experiment, started_at=T0), "method:a1")
    state = interrupt(state)
    assert state.finished
    journal = journal_of(state, ended_at=T0, platform="p", node="n", version="v")
    assert journal["status"] == "interrupted"
    assert journal["steady_states"]["after"] is None
    assert exit_code(RunStatus.INTERRUPTED, deviated=False) == 1


def test_interruption_while_an_activity_is_under_way_waits_for_it() -> None:
    state = start_run(_experiment(), started_at=T0)
    state, _ = _drive_until(state, "before:p2")
    state, step = begin_next(state)  # method:a1 under way
    assert step is not None
    state = interrupt(state)
    assert state.phase is Phase.METHOD
    state = record_outcome(state, step, _ok())
    assert state.phase is Phase.ROLLBACKS
    assert [name for _, run in state.runs for name in [run.activity.name]] == ["a1"]


def test_interruption_during_a_probe_cuts_the_round_short() -> None:
    state = start_run(_experiment(), started_at=T0)
    state, step = begin_next(state)
    assert step is not None
    state = record_outcome(interrupt(state), step, _ok())
    assert state.before is not None
    assert state.before.steady_state_met is None
    assert state.phase is Phase.ROLLBACKS
    state, _ = _drive_until(start_run(_experiment(), started_at=T0), "before:p1")
    state = interrupt(state)  # between two probes
    assert state.before is not None
    assert state.before.steady_state_met is None
    assert len(state.before.probes) == 1


def test_interruption_before_anything_ran_still_rolls_back() -> None:
    state = interrupt(start_run(_experiment(), started_at=T0))
    assert state.before is None
    _, seen = _drive(state)
    assert seen == ["rollbacks:r1", "rollbacks:r2"]


def test_interruption_during_the_rollbacks_stops_them() -> None:
    state, _ = _drive_until(start_run(_experiment(), started_at=T0), "rollbacks:r1")
    state = interrupt(state)
    assert state.finished
    assert interrupt(state) is state  # nothing more to stop
    state, _ = _drive_until(start_run(_experiment(), started_at=T0), "after:p2")
    state, step = begin_next(state)
    assert step is not None
    state = record_outcome(interrupt(state), step, _ok())
    assert state.finished
    assert len(state.rollbacks) == 1


def test_abort_is_journaled_and_chaos_toolkits_default_still_rolls_back() -> None:
    experiment = _experiment(runtime=Runtime(rollback_strategy=RollbackStrategy.DEFAULT))
    state, _ = _drive_until(start_run(experiment, started_at=T0), "method:m2")
    state, seen = _drive(abort(state))
    assert seen == ["rollbacks:r1", "rollbacks:r2"]
    assert state.status is RunStatus.ABORTED
    assert state.after is None


def test_the_journal_needs_a_finished_run() -> None:
    with pytest.raises(ValueError, match="not finished"):
        journal_of(
            start_run(_experiment(), started_at=T0), ended_at=T0, platform="", node="", version=""
        )


def _drive_until(state: RunState, last: str) -> tuple[RunState, list[str]]:
    """Run steps (all succeeding) up to and including `last`."""
    seen: list[str] = []
    while not seen or seen[-1] != last:
        state, step = begin_next(state)
        assert step is not None
        seen.append(f"{step.phase}:{step.activity.name}")
        state = record_outcome(state, step, _ok())
    return state, seen


@pytest.mark.parametrize(
    ("mode", "probe", "action"),
    [
        (None, False, False),
        (DryMode.PAUSE, False, False),
        (DryMode.PROBES, True, False),
        (DryMode.ACTIONS, False, True),
        (DryMode.ACTIVITIES, True, True),
    ],
)
def test_a_dry_mode_skips_what_chaoslib_skips(
    mode: DryMode | None, probe: bool, action: bool
) -> None:
    # chaoslib's execute_activity, by hand: `pause` skips no activity, only pauses
    assert skipped_dry(mode, ActivityType.PROBE) is probe
    assert skipped_dry(mode, ActivityType.ACTION) is action
