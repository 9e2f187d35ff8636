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
from bisect import bisect_right
from calendar import monthrange
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from itertools import pairwise
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
    # (step, months, day of month, time of day) of the handoffs, worked out once
    _timing: tuple[timedelta, int, int, time] = field(init=False, repr=False, compare=False)

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
        first = _first_handoff(self.handoff, self.start)
        object.__setattr__(self, "first_handoff", first)
        timing = (
            timedelta(minutes=self.shift.total_minutes),
            self.shift.months,
            self.handoff.day_of_month or first.day,
            first.time(),
        )
        object.__setattr__(self, "_timing", timing)


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


def _aware_utc(instant: datetime, what: str) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"expected {what} with an offset, got {instant.isoformat()}")
    return instant.astimezone(UTC)


def _instant(wall: datetime, zone: tzinfo) -> datetime:
    """A naive local wall time as an instant (UTC): fold 0 is the first occurrence of a time
    that happens twice, and reads a time that does not exist with the offset before the jump,
    which moves it forward by the gap."""
    return wall.replace(tzinfo=zone).astimezone(UTC)


def _wall(instant: datetime, zone: tzinfo) -> datetime:
    """The naive local wall time of `instant` in `zone`."""
    return instant.astimezone(zone).replace(tzinfo=None)


