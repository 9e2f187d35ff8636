"""The incident lifecycle, checked transition by transition."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from srekit.core.incident import (
    DEFAULT_SEVERITIES,
    SEVERE,
    FollowUpTask,
    Incident,
    IncidentState,
    Severity,
    SeverityDefinition,
    TaskState,
    TransitionRefusedError,
    change_state,
    is_open,
    next_states,
    severity_definitions,
)

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
S = IncidentState


def _incident(**changes: object) -> Incident:
    values: dict[str, object] = {
        "id": 7,
        "title": "checkout errors",
        "severity": Severity.P1,
        "state": S.TRIGGERED,
        "opened_at": T0,
    }
    values.update(changes)
    return Incident(**values)  # type: ignore[arg-type]


def test_response_targets_are_the_documented_ones() -> None:
    targets = {s: d.response_target_s for s, d in DEFAULT_SEVERITIES.items()}
    assert targets == {
        Severity.P0: 300,
        Severity.P1: 900,
        Severity.P2: 3600,
        Severity.P3: 14400,
    }
    assert {Severity.P0, Severity.P1} == SEVERE


def test_severity_overrides_replace_only_what_they_name() -> None:
    changed = severity_definitions({Severity.P2: {"response_target_s": 1800}})
    assert changed[Severity.P2].response_target_s == 1800
    assert changed[Severity.P2].escalation_after_s == 3600
    assert changed[Severity.P0] == DEFAULT_SEVERITIES[Severity.P0]
    assert severity_definitions() == dict(DEFAULT_SEVERITIES)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({Severity.P1: {"respond_in": 5.0}}, "unknown setting"),
        ({Severity.P1: {"response_target_s": 0.0}}, "response target must be positive"),
        ({Severity.P1: {"escalation_after_s": -1.0}}, "escalation window must be positive"),
    ],
)
def test_bad_severity_overrides_are_refused(
    overrides: dict[Severity, dict[str, float]], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        severity_definitions(overrides)


def test_a_definition_checks_itself() -> None:
    with pytest.raises(ValueError, match="response target"):
        SeverityDefinition(Severity.P3, "x", response_target_s=float("nan"), escalation_after_s=1)


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (S.TRIGGERED, (S.ACKNOWLEDGED, S.MITIGATED, S.RESOLVED)),
        (S.ACKNOWLEDGED, (S.MITIGATED, S.RESOLVED)),
        (S.MITIGATED, (S.RESOLVED,)),
        (S.RESOLVED, (S.CLOSED, S.TRIGGERED)),
        (S.CLOSED, (S.TRIGGERED,)),
    ],
)
def test_next_states(state: IncidentState, expected: tuple[IncidentState, ...]) -> None:
    assert next_states(state) == expected
    assert is_open(state) == (state in {S.TRIGGERED, S.ACKNOWLEDGED, S.MITIGATED})


def test_the_whole_lifecycle_stamps_each_instant() -> None:
    incident = _incident()
    acked = change_state(incident, to=S.ACKNOWLEDGED, at=T0 + timedelta(minutes=4))
    mitigated = change_state(acked, to=S.MITIGATED, at=T0 + timedelta(minutes=30))
    resolved = change_state(mitigated, to=S.RESOLVED, at=T0 + timedelta(hours=1))
    closed = change_state(resolved, to=S.CLOSED, at=T0 + timedelta(days=2))
    assert closed.state is S.CLOSED
    assert not closed.open
    assert closed.acknowledged_at == T0 + timedelta(minutes=4)
    assert closed.mitigated_at == T0 + timedelta(minutes=30)
    assert closed.resolved_at == T0 + timedelta(hours=1)
    assert closed.closed_at == T0 + timedelta(days=2)
    assert closed.time_to_acknowledge() == timedelta(minutes=4)
    assert closed.time_to_resolve() == timedelta(hours=1)
    assert closed.responded_at() == T0 + timedelta(minutes=4)
    assert incident.open
    assert incident.time_to_acknowledge() is None
    assert incident.time_to_resolve() is None
    assert incident.responded_at() is None


def test_mitigating_an_unacknowledged_incident_acknowledges_it() -> None:
    mitigated = change_state(_incident(), to=S.MITIGATED, at=T0 + timedelta(minutes=9))
    assert mitigated.acknowledged_at == mitigated.mitigated_at == T0 + timedelta(minutes=9)


def test_an_alert_resolving_alone_is_a_response_but_not_an_acknowledgement() -> None:
    resolved = change_state(_incident(), to=S.RESOLVED, at=T0 + timedelta(minutes=2))
    assert resolved.acknowledged_at is None
    assert resolved.responded_at() == T0 + timedelta(minutes=2)


def test_reopening_keeps_the_first_acknowledgement_and_clears_the_rest() -> None:
    acked = change_state(_incident(), to=S.ACKNOWLEDGED, at=T0 + timedelta(minutes=3))
    resolved = change_state(acked, to=S.RESOLVED, at=T0 + timedelta(minutes=40))
    closed = change_state(resolved, to=S.CLOSED, at=T0 + timedelta(hours=5))
    reopened = change_state(closed, to=S.TRIGGERED, at=T0 + timedelta(hours=6))
    assert reopened.state is S.TRIGGERED
    assert reopened.reopened == 1
    assert reopened.resolved_at is None
    assert reopened.closed_at is None
    assert reopened.mitigated_at is None
    again = change_state(reopened, to=S.ACKNOWLEDGED, at=T0 + timedelta(hours=7))
    assert again.acknowledged_at == T0 + timedelta(minutes=3)


@pytest.mark.parametrize(
    ("state", "to", "message"),
    [
        (S.TRIGGERED, S.TRIGGERED, "triggered already"),
        (S.TRIGGERED, S.CLOSED, "can move to acknowledged or mitigated or resolved, not closed"),
        (S.MITIGATED, S.ACKNOWLEDGED, "can move to resolved, not acknowledged"),
        (S.CLOSED, S.RESOLVED, "can move to triggered, not resolved"),
    ],
)
def test_refused_moves_say_what_is_allowed(
    state: IncidentState, to: IncidentState, message: str
) -> None:
    with pytest.raises(TransitionRefusedError, match=message):
        change_state(_incident(state=state), to=to, at=T0 + timedelta(hours=1))


def test_closing_as_noise_marks_it_and_reopening_clears_the_mark() -> None:
    resolved = change_state(_incident(), to=S.RESOLVED, at=T0 + timedelta(minutes=2))
    assert resolved.noise is False
    noise = change_state(resolved, to=S.CLOSED, at=T0 + timedelta(hours=1), noise=True)
    assert (noise.state, noise.noise, noise.closed_at) == (S.CLOSED, True, T0 + timedelta(hours=1))
    reopened = change_state(noise, to=S.TRIGGERED, at=T0 + timedelta(hours=2))
    assert (reopened.noise, reopened.closed_at, reopened.reopened) == (False, None, 1)
    resolved_again = change_state(reopened, to=S.RESOLVED, at=T0 + timedelta(hours=3))
    plain = change_state(resolved_again, to=S.CLOSED, at=T0 + timedelta(hours=4))
    assert plain.noise is False


@pytest.mark.parametrize("to", [S.ACKNOWLEDGED, S.MITIGATED, S.RESOLVED])
def test_only_closing_marks_noise(to: IncidentState) -> None:
    with pytest.raises(TransitionRefusedError, match=f"only closing .* noise, not {to.value}"):
        change_state(_incident(), to=to, at=T0 + timedelta(minutes=1), noise=True)


def test_no_state_before_the_incident_opened() -> None:
    with pytest.raises(TransitionRefusedError, match="cannot become acknowledged before"):
        change_state(_incident(), to=S.ACKNOWLEDGED, at=T0 - timedelta(seconds=1))


def test_a_task_is_overdue_only_while_open_past_its_due_date() -> None:
    due = T0 + timedelta(days=7)
    task = FollowUpTask(1, 7, "add a retry budget", TaskState.OPEN, T0, owner="ana", due_at=due)
    assert not task.overdue(due)
    assert task.overdue(due + timedelta(seconds=1))
    assert not FollowUpTask(2, 7, "x", TaskState.DONE, T0, due_at=due).overdue(
        due + timedelta(days=1)
    )
    assert not FollowUpTask(3, 7, "x", TaskState.OPEN, T0).overdue(due)
