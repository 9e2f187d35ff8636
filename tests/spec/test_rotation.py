"""srekit/v1 Rotation documents: the documented example as written, every mistake named by
file and field, and the stored form that reads back to the same rotation."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from srekit.core.rotation import Handoff, Layer, Override, Restriction, Rotation, ShiftLength
from srekit.errors import SpecError
from srekit.spec.rotation import (
    KIND,
    RotationDocument,
    effective_from_of,
    parse_rotation,
    rotation_document,
    rotation_from_spec,
    rotation_spec,
)
from tests.handoff_story import ROTATION_YAML

AS_WRITTEN = ROTATION_YAML  # the rotation of the handoff story, as its docs write it

EXPECTED = Rotation(
    name="payments",
    team="payments",
    timezone=ZoneInfo("Europe/Berlin"),
    layers=(
        Layer(
            "primary",
            ("alice", "bob", "carol"),
            ShiftLength(days=7),
            Handoff(time(9), 0),
            date(2026, 1, 5),
        ),
        Layer(
            "secondary",
            ("dave", "erin", "frank"),
            ShiftLength(days=7),
            Handoff(time(9), 3),
            date(2026, 1, 8),
        ),
        Layer(
            "manager",
            ("grace", "heidi"),
            ShiftLength(months=1),
            Handoff(time(9), day_of_month=1),
            date(2026, 1, 1),
        ),
    ),
    overrides=(
        Override(
            "primary",
            "bob",
            datetime(2026, 3, 28, 18, tzinfo=timezone(timedelta(hours=1))),
            datetime(2026, 3, 30, 9, tzinfo=timezone(timedelta(hours=2))),
        ),
    ),
)


def test_the_documented_example_parses_as_written() -> None:
    rotation = parse_rotation(AS_WRITTEN, source="payments.yaml")
    assert rotation == EXPECTED
    assert rotation.overrides[0].start == datetime(2026, 3, 28, 17, tzinfo=UTC)
    assert rotation.layers[0].first_handoff == datetime(2026, 1, 5, 9)


def test_the_stored_spec_reads_back_to_the_same_rotation() -> None:
    rotation = parse_rotation(AS_WRITTEN, source="payments.yaml")
    spec = rotation_spec(
        rotation, effective_from=datetime(2026, 1, 1, 1, tzinfo=timezone(timedelta(hours=1)))
    )
    assert spec == {
        "team": "payments",
        "timezone": "Europe/Berlin",
        "layers": [
            {
                "name": "primary",
                "members": ["alice", "bob", "carol"],
                "shift": "7d",
                "handoff": "Mon 09:00",
                "start": "2026-01-05",
            },
            {
                "name": "secondary",
                "members": ["dave", "erin", "frank"],
                "shift": "7d",
                "handoff": "Thu 09:00",
                "start": "2026-01-08",
            },
            {
                "name": "manager",
                "members": ["grace", "heidi"],
                "shift": "1mo",
                "handoff": "1 09:00",
                "start": "2026-01-01",
            },
        ],
        "restrictions": [],
        "overrides": [
            {
                "layer": "primary",
                "member": "bob",
                "from": "2026-03-28T17:00:00Z",
                "to": "2026-03-30T07:00:00Z",
            }
        ],
        "effective_from": "2026-01-01T00:00:00Z",
    }
    assert rotation_from_spec("payments", spec) == rotation
    assert effective_from_of(spec) == datetime(2026, 1, 1, tzinfo=UTC)
    assert effective_from_of({}) is None
    document = rotation_document(rotation)
    assert document["kind"] == KIND == "Rotation"
    assert "effective_from" not in document["spec"]
    assert parse_rotation(yaml.safe_dump(document), source="x.yaml") == rotation
    # the API takes the same model as JSON
    assert RotationDocument.model_validate(document).to_rotation() == rotation


def test_restrictions_and_every_spelling() -> None:
    text = """