class _Timeline:
    """One layer's handoffs as instants: handoff `k` is `wall(k)` localised; a handoff moved
    forward through a gap past a later one takes that one's instant (its shift is empty).

    Wall times are aware datetimes in the zone: Python adds to and subtracts them in wall-clock
    arithmetic, and compares two of one zone by their wall clocks.
    """

    __slots__ = ("clock", "day", "first", "months", "step", "zone")

    def __init__(self, layer: Layer, zone: tzinfo) -> None:
        self.zone = zone
        self.first = layer.first_handoff.replace(tzinfo=zone)
        self.step, self.months, self.day, self.clock = layer._timing

    def wall(self, index: int) -> datetime:
        if not self.months:
            return self.first + index * self.step
        month = self.first.month - 1 + index * self.months
        year, month = self.first.year + month // 12, month % 12 + 1
        return datetime.combine(_clamped(year, month, self.day), self.clock, tzinfo=self.zone)

    def boundary(self, index: int) -> datetime:
        """The instant of handoff `index`, non-decreasing in `index`."""
        wall = self.wall(index)
        instant = wall.astimezone(UTC)
        if instant.astimezone(self.zone) == wall:
            return instant
        # in a gap: the next handoff that exists may come first (a gap is at most a day long)
        later = index + 1
        while True:
            wall = self.wall(later)
            after = wall.astimezone(UTC)
            if after.astimezone(self.zone) == wall:
                return min(instant, after)
            later += 1

    def locate(self, instant: datetime) -> tuple[int, datetime | None, datetime]:
        """The handoff at or before `instant` (-1: before the first), its instant (None for
        -1) and the next one's. The index comes from the wall clock, then is corrected by the
        few handoffs a DST offset can move it."""
        local = instant.astimezone(self.zone)
        if self.months:
            elapsed = (local.year - self.first.year) * 12 + local.month - self.first.month
            index = max(elapsed // self.months, -1)
        else:
            index = max((local - self.first) // self.step, -1)
        low = self.boundary(index) if index >= 0 else None
        high: datetime | None = None
        while low is not None and low > instant:
            index, high = index - 1, low
            low = self.boundary(index) if index >= 0 else None
        if high is None:
            high = self.boundary(index + 1)
        while high <= instant:
            index, low = index + 1, high
            high = self.boundary(index + 1)
        return index, low, high


class _OverridePiece:
    __slots__ = ("end", "member", "start")

    def __init__(self, start: datetime, end: datetime, member: str) -> None:
        self.start, self.end, self.member = start, end, member


def _override_pieces(overrides: Sequence[Override]) -> list[_OverridePiece]:
    """Where each override holds its layer, the later-listed winning, sorted by start; the
    pieces of one override that meet are one piece."""
    if len(overrides) == 1:
        (only,) = overrides
        return [_OverridePiece(only.start.astimezone(UTC), only.end.astimezone(UTC), only.member)]
    spans = [
        (override.start.astimezone(UTC), override.end.astimezone(UTC)) for override in overrides
    ]
    points = sorted({point for span in spans for point in span})
    pieces: list[tuple[int, datetime, datetime]] = []
    for low, high in pairwise(points):
        owner = next(
            (i for i in reversed(range(len(spans))) if spans[i][0] <= low and high <= spans[i][1]),
            None,
        )
        if owner is None:
            continue
        if pieces and pieces[-1][0] == owner and pieces[-1][2] == low:
            pieces[-1] = (owner, pieces[-1][1], high)
        else:
            pieces.append((owner, low, high))
    return [_OverridePiece(low, high, overrides[owner].member) for owner, low, high in pieces]


class _LayerPlan:
    """Everything needed to find the segment of one layer holding an instant."""

    __slots__ = ("members", "name", "pieces", "restrictions", "starts", "timeline", "zone")

    def __init__(
        self,
        layer: Layer,
        zone: tzinfo,
        restrictions: list[Restriction],
        overrides: list[Override],
    ) -> None:
        self.name = layer.name
        self.members = layer.members
        self.zone = zone
        self.timeline = _Timeline(layer, zone)
        self.restrictions = restrictions
        self.pieces = _override_pieces(overrides) if overrides else []
        self.starts = [piece.start for piece in self.pieces]

    def segment_at(self, instant: datetime) -> Shift:
        """The shift or gap holding `instant`, with the bounds `shifts` gives it."""
        pieces = self.pieces
        if not pieces:
            member, low, high, gap = self._layer_segment_at(instant)
            return Shift(self.name, member, low, high, False, gap)
        found = bisect_right(self.starts, instant)
        if found > 0 and instant < pieces[found - 1].end:
            piece = pieces[found - 1]
            return Shift(self.name, piece.member, piece.start, piece.end, True)
        member, low, high, gap = self._layer_segment_at(instant)
        if found > 0:
            low = max(low, pieces[found - 1].end)
        if found < len(pieces):
            high = min(high, pieces[found].start)
        return Shift(self.name, member, low, high, False, gap)

    def _layer_segment_at(
        self, instant: datetime
    ) -> tuple[str | None, datetime, datetime, str | None]:
        """(member, start, end, gap) of the layer's own segment holding `instant`."""
        index, low, high = self.timeline.locate(instant)
        if low is None:
            return None, SINCE_EVER, high, BEFORE_START
        member = self.members[index % len(self.members)]
        if not self.restrictions:
            return member, low, high, None
        previous_end, next_start = low, high
        for window_start, window_end in self._windows(low, high):
            if window_start <= instant < window_end:
                return member, max(low, window_start), min(high, window_end), None
            if window_end <= instant:
                previous_end = max(previous_end, window_end)
            elif window_start > instant:
                next_start = min(next_start, window_start)
        return None, previous_end, next_start, RESTRICTED

    def _windows(self, low: datetime, high: datetime) -> list[tuple[datetime, datetime]]:
        """The restriction windows meeting [low, high), those that overlap or meet merged."""
        first = _wall(low, self.zone).date() - timedelta(days=1)
        last = _wall(high, self.zone).date()
        windows: list[tuple[datetime, datetime]] = []
        for offset in range((last - first).days + 1):
            day = first + timedelta(days=offset)
            for restriction in self.restrictions:
                if day.weekday() not in restriction.weekdays:
                    continue
                ends_on = day if restriction.end > restriction.start else day + timedelta(days=1)
                opens = _instant(datetime.combine(day, restriction.start), self.zone)
                closes = _instant(datetime.combine(ends_on, restriction.end), self.zone)
                if opens < closes:
                    windows.append((opens, closes))
        windows.sort()
        merged: list[tuple[datetime, datetime]] = []
        for opens, closes in windows:
            if merged and opens <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], closes))
            else:
                merged.append((opens, closes))
        return merged


