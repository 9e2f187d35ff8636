"""On call: who holds each layer, the schedule, the load on each person, calendars, and
storing rotations. The shifts are `core.rotation`'s; which stored versions rule is
`core.oncall`'s; this module reads the store and hands them over.

A stored rotation's schedule is its ruling versions' (`store.repo.ruling_rotation_versions`),
so a change never rewrites what was scheduled before it took effect. A rotation read from a
file is one version, ruling from its `spec.effective_from` (or since ever).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo

from srekit.core.oncall import RotationChange, range_problem, whole_shifts
from srekit.core.rotation import (
    SINCE_EVER,
    PersonLoad,
    RotationVersion,
    Shift,
    fairness,
    versioned_on_call,
    versioned_shifts,
)
from srekit.errors import Conflict, SpecError
from srekit.store import StoreEngine
from srekit.store.database import transaction

__all__ = [
    "CALENDAR_SECRET",
    "StoredRotationChange",
    "calendar_shifts",
    "calendar_signature_matches",
    "check_range",
    "file_versions",
    "person_calendar_shifts",
    "person_shifts",
    "rotation_calendar_path",
    "rotation_fairness",
    "schedule",
    "signed_calendar_path",
    "store_rotation",
    "stored_versions",
    "who",
]


def check_range(
    start: datetime, end: datetime, *, fields: tuple[str, str] = ("from", "to")
) -> None:
    """A SpecError naming `to` unless [start, end) is a range to list shifts over."""
    problem = range_problem(start, end)
    if problem is not None:
        raise SpecError(problem, file="query", field=fields[1])


def stored_versions(engine: StoreEngine, *, name: str) -> list[RotationVersion]:
    """The stored rotation's ruling versions (NotFound without it)."""
    from srekit.store.repo import ruling_rotation_versions

    with transaction(engine, read_only=True) as session:
        return ruling_rotation_versions(session, name=name)


def file_versions(change: RotationChange) -> list[RotationVersion]:
    """A rotation from a file as versions: one, ruling from its `effective_from` or since ever."""
    return [RotationVersion(change.rotation, change.effective_from or SINCE_EVER)]


def who(versions: Sequence[RotationVersion], *, at: datetime) -> dict[str, Shift]:
    """Layer name -> the shift (or gap) holding `at`."""
    return versioned_on_call(versions, at=at)


def schedule(versions: Sequence[RotationVersion], *, start: datetime, end: datetime) -> list[Shift]:
    """Every shift and gap over [start, end), overrides applied."""
    check_range(start, end)
    return versioned_shifts(versions, start=start, end=end)


def rotation_fairness(
    engine: StoreEngine,
    versions: Sequence[RotationVersion],
    *,
    start: datetime,
    end: datetime,
) -> list[PersonLoad]:
    """Each member's load over [start, end): hours, night and weekend hours in their own
    zone (the stored person's, else the rotation's), shifts, and pages the incident
    timelines record (`page_sent` entries naming them). Every member is listed, with zero
    hours when they held no shift."""
    from srekit.store.repo import list_people, pages_per_person

    shifts = schedule(versions, start=start, end=end)
    # every member of a layer, on call in the range or not (a member with no hours is the
    # fairness question), and whoever an override put on call
    members = sorted(
        {shift.member for shift in shifts if shift.member is not None}
        | {m for version in versions for layer in version.rotation.layers for m in layer.members}
    )
    with transaction(engine, read_only=True) as session:
        zones: dict[str, tzinfo] = {
            row.name: ZoneInfo(row.timezone)
            for row in list_people(session)
            if row.name in members and row.timezone
        }
        pages = pages_per_person(session, people=members, start=start, end=end)
    latest = versions[-1].rotation
    return fairness(shifts, timezones=zones, default_timezone=latest.timezone, pages=pages)


def calendar_shifts(
    versions: Sequence[RotationVersion], *, start: datetime, end: datetime
) -> list[Shift]:
    """The shifts a calendar feed shows over [start, end): whole, gaps left out."""
    check_range(start, end)
    return whole_shifts(versions, start=start, end=end)


