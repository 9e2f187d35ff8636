"""On-call rotations: who holds each layer's pager when, across daylight-saving time.

A rotation has layers (primary, secondary, manager, ...). Each layer hands its pager round-robin
among its members, one shift each, starting with the first member.

Wall clock, not elapsed time. Shifts are intervals of wall-clock time in the rotation's time
zone: a "Mon 09:00" handoff stays at 09:00 local all year, so a 7-day shift across a DST change
lasts 167 hours (spring forward) or 169 hours (fall back). Handoff `k` of a layer is its first
handoff plus `k` shift lengths in naive local wall-clock arithmetic (months by calendar months;
a day of month past the month's end clamps to that month's last day, so a "31 09:00" monthly
handoff falls on Feb 28 and then Mar 31 again), and only then localised:

- a wall time that happens twice (fall back) takes its first occurrence;
- a wall time that does not exist (spring forward) moves forward by the gap: 02:30 on Berlin's
  one-hour jump becomes 03:30, 02:15 on Lord Howe's 30-minute jump becomes 02:45. A handoff so
  moved to or past a later handoff (a shift shorter than the gap) gives an empty shift, which
  is skipped: the member whose turn it was has no shift.

The first shift starts at the first handoff on/after the layer's `start` date: for a weekday
handoff the first such weekday on/after `start`, for a daily one ("09:00") `start` itself, for a
monthly one ("1 09:00") that day of the month on/after `start`. Before it the layer has a gap
("before start"). A layer with a weekday handoff needs a shift of whole days (else handoffs
would leave the weekday); a day-of-month handoff needs a shift of whole months.

Restrictions: a layer with restrictions is covered only inside their windows (weekdays, local
start and end times; an end at or before the start spans midnight, an end equal to the start is
a whole day); outside them it has a gap ("restricted"). Shifts are cut where windows open and
close, and at handoffs.

Overrides win over the layer for their interval, restricted or not, before start or not: the
layer's shifts are cut around them and the override is one shift (override=True) of its member.
Where overrides of one layer overlap, the later-listed wins.

Versions: a `RotationVersion` rules from its `effective_from` until the next version's; before
the first, each of the first version's layers is a gap ("before effective_from"). A version
change cuts shifts at `effective_from`. A layer missing from a later version ends there; a layer
new in a later version begins there.

`on_call` finds the shift index arithmetically from the local wall clock: its cost does not
grow with the number of shifts since `start`. Its shift has the bounds `shifts` would give it
over a range that holds it whole; a gap before start begins at `SINCE_EVER`.

All instants are aware datetimes; every `Shift` is in UTC.
"""

from __future__ import annotations

import re
from calendar import monthrange
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from types import MappingProxyType

__all__ = [
    "BEFORE_EFFECTIVE_FROM",
    "BEFORE_START",
    "RESTRICTED",
    "SINCE_EVER",
    "WEEKDAY_NAMES",
    "Handoff",
    "Layer",
    "Override",
    "PersonLoad",
    "Restriction",
    "Rotation",
    "RotationVersion",
    "Shift",
    "ShiftLength",
    "fairness",
    "on_call",
    "shifts",
    "versioned_on_call",
    "versioned_shifts",
]

#: Why a layer has nobody: the reasons a gap `Shift` gives.
BEFORE_START = "before start"
RESTRICTED = "restricted"
BEFORE_EFFECTIVE_FROM = "before effective_from"
#: Where a gap that has no beginning (before a layer's first shift) begins, for `on_call`.
SINCE_EVER = datetime.min.replace(tzinfo=UTC)
WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_FULL_WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

