"""Rotations through the API, on SQLite and PostgreSQL: stored and versioned, who is on call,
schedules, fairness and calendar feeds, with figures checked by hand; hostile documents are
refused naming the field, with nothing stored."""

from __future__ import annotations

import copy
import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import recurring_ical_events
import yaml
from icalendar import Calendar
from sqlalchemy import Engine

from srekit.core.incident import Severity, TimelineKind
from srekit.core.oncall import RotationChange
from srekit.core.rotation import versioned_shifts
from srekit.flows.oncall import calendar_shifts, signed_calendar_path, store_rotation
from srekit.spec.rotation import parse_rotation
from srekit.store.database import transaction
from srekit.store.repo import add_event, create_incident, ruling_rotation_versions
from tests.api.conftest import Api
from tests.api.test_crud import actions

ROOT = Path(__file__).resolve().parents[2]
TEXT = (ROOT / "examples" / "oncall" / "payments.yaml").read_text()
DOCUMENT: dict[str, Any] = yaml.safe_load(TEXT)
DOCUMENT["spec"]["layers"][0]["start"] = "2026-01-05"  # JSON has no dates
DOCUMENT["spec"]["layers"][1]["start"] = "2026-01-08"
DOCUMENT["spec"]["layers"][2]["start"] = "2026-01-01"
PAYMENTS = parse_rotation(TEXT, source="payments.yaml")
STORED_AT = datetime(2026, 1, 1, tzinfo=UTC)
PATH = "/api/v1/oncall/rotations/payments"


def _with(path: str, value: Any) -> dict[str, Any]:
    document = copy.deepcopy(DOCUMENT)
    *parents, last = path.split(".")
    node: Any = document
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    node[int(last) if last.isdigit() else last] = value
    return document


def _seed(engine: Engine) -> None:
    """The example rotation, stored as if on 2026-01-01 (a change cannot take effect in the
    past, so history is written where the clock can be set: the flow)."""
    store_rotation(engine, change=RotationChange(PAYMENTS), actor="seed", now=STORED_AT)


@pytest.fixture
def seeded(api: Api) -> Api:
    _seed(api.client.app.state.srekit.engine)  # type: ignore[attr-defined]
    return api


def test_store_read_version_and_delete_a_rotation(api: Api) -> None:
    assert api.get("/api/v1/oncall/rotations", role=None).status_code == 401
    assert api.put(PATH, role="viewer", json=DOCUMENT).status_code == 403
    created = api.put(PATH, role="editor", json=DOCUMENT)
    assert created.status_code == 201, created.text
    assert (created.json()["result"], created.json()["version"]) == ("created", 1)
    shown = api.get(PATH, role="viewer").json()
    assert (shown["name"], shown["team"], shown["version"]) == ("payments", "payments", 1)
    assert shown["document"]["spec"]["effective_from"] == shown["effective_from"]
    # what GET shows, PUT takes back unchanged, though its effective_from is now past
    again = api.put(PATH, role="editor", json=shown["document"])
    assert (again.status_code, again.json()["result"]) == (200, "unchanged")
    later = _with("spec.effective_from", "2099-01-05T08:00:00Z")
    later["spec"]["layers"][0]["members"] = ["carol", "alice", "bob"]
    updated = api.put(PATH, role="editor", json=later).json()
    assert (updated["result"], updated["version"], updated["effective_from"]) == (
        "updated",
        2,
        "2099-01-05T08:00:00Z",
    )
    assert updated["changes"][1].startswith("effective_from: ")
    assert updated["changes"][0] == (
        'layers[0].members: ["alice","bob","carol"] → ["carol","alice","bob"]'
    )
    sooner = _with("spec.effective_from", "2098-01-05T08:00:00Z")
    assert api.put(PATH, role="editor", json=sooner).json()["version"] == 3
    versions = api.get(f"{PATH}/versions", role="viewer").json()
    assert [(v["version"], v["ruling"], v["actor"]) for v in versions] == [
        (1, True, "editor-bot"),
        (2, False, "editor-bot"),  # superseded by version 3, which takes effect before it
        (3, True, "editor-bot"),
    ]
    assert [r["name"] for r in api.get("/api/v1/oncall/rotations?team=payments").json()] == [
        "payments"
    ]
    assert api.delete(PATH, role="viewer").status_code == 403
    assert api.delete(PATH, role="editor").status_code == 204
    assert api.get(PATH).status_code == 404
    assert api.get(f"{PATH}/who").status_code == 404
    assert [a[1] for a in actions(api) if a[1].startswith("rotation.")] == [
        "rotation.create",
        "rotation.update",
        "rotation.update",
        "rotation.delete",
    ]


