"""The rules around a rotation's stored history: which applied versions rule, when a change
may take effect, how far a schedule may reach, and whose pages a timeline entry counts.

A change takes effect from its `effective_from` and never rewrites the past: it may not start
before now (a minute of slack for clocks that disagree). A later change wins from its own
`effective_from` on: a version still waiting to take effect is superseded by a change applied
after it that takes effect at or before it. Superseded versions stay stored; they just never
rule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from srekit.core.rotation import (
    SINCE_EVER,
    Rotation,
    RotationVersion,
    Shift,
    versioned_on_call,
    versioned_shifts,
)

__all__ = [
    "CALENDAR_AFTER",
    "CALENDAR_BEFORE",
    "CLOCK_SLACK",
    "MAX_RANGE",
    "RotationChange",
    "default_calendar_range",
    "effective_from_problem",
    "names_person",
    "range_problem",
    "ruling_versions",
    "whole_shifts",
]

CLOCK_SLACK = timedelta(minutes=1)
MAX_RANGE = timedelta(days=731)  # two years of shifts: a calendar, never an archive
CALENDAR_BEFORE = timedelta(days=30)
CALENDAR_AFTER = timedelta(days=180)


@dataclass(frozen=True)
class RotationChange:
    """A rotation as a document declares it, and when it is to take effect (None: when
    applied)."""

    rotation: Rotation
    effective_from: datetime | None = None


def ruling_versions(applied: Sequence[RotationVersion]) -> list[RotationVersion]:
    """The versions that rule, by `effective_from`, from versions in the order they were
    applied: each drops the earlier-applied ones taking effect at or after its own
    `effective_from`."""
    kept: list[RotationVersion] = []
    for version in applied:
        kept = [k for k in kept if k.effective_from < version.effective_from]
        kept.append(version)
    return kept


def effective_from_problem(effective_from: datetime, *, now: datetime) -> str | None:
    """Why a change cannot take effect from `effective_from` (None: it can): not before now,
    less `CLOCK_SLACK`."""
    if effective_from < now - CLOCK_SLACK:
        return (
            f"expected now or later: a change never rewrites past shifts; got"
            f" {effective_from.isoformat()}, before now ({now.isoformat()})"
        )
    return None


def range_problem(start: datetime, end: datetime) -> str | None:
    """Why [start, end) is no range to list shifts over (None: it is one): it must be
    non-empty and at most `MAX_RANGE` long."""
    if end <= start:
        return f"expected `to` after `from`, got {start.isoformat()} to {end.isoformat()}"
    if end - start > MAX_RANGE:
        return f"expected a range of at most {MAX_RANGE.days} days, got {(end - start).days}"
    return None


def default_calendar_range(now: datetime) -> tuple[datetime, datetime]:
    """What a calendar feed shows unless asked otherwise: 30 days back to 180 days ahead."""
    return now - CALENDAR_BEFORE, now + CALENDAR_AFTER


def names_person(data: Mapping[str, Any], person: str) -> bool:
    """Whether a `page_sent` timeline entry's data names `person`: as its `person`, or among
    its `people`."""
    people = data.get("people")
    return data.get("person") == person or (isinstance(people, list) and person in people)


_INSTANT = timedelta(microseconds=1)


def whole_shifts(
    versions: Sequence[RotationVersion], *, start: datetime, end: datetime
) -> list[Shift]:
    """The shifts (gaps left out) overlapping [start, end), each whole: never cut where the
    range begins or ends, so a calendar event keeps its start (and its identity) as the range
    slides along. Sorted as `versioned_shifts` sorts them."""
    low, high = start, end
    for shift in versioned_on_call(versions, at=start).values():
        if shift.start != SINCE_EVER:
            low = min(low, shift.start)
    for shift in versioned_on_call(versions, at=end - _INSTANT).values():
        high = max(high, shift.end)
    return [
        shift
        for shift in versioned_shifts(versions, start=low, end=high)
        if shift.member is not None and shift.end > start and shift.start < end
    ]
