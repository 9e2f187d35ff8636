"""Durations and calendar periods, including DST and the week's Monday."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from srekit.core.window import (
    CalendarWindow,
    RollingWindow,
    Window,
    calendar_period,
    format_duration,
    parse_duration,
    window_label,
    window_length_s,
    window_name,
    window_span,
)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("5m", 300), ("1h30m", 5400), ("30d", 2592000), ("1w", 604800), ("90s", 90), ("2h", 7200)],
)
def test_parse_duration(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "5", "m", "5x", "0s", "-1h", "1.5s", "5m 3s", "500ms"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


@given(st.integers(min_value=1, max_value=10**8))
def test_format_parse_round_trip(seconds: int) -> None:
    assert parse_duration(format_duration(seconds)) == seconds


def test_month_in_paris_across_dst() -> None:
    window = CalendarWindow("month", time_zone="Europe/Paris")
    at = datetime(2026, 3, 15, 12, tzinfo=UTC)
    start, end = calendar_period(window, at)
    assert start == datetime(2026, 2, 28, 23, tzinfo=UTC)  # 1 March, 00:00 CET
    assert end == datetime(2026, 3, 31, 22, tzinfo=UTC)  # 1 April, 00:00 CEST
    assert window_length_s(window, at) == (31 * 24 - 1) * 3600
    assert window_span(window, at) == (start, at)


def test_week_starts_monday_and_quarter() -> None:
    at = datetime(2026, 11, 22, 15, tzinfo=UTC)  # a Sunday
    assert calendar_period(CalendarWindow("week"), at)[0] == datetime(2026, 11, 16, tzinfo=UTC)
    assert calendar_period(CalendarWindow("quarter"), at) == (
        datetime(2026, 10, 1, tzinfo=UTC),
        datetime(2027, 1, 1, tzinfo=UTC),
    )
    assert calendar_period(CalendarWindow("year"), at)[1] == datetime(2027, 1, 1, tzinfo=UTC)


def test_rolling_and_labels() -> None:
    at = datetime(2026, 11, 22, tzinfo=UTC)
    assert window_span(RollingWindow(86400), at) == (datetime(2026, 11, 21, tzinfo=UTC), at)
    assert window_label(RollingWindow(30 * 86400)) == "30d"
    assert window_label(CalendarWindow("month", time_zone="Europe/Paris")) == "month (Europe/Paris)"


@pytest.mark.parametrize(
    ("window", "name"),
    [
        (RollingWindow(30 * 86400), "30d"),
        (RollingWindow(3600), "1h"),
        (CalendarWindow("week", time_zone="Europe/Paris"), "week"),
        (CalendarWindow("month", count=2), "2months"),
    ],
)
def test_window_names_are_keys_not_display_text(window: Window, name: str) -> None:
    assert window_name(window) == name


def test_calendar_rejects_unknown_zone_and_unit() -> None:
    with pytest.raises(ValueError, match="time zone"):
        CalendarWindow("month", time_zone="Mars/Olympus")
    with pytest.raises(ValueError, match="calendar unit"):
        CalendarWindow("fortnight")  # type: ignore[arg-type]


@given(
    st.datetimes(
        min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    )
)
def test_calendar_period_contains_its_instant(at: datetime) -> None:
    for unit in ("day", "week", "month", "quarter", "year"):
        start, end = calendar_period(CalendarWindow(unit, time_zone="America/New_York"), at)
        assert start <= at < end


@pytest.mark.parametrize(
    ("window", "at", "start", "end"),
    [
        # hours on the UTC clock
        (
            CalendarWindow("hour", 1, "UTC"),
            datetime(2026, 11, 1, 10, 17, tzinfo=UTC),
            datetime(2026, 11, 1, 10, tzinfo=UTC),
            datetime(2026, 11, 1, 11, tzinfo=UTC),
        ),
        # quarter hours on India's clock (+05:30): 10:17:30Z is 15:47:30 local, in 15:45-16:00
        (
            CalendarWindow("minute", 15, "Asia/Kolkata"),
            datetime(2026, 11, 1, 10, 17, 30, tzinfo=UTC),
            datetime(2026, 11, 1, 10, 15, tzinfo=UTC),
            datetime(2026, 11, 1, 10, 30, tzinfo=UTC),
        ),
    ],
)
def test_clock_unit_periods(
    window: CalendarWindow, at: datetime, start: datetime, end: datetime
) -> None:
    assert calendar_period(window, at) == (start, end)
    assert window_length_s(window, at) == int((end - start).total_seconds())


@pytest.mark.parametrize("seconds", [0, -60, 1.5])
def test_format_duration_refuses_what_is_not_a_positive_whole_number(seconds: float) -> None:
    with pytest.raises(ValueError, match="expected a positive whole number of seconds"):
        format_duration(seconds)


def test_calendar_count_must_be_positive() -> None:
    with pytest.raises(ValueError, match="expected a calendar count >= 1, got 0"):
        CalendarWindow("day", 0)
