"""Escalation: which policy, the plan's instants, and each round's decision, checked by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from srekit.core.escalation import (
    ALL_SEVERITIES,
    Action,
    EscalationPolicy,
    EscalationState,
    EscalationStatus,
    EscalationStep,
    NotifyTarget,
    advance,
    decide,
    escalation_plan,
    policy_for_incident,
    start_escalation,
    stopped,
)
from srekit.core.incident import Incident, IncidentState, Severity

OPENED = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
PRIMARY = NotifyTarget(rotation="payments", layer="primary")
SECONDARY = NotifyTarget(rotation="payments", layer="secondary")
MANAGER = NotifyTarget(rotation="payments", layer="manager")
GRACE = NotifyTarget(person="grace")

# the brief's example: secondary after 10m, manager after 15m, grace after the window
PAYMENTS = EscalationPolicy(
    name="payments",
    services=("checkout", "payments-api"),
    severities=frozenset({Severity.P0, Severity.P1, Severity.P2}),
    steps=(
        EscalationStep(PRIMARY),
        EscalationStep(SECONDARY, after_s=600),
        EscalationStep(MANAGER, after_s=900),
        EscalationStep(GRACE),
    ),
)


def _incident(
    *services: str, severity: Severity = Severity.P1, state: IncidentState = IncidentState.TRIGGERED
) -> Incident:
    return Incident(
        id=7, title="x", severity=severity, state=state, opened_at=OPENED, services=services
    )


def _at(minutes: float) -> datetime:
    return OPENED + timedelta(minutes=minutes)


# --- the targets and the policy -----------------------------------------------------------------


def test_a_target_is_a_rotations_layer_or_a_person() -> None:
    assert PRIMARY.describe() == "rotation payments, layer primary"
    assert GRACE.describe() == "person grace"
    with pytest.raises(ValueError, match="either a rotation"):
        NotifyTarget()
    with pytest.raises(ValueError, match="either a rotation"):
        NotifyTarget(rotation="payments", layer="primary", person="grace")
    with pytest.raises(ValueError, match="expected the layer"):
        NotifyTarget(rotation="payments")
    with pytest.raises(ValueError, match="a layer belongs with a rotation"):
        NotifyTarget(person="grace", layer="primary")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"services": ()}, "at least one service"),
        ({"steps": ()}, "at least one step"),
        ({"severities": frozenset()}, "at least one severity"),
        ({"steps": (EscalationStep(PRIMARY, after_s=60),)}, "first step pages at once"),
        ({"repeat": -1}, "repeat >= 0"),
    ],
)
def test_a_policy_refuses_what_cannot_escalate(changes: dict[str, object], message: str) -> None:
    fields: dict[str, object] = {
        "name": "p",
        "services": ("checkout",),
        "steps": (EscalationStep(PRIMARY),),
        **changes,
    }
    with pytest.raises(ValueError, match=message):
        EscalationPolicy(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize("after_s", [0, -5])
def test_a_step_waits_a_positive_time(after_s: float) -> None:
    with pytest.raises(ValueError, match="positive wait"):
        EscalationStep(SECONDARY, after_s=after_s)


def test_the_first_policy_by_name_that_names_a_service_and_the_severity_takes_the_incident() -> (
    None
):
    catch_all = EscalationPolicy(
        name="b-all", services=("checkout",), steps=(EscalationStep(GRACE),)
    )
    late = EscalationPolicy(name="z-last", services=("search",), steps=(EscalationStep(GRACE),))
    policies = [late, catch_all, PAYMENTS]  # out of order on purpose
    assert catch_all.severities == ALL_SEVERITIES
    # "b-all" sorts before "payments": it takes checkout at any severity
    assert policy_for_incident(policies, _incident("checkout")) is catch_all
    # payments-api: only "payments" names it, and only P0-P2
    assert policy_for_incident(policies, _incident("payments-api")) is PAYMENTS
    assert policy_for_incident(policies, _incident("payments-api", severity=Severity.P3)) is None
    # one of several services is enough
    assert policy_for_incident(policies, _incident("ledger", "search")) is late
    assert policy_for_incident(policies, _incident("ledger")) is None
    assert policy_for_incident(policies, _incident()) is None  # no service, no policy


# --- the plan -----------------------------------------------------------------------------------


def test_the_plan_counts_every_wait_from_the_opening() -> None:
    plan = escalation_plan(PAYMENTS, start=OPENED, window_s=15 * 60)
    # by hand: 10:00 primary; +10m 10:10 secondary; +15m 10:25 manager; +15m (window) 10:40 grace
    assert [(p.index, p.step, p.cycle, p.notify, p.due_at) for p in plan] == [
        (0, 1, 0, PRIMARY, _at(0)),
        (1, 2, 0, SECONDARY, _at(10)),
        (2, 3, 0, MANAGER, _at(25)),
        (3, 4, 0, GRACE, _at(40)),
    ]


def test_steps_without_after_wait_the_severitys_window_and_repeats_start_over() -> None:
    policy = EscalationPolicy(
        name="p",
        services=("checkout",),
        steps=(EscalationStep(PRIMARY), EscalationStep(SECONDARY), EscalationStep(MANAGER, 120)),
        repeat=2,
    )
    # P0's window, 5 minutes: primary 0, secondary +5 = 5, manager +2 = 7; a repeat's step 1
    # one window after the last step: 12, 17, 19; then 24, 29, 31
    plan = escalation_plan(policy, start=OPENED, window_s=300)
    assert [(p.step, p.cycle, p.due_at) for p in plan] == [
        (1, 0, _at(0)),
        (2, 0, _at(5)),
        (3, 0, _at(7)),
        (1, 1, _at(12)),
        (2, 1, _at(17)),
        (3, 1, _at(19)),
        (1, 2, _at(24)),
        (2, 2, _at(29)),
        (3, 2, _at(31)),
    ]
    assert [p.index for p in plan] == list(range(9))


def test_a_plan_needs_a_positive_window() -> None:
    with pytest.raises(ValueError, match="positive escalation window"):
        escalation_plan(PAYMENTS, start=OPENED, window_s=0)


# --- the rounds ---------------------------------------------------------------------------------

PLAN = escalation_plan(PAYMENTS, start=OPENED, window_s=15 * 60)


@pytest.mark.parametrize(
    ("next_step", "next_at", "minutes", "action", "step", "until"),
    [
        (0, _at(0), 0, Action.PAGE, 1, None),  # step 1 is due at the opening itself
        (0, _at(0), 3, Action.PAGE, 1, None),  # a late round still pages it
        (1, _at(10), 9.99, Action.WAIT, 2, _at(10)),
        (1, _at(10), 10, Action.PAGE, 2, None),  # due at exactly 10:10
        (2, _at(25), 11, Action.WAIT, 3, _at(25)),
        (2, _at(11), 11, Action.PAGE, 3, None),  # brought forward by a gap: due at once
        (3, _at(40), 60, Action.PAGE, 4, None),
        (4, _at(40), 60, Action.EXHAUSTED, None, None),  # past the plan's end
    ],
)
def test_an_open_unacknowledged_incident_pages_what_is_due_and_waits_for_the_rest(
    next_step: int,
    next_at: datetime,
    minutes: float,
    action: Action,
    step: int | None,
    until: datetime | None,
) -> None:
    decision = decide(
        PLAN,
        EscalationState(next_step=next_step, next_at=next_at),
        incident_state=IncidentState.TRIGGERED,
        acknowledged_at=None,
        now=_at(minutes),
    )
    assert decision.action is action
    assert (decision.step.step if decision.step else None) == step
    assert decision.until == until


@pytest.mark.parametrize(
    ("incident_state", "acknowledged_at", "reason"),
    [
        (IncidentState.ACKNOWLEDGED, _at(4), "acknowledged"),
        (IncidentState.MITIGATED, _at(4), "acknowledged"),  # mitigating stamps acknowledged_at
        (IncidentState.RESOLVED, None, "resolved"),  # resolved by its alerts, unanswered
        (IncidentState.CLOSED, _at(4), "closed"),
        # reopened after an acknowledgement: the first one stands, nobody is paged again
        (IncidentState.TRIGGERED, _at(4), "acknowledged"),
    ],
)
def test_an_answered_or_finished_incident_stops_the_escalation(
    incident_state: IncidentState, acknowledged_at: datetime | None, reason: str
) -> None:
    decision = decide(
        PLAN,
        EscalationState(next_step=1, next_at=_at(10)),
        incident_state=incident_state,
        acknowledged_at=acknowledged_at,
        now=_at(30),  # step 2 long due: stopping still wins
    )
    assert (decision.action, decision.reason, decision.step) == (Action.STOP, reason, None)


def test_a_stopped_or_exhausted_escalation_stays_so() -> None:
    halted = stopped(EscalationState(next_step=2, next_at=_at(25)), reason="acknowledged")
    assert (halted.status, halted.next_step, halted.next_at) == (
        EscalationStatus.STOPPED,
        2,
        None,
    )
    again = decide(
        PLAN, halted, incident_state=IncidentState.TRIGGERED, acknowledged_at=None, now=_at(50)
    )
    assert (again.action, again.reason) == (Action.STOP, "acknowledged")
    done = EscalationState(next_step=4, next_at=None, status=EscalationStatus.EXHAUSTED)
    assert (
        decide(
            PLAN, done, incident_state=IncidentState.TRIGGERED, acknowledged_at=None, now=_at(50)
        ).action
        is Action.EXHAUSTED
    )


def test_a_whole_escalation_round_by_round() -> None:
    state = start_escalation(PLAN)
    assert state == EscalationState(next_step=0, next_at=_at(0))
    pages: list[tuple[int, datetime]] = []
    now = OPENED
    # rounds every minute for an hour; nobody answers; the manager's layer has a gap
    while now <= _at(60):
        decision = decide(
            PLAN, state, incident_state=IncidentState.TRIGGERED, acknowledged_at=None, now=now
        )
        if decision.action is Action.PAGE:
            assert decision.step is not None
            gap = decision.step.notify == MANAGER
            if not gap:
                pages.append((decision.step.step, now))
            state = advance(PLAN, state, reached=not gap, now=now)
            continue  # the same round handles what fell due too
        now += timedelta(minutes=1)
    # primary at 10:00, secondary at 10:10, the manager's gap at 10:25 brings grace forward
    # from 10:40 to 10:25 at once; then nothing is left
    assert pages == [(1, _at(0)), (2, _at(10)), (4, _at(25))]
    assert state.status is EscalationStatus.EXHAUSTED
    assert (state.next_step, state.next_at) == (4, None)


def test_advancing_catches_up_on_steps_that_fell_due_while_nobody_ran() -> None:
    # the server was down from 10:05 to 10:30: step 2 (10:10) is paged at 10:30, and step 3
    # (10:25) is due at once after it, at its planned instant
    after_secondary = advance(PLAN, EscalationState(1, _at(10)), reached=True, now=_at(30))
    assert after_secondary == EscalationState(next_step=2, next_at=_at(25))
    # a gap at 10:11 brings step 3 forward from 10:25 to 10:11
    assert advance(PLAN, EscalationState(1, _at(10)), reached=False, now=_at(11)) == (
        EscalationState(next_step=2, next_at=_at(11))
    )
    # a gap after its planned instant keeps the planned one (earlier): due either way
    assert advance(PLAN, EscalationState(1, _at(10)), reached=False, now=_at(30)) == (
        EscalationState(next_step=2, next_at=_at(25))
    )
