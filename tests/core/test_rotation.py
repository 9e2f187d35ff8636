"""Rotation math against instants written out by hand.

The 2026 DST changes used (checked once against the tz database, then written here by hand):
Europe/Berlin Mar 29 02:00 CET -> 03:00 CEST and Oct 25 03:00 CEST -> 02:00 CET;
America/New_York Mar 8 02:00 EST -> 03:00 EDT and Nov 1 02:00 EDT -> 01:00 EST;
Australia/Lord_Howe Apr 5 02:00 (+11:00) -> 01:30 (+10:30) and Oct 4 02:00 (+10:30) -> 02:30
(+11:00), a 30-minute change.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from srekit.core.rotation import (
    BEFORE_EFFECTIVE_FROM,
    BEFORE_START,
    RESTRICTED,
    SINCE_EVER,
    Handoff,
    Layer,
    Override,
    PersonLoad,
    Restriction,
    Rotation,
    RotationVersion,
    Shift,
    ShiftLength,
    fairness,
    on_call,
    shifts,
    versioned_on_call,
    versioned_shifts,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def layer(
    shift: str,
    handoff: str,
    start: date,
    *,
    members: tuple[str, ...] = ("a", "b"),
    name: str = "primary",
) -> Layer:
    return Layer(
        name=name,
        members=members,
        shift=ShiftLength.parse(shift),
        handoff=Handoff.parse(handoff),
        start=start,
    )


def rotation(*layers: Layer, zone: object = BERLIN, **more: object) -> Rotation:
    return Rotation(name="r", team=None, timezone=zone, layers=layers, **more)  # type: ignore[arg-type]


def spans(found: list[Shift]) -> list[tuple[str | None, datetime, datetime]]:
    return [(s.member, s.start, s.end) for s in found]


# --- weekly handoffs across DST: 167 h and 169 h shifts, and Lord Howe's 167.5 h / 168.5 h

WEEKLY = [
    # zone, first Monday, [(member, start UTC, end UTC, hours)]
    (BERLIN, date(2026, 3, 23), [("a", utc(2026, 3, 23, 8), utc(2026, 3, 30, 7), 167)]),
    (BERLIN, date(2026, 10, 19), [("a", utc(2026, 10, 19, 7), utc(2026, 10, 26, 8), 169)]),
    (NEW_YORK, date(2026, 3, 2), [("a", utc(2026, 3, 2, 14), utc(2026, 3, 9, 13), 167)]),
    (NEW_YORK, date(2026, 10, 26), [("a", utc(2026, 10, 26, 13), utc(2026, 11, 2, 14), 169)]),
    (LORD_HOWE, date(2026, 3, 30), [("a", utc(2026, 3, 29, 22), utc(2026, 4, 5, 22, 30), 168.5)]),
    (LORD_HOWE, date(2026, 9, 28), [("a", utc(2026, 9, 27, 22, 30), utc(2026, 10, 4, 22), 167.5)]),
]


@pytest.mark.parametrize(("zone", "monday", "expected"), WEEKLY)
def test_weekly_shift_across_dst_keeps_the_local_handoff(
    zone: ZoneInfo, monday: date, expected: list[tuple[str, datetime, datetime, float]]
) -> None:
    member, start, end, hours = expected[0]
    found = shifts(rotation(layer("7d", "Mon 09:00", monday), zone=zone), start=start, end=end)
    assert spans(found) == [(member, start, end)]
    assert found[0].duration == timedelta(hours=hours)
    # the next one is b's, from the same instant
    after = on_call(rotation(layer("7d", "Mon 09:00", monday), zone=zone), at=end)
    assert (after["primary"].member, after["primary"].start) == ("b", end)


def test_twelve_hour_shifts_across_dst() -> None:
    spring = rotation(layer("12h", "09:00", date(2026, 3, 28)))
    assert spans(shifts(spring, start=utc(2026, 3, 28, 8), end=utc(2026, 3, 29, 19))) == [
        ("a", utc(2026, 3, 28, 8), utc(2026, 3, 28, 20)),  # 09:00-21:00 CET
        ("b", utc(2026, 3, 28, 20), utc(2026, 3, 29, 7)),  # the night: 11 hours
        ("a", utc(2026, 3, 29, 7), utc(2026, 3, 29, 19)),  # 09:00-21:00 CEST
    ]
    autumn = rotation(layer("12h", "09:00", date(2026, 10, 24)))
    assert spans(shifts(autumn, start=utc(2026, 10, 24, 19), end=utc(2026, 10, 25, 20))) == [
        ("b", utc(2026, 10, 24, 19), utc(2026, 10, 25, 8)),  # the night: 13 hours
        ("a", utc(2026, 10, 25, 8), utc(2026, 10, 25, 20)),
    ]
    new_york = rotation(layer("12h", "09:00", date(2026, 3, 7)), zone=NEW_YORK)
    assert spans(shifts(new_york, start=utc(2026, 3, 8, 2), end=utc(2026, 3, 8, 13))) == [
        ("b", utc(2026, 3, 8, 2), utc(2026, 3, 8, 13)),  # 21:00 EST to 09:00 EDT: 11 hours
    ]


def test_a_handoff_that_does_not_exist_moves_forward_by_the_gap() -> None:
    berlin = rotation(layer("1d", "02:30", date(2026, 3, 28)))
    assert spans(shifts(berlin, start=utc(2026, 3, 28, 1, 30), end=utc(2026, 3, 30, 0, 30))) == [
        ("a", utc(2026, 3, 28, 1, 30), utc(2026, 3, 29, 1, 30)),  # to 02:30 -> 03:30 CEST
        ("b", utc(2026, 3, 29, 1, 30), utc(2026, 3, 30, 0, 30)),  # 23 hours
    ]
    # Lord Howe's 30-minute jump: 02:15 becomes 02:45 (+11:00), a 23.5-hour shift follows
    howe = rotation(layer("1d", "02:15", date(2026, 10, 3)), zone=LORD_HOWE)
    assert spans(shifts(howe, start=utc(2026, 10, 2, 15, 45), end=utc(2026, 10, 4, 15, 15))) == [
        ("a", utc(2026, 10, 2, 15, 45), utc(2026, 10, 3, 15, 45)),
        ("b", utc(2026, 10, 3, 15, 45), utc(2026, 10, 4, 15, 15)),
    ]


def test_a_handoff_that_happens_twice_takes_the_first() -> None:
    berlin = rotation(layer("1d", "02:30", date(2026, 10, 24)))
    assert spans(shifts(berlin, start=utc(2026, 10, 24, 0, 30), end=utc(2026, 10, 26, 1, 30))) == [
        ("a", utc(2026, 10, 24, 0, 30), utc(2026, 10, 25, 0, 30)),  # 02:30 CEST, the first
        ("b", utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30)),  # 25 hours
    ]
    new_york = rotation(layer("1d", "01:30", date(2026, 11, 1)), zone=NEW_YORK)
    assert on_call(new_york, at=utc(2026, 11, 1, 6))["primary"].start == utc(2026, 11, 1, 5, 30)


def test_shifts_shorter_than_the_gap_are_skipped() -> None:
    # 30-minute shifts from 00:00 on Mar 29: 02:00 and 02:30 do not exist; both move to or past
    # 03:00 CEST (01:00Z), which comes first, so their shifts are empty
    half_hours = rotation(layer("30m", "00:00", date(2026, 3, 29)))
    found = shifts(half_hours, start=utc(2026, 3, 29, 0, 30), end=utc(2026, 3, 29, 1, 30))
    assert spans(found) == [
        ("b", utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 1)),  # 01:30 CET, handoff 3
        ("a", utc(2026, 3, 29, 1), utc(2026, 3, 29, 1, 30)),  # 03:00 CEST, handoff 6
    ]
    held = on_call(half_hours, at=utc(2026, 3, 29, 1))["primary"]
    assert (held.member, held.start, held.end) == (
        "a",
        utc(2026, 3, 29, 1),
        utc(2026, 3, 29, 1, 30),
    )


# --- calendar months and leap days


def test_monthly_shifts_follow_the_calendar() -> None:
    manager = rotation(
        layer("1mo", "1 09:00", date(2026, 1, 1), members=("grace", "heidi"), name="manager")
    )
    found = shifts(manager, start=utc(2026, 1, 1, 8), end=utc(2026, 5, 1, 7))
    assert spans(found) == [
        ("grace", utc(2026, 1, 1, 8), utc(2026, 2, 1, 8)),  # 31 days
        ("heidi", utc(2026, 2, 1, 8), utc(2026, 3, 1, 8)),  # 28 days
        ("grace", utc(2026, 3, 1, 8), utc(2026, 4, 1, 7)),  # 31 days less the DST hour
        ("heidi", utc(2026, 4, 1, 7), utc(2026, 5, 1, 7)),  # 30 days
    ]
    assert [s.duration / timedelta(hours=1) for s in found] == [744, 672, 743, 720]


def test_day_31_clamps_to_the_months_last_day_and_comes_back() -> None:
    month_end = rotation(layer("1mo", "31 09:00", date(2026, 1, 1), members=("a",)), zone=UTC)
    starts = [s.start for s in shifts(month_end, start=utc(2026, 1, 31, 9), end=utc(2026, 6, 1))]
    assert starts == [
        utc(2026, 1, 31, 9),
        utc(2026, 2, 28, 9),
        utc(2026, 3, 31, 9),
        utc(2026, 4, 30, 9),
        utc(2026, 5, 31, 9),
    ]
    # a start past the clamped day of its month waits for the next month
    late = rotation(layer("1mo", "31 09:00", date(2026, 2, 10), members=("a",)), zone=UTC)
    assert on_call(late, at=utc(2026, 3, 1))["primary"].start == utc(2026, 2, 28, 9)
    next_year = rotation(layer("1mo", "1 09:00", date(2026, 12, 15), members=("a",)), zone=UTC)
    assert on_call(next_year, at=utc(2026, 12, 20))["primary"].end == utc(2027, 1, 1, 9)
    # months by the calendar, from a daily handoff: the start's day of the month
    daily = rotation(layer("2mo", "09:00", date(2026, 1, 31), members=("a",)), zone=UTC)
    assert on_call(daily, at=utc(2026, 4, 1))["primary"].start == utc(2026, 3, 31, 9)


def test_leap_day() -> None:
    weekly = rotation(layer("7d", "Mon 09:00", date(2028, 2, 28)), zone=UTC)
    assert spans(shifts(weekly, start=utc(2028, 2, 28, 9), end=utc(2028, 3, 13, 9))) == [
        ("a", utc(2028, 2, 28, 9), utc(2028, 3, 6, 9)),  # over Feb 29: still 7 days
        ("b", utc(2028, 3, 6, 9), utc(2028, 3, 13, 9)),
    ]
    monthly = rotation(layer("1mo", "31 09:00", date(2028, 1, 1)), zone=UTC)
    assert spans(shifts(monthly, start=utc(2028, 2, 1), end=utc(2028, 3, 1))) == [
        ("a", utc(2028, 2, 1), utc(2028, 2, 29, 9)),
        ("b", utc(2028, 2, 29, 9), utc(2028, 3, 1)),
    ]


# --- the example rotation: layers, the bob override, before start


def example() -> Rotation:
    return Rotation(
        name="payments",
        team="payments",
        timezone=BERLIN,
        layers=(
            layer("7d", "Mon 09:00", date(2026, 1, 5), members=("alice", "bob", "carol")),
            layer("7d", "Thu 09:00", date(2026, 1, 8), members=("dave", "erin", "frank"), name="s"),
            layer("1mo", "1 09:00", date(2026, 1, 1), members=("grace", "heidi"), name="m"),
        ),
        overrides=(
            Override(
                layer="primary",
                member="bob",
                start=datetime.fromisoformat("2026-03-28T18:00:00+01:00"),
                end=datetime.fromisoformat("2026-03-30T09:00:00+02:00"),
            ),
        ),
    )


def test_the_bob_override_splits_carols_167_hour_shift() -> None:
    found = [
        s
        for s in shifts(example(), start=utc(2026, 3, 23, 8), end=utc(2026, 4, 6, 7))
        if s.layer == "primary"
    ]
    assert [(s.member, s.start, s.end, s.override) for s in found] == [
        ("carol", utc(2026, 3, 23, 8), utc(2026, 3, 28, 17), False),
        ("bob", utc(2026, 3, 28, 17), utc(2026, 3, 30, 7), True),
        ("alice", utc(2026, 3, 30, 7), utc(2026, 4, 6, 7), False),
    ]
    held = on_call(example(), at=utc(2026, 3, 29, 12))
    assert (held["primary"].member, held["primary"].override) == ("bob", True)
    assert (held["s"].member, held["s"].start) == ("frank", utc(2026, 3, 26, 8))
    assert (held["m"].member, held["m"].end) == ("grace", utc(2026, 4, 1, 7))


def test_before_start_is_a_gap() -> None:
    held = on_call(example(), at=utc(2026, 1, 5, 7, 59))
    assert held["primary"] == Shift(
        "primary", None, SINCE_EVER, utc(2026, 1, 5, 8), gap=BEFORE_START
    )
    assert held["m"].member == "grace"
    found = shifts(example(), start=utc(2026, 1, 5), end=utc(2026, 1, 5, 9))
    assert [(s.layer, s.member, s.start, s.end, s.gap) for s in found[:2]] == [
        ("primary", None, utc(2026, 1, 5), utc(2026, 1, 5, 8), BEFORE_START),
        ("primary", "alice", utc(2026, 1, 5, 8), utc(2026, 1, 5, 9), None),
    ]


def test_a_one_member_layer_is_still_cut_at_each_handoff() -> None:
    alone = rotation(layer("1d", "09:00", date(2026, 1, 1), members=("a",)), zone=UTC)
    assert spans(shifts(alone, start=utc(2026, 1, 1, 12), end=utc(2026, 1, 3))) == [
        ("a", utc(2026, 1, 1, 12), utc(2026, 1, 2, 9)),
        ("a", utc(2026, 1, 2, 9), utc(2026, 1, 3)),
    ]
    assert shifts(alone, start=utc(2026, 1, 3), end=utc(2026, 1, 3)) == []


def test_overlapping_overrides_the_later_listed_wins() -> None:
    base = layer("7d", "Mon 09:00", date(2026, 1, 5), members=("a",))
    x_then_y = (
        Override("primary", "x", utc(2026, 1, 6, 10), utc(2026, 1, 6, 14)),
        Override("primary", "y", utc(2026, 1, 6, 12), utc(2026, 1, 6, 16)),
    )
    found = shifts(
        rotation(base, zone=UTC, overrides=x_then_y), start=utc(2026, 1, 6), end=utc(2026, 1, 7)
    )
    assert [(s.member, s.start, s.end, s.override) for s in found] == [
        ("a", utc(2026, 1, 6), utc(2026, 1, 6, 10), False),
        ("x", utc(2026, 1, 6, 10), utc(2026, 1, 6, 12), True),
        ("y", utc(2026, 1, 6, 12), utc(2026, 1, 6, 16), True),
        ("a", utc(2026, 1, 6, 16), utc(2026, 1, 7), False),
    ]
    y_then_x = tuple(reversed(x_then_y))
    found = shifts(
        rotation(base, zone=UTC, overrides=y_then_x), start=utc(2026, 1, 6), end=utc(2026, 1, 7)
    )
    assert [(s.member, s.start, s.end) for s in found if s.override] == [
        ("x", utc(2026, 1, 6, 10), utc(2026, 1, 6, 14)),
        ("y", utc(2026, 1, 6, 14), utc(2026, 1, 6, 16)),
    ]
    # an override inside another, listed later, splits it; one before start covers the gap
    nested = (
        Override("primary", "x", utc(2026, 1, 4), utc(2026, 1, 6, 14)),
        Override("primary", "y", utc(2026, 1, 6, 11), utc(2026, 1, 6, 12)),
    )
    found = shifts(
        rotation(base, zone=UTC, overrides=nested), start=utc(2026, 1, 3), end=utc(2026, 1, 6, 15)
    )
    assert [(s.member, s.start, s.end, s.gap) for s in found] == [
        (None, utc(2026, 1, 3), utc(2026, 1, 4), BEFORE_START),
        ("x", utc(2026, 1, 4), utc(2026, 1, 6, 11), None),
        ("y", utc(2026, 1, 6, 11), utc(2026, 1, 6, 12), None),
        ("x", utc(2026, 1, 6, 12), utc(2026, 1, 6, 14), None),
        ("a", utc(2026, 1, 6, 14), utc(2026, 1, 6, 15), None),
    ]


# --- restrictions


def test_business_hours_restriction() -> None:
    weekdays = frozenset(range(5))
    business = rotation(
        layer("7d", "Mon 09:00", date(2026, 1, 5), members=("a", "b")),
        restrictions=(Restriction("primary", weekdays, time(9), time(17)),),
    )
    # Fri Jan 9 to Tue Jan 13, Berlin (CET, UTC+1)
    found = shifts(business, start=utc(2026, 1, 9), end=utc(2026, 1, 13, 12))
    assert [(s.member, s.start, s.end, s.gap) for s in found] == [
        (None, utc(2026, 1, 9), utc(2026, 1, 9, 8), RESTRICTED),
        ("a", utc(2026, 1, 9, 8), utc(2026, 1, 9, 16), None),
        (None, utc(2026, 1, 9, 16), utc(2026, 1, 12, 8), RESTRICTED),  # the weekend, to Mon 09:00
        ("b", utc(2026, 1, 12, 8), utc(2026, 1, 12, 16), None),  # the handoff and the window
        (None, utc(2026, 1, 12, 16), utc(2026, 1, 13, 8), RESTRICTED),
        ("b", utc(2026, 1, 13, 8), utc(2026, 1, 13, 12), None),
    ]
    assert on_call(business, at=utc(2026, 1, 10, 12))["primary"] == Shift(
        "primary", None, utc(2026, 1, 9, 16), utc(2026, 1, 12, 8), gap=RESTRICTED
    )


def test_restriction_across_midnight_and_a_whole_day() -> None:
    nights = rotation(
        layer("1d", "12:00", date(2026, 1, 1), members=("a", "b")),
        zone=UTC,
        restrictions=(
            Restriction("primary", frozenset({4}), time(22), time(6)),  # Fri 22:00 - Sat 06:00
            Restriction("primary", frozenset({6}), time(0), time(0)),  # all of Sunday
        ),
    )
    # Jan 1 2026 is a Thursday; Jan 2 Friday
    found = shifts(nights, start=utc(2026, 1, 2, 12), end=utc(2026, 1, 5, 12))
    assert [(s.member, s.start, s.end) for s in found] == [
        (None, utc(2026, 1, 2, 12), utc(2026, 1, 2, 22)),
        ("b", utc(2026, 1, 2, 22), utc(2026, 1, 3, 6)),  # handoff 1 (Fri 12:00) is b's
        (None, utc(2026, 1, 3, 6), utc(2026, 1, 3, 12)),
        (None, utc(2026, 1, 3, 12), utc(2026, 1, 4)),  # cut at the Sat 12:00 handoff
        ("a", utc(2026, 1, 4), utc(2026, 1, 4, 12)),
        ("b", utc(2026, 1, 4, 12), utc(2026, 1, 5)),
        (None, utc(2026, 1, 5), utc(2026, 1, 5, 12)),
    ]


# --- versions


def test_versions_rule_from_their_effective_from() -> None:
    first = rotation(layer("7d", "Mon 09:00", date(2026, 1, 5), members=("a", "b")), zone=UTC)
    second = rotation(
        layer("7d", "Mon 09:00", date(2026, 1, 5), members=("c",), name="new"), zone=UTC
    )
    versions = [
        RotationVersion(second, effective_from=utc(2026, 1, 14)),  # listed out of order
        RotationVersion(first, effective_from=utc(2026, 1, 4)),
    ]
    found = versioned_shifts(versions, start=utc(2026, 1, 1), end=utc(2026, 1, 20))
    assert [(s.layer, s.member, s.start, s.end, s.gap) for s in found] == [
        ("primary", None, utc(2026, 1, 1), utc(2026, 1, 4), BEFORE_EFFECTIVE_FROM),
        ("primary", None, utc(2026, 1, 4), utc(2026, 1, 5, 9), BEFORE_START),
        ("primary", "a", utc(2026, 1, 5, 9), utc(2026, 1, 12, 9), None),
        ("primary", "b", utc(2026, 1, 12, 9), utc(2026, 1, 14), None),  # ends with its version
        ("new", "c", utc(2026, 1, 14), utc(2026, 1, 19, 9), None),
        ("new", "c", utc(2026, 1, 19, 9), utc(2026, 1, 20), None),
    ]
    assert versioned_on_call(versions, at=utc(2026, 1, 2)) == {
        "primary": Shift("primary", None, SINCE_EVER, utc(2026, 1, 4), gap=BEFORE_EFFECTIVE_FROM)
    }
    assert versioned_on_call(versions, at=utc(2026, 1, 13)) == {
        "primary": Shift("primary", "b", utc(2026, 1, 12, 9), utc(2026, 1, 14))
    }
    assert versioned_on_call(versions, at=utc(2026, 1, 15)) == {
        "new": Shift("new", "c", utc(2026, 1, 14), utc(2026, 1, 19, 9))
    }
    assert versioned_shifts(versions, start=utc(2026, 1, 15), end=utc(2026, 1, 15)) == []


def test_versions_are_checked() -> None:
    one = rotation(layer("1d", "09:00", date(2026, 1, 1)), zone=UTC)
    with pytest.raises(ValueError, match="at least one rotation version"):
        versioned_on_call([], at=utc(2026, 1, 1))
    twice = [RotationVersion(one, utc(2026, 1, 1)), RotationVersion(one, utc(2026, 1, 1))]
    with pytest.raises(ValueError, match="one version per effective_from"):
        versioned_shifts(twice, start=utc(2026, 1, 1), end=utc(2026, 1, 2))
    with pytest.raises(ValueError, match="effective_from with an offset"):
        RotationVersion(one, datetime(2026, 1, 1))


# --- fairness


def test_fairness_counts_nights_and_weekends_local_to_each_person() -> None:
    weekend = [
        # Fri Jan 9 18:00 CET to Mon Jan 12 09:00 CET: 63 hours
        Shift("primary", "alice", utc(2026, 1, 9, 17), utc(2026, 1, 12, 8)),
        Shift("primary", "nyc", utc(2026, 1, 9, 17), utc(2026, 1, 12, 8)),
        Shift("primary", None, utc(2026, 1, 12, 8), utc(2026, 1, 13), gap=RESTRICTED),
        # Sat Oct 24 22:00 CEST to Sun Oct 25 07:00 CET: a 10-hour night
        Shift("primary", "alice", utc(2026, 10, 24, 20), utc(2026, 10, 25, 6), override=True),
    ]
    loads = fairness(
        weekend, timezones={"nyc": NEW_YORK}, default_timezone=BERLIN, pages={"alice": 3, "zed": 1}
    )
    assert loads == [
        # nights Fri, Sat, Sun 22:00-07:00 = 27 h (+10); weekend Sat 00:00 - Mon 00:00 = 48 h (+10)
        PersonLoad("alice", hours=73.0, night_hours=37.0, weekend_hours=58.0, shifts=2, pages=3),
        # New York: Fri 12:00 EST to Mon 03:00 EST; nights 9 + 9 + 5 = 23 h
        PersonLoad("nyc", hours=63.0, night_hours=23.0, weekend_hours=48.0, shifts=1, pages=0),
        PersonLoad("zed", hours=0.0, night_hours=0.0, weekend_hours=0.0, shifts=0, pages=1),
    ]


# --- the values refuse what makes no rotation


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", ShiftLength(minutes=30)),
        ("12h", ShiftLength(hours=12)),
        ("1d", ShiftLength(days=1)),
        ("14d", ShiftLength(days=14)),
        ("2w", ShiftLength(days=14)),
        ("1mo", ShiftLength(months=1)),
        (" 7d ", ShiftLength(days=7)),
    ],
)
def test_shift_lengths_parse(text: str, expected: ShiftLength) -> None:
    assert ShiftLength.parse(text) == expected


@pytest.mark.parametrize(
    ("length", "text"),
    [
        (ShiftLength(days=7), "7d"),
        (ShiftLength(hours=12), "12h"),
        (ShiftLength(hours=1, minutes=30), "90m"),
        (ShiftLength(months=3), "3mo"),
    ],
)
def test_shift_lengths_print(length: ShiftLength, text: str) -> None:
    assert str(length) == text


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: ShiftLength.parse("7 days"), "expected a shift length like"),
        (lambda: ShiftLength.parse("0m"), "longer than 0 minutes"),
        (lambda: ShiftLength.parse("999999999d"), "at most 366 days"),
        (lambda: ShiftLength.parse("367d"), "at most 366 days"),
        (lambda: ShiftLength.parse("13mo"), "at most 12 months"),
        (lambda: ShiftLength(days=-1), "positive length"),
        (lambda: ShiftLength(days=1, months=1), "not both"),
        (lambda: ShiftLength(days=1.5), "whole numbers"),  # type: ignore[arg-type]
        (lambda: ShiftLength(days=True), "whole numbers"),
    ],
)
def test_bad_shift_lengths(make: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()  # type: ignore[operator]


@pytest.mark.parametrize(
    ("text", "expected", "printed"),
    [
        ("Mon 09:00", Handoff(time(9), weekday=0), "Mon 09:00"),
        ("thursday 09:30", Handoff(time(9, 30), weekday=3), "Thu 09:30"),
        ("SUN 23:59", Handoff(time(23, 59), weekday=6), "Sun 23:59"),
        ("09:00", Handoff(time(9)), "09:00"),
        ("1 09:00", Handoff(time(9), day_of_month=1), "1 09:00"),
        ("31 00:00", Handoff(time(0), day_of_month=31), "31 00:00"),
    ],
)
def test_handoffs_parse_and_print(text: str, expected: Handoff, printed: str) -> None:
    assert Handoff.parse(text) == expected
    assert str(expected) == printed


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Mon 9am", "expected a handoff like"),
        ("Mon 24:00", "no such time of day"),
        ("09:60", "no such time of day"),
        ("32 09:00", "day of the month is 1 to 31"),
        ("0 09:00", "day of the month is 1 to 31"),
        ("Someday 09:00", "weekdays are Mon to Sun"),
    ],
)
def test_bad_handoffs(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Handoff.parse(text)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Handoff(time(9), weekday=0, day_of_month=1), "not both"),
        (lambda: Handoff(time(9), weekday=7), "weekday 0"),
        (lambda: Handoff(time(9), day_of_month=32), "day of the month 1 to 31"),
        (lambda: Handoff(time(9, tzinfo=UTC)), "without a time zone"),
        (lambda: layer("7d", "Mon 09:00", date(2026, 1, 5), members=()), "at least one member"),
        (lambda: layer("7d", "Mon 09:00", date(2026, 1, 5), members=("a", "a")), "a more than"),
        (lambda: layer("12h", "Mon 09:00", date(2026, 1, 5)), "needs a shift of whole days"),
        (lambda: layer("1mo", "Mon 09:00", date(2026, 1, 5)), "needs a shift of whole days"),
        (lambda: layer("7d", "1 09:00", date(2026, 1, 5)), "needs a shift in months"),
        (lambda: Restriction("p", frozenset(), time(9), time(17)), "at least one weekday"),
        (lambda: Restriction("p", frozenset({7}), time(9), time(17)), "weekdays 0"),
        (lambda: Override("p", "a", utc(2026, 1, 2), utc(2026, 1, 1)), "start before its end"),
        (
            lambda: Override("p", "a", datetime(2026, 1, 1), utc(2026, 1, 2)),
            "with an offset",
        ),
        (rotation, "at least one layer"),
        (
            lambda: rotation(
                layer("1d", "09:00", date(2026, 1, 1)), layer("1d", "09:00", date(2026, 1, 1))
            ),
            "primary more than once",
        ),
        (
            lambda: rotation(
                layer("1d", "09:00", date(2026, 1, 1)),
                overrides=(Override("nope", "a", utc(2026, 1, 1), utc(2026, 1, 2)),),
            ),
            "override names layer 'nope'",
        ),
        (
            lambda: rotation(
                layer("1d", "09:00", date(2026, 1, 1)),
                restrictions=(Restriction("nope", frozenset({0}), time(9), time(17)),),
            ),
            "restriction names layer 'nope'",
        ),
    ],
)
def test_bad_values_are_refused(make: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()  # type: ignore[operator]


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError, match="expected at with an offset"):
        on_call(example(), at=datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="expected start with an offset"):
        shifts(example(), start=datetime(2026, 1, 1), end=utc(2026, 1, 2))


def test_disjoint_overrides_and_overlapping_windows() -> None:
    two = rotation(
        layer("1d", "00:00", date(2026, 1, 1), members=("a",)),
        zone=UTC,
        overrides=(
            Override("primary", "x", utc(2026, 1, 2, 1), utc(2026, 1, 2, 2)),
            Override("primary", "y", utc(2026, 1, 2, 3), utc(2026, 1, 2, 4)),
        ),
        # Friday 08:00-12:00 and 10:00-14:00 make one window, 08:00-14:00
        restrictions=(
            Restriction("primary", frozenset({4}), time(8), time(12)),
            Restriction("primary", frozenset({4}), time(10), time(14)),
        ),
    )
    found = shifts(two, start=utc(2026, 1, 2), end=utc(2026, 1, 3))
    assert [(s.member, s.start, s.end) for s in found] == [
        (None, utc(2026, 1, 2), utc(2026, 1, 2, 1)),
        ("x", utc(2026, 1, 2, 1), utc(2026, 1, 2, 2)),  # an override wins over a restriction
        (None, utc(2026, 1, 2, 2), utc(2026, 1, 2, 3)),
        ("y", utc(2026, 1, 2, 3), utc(2026, 1, 2, 4)),
        (None, utc(2026, 1, 2, 4), utc(2026, 1, 2, 8)),
        ("a", utc(2026, 1, 2, 8), utc(2026, 1, 2, 14)),
        (None, utc(2026, 1, 2, 14), utc(2026, 1, 3)),
    ]


def test_a_window_that_the_spring_gap_turns_around_is_empty() -> None:
    # Sunday Mar 29 02:30-03:00 Berlin: 02:30 does not exist and moves to 03:30, past 03:00
    turned = rotation(
        layer("7d", "Mon 09:00", date(2026, 3, 23)),
        restrictions=(Restriction("primary", frozenset({6}), time(2, 30), time(3)),),
    )
    found = shifts(turned, start=utc(2026, 3, 28), end=utc(2026, 3, 30))
    assert [(s.member, s.gap) for s in found] == [(None, RESTRICTED)]
