"""The SLO guard: when chaos may start, when it must stop, what budget it cost; hand-checked
figures on statuses built by hand."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from srekit.core.budget import ErrorBudget
from srekit.core.chaos import SloGuard
from srekit.core.chaos_guard import budget_consumed, guard_breach, start_refusal
from srekit.core.policy import DEFAULT_POLICY, BudgetPolicy, Decision, PolicyLevel
from srekit.core.slo import SLO, EventsRatio
from srekit.core.status import DataState, SloStatus, unavailable_status
from srekit.core.window import RollingWindow

AT = datetime(2026, 11, 20, tzinfo=UTC)
GUARD = SloGuard(("checkout/availability",), min_remaining=0.25, max_burn_rate=10.0)
POLICIES = {"checkout/availability": DEFAULT_POLICY}


def _status(
    remaining: float | None,
    *,
    state: str = "normal",
    burn_5m: float | None = 1.0,
    data: DataState = DataState.OK,
    name: str = "availability",
) -> SloStatus:
    slo = SLO(
        service="checkout",
        name=name,
        objective=0.999,
        window=RollingWindow(2592000),
        indicator=EventsRatio(good="status < 500"),
    )
    budget = None if remaining is None else ErrorBudget(remaining, 1 - remaining, None)
    return replace(
        unavailable_status(slo, at=AT, detail="Prometheus refused the query"),
        error_budget=budget,
        data=data,
        policy_state=state,
        burn_rates={"5m": burn_5m, "1h": 0.5},
    )


@pytest.mark.parametrize(
    ("status", "refusal"),
    [
        (_status(0.8), None),
        (_status(0.3, state="reduced_velocity"), None),
        (_status(0.2, state="feature_freeze"), "is in feature_freeze"),
        (_status(-0.1, state="emergency"), "is in emergency"),  # below the freeze too
        (_status(None, data=DataState.ERROR), "cannot be read (Prometheus refused"),
        (_status(0.8, data=DataState.STALE), "cannot be read"),
        (_status(0.8, name="latency"), "no such SLO: checkout/availability"),
    ],
)
def test_start_refusal(status: SloStatus, refusal: str | None) -> None:
    found = start_refusal(GUARD, [status], POLICIES)
    if refusal is None:
        assert found is None
    else:
        assert found is not None
        assert refusal in found


def test_a_policy_without_the_state_refuses_only_at_its_bottom() -> None:
    ladder = BudgetPolicy(
        "two-step",
        (PolicyLevel("fine", 0.0, Decision.ALLOW), PolicyLevel("out", None, Decision.DENY)),
    )
    policies = {"checkout/availability": ladder}
    assert start_refusal(GUARD, [_status(0.01, state="fine")], policies) is None
    refusal = start_refusal(GUARD, [_status(-1.0, state="out")], policies)
    assert refusal == (
        "checkout/availability is in out (chaos is refused from out down; --force to run anyway)"
    )


@pytest.mark.parametrize(
    ("status", "breach"),
    [
        (_status(0.8, burn_5m=10.0), None),  # at the limit is not above it
        (_status(0.25), None),
        (_status(0.2499), "has 24.99% of its error budget left, under the guard's 25.00%"),
        (_status(0.8, burn_5m=14.4), "burns its error budget 14.4x over 5m, above the guard's 10x"),
        (_status(0.8, burn_5m=None), None),  # no traffic in 5m burns nothing
        (_status(None, data=DataState.ERROR), "cannot be read"),
        (_status(0.8, name="latency"), "no such SLO"),
    ],
)
def test_guard_breach(status: SloStatus, breach: str | None) -> None:
    found = guard_breach(GUARD, [status])
    if breach is None:
        assert found is None
    else:
        assert found is not None
        assert breach in found
    no_rate = replace(GUARD, max_burn_rate=None)
    assert guard_breach(no_rate, [_status(0.8, burn_5m=1e6)]) is None


def test_budget_consumed_is_the_largest_loss_of_a_guarded_slo() -> None:
    guard = SloGuard(("checkout/availability", "checkout/latency"), min_remaining=0.0)
    before = [_status(0.80), _status(0.60, name="latency"), _status(0.5, name="other")]
    after = [_status(0.79), _status(0.57, name="latency"), _status(0.1, name="other")]
    # 0.80 - 0.79 = 0.01 and 0.60 - 0.57 = 0.03; "other" is not guarded
    assert budget_consumed(guard, before, after) == pytest.approx(0.03)
    assert budget_consumed(guard, after, before) == 0.0  # regained budget is no cost
    assert budget_consumed(guard, [_status(None)], after) is None
    # read once only: nothing to compare
    assert budget_consumed(guard, before[:1], [_status(None)]) is None
