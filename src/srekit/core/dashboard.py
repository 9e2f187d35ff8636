"""How the dashboard sorts SLOs into health classes, and how it grades a day's budget burn.

Every figure comes from an `SloStatus` computed elsewhere (`core.status`); this module only
names the class a status falls in, so the Overview's counts, the SLO list's state filter and
the status page agree:

    no_data   the status has no fresh budget (no events, stale, or the source failed)
    breached  remaining ≤ 0: the budget is spent
    at_risk   remaining < 25 % (the default policy's feature freeze and worse), or a
              burn-rate alert is firing
    met       otherwise
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from srekit.core.status import DataState, SloStatus

__all__ = [
    "AT_RISK_BELOW",
    "BurnLevel",
    "SloHealth",
    "burn_level",
    "health_counts",
    "slo_health",
]

#: Remaining budget below which an SLO is at risk (the default policy freezes features there).
AT_RISK_BELOW = 0.25


class SloHealth(StrEnum):
    MET = "met"
    AT_RISK = "at_risk"
    BREACHED = "breached"
    NO_DATA = "no_data"


def slo_health(status: SloStatus, *, at_risk_below: float = AT_RISK_BELOW) -> SloHealth:
    """The health class of `status` (see the module's table); stale figures count as no data,
    as the gate does not trust them either."""
    if status.error_budget is None or status.data is not DataState.OK:
        return SloHealth.NO_DATA
    remaining = status.error_budget.remaining
    if remaining <= 0:
        return SloHealth.BREACHED
    if remaining < at_risk_below or any(alert.firing for alert in status.alerts):
        return SloHealth.AT_RISK
    return SloHealth.MET


def health_counts(statuses: Iterable[SloStatus]) -> dict[SloHealth, int]:
    """How many statuses fall in each class; every class is a key, zero included."""
    counts = dict.fromkeys(SloHealth, 0)
    for status in statuses:
        counts[slo_health(status)] += 1
    return counts


class BurnLevel(StrEnum):
    """A day's burn rate, graded: `none` no reading; `low` < 1 (within budget); `high`
    1 to < 6 (spending faster than the window allows: ticket territory); `severe` ≥ 6 (the
    30-day page threshold of the 6h window)."""

    NONE = "none"
    LOW = "low"
    HIGH = "high"
    SEVERE = "severe"


_SEVERE_BURN = 6.0


def burn_level(burn: float | None) -> BurnLevel:
    """The grade of a burn rate (None: no reading)."""
    if burn is None:
        return BurnLevel.NONE
    if burn >= _SEVERE_BURN:
        return BurnLevel.SEVERE
    return BurnLevel.HIGH if burn >= 1 else BurnLevel.LOW