def test_a_change_taking_effect_in_the_past_is_a_422_and_stores_nothing(api: Api) -> None:
    api.put(PATH, role="editor", json=DOCUMENT)
    past = _with("spec.effective_from", "2026-01-01T00:00:00Z")
    past["spec"]["team"] = "checkout"
    answer = api.put(PATH, role="editor", json=past)
    assert answer.status_code == 422
    (problem,) = answer.json()["detail"]
    assert problem["loc"] == ["body", "spec", "effective_from"]
    assert "never rewrites past shifts" in problem["msg"]
    assert api.get(PATH).json()["version"] == 1


def test_who_is_on_call_with_the_override_and_across_layers(seeded: Api) -> None:
    answer = seeded.get(f"{PATH}/who?at=2026-03-25T12:00:00Z", role="viewer")
    assert answer.status_code == 200, answer.text
    # primary week 11 since Jan 5 (11 % 3 = 2: carol), cut where bob's override begins;
    # secondary week 10 since Jan 8 (erin); manager: March is grace's (Jan grace, Feb heidi)
    assert answer.json() == {
        "rotation": "payments",
        "at": "2026-03-25T12:00:00Z",
        "layers": {
            "primary": {
                "member": "carol",
                "shift_start": "2026-03-23T08:00:00Z",
                "shift_end": "2026-03-28T17:00:00Z",
            },
            "secondary": {
                "member": "erin",
                "shift_start": "2026-03-19T08:00:00Z",
                "shift_end": "2026-03-26T08:00:00Z",
            },
            "manager": {
                "member": "grace",
                "shift_start": "2026-03-01T08:00:00Z",
                "shift_end": "2026-04-01T07:00:00Z",
            },
        },
    }
    override = seeded.get(f"{PATH}/who?at=2026-03-29T12:00:00%2B02:00").json()
    assert override["layers"]["primary"] == {
        "member": "bob",
        "shift_start": "2026-03-28T17:00:00Z",
        "shift_end": "2026-03-30T07:00:00Z",
    }
    before = seeded.get(f"{PATH}/who?at=2025-12-01T00:00:00Z").json()
    assert before["layers"]["primary"] == {
        "member": None,
        "shift_start": None,
        "shift_end": "2026-01-01T00:00:00Z",
    }


def test_the_schedule_lists_shifts_and_gaps(seeded: Api) -> None:
    answer = seeded.get(
        f"{PATH}/schedule?from=2025-12-31T00:00:00Z&to=2026-01-06T00:00:00Z", role="viewer"
    ).json()
    primary = [s for s in answer["shifts"] if s["layer"] == "primary"]
    assert [(s["member"], s["start"], s["end"], s["gap"]) for s in primary] == [
        (None, "2025-12-31T00:00:00Z", "2026-01-01T00:00:00Z", "before effective_from"),
        (None, "2026-01-01T00:00:00Z", "2026-01-05T08:00:00Z", "before start"),
        ("alice", "2026-01-05T08:00:00Z", "2026-01-06T00:00:00Z", None),
    ]
    assert {"layer": "primary", "start": "2026-01-01T00:00:00Z",
            "end": "2026-01-05T08:00:00Z", "reason": "before start"} in answer["gaps"]  # fmt: skip
    assert all(gap["layer"] in ("primary", "secondary", "manager") for gap in answer["gaps"])
    assert len(answer["gaps"]) == 3 + 2 + 1  # each layer before effective_from; then starts


@pytest.mark.parametrize(
    ("query", "loc", "said"),
    [
        ("from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", ["query", "to"], "after `from`"),
        ("from=2026-01-01T00:00:00Z&to=2029-01-01T00:00:00Z", ["query", "to"], "at most 731"),
        ("from=2026-01-01T00:00:00&to=2026-01-02T00:00:00Z", ["query", "from"], "time zone"),
        ("from=yesterday", ["query", "from"], "datetime"),
    ],
)
def test_bad_ranges_are_422s(seeded: Api, query: str, loc: list[str], said: str) -> None:
    for what in ("schedule", "fairness", "calendar.ics"):
        answer = seeded.get(f"{PATH}/{what}?{query}", role="viewer")
        assert answer.status_code == 422, (what, answer.text)
        assert answer.json()["detail"][0]["loc"] == loc
        assert said in answer.json()["detail"][0]["msg"]