_MINUTES_PER_DAY = 24 * 60
#: The longest shift: a year of days, or 12 months. A longer one is a typo, not a rotation.
MAX_SHIFT_MINUTES = 366 * _MINUTES_PER_DAY
MAX_SHIFT_MONTHS = 12
_SHIFT_TEXT = re.compile(r"(?P<count>[0-9]{1,9})(?P<unit>mo|m|h|d|w)")
_UNIT_FIELDS = {"m": "minutes", "h": "hours", "d": "days"}
_HANDOFF_TEXT = re.compile(
    r"(?:(?P<weekday>[A-Za-z]+)\s+|(?P<day>[0-9]{1,2})\s+)?(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2})"
)


@dataclass(frozen=True)
class ShiftLength:
    """How long each shift is: calendar months, or days, hours and minutes of wall clock."""

    days: int = 0
    hours: int = 0
    minutes: int = 0
    months: int = 0

    def __post_init__(self) -> None:
        parts = (self.days, self.hours, self.minutes, self.months)
        if any(isinstance(part, bool) or not isinstance(part, int) for part in parts):
            raise ValueError("expected whole numbers of days, hours, minutes and months")
        if any(part < 0 for part in parts):
            raise ValueError(f"expected a shift of positive length, got {self}")
        if self.months and (self.days or self.hours or self.minutes):
            raise ValueError("expected a shift in months or in days/hours/minutes, not both")
        if self.months > MAX_SHIFT_MONTHS:
            raise ValueError(f"expected a shift of at most {MAX_SHIFT_MONTHS} months, got {self}")
        if not self.months and self.total_minutes <= 0:
            raise ValueError("expected a shift longer than 0 minutes")
        if self.total_minutes > MAX_SHIFT_MINUTES:
            raise ValueError(f"expected a shift of at most 366 days, got {self}")

    @property
    def total_minutes(self) -> int:
        """Wall-clock minutes of a shift that is not in months (0 for one that is)."""
        return (self.days * 24 + self.hours) * 60 + self.minutes

    @classmethod
    def parse(cls, text: str) -> ShiftLength:
        """`30m`, `12h`, `1d`, `7d`, `2w`, `1mo`: one count and one unit."""
        found = _SHIFT_TEXT.fullmatch(text.strip())
        if found is None:
            raise ValueError(
                f"expected a shift length like 30m, 12h, 1d, 7d, 2w or 1mo, got {text!r}"
            )
        count, unit = int(found["count"]), found["unit"]
        if unit == "mo":
            return cls(months=count)
        if count > MAX_SHIFT_MINUTES:
            raise ValueError(f"expected a shift of at most 366 days, got {text!r}")
        if unit == "w":
            return cls(days=7 * count)
        return cls(**{_UNIT_FIELDS[unit]: count})

    def __str__(self) -> str:
        """The shortest text `parse` reads back to an equal length (`7d`, `90m`, `1mo`)."""
        if self.months:
            return f"{self.months}mo"
        minutes = self.total_minutes
        if minutes % _MINUTES_PER_DAY == 0:
            return f"{minutes // _MINUTES_PER_DAY}d"
        if minutes % 60 == 0:
            return f"{minutes // 60}h"
        return f"{minutes}m"