def _clipped(shift: Shift, start: datetime, end: datetime) -> Shift:
    if shift.start >= start and shift.end <= end:
        return shift
    return replace(shift, start=max(shift.start, start), end=min(shift.end, end))


def shifts(rotation: Rotation, *, start: datetime, end: datetime) -> list[Shift]:
    """Every layer's shifts and gaps covering [start, end) exactly, clipped at both ends,
    sorted by (layer order, start).

    Consecutive shifts of a layer meet (one's end is the next one's start) and never overlap;
    they are cut at every handoff (even between two shifts of one member), at restriction
    windows and at overrides. An empty range gives no shifts.
    """
    start, end = _aware_utc(start, "start"), _aware_utc(end, "end")
    found: list[Shift] = []
    for plan in _plans(rotation):
        moment = start
        while moment < end:
            segment = plan.segment_at(moment)
            found.append(_clipped(segment, start, end))
            moment = segment.end
    return found


def on_call(rotation: Rotation, *, at: datetime) -> dict[str, Shift]:
    """Layer name -> the shift (or gap) holding `at`, in layer order.

    The shift index is computed from the local wall clock, so the cost does not grow with the
    number of shifts since a layer's start. The shift's bounds are those `shifts` gives it over
    a range holding it whole; a gap before a layer's first shift begins at `SINCE_EVER`.
    """
    at = _aware_utc(at, "at")
    return {plan.name: plan.segment_at(at) for plan in _plans(rotation)}


def _plans(rotation: Rotation) -> list[_LayerPlan]:
    restrictions: dict[str, list[Restriction]] = {}
    for restriction in rotation.restrictions:
        restrictions.setdefault(restriction.layer, []).append(restriction)
    overrides: dict[str, list[Override]] = {}
    for override in rotation.overrides:
        overrides.setdefault(override.layer, []).append(override)
    return [
        _LayerPlan(
            layer,
            rotation.timezone,
            restrictions.get(layer.name, []),
            overrides.get(layer.name, []),
        )
        for layer in rotation.layers
    ]


def _in_order(versions: Sequence[RotationVersion]) -> list[RotationVersion]:
    if not versions:
        raise ValueError("expected at least one rotation version")
    ordered = sorted(versions, key=lambda version: version.effective_from)
    for earlier, later in pairwise(ordered):
        if earlier.effective_from == later.effective_from:
            raise ValueError(
                "expected one version per effective_from, got two from"
                f" {later.effective_from.isoformat()}"
            )
    return ordered


def _layer_order(versions: Sequence[RotationVersion]) -> dict[str, int]:
    """Layers in the order they first appear, version by version."""
    order: dict[str, int] = {}
    for version in versions:
        for layer in version.rotation.layers:
            order.setdefault(layer.name, len(order))
    return order


def versioned_shifts(
    versions: Sequence[RotationVersion], *, start: datetime, end: datetime
) -> list[Shift]:
    """`shifts` of each version over the part of [start, end) it rules, sorted by (layer order
    across versions, start).

    Each version rules from its `effective_from` until the next one's, and a version change
    cuts shifts there. Before the first version, each of its layers is a gap ("before
    effective_from"); a layer missing from a later version has no shifts while it rules.
    """
    start, end = _aware_utc(start, "start"), _aware_utc(end, "end")
    ordered = _in_order(versions)
    found: list[Shift] = []
    first_from = _aware_utc(ordered[0].effective_from, "effective_from")
    if start < min(end, first_from):
        found.extend(
            Shift(layer.name, None, start, min(end, first_from), gap=BEFORE_EFFECTIVE_FROM)
            for layer in ordered[0].rotation.layers
        )
    for index, version in enumerate(ordered):
        low = max(start, version.effective_from)
        high = end if index + 1 == len(ordered) else min(end, ordered[index + 1].effective_from)
        if low < high:
            found.extend(shifts(version.rotation, start=low, end=high))
    order = _layer_order(ordered)
    found.sort(key=lambda shift: (order[shift.layer], shift.start))
    return found


