"""Properties of rotations for random layers, zones, restrictions, overrides and ranges:
`shifts` covers a range exactly, each layer once, and `on_call` agrees with it anywhere."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from srekit.core.rotation import (
    Handoff,
    Layer,
    Override,
    Restriction,
    Rotation,
    ShiftLength,
    on_call,
    shifts,
)

ZONES = [
    ZoneInfo(name)
    for name in (
        "Europe/Berlin",
        "America/New_York",
        "Australia/Lord_Howe",
        "Asia/Kathmandu",
        "America/Santiago",
        "UTC",
    )
]
EPOCH = datetime(2025, 1, 1, tzinfo=UTC)
HALF_HOUR_STEPS = 3 * 365 * 48  # three years of the range's possible starts


@st.composite
def layers(draw: st.DrawFn, name: str) -> Layer:
    kind = draw(st.sampled_from(["weekday", "daily", "monthly"]))
    clock = time(draw(st.integers(0, 23)), draw(st.sampled_from([0, 15, 30, 45])))
    if kind == "weekday":
        handoff = Handoff(clock, weekday=draw(st.integers(0, 6)))
        length = ShiftLength(days=draw(st.sampled_from([1, 2, 7, 14])))
    elif kind == "monthly":
        handoff = Handoff(clock, day_of_month=draw(st.integers(1, 31)))
        length = ShiftLength(months=draw(st.integers(1, 3)))
    else:
        handoff = Handoff(clock)
        length = draw(
            st.sampled_from(
                [
                    ShiftLength(minutes=30),
                    ShiftLength(minutes=45),
                    ShiftLength(hours=8),
                    ShiftLength(hours=12),
                    ShiftLength(days=1),
                    ShiftLength(months=1),
                ]
            )
        )
    members = draw(st.lists(st.sampled_from("abcdef"), min_size=1, max_size=4, unique=True))
    start = date(2025, 1, 1) + timedelta(days=draw(st.integers(0, 3 * 365)))
    return Layer(name, tuple(members), length, handoff, start)


@st.composite
def rotations(draw: st.DrawFn) -> Rotation:
    names = ["one", "two"][: draw(st.integers(1, 2))]
    drawn = tuple(draw(layers(name)) for name in names)
    restrictions = tuple(
        Restriction(
            draw(st.sampled_from(names)),
            frozenset(draw(st.lists(st.integers(0, 6), min_size=1, max_size=7))),
            time(draw(st.integers(0, 23)), draw(st.sampled_from([0, 30]))),
            time(draw(st.integers(0, 23)), draw(st.sampled_from([0, 30]))),
        )
        for _ in range(draw(st.integers(0, 2)))
    )
    overrides = []
    for _ in range(draw(st.integers(0, 3))):
        start = EPOCH + timedelta(minutes=30 * draw(st.integers(0, HALF_HOUR_STEPS)))
        length = timedelta(minutes=30 * draw(st.integers(1, 24 * 48)))
        overrides.append(Override(draw(st.sampled_from(names)), "z", start, start + length))
    return Rotation("r", None, draw(st.sampled_from(ZONES)), drawn, restrictions, tuple(overrides))


@settings(max_examples=300, deadline=None)
@given(
    rotations(),
    st.integers(0, HALF_HOUR_STEPS),
    st.integers(1, 21 * 24 * 60),
    st.lists(st.floats(0, 1, exclude_max=True), min_size=1, max_size=5),
)
def test_shifts_cover_the_range_once_and_on_call_agrees(
    rotation: Rotation, start_step: int, range_minutes: int, fractions: list[float]
) -> None:
    start = EPOCH + timedelta(minutes=30 * start_step)
    end = start + timedelta(minutes=range_minutes)
    found = shifts(rotation, start=start, end=end)
    for layer in rotation.layers:
        mine = [shift for shift in found if shift.layer == layer.name]
        assert mine[0].start == start
        assert mine[-1].end == end
        for earlier, later in itertools.pairwise(mine):
            assert earlier.end == later.start  # contiguous: no hole, no overlap
        for shift in mine:
            assert shift.start < shift.end
            assert shift.start.tzinfo is UTC
            assert (shift.member is None) == (shift.gap is not None)
            assert shift.override == (shift.member == "z")
            if shift.member is not None and not shift.override:
                assert shift.member in layer.members
    assert [shift.layer for shift in found] == sorted(
        (shift.layer for shift in found), key=[layer.name for layer in rotation.layers].index
    )
    for fraction in fractions:
        at = start + timedelta(minutes=int(range_minutes * fraction))
        held = on_call(rotation, at=at)
        for layer in rotation.layers:
            containing = [
                shift
                for shift in found
                if shift.layer == layer.name and shift.start <= at < shift.end
            ]
            assert len(containing) == 1
            expected = containing[0]
            got = held[layer.name]
            assert (got.member, got.override, got.gap) == (
                expected.member,
                expected.override,
                expected.gap,
            )
            assert max(got.start, start) == expected.start
            assert min(got.end, end) == expected.end


@settings(max_examples=100, deadline=None)
@given(rotations(), st.integers(0, HALF_HOUR_STEPS))
def test_round_robin_without_overrides_or_restrictions(rotation: Rotation, step: int) -> None:
    """Consecutive non-empty shifts of a layer pass the pager to the next member in order,
    skipping only members whose shift a DST gap emptied."""
    plain = Rotation("r", None, rotation.timezone, rotation.layers)
    start = EPOCH + timedelta(minutes=30 * step)
    found = shifts(plain, start=start, end=start + timedelta(days=10))
    for layer in plain.layers:
        held = [s.member for s in found if s.layer == layer.name and s.member is not None]
        positions = [layer.members.index(member) for member in held]
        for earlier, later in itertools.pairwise(positions):
            step_taken = (later - earlier) % len(layer.members)
            assert step_taken == 1 % len(layer.members) or (
                not layer.shift.months and layer.shift.total_minutes < 120
            )
