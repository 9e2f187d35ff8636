"""Month-by-month compliance from hourly rollups, and the burn-down's calendar windows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from srekit.core.compliance import burndown_window, month_starts, monthly_compliance
from srekit.core.history import Extent, HourRollup
from srekit.core.window import CalendarWindow, RollingWindow


def _rollup(at: datetime, burn: float | None, *, objective: float = 0.99) -> HourRollup:
    return HourRollup(
        hour_start=at,
        samples=60,
        objective=objective,
        window="30d",
        window_s=30 * 86400,
        sli=None,
        remaining=None,
        bad_events=None,
        total_events=None,
        burn_rates={} if burn is None else {"1h": Extent(0.0, burn + 1, 0.0, burn)},
    )


def test_month_starts_cross_the_year_oldest_first() -> None:
    starts = month_starts(datetime(2026, 2, 10, 5, tzinfo=UTC), count=13)
    assert starts[0] == datetime(2025, 2, 1, tzinfo=UTC)
    assert starts[-1] == datetime(2026, 2, 1, tzinfo=UTC)
    assert starts[10] == datetime(2025, 12, 1, tzinfo=UTC)
    assert len(starts) == 13


def test_month_starts_needs_a_month() -> None:
    with pytest.raises(ValueError, match="at least one month"):
        month_starts(datetime(2026, 2, 1, tzinfo=UTC), count=0)


def test_a_month_s_sli_is_the_mean_of_its_hours_error_ratios() -> None:
    months = month_starts(datetime(2026, 3, 5, tzinfo=UTC), count=3)  # Jan, Feb, Mar
    jan = datetime(2026, 1, 31, 22, tzinfo=UTC)
    rollups = [
        _rollup(jan, 0.5),
        _rollup(jan + timedelta(hours=1), 3.0),  # Jan: mean burn 1.75
        _rollup(datetime(2026, 3, 1, tzinfo=UTC), 0.2, objective=0.999),
        _rollup(datetime(2026, 3, 1, 1, tzinfo=UTC), None),  # no burn: not counted
        _rollup(datetime(2025, 12, 31, 23, tzinfo=UTC), 50.0),  # before the months
    ]
    jan_m, feb_m, mar_m = monthly_compliance(reversed(rollups), months=months)
    assert jan_m.hours == 2
    assert jan_m.sli == pytest.approx(1 - (0.5 + 3.0) / 2 * 0.01)
    assert jan_m.budget_consumed == pytest.approx(1.75)
    assert (jan_m.met, jan_m.objective) == (False, 0.99)
    assert feb_m == type(feb_m)(months[1], 0, None, None, None, None)
    assert mar_m.hours == 1
    assert mar_m.sli == pytest.approx(1 - 0.2 * 0.001)
    assert mar_m.budget_consumed == pytest.approx(0.2)
    assert mar_m.met is True


def test_an_objective_of_one_has_no_budget_to_consume() -> None:
    months = month_starts(datetime(2026, 3, 5, tzinfo=UTC), count=1)
    (march,) = monthly_compliance([_rollup(months[0], 0.0, objective=1.0)], months=months)
    assert (march.sli, march.met, march.budget_consumed) == (1.0, True, None)


def test_burndown_windows() -> None:
    assert burndown_window("rolling", slo_window=RollingWindow(86400)) is None
    assert burndown_window("week", slo_window=RollingWindow(86400)) == CalendarWindow("week")
    zoned = CalendarWindow("month", time_zone="Europe/Paris")
    assert burndown_window("quarter", slo_window=zoned) == CalendarWindow(
        "quarter", time_zone="Europe/Paris"
    )