def test_fairness_counts_hours_nights_weekends_and_pages(seeded: Api) -> None:
    engine = seeded.client.app.state.srekit.engine  # type: ignore[attr-defined]
    seeded.put("/api/v1/people/alice", role="editor", json={"timezone": "America/New_York"})
    with transaction(engine) as session:
        incident = create_incident(
            session,
            title="x",
            severity=Severity.P1,
            opened_at=datetime(2026, 1, 6, tzinfo=UTC),
            actor="t",
        )
        for data in ({"person": "alice"}, {"people": ["alice", "bob"]}, {"person": "zed"}):
            add_event(
                session,
                incident_id=incident.id,
                kind=TimelineKind.PAGE_SENT,
                actor="srekit",
                text="paged",
                at=datetime(2026, 1, 7, tzinfo=UTC),
                data=data,
            )
    answer = seeded.get(
        f"{PATH}/fairness?from=2026-01-05T08:00:00Z&to=2026-01-12T08:00:00Z", role="viewer"
    ).json()
    loads = {load["person"]: load for load in answer["people"]}
    # alice holds primary the whole week: 168 h; in New York (UTC-5) nights 22:00-07:00 are
    # 03:00-12:00Z: 7 nights of 9 h = 63 h; the weekend Sat 00:00-Mon 00:00 local: 48 h
    assert loads["alice"] == {
        "person": "alice",
        "hours": 168.0,
        "night_hours": 63.0,
        "weekend_hours": 48.0,
        "shifts": 1,
        "pages": 2,
    }
    # dave: secondary from Thu Jan 8 08:00Z to the end, in Berlin (the rotation's zone):
    # 96 h; nights 21:00-06:00Z: Jan 8/9, 9/10, 10/11, 11/12 (whole) = 36 h; weekend 48 h
    assert (loads["dave"]["hours"], loads["dave"]["night_hours"]) == (96.0, 36.0)
    assert loads["dave"]["weekend_hours"] == 48.0
    assert loads["bob"]["pages"] == 1
    assert "zed" not in loads


def _events(feed: bytes, start: datetime, end: datetime) -> list[tuple[str, str, Any, Any]]:
    calendar = Calendar.from_ical(feed)
    found = recurring_ical_events.of(calendar).between(start, end)
    return sorted((str(e["UID"]), str(e["SUMMARY"]), e["DTSTART"].dt, e["DTEND"].dt) for e in found)


