"""The SLO guard of a chaos experiment: whether it may start, whether it must stop, and what
budget it cost. Pure: it judges `SloStatus` values the caller evaluated from the SLOs' own
sources.

- start: refused when a guarded SLO's service is at `refuse_from` or a lower state of its
  policy's ladder (no chaos on a service in freeze), or when a guarded SLO cannot be read
  (no data is never permission);
- stop: when a guarded SLO's remaining budget falls below `min_remaining`, when it burns
  faster than `max_burn_rate` over `burn_window`, or when it can no longer be read;
- cost: the budget consumed during the run, the most any guarded SLO lost (a fraction of
  its window's budget; negative figures, budget regained, count as 0).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from srekit.core.chaos import SloGuard
from srekit.core.policy import BudgetPolicy
from srekit.core.status import DataState, SloStatus

__all__ = ["budget_consumed", "guard_breach", "guarded_statuses", "start_refusal"]


def _name(status: SloStatus) -> str:
    return f"{status.service}/{status.slo}"


def guarded_statuses(
    guard: SloGuard, statuses: Sequence[SloStatus]
) -> tuple[dict[str, SloStatus], tuple[str, ...]]:
    """The statuses of the guarded SLOs by `service/name`, and the guarded SLOs missing."""
    by_name = {_name(status): status for status in statuses if _name(status) in guard.slos}
    return by_name, tuple(slo for slo in guard.slos if slo not in by_name)


def _unreadable(status: SloStatus) -> str | None:
    if status.data in (DataState.ERROR, DataState.STALE) or status.error_budget is None:
        return f"{_name(status)} cannot be read ({status.detail or status.data.value})"
    return None


def start_refusal(
    guard: SloGuard,
    statuses: Sequence[SloStatus],
    policies: Mapping[str, BudgetPolicy],
) -> str | None:
    """Why the experiment must not start, or None. `policies` maps each guarded SLO
    (`service/name`) to its policy, whose ladder orders the states: `refuse_from` and
    every state below it refuse. A policy without that state refuses only at its own
    bottom state."""
    by_name, missing = guarded_statuses(guard, statuses)
    if missing:
        return f"no such SLO: {', '.join(missing)}"
    for name in guard.slos:
        status = by_name[name]
        why = _unreadable(status)
        if why is not None:
            return why
        states = [level.state for level in policies[name].levels]
        floor = states.index(guard.refuse_from) if guard.refuse_from in states else len(states) - 1
        if status.policy_state in states[floor:]:
            return (
                f"{name} is in {status.policy_state} (chaos is refused from"
                f" {states[floor]} down; --force to run anyway)"
            )
    return None


def guard_breach(guard: SloGuard, statuses: Sequence[SloStatus]) -> str | None:
    """Why a running experiment must stop now, or None while every guarded SLO is within
    its limits."""
    by_name, missing = guarded_statuses(guard, statuses)
    if missing:
        return f"no such SLO: {', '.join(missing)}"
    for name in guard.slos:
        status = by_name[name]
        why = _unreadable(status)
        if why is not None:
            return why
        remaining = status.error_budget.remaining if status.error_budget else 0.0
        if remaining < guard.min_remaining:
            return (
                f"{name} has {remaining:.2%} of its error budget left,"
                f" under the guard's {guard.min_remaining:.2%}"
            )
        rate = status.burn_rates.get(guard.burn_window)
        if guard.max_burn_rate is not None and rate is not None and rate > guard.max_burn_rate:
            return (
                f"{name} burns its error budget {rate:.3g}x over {guard.burn_window},"
                f" above the guard's {guard.max_burn_rate:g}x"
            )
    return None


def budget_consumed(
    guard: SloGuard, before: Sequence[SloStatus], after: Sequence[SloStatus]
) -> float | None:
    """The most budget any guarded SLO lost between `before` and `after` (a fraction of its
    window's budget, 0 when none lost any); None when no guarded SLO was read both times."""
    first, _ = guarded_statuses(guard, before)
    last, _ = guarded_statuses(guard, after)
    losses = [
        max(0.0, budget.remaining - later.remaining)
        for name, status in first.items()
        if (budget := status.error_budget) is not None
        and name in last
        and (later := last[name].error_budget) is not None
    ]
    return max(losses) if losses else None
