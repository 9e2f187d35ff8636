"""evaluate_slo from per-window counts: every figure of the status contract, hand-checked."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from srekit.core.sli import EventCounts
from srekit.core.slo import SLO, BudgetingMethod, EventsRatio
from srekit.core.status import DataState, evaluate_slo, status_windows, timeslice_readings
from srekit.core.window import CalendarWindow, RollingWindow

AT = datetime(2026, 11, 1, tzinfo=UTC)


def _slo(**kwargs: object) -> SLO:
    values: dict[str, object] = {
        "service": "api",
        "name": "availability",
        "objective": 0.999,
        "window": RollingWindow(30 * 86400),
        "indicator": EventsRatio("status < 500"),
    }
    values.update(kwargs)
    return SLO(**values)  # type: ignore[arg-type]


def test_status_figures() -> None:
    readings = {
        "5m": EventCounts(980, 1000),  # 2 % errors: burn 20
        "30m": EventCounts(5970, 6000),  # 0.5 %: burn 5
        "1h": EventCounts(11_820, 12_000),  # 1.5 %: burn 15
        "2h": EventCounts(24_000, 24_000),
        "6h": EventCounts(72_000, 72_000),
        "1d": EventCounts(287_800, 288_000),
        "3d": EventCounts(863_700, 864_000),
        "30d": EventCounts(8_636_000, 8_640_000),  # 4000 bad of 8640 allowed
    }
    status = evaluate_slo(_slo(), readings=readings, at=AT)
    assert status.sli == pytest.approx(8_636_000 / 8_640_000)
    assert status.error_budget is not None
    assert status.error_budget.allowed_bad_events == pytest.approx(8640)
    assert status.error_budget.consumed == pytest.approx(4000 / 8640)
    assert status.error_budget.remaining == pytest.approx(1 - 4000 / 8640)
    assert status.burn_rates["1h"] == pytest.approx(15.0)
    assert status.burn_rates["5m"] == pytest.approx(20.0)
    assert status.burn_rates["30d"] == pytest.approx(4000 / 8640)
    assert status.time_to_exhaustion_s == pytest.approx((1 - 4000 / 8640) * 30 * 86400 / 15.0)
    firing = {(a.long_window, a.firing) for a in status.alerts}
    assert firing == {("1h", True), ("6h", False), ("1d", False), ("3d", False)}
    assert status.policy_state == "normal"
    assert status.data is DataState.OK
    assert status.standing.remaining == pytest.approx(1 - 4000 / 8640)


def test_no_data_status() -> None:
    status = evaluate_slo(_slo(), readings={}, at=AT)
    assert status.data is DataState.NO_DATA
    assert status.sli is None
    assert status.error_budget is None
    assert status.policy_state == "unknown"
    assert all(a.firing is None for a in status.alerts)


def test_calendar_window_uses_whole_period_length() -> None:
    slo = _slo(window=CalendarWindow("month"))
    at = datetime(2026, 11, 16, tzinfo=UTC)
    windows = {w.label: w for w in status_windows(slo, at)}
    assert windows["month"].start == datetime(2026, 11, 1, tzinfo=UTC)
    status = evaluate_slo(
        slo,
        readings={"month": EventCounts(999_500, 1_000_000), "1h": EventCounts(990, 1000)},
        at=at,
    )
    assert status.window_s == 30 * 86400
    assert status.error_budget is not None
    assert status.error_budget.remaining == pytest.approx(0.5)
    assert status.time_to_exhaustion_s == pytest.approx(0.5 * 30 * 86400 / 10.0)
    # 28-day February keeps the budget fractions: page factor 0.02 × 28d / 1h = 13.44.
    february = evaluate_slo(slo, readings={}, at=datetime(2026, 2, 10, tzinfo=UTC))
    assert february.alerts[0].factor == pytest.approx(13.44)


def test_timeslice_readings_per_window() -> None:
    slo = _slo(
        budgeting=BudgetingMethod.TIMESLICES,
        timeslice_s=3600,
        timeslice_target=0.99,
        window=RollingWindow(86400),
    )
    # 24 hourly slices, the last three bad.
    slices = [EventCounts(1000, 1000)] * 21 + [EventCounts(900, 1000)] * 3
    readings = timeslice_readings(slo, slices, windows=status_windows(slo, AT))
    assert readings["1d"] == EventCounts(21, 24)
    assert readings["6h"] == EventCounts(3, 6)
    assert readings["5m"] is None  # shorter than a slice
    status = evaluate_slo(slo, readings=readings, at=AT)
    assert status.sli == pytest.approx(21 / 24)