def test_the_calendar_reads_back_to_the_shifts_across_the_dst_week(seeded: Api) -> None:
    start, end = datetime(2026, 3, 23, tzinfo=UTC), datetime(2026, 4, 6, tzinfo=UTC)
    answer = seeded.get(
        f"{PATH}/calendar.ics?from=2026-03-23T00:00:00Z&to=2026-04-06T00:00:00Z", role="viewer"
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "text/calendar; charset=utf-8"
    engine = seeded.client.app.state.srekit.engine  # type: ignore[attr-defined]
    with transaction(engine) as session:
        versions = ruling_rotation_versions(session, name="payments")
    computed = calendar_shifts(versions, start=start, end=end)
    # whole shifts: what a wider schedule holds, of those overlapping the range
    wide = versioned_shifts(
        versions, start=datetime(2026, 2, 1, tzinfo=UTC), end=datetime(2026, 6, 1, tzinfo=UTC)
    )
    assert computed == [s for s in wide if s.member and s.end > start and s.start < end]
    expected = sorted(
        (
            f"payments/{s.layer}/{s.start:%Y%m%dT%H%M%SZ}@srekit",
            f"payments {s.layer}: {s.member}",
            s.start,
            s.end,
        )
        for s in wide
        if s.member is not None and s.end > start and s.start < end
    )
    assert _events(answer.content, start, end) == expected
    primary = [e for e in expected if "primary" in e[1]]
    # the DST week: bob's week (from the range's start, whole), carol from Mon 09:00 CET,
    # bob's override over the change, then alice from Mon 09:00 CEST: 09:00 local is 08:00Z
    # before and 07:00Z after
    assert [(e[1], e[2].isoformat(), e[3].isoformat()) for e in primary] == [
        ("payments primary: bob", "2026-03-16T08:00:00+00:00", "2026-03-23T08:00:00+00:00"),
        ("payments primary: carol", "2026-03-23T08:00:00+00:00", "2026-03-28T17:00:00+00:00"),
        ("payments primary: bob", "2026-03-28T17:00:00+00:00", "2026-03-30T07:00:00+00:00"),
        ("payments primary: alice", "2026-03-30T07:00:00+00:00", "2026-04-06T07:00:00+00:00"),
    ]
    # a later poll over a later range gives the same UIDs to the same shifts
    later = seeded.get(f"{PATH}/calendar.ics?from=2026-03-25T00:00:00Z&to=2026-04-06T00:00:00Z")
    assert set(_events(later.content, start, end)) <= set(expected)


def test_calendar_feeds_take_a_viewer_token_in_the_url(seeded: Api) -> None:
    seeded.put("/api/v1/people/alice", role="editor", json={})
    client = seeded.client
    viewer, admin = seeded.tokens["viewer"], seeded.tokens["admin"]
    for path in (f"{PATH}/calendar.ics", "/api/v1/oncall/people/alice/calendar.ics"):
        assert client.get(path).status_code == 401
        assert client.get(f"{path}?token=srk_nope").status_code == 401
        assert client.get(f"{path}?token={viewer}").status_code == 200
        refused = client.get(f"{path}?token={admin}")
        assert refused.status_code == 403
        assert "only a viewer token" in refused.json()["detail"]
        assert client.get(path, headers=seeded.headers("admin")).status_code == 200
    assert (
        client.get(f"/api/v1/oncall/people/nobody/calendar.ics?token={viewer}").status_code == 404
    )


def test_a_rotations_signed_calendar_url_opens_that_feed_only(seeded: Api) -> None:
    engine = seeded.client.app.state.srekit.engine  # type: ignore[attr-defined]
    search = _with("metadata.name", "search")
    assert seeded.put("/api/v1/oncall/rotations/search", role="editor", json=search).is_success
    client = seeded.client
    signed = signed_calendar_path(engine, rotation="payments")
    path, signature = signed.split("?sig=")
    assert path == f"{PATH}/calendar.ics"
    assert len(signature) == 64
    answer = client.get(signed)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/calendar")
    assert b"BEGIN:VEVENT" in answer.content
    # a wrong signature, an altered one, or another rotation's: refused
    flipped = signature[:-1] + ("0" if signature[-1] != "0" else "1")
    other = signed_calendar_path(engine, rotation="search").split("?sig=")[1]
    for bad in ("0" * 64, flipped, other, ""):
        refused = client.get(f"{path}?sig={bad}")
        assert refused.status_code in (401, 403), bad
    assert client.get(f"/api/v1/oncall/rotations/search/calendar.ics?sig={other}").is_success
    # the signature opens the feed only: not the rotation, not a person's calendar
    assert client.get(f"{PATH}?sig={signature}").status_code == 401
    assert (
        client.get(f"/api/v1/oncall/people/alice/calendar.ics?sig={signature}").status_code == 401
    )


def test_a_persons_calendar_and_schedule_span_rotations(seeded: Api) -> None:
    search = _with("metadata.name", "search")
    search["spec"]["team"] = "search"
    search["spec"]["overrides"] = []
    search["spec"]["layers"] = [search["spec"]["layers"][0]]
    search["spec"]["layers"][0]["members"] = ["bob", "alice"]
    engine = seeded.client.app.state.srekit.engine  # type: ignore[attr-defined]
    rotation = parse_rotation(json.dumps(search), source="search")
    store_rotation(engine, change=RotationChange(rotation), actor="seed", now=STORED_AT)
    seeded.put("/api/v1/people/alice", role="editor", json={})
    query = "from=2026-01-05T08:00:00Z&to=2026-01-26T08:00:00Z"
    shown = seeded.get(f"/api/v1/oncall/people/alice/schedule?{query}").json()
    # payments primary: alice weeks 0 and 3 (Jan 26 is past the range); search: alice week 1
    assert [(s["rotation"], s["start"]) for s in shown["shifts"]] == [
        ("payments", "2026-01-05T08:00:00Z"),
        ("search", "2026-01-12T08:00:00Z"),
    ]
    feed = seeded.get(f"/api/v1/oncall/people/alice/calendar.ics?{query}")
    summaries = [s for _, s, _, _ in _events(feed.content, datetime(2026, 1, 5, tzinfo=UTC),
                                              datetime(2026, 1, 26, tzinfo=UTC))]  # fmt: skip
    assert summaries == ["payments primary: alice", "search primary: alice"]


REFUSED = [
    ("metadata.name", "other", ["body", "metadata", "name"], "the name in the path"),
    ("spec.timezone", "Mars/Olympus", ["body", "spec", "timezone"], "IANA"),
    (
        "spec.layers.0.members",
        ["alice", "a\x00b"],
        ["body", "spec", "layers", 0, "members", 1],
        "expected a name",
    ),
    ("spec.layers.0.shift", "7x", ["body", "spec", "layers", 0, "shift"], "shift"),
    ("spec.layers.0.handoff", "Moon 09:00", ["body", "spec", "layers", 0, "handoff"], "handoff"),
    ("spec.overrides.0.layer", "tertiary", ["body", "spec", "overrides", 0, "layer"], "layers"),
    ("spec.effective_from", "tomorrow", ["body", "spec", "effective_from"], "RFC 3339"),
    ("spec.pager", "x", ["body", "spec", "pager"], "Extra inputs"),
    ("kind", "AlertRouting", ["body", "kind"], "'Rotation'"),
]


@pytest.mark.parametrize(
    ("path", "value", "loc", "said"), REFUSED, ids=[f"{r[0]}={str(r[1])[:12]}" for r in REFUSED]
)
def test_bad_documents_are_422s_naming_the_field(
    lite_api: Api, path: str, value: Any, loc: list[str | int], said: str
) -> None:
    answer = lite_api.put(PATH, role="editor", json=_with(path, value))
    assert answer.status_code == 422, answer.text
    problem = answer.json()["detail"][0]
    assert problem["loc"] == loc
    assert said in problem["msg"]
    assert lite_api.get("/api/v1/oncall/rotations").json() == []


@pytest.mark.parametrize(
    "body",
    [
        json.dumps(DOCUMENT).replace('"7d"', "NaN", 1),
        json.dumps(DOCUMENT).replace('"7d"', "1e309", 1),
        json.dumps(_with("spec.layers.0.members", ["x"] * 2)).replace('"x"', "-Infinity", 1),
        '{"apiVersion": "srekit/v1", "kind": "Rotation", "metadata": {"name": "payments"},'
        ' "spec": {"layers": ' + "[" * 500 + "]" * 500 + "}}",
        json.dumps(_with("spec.layers", [DOCUMENT["spec"]["layers"][0]] * 21)),
        json.dumps(_with("spec.layers.0.members", [f"m{n}" for n in range(201)])),
    ],
    ids=["nan", "1e309", "-infinity", "deep", "21 layers", "201 members"],
)
def test_hostile_documents_are_refused_and_store_nothing(lite_api: Api, body: str) -> None:
    answer = lite_api.client.put(
        PATH,
        content=body.encode(),
        headers={**lite_api.headers("editor"), "Content-Type": "application/json"},
    )
    assert answer.status_code == 422, answer.text
    assert lite_api.get("/api/v1/oncall/rotations").json() == []


def test_a_body_over_the_limit_is_a_413(lite_api: Api) -> None:
    huge = _with("spec.team", "x" * (2 * 1024 * 1024))
    assert lite_api.put(PATH, role="editor", json=huge).status_code == 413
    assert lite_api.get("/api/v1/oncall/rotations").json() == []


def test_many_writers_applying_the_same_rotation_at_once(api: Api) -> None:
    barrier = threading.Barrier(8)
    answers: list[int] = []

    def apply() -> None:
        barrier.wait(10)
        answers.append(api.put(PATH, role="editor", json=DOCUMENT).status_code)

    threads = [threading.Thread(target=apply) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(answers) == [200] * 7 + [201]
    assert api.get(PATH).json()["version"] == 1
    assert len(api.get(f"{PATH}/versions").json()) == 1
