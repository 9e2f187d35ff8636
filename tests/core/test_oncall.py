"""The rules around a rotation's stored history, with hand-checked instants."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import pytest

from srekit.core.oncall import (
    default_calendar_range,
    effective_from_problem,
    names_person,
    range_problem,
    ruling_versions,
)
from srekit.core.rotation import Handoff, Layer, Rotation, RotationVersion, ShiftLength

ROTATION = Rotation(
    name="payments",
    team=None,
    timezone=UTC,
    layers=(
        Layer(
            name="primary",
            members=("alice",),
            shift=ShiftLength(days=1),
            handoff=Handoff(time(9)),
            start=date(2026, 1, 1),
        ),
    ),
)


def _at(day: int) -> datetime:
    return datetime(2026, 1, day, tzinfo=UTC)


def _version(day: int) -> RotationVersion:
    return RotationVersion(ROTATION, _at(day))


@pytest.mark.parametrize(
    ("applied", "ruling"),
    [
        ([1], [1]),
        ([1, 5, 9], [1, 5, 9]),
        ([1, 9, 5], [1, 5]),  # the change for the 5th supersedes the one waiting for the 9th
        ([1, 9, 9], [1, 9]),  # the same instant: the later-applied one
        ([5, 1], [1]),
        ([1, 9, 12, 5, 10], [1, 5, 10]),
    ],
)
def test_a_later_change_wins_from_its_effective_from_on(
    applied: list[int], ruling: list[int]
) -> None:
    versions = [_version(day) for day in applied]
    kept = ruling_versions(versions)
    assert [v.effective_from.day for v in kept] == ruling
    if applied == [1, 9, 9]:
        assert kept[1] is versions[2]


def test_a_change_may_not_take_effect_in_the_past() -> None:
    now = datetime(2026, 3, 1, 12, tzinfo=UTC)
    assert effective_from_problem(now, now=now) is None
    assert effective_from_problem(now - timedelta(seconds=60), now=now) is None
    assert effective_from_problem(now + timedelta(days=3), now=now) is None
    problem = effective_from_problem(now - timedelta(seconds=61), now=now)
    assert problem is not None
    assert "never rewrites past shifts" in problem


def test_ranges_are_non_empty_and_at_most_two_years() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert range_problem(start, start + timedelta(days=731)) is None
    assert "at most 731 days, got 732" in str(range_problem(start, start + timedelta(days=732)))
    assert "expected `to` after `from`" in str(range_problem(start, start))


def test_the_calendar_shows_a_month_back_and_half_a_year_ahead() -> None:
    now = datetime(2026, 3, 1, tzinfo=UTC)
    assert default_calendar_range(now) == (
        datetime(2026, 1, 30, tzinfo=UTC),
        datetime(2026, 8, 28, tzinfo=UTC),
    )


def test_a_page_names_its_person_or_people() -> None:
    assert names_person({"person": "alice"}, "alice")
    assert names_person({"people": ["bob", "alice"]}, "alice")
    assert not names_person({"people": "alice"}, "alice")
    assert not names_person({"person": "bob", "target": "alice"}, "alice")


def test_whole_shifts_are_never_cut_at_the_ends_of_the_range() -> None:
    from srekit.core.oncall import whole_shifts
    from srekit.core.rotation import versioned_shifts

    daily = replace(
        ROTATION,
        layers=(replace(ROTATION.layers[0], members=("alice", "bob")),),
    )
    versions = [RotationVersion(daily, _at(3))]
    start, end = _at(5) + timedelta(hours=3), _at(7)  # 03:00 on the 5th to the 7th
    found = whole_shifts(versions, start=start, end=end)
    # daily 09:00 handoffs from Jan 1 (alice), but the version rules from the 3rd
    assert [(s.member, s.start, s.end) for s in found] == [
        ("bob", _at(4) + timedelta(hours=9), _at(5) + timedelta(hours=9)),
        ("alice", _at(5) + timedelta(hours=9), _at(6) + timedelta(hours=9)),
        ("bob", _at(6) + timedelta(hours=9), _at(7) + timedelta(hours=9)),
    ]
    cut = versioned_shifts(versions, start=start, end=end)
    assert (cut[0].start, cut[-1].end) == (start, end)
    # before the version rules, nobody: the gap is left out, and the version cuts bob's
    # shift of Jan 2 09:00 at its effective_from
    early = whole_shifts(versions, start=_at(2), end=_at(3) + timedelta(hours=1))
    assert [(s.member, s.start, s.end) for s in early] == [
        ("bob", _at(3), _at(3) + timedelta(hours=9)),
    ]