def person_shifts(
    engine: StoreEngine, *, person: str, start: datetime, end: datetime, whole: bool = False
) -> list[tuple[str, Shift]]:
    """(rotation, shift) of every stored rotation's shifts `person` holds over [start, end),
    by start; `whole` shifts (for calendars) or cut at the range's ends."""
    from srekit.store.repo import list_rotations, ruling_rotation_versions

    check_range(start, end)
    with transaction(engine, read_only=True) as session:
        versions = {
            row.name: ruling_rotation_versions(session, name=row.name)
            for row in list_rotations(session)
        }
    found = [
        (name, shift)
        for name, ruling in versions.items()
        for shift in (
            whole_shifts(ruling, start=start, end=end)
            if whole
            else versioned_shifts(ruling, start=start, end=end)
        )
        if shift.member == person
    ]
    return sorted(found, key=lambda item: (item[1].start, item[0], item[1].layer))


def person_calendar_shifts(
    engine: StoreEngine, *, person: str, start: datetime, end: datetime
) -> list[tuple[str, Shift]]:
    """`person_shifts`, whole, for a calendar feed."""
    return person_shifts(engine, person=person, start=start, end=end, whole=True)


@dataclass(frozen=True)
class StoredRotationChange:
    """What storing a rotation did: `created`, `updated` or `unchanged`, the version, what
    changed, and from when the latest version takes effect."""

    result: str
    version: int
    changes: tuple[str, ...]
    effective_from: datetime


def store_rotation(
    engine: StoreEngine, *, change: RotationChange, actor: str, now: datetime | None = None
) -> StoredRotationChange:
    """Store a rotation (a new version, or nothing when equal). Two writers creating the same
    rotation at once on PostgreSQL race to insert it: the loser's Conflict is retried once,
    and then finds the winner's row."""
    from srekit.store.repo import apply_rotation

    for attempt in (1, 2):
        try:
            with transaction(engine) as session:
                applied = apply_rotation(
                    session,
                    rotation=change.rotation,
                    effective_from=change.effective_from,
                    actor=actor,
                    now=now,
                )
                result = (
                    "created" if applied.created else "updated" if applied.changed else "unchanged"
                )
                return StoredRotationChange(
                    result=result,
                    version=applied.row.version,
                    changes=() if applied.created else applied.diff,
                    effective_from=applied.row.effective_from,
                )
        except Conflict:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


#: The name of the store's secret that signs rotations' calendar URLs (`store.repo.server_secret`);
#: its own, so no other signed URL (a badge's) can stand in for a calendar's.
CALENDAR_SECRET = "calendars"


def rotation_calendar_path(rotation: str) -> str:
    """The path of a rotation's iCalendar feed, the name percent-encoded: what its signature
    covers, so a signature opens that rotation's feed and no other."""
    from urllib.parse import quote

    return f"/api/v1/oncall/rotations/{quote(rotation, safe='')}/calendar.ics"


def _calendar_secret(engine: StoreEngine) -> bytes:
    from srekit.store.repo import server_secret

    with transaction(engine) as session:
        return server_secret(session, name=CALENDAR_SECRET)


def signed_calendar_path(engine: StoreEngine, *, rotation: str) -> str:
    """The rotation's feed path with `?sig=`: a calendar client subscribes to it without a
    token (it cannot log in). It reads that rotation's feed only, and only while the stored
    secret stays."""
    from srekit.core.status_page import sign_badge_path as sign_path  # HMAC-SHA256 of a path

    path = rotation_calendar_path(rotation)
    return f"{path}?sig={sign_path(_calendar_secret(engine), path)}"


def calendar_signature_matches(engine: StoreEngine, *, rotation: str, signature: str) -> bool:
    """Whether `signature` signs `rotation`'s feed path, compared in constant time."""
    from srekit.core.status_page import signature_matches

    return signature_matches(_calendar_secret(engine), rotation_calendar_path(rotation), signature)
