"""Which handoffs the notifier sends: the primary layer's changes of holder to a member in
(since, until], the staleness rule and where a round starts looking; instants checked by
hand against the rotation (Mon 09:00 Berlin, alice → bob → carol, bob's override)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from srekit.core.handoff import (
    NOTIFY_LOOKBACK,
    STALE_HANDOFF,
    DueHandoff,
    handoff_is_stale,
    notify_since,
    primary_handoffs,
)
from srekit.core.rotation import (
    Handoff,
    Layer,
    Override,
    Restriction,
    Rotation,
    RotationVersion,
    ShiftLength,
    versioned_shifts,
)
from tests.core.test_handoff import SHIFTS

_MICRO = timedelta(microseconds=1)


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _weekly(name: str, members: tuple[str, ...], weekday: int, start: date) -> Layer:
    return Layer(name, members, ShiftLength(days=7), Handoff(time(9, 0), weekday=weekday), start)


def _rotation(**more: object) -> Rotation:
    from zoneinfo import ZoneInfo

    return Rotation(
        name="payments",
        team="payments",
        timezone=ZoneInfo("Europe/Berlin"),
        layers=(
            _weekly("primary", ("alice", "bob", "carol"), 0, date(2026, 1, 5)),
            _weekly("secondary", ("dave", "erin"), 3, date(2026, 1, 8)),
        ),
        **more,  # type: ignore[arg-type]
    )


def _due(versions: list[RotationVersion], since: str, until: str) -> list[DueHandoff]:
    start, end = _utc(since), _utc(until)
    shifts = versioned_shifts(versions, start=start, end=end + _MICRO)
    return primary_handoffs(shifts, since=start, until=end)


V1 = [RotationVersion(_rotation(), _utc("2026-01-01T00:00"))]


@pytest.mark.parametrize(
    ("since", "until", "expected"),
    [
        # Mon 2026-03-23 09:00 CET is 08:00 UTC; the next Monday is CEST: 07:00 UTC.
        # 2026-01-05 alice, 01-12 bob, ... 11 weeks on: 03-23 is week 11 → (11 % 3) = 2: carol
        ("2026-03-23T07:59", "2026-03-23T08:00", [("2026-03-23T08:00", "carol")]),
        ("2026-03-23T08:00", "2026-03-23T09:00", []),  # since is open: carol's turn was held
        (
            "2026-03-22T00:00",
            "2026-03-31T00:00",
            [
                ("2026-03-23T08:00", "carol"),
                ("2026-03-30T07:00", "alice"),
            ],
        ),
        # the secondary's Thursday handoff is no primary handoff
        ("2026-03-26T00:00", "2026-03-27T00:00", []),
        ("2026-03-30T06:59:59", "2026-03-30T07:00", [("2026-03-30T07:00", "alice")]),
    ],
)
def test_the_primary_layers_changes_of_holder_in_the_interval(
    since: str, until: str, expected: list[tuple[str, str]]
) -> None:
    found = _due(V1, since, until)
    assert [(d.at, d.member) for d in found] == [(_utc(at), m) for at, m in expected]
    assert all(d.layer == "primary" for d in found)


def test_an_override_hands_over_twice_and_a_version_change_not_at_all() -> None:
    override = Override("primary", "bob", _utc("2026-03-28T17:00"), _utc("2026-03-30T07:00"))
    # version 2, equal but for the override, rules from Wednesday: carol's turn goes on
    versions = [*V1, RotationVersion(_rotation(overrides=(override,)), _utc("2026-03-25T12:00"))]
    found = _due(versions, "2026-03-24T00:00", "2026-03-31T00:00")
    assert [(d.at, d.member) for d in found] == [
        (_utc("2026-03-28T17:00"), "bob"),
        (_utc("2026-03-30T07:00"), "alice"),
    ]


def test_a_restricted_layer_hands_over_from_nobody_but_not_to_nobody() -> None:
    from zoneinfo import ZoneInfo

    daily = Layer("primary", ("alice",), ShiftLength(days=1), Handoff(time(9, 0)), date(2026, 3, 1))
    # 09:00-17:00 Berlin on Tuesdays (weekday 1): CET in March until the 29th
    hours = Restriction("primary", weekdays=frozenset({1}), start=time(9, 0), end=time(17, 0))
    rotation = Rotation("desk", None, ZoneInfo("Europe/Berlin"), (daily,), (hours,))
    found = _due([RotationVersion(rotation, _utc("2026-01-01T00:00"))], "2026-03-16", "2026-03-25")
    # alice's one member layer: her turn begins each Tuesday 08:00 UTC; the 17:00 end is a gap
    assert [(d.at, d.member) for d in found] == [
        (_utc("2026-03-17T08:00"), "alice"),
        (_utc("2026-03-24T08:00"), "alice"),
    ]


def test_hand_made_shifts_the_primary_is_the_first_layer_holding_the_instant() -> None:
    found = primary_handoffs(SHIFTS, since=_utc("2026-03-20T00:00"), until=_utc("2026-04-10"))
    # carol's version cut on 04-01 is one turn; the secondary's and the manager's changes are
    # not the primary's
    assert [(d.layer, d.at, d.member) for d in found] == [
        ("primary", _utc("2026-03-23T08:00"), "alice"),
        ("primary", _utc("2026-03-28T17:00"), "bob"),
        ("primary", _utc("2026-03-30T07:00"), "carol"),
    ]


@pytest.mark.parametrize(
    ("age", "stale"),
    [
        (timedelta(0), False),
        (timedelta(minutes=59), False),
        (STALE_HANDOFF, False),  # exactly an hour: still sent
        (STALE_HANDOFF + _MICRO, True),
        (timedelta(days=1), True),
    ],
)
def test_a_handoff_older_than_an_hour_when_first_seen_is_stale(age: timedelta, stale: bool) -> None:
    now = _utc("2026-03-30T09:00")
    assert handoff_is_stale(now - age, now=now) is stale
    assert timedelta(hours=1) == STALE_HANDOFF


@pytest.mark.parametrize(
    ("last_checked", "expected"),
    [
        (None, "2026-03-29T09:00"),  # a first round looks back a day
        ("2026-03-30T08:59", "2026-03-30T08:59"),
        ("2026-03-29T09:00", "2026-03-29T09:00"),
        ("2026-03-20T00:00", "2026-03-29T09:00"),  # a long stop: a day at most
    ],
)
def test_a_round_looks_back_from_its_last_check_a_day_at_most(
    last_checked: str | None, expected: str
) -> None:
    now = _utc("2026-03-30T09:00")
    checked = None if last_checked is None else _utc(last_checked)
    assert notify_since(checked, now=now) == _utc(expected)
    assert timedelta(days=1) == NOTIFY_LOOKBACK