def versioned_on_call(versions: Sequence[RotationVersion], *, at: datetime) -> dict[str, Shift]:
    """`on_call` of the version ruling at `at`, its shifts cut at the version's bounds; before
    the first version, each of its layers is a gap ("before effective_from")."""
    at = _aware_utc(at, "at")
    ordered = _in_order(versions)
    ruling = [index for index, version in enumerate(ordered) if version.effective_from <= at]
    if not ruling:
        first_from = _aware_utc(ordered[0].effective_from, "effective_from")
        return {
            layer.name: Shift(layer.name, None, SINCE_EVER, first_from, gap=BEFORE_EFFECTIVE_FROM)
            for layer in ordered[0].rotation.layers
        }
    index = ruling[-1]
    low = _aware_utc(ordered[index].effective_from, "effective_from")
    high = ordered[index + 1].effective_from if index + 1 < len(ordered) else None
    held = on_call(ordered[index].rotation, at=at)
    return {
        name: _clipped(shift, low, shift.end if high is None else min(shift.end, high))
        for name, shift in held.items()
    }


def _overlap_hours(start: datetime, end: datetime, low: datetime, high: datetime) -> float:
    seconds = (min(end, high) - max(start, low)).total_seconds()
    return max(seconds, 0.0) / 3600


def _night_and_weekend_hours(shift: Shift, zone: tzinfo) -> tuple[float, float]:
    """Hours of `shift` in nights (22:00-07:00) and weekends (Saturday 00:00 to Monday
    00:00), wall clock in `zone`: a night across a DST change is 8 or 10 hours long."""
    first = _wall(shift.start, zone).date() - timedelta(days=1)
    last = _wall(shift.end, zone).date()
    night = weekend = 0.0
    for offset in range((last - first).days + 1):
        day = first + timedelta(days=offset)
        following = day + timedelta(days=1)
        night += _overlap_hours(
            shift.start,
            shift.end,
            _instant(datetime.combine(day, _NIGHT_STARTS), zone),
            _instant(datetime.combine(following, _NIGHT_ENDS), zone),
        )
        if day.weekday() >= 5:
            weekend += _overlap_hours(
                shift.start,
                shift.end,
                _instant(datetime.combine(day, time()), zone),
                _instant(datetime.combine(following, time()), zone),
            )
    return night, weekend


_NIGHT_STARTS = time(22)
_NIGHT_ENDS = time(7)


def fairness(
    shifts: Sequence[Shift],
    *,
    timezones: Mapping[str, tzinfo],
    default_timezone: tzinfo,
    pages: Mapping[str, int] = MappingProxyType({}),
) -> list[PersonLoad]:
    """Each person's load over `shifts`, sorted by person: hours held, of which at night
    (22:00-07:00) and at weekends (Saturday and Sunday), local to the person's time zone
    (`timezones`, else `default_timezone`, usually the rotation's); the number of shifts, and
    the pages given. Gaps count for nobody; a person with pages and no shift is listed too.
    """
    totals: dict[str, list[float]] = {}
    for shift in shifts:
        if shift.member is None:
            continue
        zone = timezones.get(shift.member, default_timezone)
        night, weekend = _night_and_weekend_hours(shift, zone)
        held = totals.setdefault(shift.member, [0.0, 0.0, 0.0, 0])
        held[0] += shift.duration.total_seconds() / 3600
        held[1] += night
        held[2] += weekend
        held[3] += 1
    for person in pages:
        totals.setdefault(person, [0.0, 0.0, 0.0, 0])
    return [
        PersonLoad(
            person=person,
            hours=held[0],
            night_hours=held[1],
            weekend_hours=held[2],
            shifts=int(held[3]),
            pages=pages.get(person, 0),
        )
        for person, held in sorted(totals.items())
    ]