@dataclass(frozen=True)
class Handoff:
    """When shifts change hands, local to the rotation: a weekday and time ("Mon 09:00"), a
    time every day ("09:00"), or a day of the month and time ("1 09:00")."""

    time: time
    weekday: int | None = None  # Monday 0 .. Sunday 6
    day_of_month: int | None = None  # 1 .. 31

    def __post_init__(self) -> None:
        if self.time.tzinfo is not None:
            raise ValueError("expected a wall-clock handoff time without a time zone")
        if self.weekday is not None and self.day_of_month is not None:
            raise ValueError("expected a weekday or a day of the month for the handoff, not both")
        if self.weekday is not None and not 0 <= self.weekday <= 6:
            raise ValueError(f"expected a weekday 0 (Monday) to 6 (Sunday), got {self.weekday}")
        if self.day_of_month is not None and not 1 <= self.day_of_month <= 31:
            raise ValueError(f"expected a day of the month 1 to 31, got {self.day_of_month}")

    @classmethod
    def parse(cls, text: str) -> Handoff:
        """`Mon 09:00` (any case, full names too), `09:00`, `1 09:00`."""
        expected = f'expected a handoff like "Mon 09:00", "09:00" or "1 09:00", got {text!r}'
        found = _HANDOFF_TEXT.fullmatch(text.strip())
        if found is None:
            raise ValueError(expected)
        hour, minute = int(found["hour"]), int(found["minute"])
        if hour > 23 or minute > 59:
            raise ValueError(f"{expected}: no such time of day")
        at = time(hour, minute)
        if found["day"] is not None:
            day = int(found["day"])
            if not 1 <= day <= 31:
                raise ValueError(f"{expected}: the day of the month is 1 to 31")
            return cls(time=at, day_of_month=day)
        if found["weekday"] is not None:
            word = found["weekday"].lower()
            for index, (short, full) in enumerate(
                zip(WEEKDAY_NAMES, _FULL_WEEKDAY_NAMES, strict=True)
            ):
                if word in (short.lower(), full):
                    return cls(time=at, weekday=index)
            raise ValueError(f"{expected}: weekdays are Mon to Sun")
        return cls(time=at)

    def __str__(self) -> str:
        clock = self.time.strftime("%H:%M")
        if self.weekday is not None:
            return f"{WEEKDAY_NAMES[self.weekday]} {clock}"
        if self.day_of_month is not None:
            return f"{self.day_of_month} {clock}"
        return clock


@dataclass(frozen=True)
class Layer:
    """One pager, handed round-robin among `members` every `shift` at `handoff`."""

    name: str
    members: tuple[str, ...]
    shift: ShiftLength
    handoff: Handoff
    start: date
    #: The first shift's start, in naive local wall-clock time (derived from the above).
    first_handoff: datetime = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.members:
            raise ValueError(f"layer {self.name!r}: expected at least one member")
        repeated = sorted({m for m in self.members if self.members.count(m) > 1})
        if repeated:
            raise ValueError(
                f"layer {self.name!r}: expected each member once, got {', '.join(repeated)}"
                " more than once"
            )
        if self.handoff.weekday is not None and (
            self.shift.months or self.shift.total_minutes % _MINUTES_PER_DAY
        ):
            raise ValueError(
                f"layer {self.name!r}: a weekday handoff ({self.handoff}) needs a shift of whole"
                f" days (1d, 7d, 14d, ...), got {self.shift}"
            )
        if self.handoff.day_of_month is not None and not self.shift.months:
            raise ValueError(
                f"layer {self.name!r}: a day-of-month handoff ({self.handoff}) needs a shift in"
                f" months (1mo, 3mo, ...), got {self.shift}"
            )
        object.__setattr__(self, "first_handoff", _first_handoff(self.handoff, self.start))


def _first_handoff(handoff: Handoff, start: date) -> datetime:
    """The naive local wall-clock time of the first handoff on/after `start`."""
    if handoff.weekday is not None:
        day = start + timedelta(days=(handoff.weekday - start.weekday()) % 7)
    elif handoff.day_of_month is not None:
        day = _clamped(start.year, start.month, handoff.day_of_month)
        if day < start:
            month = start.month % 12 + 1
            day = _clamped(start.year + (start.month == 12), month, handoff.day_of_month)
    else:
        day = start
    return datetime.combine(day, handoff.time)


def _clamped(year: int, month: int, day: int) -> date:
    """`day` of the month, or the month's last day when it has fewer."""
    last = monthrange(year, month)[1]
    return date(year, month, min(day, last))