apiVersion: srekit/v1
kind: Rotation
metadata: {name: support}
spec:
  timezone: UTC
  layers:
    - {name: day, members: [a], shift: 12h, handoff: "09:00", start: "2026-01-01"}
    - {name: week, members: [b], shift: 2w, handoff: "friday 17:30", start: 2026-01-01}
  restrictions:
    - {layer: day, weekdays: [Mon, tuesday, WED, Thu, Fri], start: "09:00", end: "17:00"}
  effective_from: 2026-01-01T00:00:00Z
"""
    rotation = parse_rotation(text, source="support.yaml")
    assert rotation.team is None
    assert rotation.timezone == ZoneInfo("UTC")
    assert rotation.layers[1].shift == ShiftLength(days=14)
    assert rotation.layers[1].handoff == Handoff(time(17, 30), weekday=4)
    assert rotation.restrictions == (
        Restriction("day", frozenset({0, 1, 2, 3, 4}), time(9), time(17)),
    )
    spec = rotation_spec(rotation)
    assert spec["restrictions"] == [
        {
            "layer": "day",
            "weekdays": ["Mon", "Tue", "Wed", "Thu", "Fri"],
            "start": "09:00",
            "end": "17:00",
        }
    ]
    assert rotation_from_spec("support", spec) == rotation
    assert effective_from_of(yaml.safe_load(text)["spec"]) == datetime(2026, 1, 1, tzinfo=UTC)


def _with(change: dict[str, Any]) -> str:
    document = yaml.safe_load(AS_WRITTEN)
    for path, value in change.items():
        node = document
        *parents, last = path.split(".")
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        if value is _DELETE:
            del node[last]
        elif last.isdigit():
            node[int(last)] = value
        else:
            node[last] = value
    return yaml.safe_dump(document)


_DELETE = object()


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"spec.timezone": "Mars/Olympus"}, "spec.timezone", "expected an IANA time zone name"),
        ({"spec.timezone": "../../etc/passwd"}, "spec.timezone", "expected an IANA time zone name"),
        ({"spec.timezone": 1.5}, "spec.timezone", "expected an IANA time zone name as text"),
        (
            {"spec.layers.0.handoff": "Mon 9am"},
            "spec.layers[0].handoff",
            'expected a handoff like "Mon 09:00"',
        ),
        (
            {"spec.layers.0.handoff": "Funday 09:00"},
            "spec.layers[0].handoff",
            "weekdays are Mon to Sun",
        ),
        ({"spec.layers.0.handoff": 630}, "spec.layers[0].handoff", "quote it"),
        ({"spec.layers.0.members": []}, "spec.layers[0].members", "expected at least 1 item"),
        ({"spec.layers.0.members": ["bob", "bob"]}, "spec.layers[0].members", "bob more than once"),
        ({"spec.layers.1.name": "primary"}, "spec.layers", "primary more than once"),
        (
            {"spec.overrides.0.layer": "tertiary"},
            "spec.overrides[0].layer",
            "expected one of the rotation's layers (primary, secondary, manager), got 'tertiary'",
        ),
        (
            {"spec.overrides.0.to": "2026-03-28T17:00:00+01:00"},
            "spec.overrides[0].to",
            "expected `from` before `to`",
        ),
        (
            {"spec.overrides.0.from": "2026-03-28T18:00:00"},
            "spec.overrides[0].from",
            "with an offset",
        ),
        ({"spec.overrides.0.from": "soon"}, "spec.overrides[0].from", "expected an RFC 3339 time"),
        ({"spec.layers.0.shift": float("nan")}, "spec.layers[0].shift", "got NaN"),
        (
            {"spec.layers.0.shift": "99999999999d"},
            "spec.layers[0].shift",
            "expected a shift length like",
        ),
        ({"spec.layers.0.shift": "999999999d"}, "spec.layers[0].shift", "at most 366 days"),
        ({"spec.layers.0.shift": "100mo"}, "spec.layers[0].shift", "at most 12 months"),
        ({"spec.layers.0.shift": 7}, "spec.layers[0].shift", "as text"),
        ({"spec.layers.0.shift": "12h"}, "spec.layers[0].shift", "needs a shift of whole days"),
        ({"spec.layers.2.shift": "30d"}, "spec.layers[2].shift", "needs a shift in months"),
        (
            {"spec.layers.0.start": "2026-13-01"},
            "spec.layers[0].start",
            "expected a date like 2026-01-05",
        ),
        ({"spec.layers.0.start": "2026-01-05T09:00:00"}, "spec.layers[0].start", "expected a date"),
        ({"spec.layers.0.name": "prim\x00ary"}, "spec.layers[0].name", "expected a name of"),
        (
            {"spec.layers.0.members": ["al\x1bice"]},
            "spec.layers[0].members[0]",
            "expected a name of",
        ),
        (
            {"spec.overrides.0.member": "bo\u202eb"},
            "spec.overrides[0].member",
            "expected a name of",
        ),
        ({"metadata.name": "Pay ments"}, "metadata.name", "expected a name of"),
        ({"spec.layers": []}, "spec.layers", "expected at least 1 item"),
        ({"spec.shifts": "7d"}, "spec.shifts", "unknown field"),
        ({"spec.timezone": _DELETE}, "spec.timezone", "required field is missing"),
        (
            {
                "spec.restrictions": [
                    {"layer": "nope", "weekdays": ["Mon"], "start": "09:00", "end": "17:00"}
                ]
            },
            "spec.restrictions[0].layer",
            "got 'nope'",
        ),
        (
            {
                "spec.restrictions": [
                    {"layer": "primary", "weekdays": ["Mo"], "start": "09:00", "end": "17:00"}
                ]
            },
            "spec.restrictions[0].weekdays[0]",
            "expected a weekday Mon to Sun",
        ),
        (
            {
                "spec.restrictions": [
                    {"layer": "primary", "weekdays": ["Mon"], "start": "25:00", "end": "17:00"}
                ]
            },
            "spec.restrictions[0].start",
            'expected a time of day like "09:00"',
        ),
        ({"spec.effective_from": "yesterday"}, "spec.effective_from", "expected an RFC 3339 time"),
    ],
)
def test_bad_documents_name_the_file_the_field_and_what_was_expected(
    change: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(SpecError) as raised:
        parse_rotation(_with(change), source="payments.yaml")
    assert raised.value.file == "payments.yaml"
    assert raised.value.field == field
    assert message in raised.value.detail


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("kind: [unclosed", "invalid YAML at line"),
        ("- just a list", "expected a mapping"),
    ],
)
def test_what_is_not_a_document(text: str, message: str) -> None:
    with pytest.raises(SpecError, match=message) as raised:
        parse_rotation(text, source="bad.yaml")
    assert raised.value.file == "bad.yaml"


def test_a_huge_document_is_refused() -> None:
    document = yaml.safe_load(AS_WRITTEN)
    document["spec"]["layers"][0]["members"] = [f"m{i}" for i in range(2_000)]
    with pytest.raises(SpecError, match="at most 1000 entries") as raised:
        parse_rotation(yaml.safe_dump(document), source="big.yaml")
    assert raised.value.field == "spec.layers[0].members"


def test_a_stored_spec_that_does_not_read() -> None:
    with pytest.raises(SpecError, match="stored rotation 'payments' does not read") as raised:
        rotation_from_spec("payments", {"timezone": "UTC", "layers": "none"})
    assert raised.value.field == "spec.layers"
    with pytest.raises(SpecError) as raised:
        effective_from_of({"effective_from": "2026-01-01T00:00:00"})
    assert raised.value.field == "spec.effective_from"
    with pytest.raises(ValueError, match="expected an IANA time zone"):
        rotation_spec(Rotation("x", None, timezone(timedelta(hours=1)), EXPECTED.layers))
    assert rotation_spec(Rotation("x", None, UTC, EXPECTED.layers))["timezone"] == "UTC"
