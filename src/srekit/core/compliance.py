"""Month-by-month compliance of one SLO, from its hourly rollups.

An hour's last 1h burn rate covers that very hour: its error ratio is burn × (1 − objective).
A month's SLI is 1 − the mean of its hours' error ratios (every hour with a burn rate weighs
the same: exact when traffic is even over the month, as `budget_burned_in_hour` assumes), and
the budget it consumed is that mean over the month's budget fraction (1 means the month spent
exactly what its objective allows). A month with no hour holding a burn rate has no figures:
the page shows it as "no data", never as met.

Also the calendar periods the burn-down view offers (week, month, quarter) as windows. No
clock: callers pass `now`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from srekit.core.history import HourRollup
from srekit.core.window import CalendarWindow, Window

__all__ = [
    "BURNDOWN_VIEWS",
    "BurndownView",
    "MonthCompliance",
    "burndown_window",
    "month_starts",
    "monthly_compliance",
]

BurndownView = Literal["rolling", "week", "month", "quarter"]
#: What the burn-down chart can show: the SLO's own (rolling) window or a calendar period.
BURNDOWN_VIEWS: tuple[BurndownView, ...] = ("rolling", "week", "month", "quarter")


@dataclass(frozen=True)
class MonthCompliance:
    """One calendar month (UTC): the hours holding a burn rate, the month's SLI, the objective
    it is judged on (the month's last rollup's), whether it met it, and the share of the
    month's budget it consumed. All None (and `met` None) for a month without data."""

    month: datetime
    hours: int
    sli: float | None
    objective: float | None
    met: bool | None
    budget_consumed: float | None


def month_starts(now: datetime, *, count: int) -> list[datetime]:
    """The first instants (UTC) of the `count` months up to and including the one holding
    `now`, oldest first."""
    if count < 1:
        raise ValueError(f"expected at least one month, got {count}")
    utc = now.astimezone(UTC)
    index = utc.year * 12 + utc.month - 1
    return [
        datetime(position // 12, position % 12 + 1, 1, tzinfo=UTC)
        for position in range(index - count + 1, index + 1)
    ]


def monthly_compliance(
    rollups: Iterable[HourRollup], *, months: Sequence[datetime]
) -> list[MonthCompliance]:
    """Per month of `months` (month starts, oldest first, as `month_starts` gives), the
    compliance its rollups show. Rollups outside the months are ignored."""
    index = {(month.year, month.month): position for position, month in enumerate(months)}
    ratios: list[list[float]] = [[] for _ in months]
    objectives: list[float | None] = [None] * len(months)
    for rollup in sorted(rollups, key=lambda rollup: rollup.hour_start):
        hour = rollup.hour_start.astimezone(UTC)
        position = index.get((hour.year, hour.month))
        burn = rollup.burn_rates.get("1h")
        if position is None or burn is None:
            continue
        ratios[position].append(burn.last * (1 - rollup.objective))
        objectives[position] = rollup.objective
    out: list[MonthCompliance] = []
    for month, month_ratios, objective in zip(months, ratios, objectives, strict=True):
        if objective is None:
            out.append(MonthCompliance(month, 0, None, None, None, None))
            continue
        error_ratio = sum(month_ratios) / len(month_ratios)
        sli = 1 - error_ratio
        consumed = error_ratio / (1 - objective) if objective < 1 else None
        out.append(
            MonthCompliance(month, len(month_ratios), sli, objective, sli >= objective, consumed)
        )
    return out


def burndown_window(view: BurndownView, *, slo_window: Window) -> CalendarWindow | None:
    """The window the burn-down chart covers for `view`: None for the SLO's own (rolling),
    else one calendar week/month/quarter in the SLO window's zone (UTC for a rolling one)."""
    if view == "rolling":
        return None
    zone = slo_window.time_zone if isinstance(slo_window, CalendarWindow) else "UTC"
    return CalendarWindow(unit=view, count=1, time_zone=zone)
