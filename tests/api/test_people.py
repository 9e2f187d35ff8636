"""People through the API, on SQLite and PostgreSQL: viewers read, editors change, every
change audited; bad details are 422s naming the field, with nothing stored."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from tests.api.conftest import Api
from tests.api.test_crud import actions
from tests.hostile import HOSTILE_NAMES

ALICE: dict[str, Any] = {
    "display_name": "Alice Liddell",
    "email": "alice@example.com",
    "timezone": "Europe/Berlin",
    "team": "payments",
    "contacts": [
        {"kind": "slack", "target": "https://chat.example.com/hooks/payments-oncall"},
        {"kind": "webhook", "target": "https://hooks.example.com/alice"},
    ],
}


def test_viewers_read_editors_change_and_every_change_is_audited(api: Api) -> None:
    assert api.get("/api/v1/people", role=None).status_code == 401
    assert api.put("/api/v1/people/alice", role="viewer", json=ALICE).status_code == 403
    assert api.put("/api/v1/people/alice", role="deploy", json=ALICE).status_code == 403
    created = api.put("/api/v1/people/alice", role="editor", json=ALICE)
    assert (created.status_code, created.json()) == (201, {"name": "alice", **ALICE})
    shown = api.get("/api/v1/people/alice", role="viewer").json()
    assert shown == {"name": "alice", **ALICE}
    again = api.put("/api/v1/people/alice", role="editor", json=ALICE)
    assert again.status_code == 200
    moved = api.put("/api/v1/people/alice", role="editor", json={"timezone": "Asia/Tokyo"})
    assert moved.json() == {
        "name": "alice",
        "display_name": None,
        "email": None,
        "timezone": "Asia/Tokyo",
        "team": None,
        "contacts": [],
    }
    api.put("/api/v1/people/bob", role="editor", json={"team": "search"})
    assert [p["name"] for p in api.get("/api/v1/people", role="viewer").json()] == ["alice", "bob"]
    assert [p["name"] for p in api.get("/api/v1/people?team=search").json()] == ["bob"]
    assert api.delete("/api/v1/people/alice", role="viewer").status_code == 403
    assert api.delete("/api/v1/people/alice", role="editor").status_code == 204
    assert api.get("/api/v1/people/alice").status_code == 404
    assert api.delete("/api/v1/people/alice", role="editor").status_code == 404
    assert [a for a in actions(api) if a[1].startswith("person.")] == [
        ("editor-bot", "person.create", "alice"),
        ("editor-bot", "person.update", "alice"),
        ("editor-bot", "person.create", "bob"),
        ("editor-bot", "person.delete", "alice"),
    ]


REFUSED = [
    ("email", "alice", ["body", "email"], "email address"),
    ("timezone", "Mars/Olympus", ["body", "timezone"], "IANA time zone"),
    ("timezone", "../../etc/passwd", ["body", "timezone"], "IANA time zone"),
    ("team", "Payments Team", ["body", "team"], "expected a name"),
    ("display_name", "a\x00b", ["body", "display_name"], "control characters"),
    ("display_name", "x" * 501, ["body", "display_name"], "at most 500"),
    ("contacts", [{"kind": "fax", "target": "1"}], ["body", "contacts", 0, "kind"], "'email'"),
    ("contacts", [{"kind": "webhook", "target": "ftp://x"}], ["body", "contacts", 0], "http"),
    (
        "contacts",
        [{"kind": "slack", "target": "#a", "x": 1}],
        ["body", "contacts", 0, "x"],
        "Extra",
    ),
    ("contacts", [{"kind": "slack", "target": "#a"}] * 21, ["body", "contacts"], "at most 20"),
    ("phone", "+49", ["body", "phone"], "Extra inputs"),
]


@pytest.mark.parametrize(
    ("field", "value", "loc", "said"), REFUSED, ids=[f"{r[0]}={str(r[1])[:16]}" for r in REFUSED]
)
def test_bad_details_are_422s_naming_the_field_and_store_nothing(
    lite_api: Api, field: str, value: Any, loc: list[str | int], said: str
) -> None:
    body = {**copy.deepcopy(ALICE), field: value}
    answer = lite_api.put("/api/v1/people/alice", role="editor", json=body)
    assert answer.status_code == 422, answer.text
    problem = answer.json()["detail"][0]
    assert problem["loc"] == loc
    assert said in problem["msg"]
    assert lite_api.get("/api/v1/people/alice").status_code == 404


@pytest.mark.parametrize("name", list(HOSTILE_NAMES.values()), ids=list(HOSTILE_NAMES))
def test_hostile_handles_are_refused(lite_api: Api, name: str) -> None:
    from urllib.parse import quote

    answer = lite_api.put(f"/api/v1/people/{quote(name, safe='')}", role="editor", json=ALICE)
    assert answer.status_code in (404, 422), answer.text
    assert lite_api.get("/api/v1/people").json() == []


@pytest.mark.parametrize(
    "body",
    [
        json.dumps({**ALICE, "email": 1e309}).replace("Infinity", "1e309"),
        '{"display_name": NaN}',
        '{"contacts": ' + "[" * 500 + "]" * 500 + "}",
        '{"email": "alice@example.com"',
    ],
    ids=["1e309", "nan", "deep", "truncated"],
)
def test_hostile_bodies_are_refused_and_store_nothing(lite_api: Api, body: str) -> None:
    answer = lite_api.client.put(
        "/api/v1/people/alice",
        content=body.encode(),
        headers={**lite_api.headers("editor"), "Content-Type": "application/json"},
    )
    assert answer.status_code == 422, answer.text
    assert lite_api.get("/api/v1/people").json() == []


def test_a_body_over_the_limit_is_a_413(lite_api: Api) -> None:
    answer = lite_api.put(
        "/api/v1/people/alice", role="editor", json={"display_name": "x" * (2 * 1024 * 1024)}
    )
    assert answer.status_code == 413
    assert lite_api.get("/api/v1/people").json() == []