@dataclass(frozen=True)
class Restriction:
    """`layer` is covered only inside these windows: on each of `weekdays` (Monday 0) from
    `start` to `end`, local wall clock; an end at or before the start ends the next day."""

    layer: str
    weekdays: frozenset[int]
    start: time
    end: time

    def __post_init__(self) -> None:
        if not self.weekdays:
            raise ValueError(f"restriction of layer {self.layer!r}: expected at least one weekday")
        if any(not 0 <= day <= 6 for day in self.weekdays):
            raise ValueError(
                f"restriction of layer {self.layer!r}: expected weekdays 0 (Monday) to 6 (Sunday)"
            )


@dataclass(frozen=True)
class Override:
    """`member` holds `layer`'s pager from `start` to `end` (aware), whoever's turn it is."""

    layer: str
    member: str
    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError(f"override of layer {self.layer!r}: expected times with an offset")
        if self.start >= self.end:
            raise ValueError(
                f"override of layer {self.layer!r}: expected its start before its end,"
                f" got {self.start.isoformat()} to {self.end.isoformat()}"
            )


@dataclass(frozen=True)
class Rotation:
    """Layers handing pagers over in `timezone`, with restrictions and overrides."""

    name: str
    team: str | None
    timezone: tzinfo
    layers: tuple[Layer, ...]
    restrictions: tuple[Restriction, ...] = ()
    overrides: tuple[Override, ...] = ()

    def __post_init__(self) -> None:
        if not self.layers:
            raise ValueError(f"rotation {self.name!r}: expected at least one layer")
        names = [layer.name for layer in self.layers]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(
                f"rotation {self.name!r}: expected each layer name once, got"
                f" {', '.join(repeated)} more than once"
            )
        for kind, items in (("restriction", self.restrictions), ("override", self.overrides)):
            for item in items:
                if item.layer not in names:
                    raise ValueError(
                        f"rotation {self.name!r}: {kind} names layer {item.layer!r}, which it"
                        f" does not have (layers: {', '.join(names)})"
                    )


@dataclass(frozen=True)
class Shift:
    """`member` holds `layer` from `start` to `end` (UTC); member None is a gap, `gap` says why."""

    layer: str
    member: str | None
    start: datetime
    end: datetime
    override: bool = False
    gap: str | None = None

    @property
    def duration(self) -> timedelta:
        return self.end - self.start


@dataclass(frozen=True)
class RotationVersion:
    """`rotation` as it rules from `effective_from` (aware) until the next version's."""

    rotation: Rotation
    effective_from: datetime

    def __post_init__(self) -> None:
        if self.effective_from.tzinfo is None:
            raise ValueError("expected effective_from with an offset")


@dataclass(frozen=True)
class PersonLoad:
    """One person's on-call load over some shifts: hours held, of which at night (22:00-07:00)
    and at weekends (Saturday and Sunday), both local to the person; shifts and pages."""

    person: str
    hours: float
    night_hours: float
    weekend_hours: float
    shifts: int
    pages: int


def shifts(rotation: Rotation, *, start: datetime, end: datetime) -> list[Shift]:
    """Every layer's shifts and gaps covering [start, end) exactly, clipped at both ends,
    sorted by (layer order, start)."""
    raise NotImplementedError


def on_call(rotation: Rotation, *, at: datetime) -> dict[str, Shift]:
    """Layer name -> the shift (or gap) holding `at`."""
    raise NotImplementedError


def versioned_shifts(
    versions: Sequence[RotationVersion], *, start: datetime, end: datetime
) -> list[Shift]:
    """`shifts` of each version over the part of [start, end) it rules."""
    raise NotImplementedError


def versioned_on_call(versions: Sequence[RotationVersion], *, at: datetime) -> dict[str, Shift]:
    """`on_call` of the version ruling at `at`."""
    raise NotImplementedError


def fairness(
    shifts: Sequence[Shift],
    *,
    timezones: Mapping[str, tzinfo],
    default_timezone: tzinfo,
    pages: Mapping[str, int] = MappingProxyType({}),
) -> list[PersonLoad]:
    """Each person's load over `shifts` (gaps count for nobody), sorted by person."""
    raise NotImplementedError
