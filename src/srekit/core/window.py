"""Durations and SLO windows: rolling (`30d`) or calendar (`month` in a time zone).

Calendar arithmetic uses the IANA database (zoneinfo), which is data, not I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "CALENDAR_UNITS",
    "CalendarUnit",
    "CalendarWindow",
    "RollingWindow",
    "Window",
    "calendar_period",
    "format_duration",
    "parse_duration",
    "window_label",
    "window_length_s",
    "window_metric_name",
    "window_span",
]

CalendarUnit = Literal["minute", "hour", "day", "week", "month", "quarter", "year"]
CALENDAR_UNITS: tuple[CalendarUnit, ...] = (
    "minute",
    "hour",
    "day",
    "week",
    "month",
    "quarter",
    "year",
)
_CLOCK_UNIT_S = {"minute": 60, "hour": 3600}

_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)")


def parse_duration(text: str) -> int:
    """Seconds in a Prometheus-style duration (`5m`, `1h30m`, `30d`, `1w`).

    Raises ValueError naming what was expected; zero and negative durations are refused.
    """
    cleaned = text.strip()
    position = 0
    total = 0.0
    for match in _DURATION_PART.finditer(cleaned):
        if match.start() != position:
            break
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        position = match.end()
    if not cleaned or position != len(cleaned):
        raise ValueError(f"expected a duration like 5m, 1h, 30d or 1w, got {text!r}")
    if total < 1 or total != int(total):
        raise ValueError(f"expected a duration of a whole number of seconds >= 1s, got {text!r}")
    return int(total)


@cache  # rule generation spells the same few windows hundreds of thousands of times
def format_duration(seconds: float) -> str:
    """Prometheus spelling of a duration, in the largest unit that divides it (`2592000` → `30d`).

    Weeks are not used, so 7 days print as `7d` like Sloth and the SRE Workbook do.
    """
    whole = int(seconds)
    if whole != seconds or whole <= 0:
        raise ValueError(f"expected a positive whole number of seconds, got {seconds!r}")
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if whole % size == 0:
            return f"{whole // size}{unit}"
    return f"{whole}s"


@dataclass(frozen=True)
class RollingWindow:
    """The last `duration_s` seconds before now."""

    duration_s: int


@dataclass(frozen=True)
class CalendarWindow:
    """`count` calendar units (day, week from Monday, month, quarter, year) in `time_zone`."""

    unit: CalendarUnit
    count: int = 1
    time_zone: str = "UTC"

    def __post_init__(self) -> None:
        if self.unit not in CALENDAR_UNITS:
            raise ValueError(f"expected a calendar unit in {CALENDAR_UNITS}, got {self.unit!r}")
        if self.count < 1:
            raise ValueError(f"expected a calendar count >= 1, got {self.count}")
        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {self.time_zone!r}") from error


Window = RollingWindow | CalendarWindow


def window_label(window: Window) -> str:
    """Short human/JSON name: `30d`, `month`, `2 weeks (Europe/Paris)`."""
    if isinstance(window, RollingWindow):
        return format_duration(window.duration_s)
    name = window.unit if window.count == 1 else f"{window.count} {window.unit}s"
    return name if window.time_zone == "UTC" else f"{name} ({window.time_zone})"


def window_metric_name(label: str) -> str:
    """A window label (`window_label`, a burn-rate window's `format_duration`) as a metric
    label value: a duration stays as it is (`5m`, `30d`), a calendar window loses its time
    zone and spaces (`month (Europe/Paris)` → `month`, `2 weeks` → `2weeks`), so a series
    keeps one name whatever the zone and the text never needs quoting in PromQL."""
    name, _, _ = label.partition(" (")
    return name.replace(" ", "")


def _add_units(start: datetime, unit: CalendarUnit, count: int) -> datetime:
    if unit in _CLOCK_UNIT_S:
        return start + timedelta(seconds=_CLOCK_UNIT_S[unit] * count)
    if unit == "day":
        return start + timedelta(days=count)
    if unit == "week":
        return start + timedelta(weeks=count)
    months = {"month": 1, "quarter": 3, "year": 12}[unit] * count
    index = start.month - 1 + months
    return start.replace(year=start.year + index // 12, month=index % 12 + 1)


def calendar_period(window: CalendarWindow, at: datetime) -> tuple[datetime, datetime]:
    """The calendar period holding `at`, as UTC datetimes `[start, end)`.

    Periods are aligned on the unit in the window's zone: minutes and hours on the local
    clock, days at local midnight, weeks on
    Monday, months on the 1st, quarters on Jan/Apr/Jul/Oct, years on Jan 1. With count > 1,
    periods are counted from the Unix epoch's unit in that zone.
    """
    zone = ZoneInfo(window.time_zone)
    local = at.astimezone(zone)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    if window.unit in _CLOCK_UNIT_S:
        length_s = _CLOCK_UNIT_S[window.unit] * window.count
        since_epoch = int((local.replace(tzinfo=None) - datetime(1970, 1, 1)).total_seconds())
        base = datetime(1970, 1, 1) + timedelta(seconds=since_epoch // length_s * length_s)
    elif window.unit == "day":
        base = midnight
        ordinal = (base.date().toordinal() - 719163) // window.count * window.count + 719163
        base = datetime.fromordinal(ordinal)
    elif window.unit == "week":
        base = midnight - timedelta(days=midnight.weekday())
        epoch_monday = datetime(1969, 12, 29)
        weeks = (base - epoch_monday).days // 7
        base = epoch_monday + timedelta(weeks=weeks // window.count * window.count)
    else:
        months_per_unit = {"month": 1, "quarter": 3, "year": 12}[window.unit] * window.count
        month_index = (midnight.year - 1970) * 12 + midnight.month - 1
        month_index = month_index // months_per_unit * months_per_unit
        base = datetime(1970 + month_index // 12, month_index % 12 + 1, 1)
    end = _add_units(base, window.unit, window.count)
    return base.replace(tzinfo=zone).astimezone(ZoneInfo("UTC")), end.replace(
        tzinfo=zone
    ).astimezone(ZoneInfo("UTC"))


def window_span(window: Window, at: datetime) -> tuple[datetime, datetime]:
    """The time range an SLO is judged on at `at`: the last W seconds, or the period so far."""
    if isinstance(window, RollingWindow):
        return at - timedelta(seconds=window.duration_s), at
    start, _ = calendar_period(window, at)
    return start, at


def window_length_s(window: Window, at: datetime) -> int:
    """Full length W of the window in seconds (a calendar period's whole length, DST included)."""
    if isinstance(window, RollingWindow):
        return window.duration_s
    start, end = calendar_period(window, at)
    return int((end - start).total_seconds())
