"""The gate's one decision from statuses as of now: the same rules for the CLI and the server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from srekit.core.gate import gate_service
from srekit.core.load_gate import LoadTestPolicy
from srekit.core.policy import DEFAULT_POLICY, Decision, FailMode
from srekit.core.sli import EventCounts
from srekit.core.slo import SLO, EventsRatio
from srekit.core.status import DataState, SloStatus, evaluate_slo
from srekit.core.window import RollingWindow

NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)
WINDOW_S = 30 * 86400


def _slo(name: str, service: str = "api") -> SLO:
    return SLO(
        service=service,
        name=name,
        objective=0.99,
        window=RollingWindow(WINDOW_S),
        indicator=EventsRatio("status < 500"),
    )


def _evaluated(slo: SLO, bad: int, *, at: datetime = NOW) -> SloStatus:
    """`bad` errors in 10,000 requests at 99 %: 100 allowed, so remaining = 1 - bad/100."""
    return evaluate_slo(slo, readings={"30d": EventCounts(10_000 - bad, 10_000)}, at=at)


def test_worst_fresh_slo_decides() -> None:
    a, b = _slo("a"), _slo("b")
    decision, statuses = gate_service(
        "api",
        change_type="feature",
        slos=[a, b],
        statuses=[_evaluated(a, 20), _evaluated(b, 95)],  # 80 % and 5 % left
        policy=DEFAULT_POLICY,
        now=NOW,
    )
    assert (decision.allowed, decision.state, decision.decision) == (
        False,
        "all_hands",
        Decision.DENY,
    )
    assert decision.reasons[0].startswith("api/b has 5.00% of its error budget left")
    assert [s.slo for s in statuses] == ["a", "b"]


def test_missing_and_old_statuses_are_unreadable_and_fail_closed() -> None:
    a, b = _slo("a"), _slo("b")
    old = _evaluated(a, 0, at=NOW - timedelta(minutes=10))
    decision, statuses = gate_service(
        "api",
        change_type="feature",
        slos=[a, b],
        statuses=[old],
        policy=DEFAULT_POLICY,
        now=NOW,
        max_status_age_s=300,
    )
    assert decision.allowed is False
    assert decision.reasons[0] == "SLI data could not be read and the gate fails closed"
    assert [s.data for s in statuses] == [DataState.STALE, DataState.ERROR]
    assert "api/b: error (not evaluated yet)" in decision.reasons
    opened, _ = gate_service(
        "api",
        change_type="feature",
        slos=[a, b],
        statuses=[old],
        policy=DEFAULT_POLICY,
        now=NOW,
        max_status_age_s=300,
        fail_mode=FailMode.OPEN,
    )
    # failing open, nothing readable is left: nothing to gate on
    assert opened.allowed is True
    assert "SLI data could not be read and the gate fails open" in opened.reasons


def test_without_an_age_limit_any_status_counts_and_other_services_are_ignored() -> None:
    a = _slo("a")
    other = _slo("a", service="web")
    decision, statuses = gate_service(
        "api",
        change_type="feature",
        slos=[a],
        statuses=[_evaluated(a, 10, at=NOW - timedelta(days=3)), _evaluated(other, 100)],
        policy=DEFAULT_POLICY,
        now=NOW,
    )
    assert (decision.allowed, decision.state) == (True, "normal")
    assert [(s.service, s.data) for s in statuses] == [("api", DataState.OK)]


def test_incidents_deny_and_exceptions_pass() -> None:
    a = _slo("a")
    asked = {
        "slos": [a],
        "statuses": [_evaluated(a, 0)],
        "policy": DEFAULT_POLICY,
        "now": NOW,
        "open_severe_incidents": ["INC-1 (P0)"],
    }
    denied, _ = gate_service("api", change_type="feature", **asked)  # type: ignore[arg-type]
    assert denied.allowed is False
    assert denied.reasons[0] == "open P0/P1 incident(s) on api: INC-1 (P0)"
    rollback, _ = gate_service("api", change_type="rollback", **asked)  # type: ignore[arg-type]
    assert rollback.allowed is True


def test_a_required_load_test_gates_its_change_types() -> None:
    slo = _slo("a")
    healthy = [_evaluated(slo, 10)]  # 90 % left: the budget alone allows
    policy = LoadTestPolicy(required_for=("feature", "rollback"), max_age_days=7)

    def decide(change_type: str, last: datetime | None) -> tuple[bool, tuple[str, ...]]:
        decision, _ = gate_service(
            "api",
            change_type=change_type,
            slos=[slo],
            statuses=healthy,
            policy=DEFAULT_POLICY,
            now=NOW,
            load_test=policy,
            last_load_test_passed=last,
        )
        return decision.allowed, decision.reasons

    allowed, reasons = decide("feature", None)
    assert not allowed
    assert reasons[0] == (
        "feature deploys need a passed load test and api has none in the last 7 days"
    )
    assert decide("feature", NOW - timedelta(days=2))[0]
    assert not decide("feature", NOW - timedelta(days=8))[0]
    assert decide("config", None)[0]  # not required for config
    assert decide("rollback", None)[0]  # an exception change type is always allowed
