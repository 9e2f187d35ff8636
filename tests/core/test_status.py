"""evaluate_slo from per-window counts: every figure of the status contract, hand-checked."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from srekit.core.sli import EventCounts
from srekit.core.slo import SLO, BudgetingMethod, EventsRatio
from srekit.core.status import (
    NOT_EVALUATED,
    DataState,
    SloStatus,
    current_statuses,
    evaluate_slo,
    last_good_status,
    outdated_status,
    status_windows,
    timeslice_readings,
    unavailable_status,
)
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


def _ok_status(at: datetime, remaining_bad: int = 4000) -> SloStatus:
    """A status with `remaining_bad` of 8640 allowed bad events spent, evaluated at `at`."""
    return evaluate_slo(
        _slo(), readings={"30d": EventCounts(8_640_000 - remaining_bad, 8_640_000)}, at=at
    )


def test_outdated_status_turns_stale_only_past_the_age_limit() -> None:
    fresh = _ok_status(AT)
    assert outdated_status(fresh, now=AT + timedelta(seconds=180), max_age_s=180) is fresh
    old = outdated_status(fresh, now=AT + timedelta(seconds=181), max_age_s=180)
    assert old.data is DataState.STALE
    assert old.detail == "last evaluated 3m1s ago: the evaluator is behind or stopped"
    assert old.error_budget == fresh.error_budget  # the figures are kept, for people to see
    # ...but the gate no longer reads them as budget
    assert fresh.standing.remaining is not None
    assert (old.standing.remaining, old.standing.data) == (None, "stale")


def test_outdated_status_keeps_an_error_an_error_and_its_reason() -> None:
    failed = unavailable_status(_slo(), at=AT, detail="Prometheus down")
    old = outdated_status(failed, now=AT + timedelta(hours=2), max_age_s=60)
    assert old.data is DataState.ERROR
    assert old.detail == (
        "last evaluated 2h ago: the evaluator is behind or stopped; then: Prometheus down"
    )
    no_data = evaluate_slo(_slo(), readings={}, at=AT)
    assert outdated_status(no_data, now=AT + timedelta(days=1), max_age_s=60).data is (
        DataState.STALE
    )


def test_last_good_status_keeps_figures_marked_stale_with_age_and_failure() -> None:
    good = _ok_status(AT)
    later = AT + timedelta(minutes=3, seconds=20)
    kept = last_good_status(good, failure="event store down", at=later)
    assert (kept.at, kept.data) == (later, DataState.STALE)
    assert kept.error_budget == good.error_budget
    assert kept.detail == (
        "source failed: event store down; last good evaluation 3m20s ago (2026-11-01T00:00:00Z)"
    )


def test_current_statuses_in_slo_order_with_missing_and_old_ones_flagged() -> None:
    a, b, c = _slo(name="a"), _slo(name="b"), _slo(name="c")
    now = AT + timedelta(minutes=10)
    latest = {
        ("api", "a"): replace(_ok_status(AT + timedelta(minutes=9)), slo="a"),
        ("api", "c"): replace(_ok_status(AT), slo="c"),
        ("other", "b"): replace(_ok_status(now), service="other", slo="b"),
    }
    statuses = current_statuses([c, b, a], latest, now=now, max_age_s=300)
    assert [s.slo for s in statuses] == ["c", "b", "a"]
    assert [s.data for s in statuses] == [DataState.STALE, DataState.ERROR, DataState.OK]
    assert statuses[1].detail == NOT_EVALUATED
    assert statuses[1].at == now
    assert statuses[2] is latest["api", "a"]


def test_the_windows_burn_rate_is_keyed_by_its_name_not_its_display_text() -> None:
    slo = _slo(window=CalendarWindow("week", time_zone="Europe/Paris"))
    at = datetime(2026, 11, 20, tzinfo=UTC)
    label = "week (Europe/Paris)"
    status = evaluate_slo(slo, readings={label: EventCounts(999, 1000)}, at=at)
    assert status.window == label  # display text stays for people
    assert list(status.burn_rates) == ["5m", "30m", "1h", "2h", "6h", "1d", "3d", "week"]
    assert status.burn_rates["week"] == pytest.approx(0.001 / (1 - slo.objective))
    down = unavailable_status(slo, at=at, detail="down")
    assert list(down.burn_rates) == list(status.burn_rates)
