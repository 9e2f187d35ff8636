"""`srekit oncall` and `srekit get rotation`, on SQLite and PostgreSQL: from a file and from
the store, figures checked by hand; bad input exits 2."""

from __future__ import annotations

import json
import re

import pytest
from icalendar import Calendar

from tests.cli.conftest import EXAMPLES, Cli

FILE = EXAMPLES / "oncall" / "payments.yaml"


@pytest.fixture(autouse=True)
def _upgraded(request: pytest.FixtureRequest) -> None:
    if "cli" in request.fixturenames:
        cli: Cli = request.getfixturevalue("cli")
        code, _, err = cli("db", "upgrade")
        assert code == 0, err


def test_who_and_schedule_from_a_file(cli: Cli) -> None:
    shown = cli.json("oncall", "who", "-f", FILE, "--at", "2026-03-29T12:00:00Z")
    assert shown == {
        "rotation": "payments",
        "at": "2026-03-29T12:00:00Z",
        "layers": {
            "primary": {  # bob's override over the DST change
                "member": "bob",
                "shift_start": "2026-03-28T17:00:00Z",
                "shift_end": "2026-03-30T07:00:00Z",
            },
            "secondary": {  # Thu Mar 26 09:00 CET: week 11 since Jan 8, 11 % 3 = 2
                "member": "frank",
                "shift_start": "2026-03-26T08:00:00Z",
                "shift_end": "2026-04-02T07:00:00Z",
            },
            "manager": {
                "member": "grace",
                "shift_start": "2026-03-01T08:00:00Z",
                "shift_end": "2026-04-01T07:00:00Z",
            },
        },
    }
    code, out, err = cli(
        "oncall", "schedule", "-f", FILE, "--from", "2026-01-01T00:00:00Z",
        "--to", "2026-01-06T00:00:00Z",
    )  # fmt: skip
    assert code == 0, err
    assert "gap: before start" in out
    assert "3 gap(s): nobody holds a layer for part of the range" in out
    plan = cli.json(
        "oncall", "schedule", "-f", FILE, "--from", "2026-01-01T00:00:00Z",
        "--to", "2026-01-06T00:00:00Z",
    )  # fmt: skip
    assert [(g["layer"], g["end"]) for g in plan["gaps"]] == [
        ("primary", "2026-01-05T08:00:00Z"),
        ("secondary", "2026-01-06T00:00:00Z"),
        ("manager", "2026-01-01T08:00:00Z"),
    ]


def test_apply_get_who_fairness_and_calendar_from_the_store(cli: Cli) -> None:
    code, out, err = cli("apply", "-f", FILE)
    assert (code, out.strip()) == (0, "created rotation payments (version 1)"), err
    code, out, _ = cli("get", "rotations")
    assert out.splitlines()[1].split()[:4] == ["payments", "1", "payments", "Europe/Berlin"]
    document = cli.json("get", "rotation", "payments")
    assert document["kind"] == "Rotation"
    code, out, _ = cli("apply", "-f", FILE)
    assert out.strip() == "unchanged rotation payments (version 1)"
    who = cli.json("oncall", "who", "--rotation", "payments")
    assert set(who["layers"]) == {"primary", "secondary", "manager"}
    fair = cli.json("oncall", "fairness", "--rotation", "payments")
    assert [p["person"] for p in fair["people"]] == [
        "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi",
    ]  # fmt: skip
    code, out, err = cli("oncall", "calendar", "--rotation", "payments")
    assert code == 0, err
    events = Calendar.from_ical(out.encode()).walk("VEVENT")
    assert len(events) > 20  # 30 days back (from when it was stored) to 180 ahead
    assert all(str(e["SUMMARY"]).startswith("payments ") for e in events)


def test_calendar_url_prints_the_rotations_signed_feed(cli: Cli) -> None:
    assert cli("apply", "-f", FILE)[0] == 0
    code, out, err = cli("oncall", "calendar-url", "payments")
    assert code == 0, err
    link = out.strip()
    assert re.fullmatch(
        r"https?://\S+/api/v1/oncall/rotations/payments/calendar\.ics\?sig=[0-9a-f]{64}", link
    ), link
    assert cli("oncall", "calendar-url", "payments")[1].strip() == link  # one stored secret
    code, _, err = cli("oncall", "calendar-url", "nobody")
    assert code == 2
    assert "nobody" in err


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("who",), "expected one of --rotation NAME"),
        (("who", "--rotation", "payments", "-f", str(FILE)), "expected one of --rotation"),
        (("who", "--rotation", "nope"), "no rotation 'nope'"),
        (("who", "-f", str(FILE), "--at", "soon"), "--at: expected an RFC 3339 time"),
        (
            (
                "schedule",
                "-f",
                str(FILE),
                "--from",
                "2026-01-01T00:00:00Z",
                "--to",
                "2029-01-01T00:00:00Z",
            ),
            "at most 731 days",
        ),
        (("who", "-f", str(EXAMPLES / "routing.yaml")), "expected one kind: Rotation"),
    ],
)
def test_bad_input_exits_2(cli: Cli, args: tuple[str, ...], said: str) -> None:
    code, _, err = cli("oncall", *args)
    assert code == 2
    assert said in " ".join(err.split())
    assert "Traceback" not in err


def test_a_rotation_taking_effect_in_the_past_exits_2(cli: Cli, tmp_path: object) -> None:
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    changed = tmp_path / "past.yaml"
    text = FILE.read_text().replace("team: payments", "team: checkout")
    changed.write_text(text + '  effective_from: "2026-01-01T00:00:00Z"\n')
    code, _, err = cli("apply", "-f", changed)
    assert code == 2
    assert "spec.effective_from" in err
    assert "never rewrites past shifts" in " ".join(err.split())
    assert json.loads(json.dumps(cli.json("get", "rotations"))) == []
