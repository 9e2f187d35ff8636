"""iCalendar (RFC 5545) feeds of on-call shifts, written with the `icalendar` library.

One VEVENT per shift: SUMMARY `payments primary: alice`, DTSTART and DTEND in UTC (a shift's
length across a daylight-saving change is exact, and every client shows it in its own zone),
and a UID made of the rotation, the layer and the shift's start, so the same shift keeps its
UID from one poll to the next and a calendar client updates it in place rather than adding it
again. Gaps are not events.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from icalendar import Calendar, Event

from srekit import __version__
from srekit.core.rotation import Shift

__all__ = ["CalendarShift", "calendar_feed", "shift_uid"]

CalendarShift = tuple[str, Shift]
"""(rotation name, shift): one event of a feed."""


def shift_uid(rotation: str, shift: Shift) -> str:
    """`payments/primary/20260105T080000Z@srekit`: stable as long as the shift starts then."""
    return f"{rotation}/{shift.layer}/{shift.start.astimezone(UTC):%Y%m%dT%H%M%SZ}@srekit"


def calendar_feed(name: str, shifts: Sequence[CalendarShift], *, now: datetime) -> bytes:
    """The feed `name` (its calendar's title) of `shifts`, stamped `now` (DTSTAMP)."""
    calendar = Calendar()
    calendar.add("prodid", f"-//srekit//srekit {__version__}//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    stamp = now.astimezone(UTC)
    for rotation, shift in shifts:
        if shift.member is None:
            continue
        event = Event()
        event.add("uid", shift_uid(rotation, shift))
        event.add("dtstamp", stamp)
        event.add("dtstart", shift.start.astimezone(UTC))
        event.add("dtend", shift.end.astimezone(UTC))
        event.add("summary", f"{rotation} {shift.layer}: {shift.member}")
        event.add("categories", ["on-call", rotation])
        if shift.override:
            event.add("description", "an override of the rotation's schedule")
        event.add("transp", "TRANSPARENT")  # on call is not busy: other meetings still fit
        calendar.add_component(event)
    feed: bytes = calendar.to_ical()
    return feed
