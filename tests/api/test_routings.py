"""Alert routings through the API, on SQLite and PostgreSQL: the built-in default until one is
stored, viewers read and editors change, a document GET shows is one PUT takes back, and
hostile documents are refused naming the field with nothing stored."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from srekit.core.routing import DEFAULT_ROUTING
from srekit.spec.routing import routing_document
from tests.api.conftest import Api
from tests.api.test_crud import actions

ONCALL: dict[str, Any] = {
    "apiVersion": "srekit/v1",
    "kind": "AlertRouting",
    "metadata": {"name": "default"},
    "spec": {
        "routes": [
            {
                "match": {"severity": "page"},
                "incident": True,
                "severity": "P1",
                "group_by": ["alertname", "service"],
            },
            {"match_re": {"service": "pay.*"}, "incident": False},
        ],
        "service_label": "app",
        "on_resolved": "keep",
    },
}


def _with(path: str, value: Any) -> dict[str, Any]:
    """ONCALL with the value at a dotted path (`spec.routes.0.severity`) replaced."""
    document = copy.deepcopy(ONCALL)
    *parents, last = path.split(".")
    node: Any = document
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    node[int(last) if last.isdigit() else last] = value
    return document


def test_the_built_in_routing_is_listed_and_read_until_one_is_stored(api: Api) -> None:
    built_in = {
        "name": "default",
        "built_in": True,
        "version": None,
        "created_at": None,
        "updated_at": None,
        "document": routing_document(DEFAULT_ROUTING),
    }
    assert api.get("/api/v1/routings", role="viewer").json() == [built_in]
    assert api.get("/api/v1/routings/default", role="viewer").json() == built_in
    assert api.get("/api/v1/routings/staging", role="viewer").status_code == 404
    assert api.delete("/api/v1/routings/default", role="editor").status_code == 404


def test_viewers_read_editors_change_and_every_change_is_audited(api: Api) -> None:
    assert api.get("/api/v1/routings", role=None).status_code == 401
    assert api.put("/api/v1/routings/default", role="viewer", json=ONCALL).status_code == 403
    assert api.put("/api/v1/routings/default", role="deploy", json=ONCALL).status_code == 403
    created = api.put("/api/v1/routings/default", role="editor", json=ONCALL)
    assert (created.status_code, created.json()) == (
        201,
        {"name": "default", "result": "created", "version": 1, "changes": []},
    )
    shown = api.get("/api/v1/routings/default", role="viewer").json()
    assert (shown["built_in"], shown["version"]) == (False, 1)
    assert shown["document"]["spec"]["routes"][1] == {
        "match_re": {"service": "pay.*"},
        "incident": False,
        "group_by": ["alertname", "service"],
    }
    assert shown["document"]["spec"]["severity_labels"]["page"] == "P1"  # the defaults, spelt out
    again = api.put("/api/v1/routings/default", role="editor", json=shown["document"])
    assert (again.status_code, again.json()["result"], again.json()["version"]) == (
        200,
        "unchanged",
        1,
    )
    keep = api.put(
        "/api/v1/routings/default", role="editor", json=_with("spec.on_resolved", "resolve")
    )
    assert keep.json() == {
        "name": "default",
        "result": "updated",
        "version": 2,
        "changes": ['on_resolved: "keep" → "resolve"'],
    }
    listed = api.get("/api/v1/routings", role="viewer").json()
    assert [(r["name"], r["built_in"], r["version"]) for r in listed] == [("default", False, 2)]
    assert api.delete("/api/v1/routings/default", role="viewer").status_code == 403
    assert api.delete("/api/v1/routings/default", role="editor").status_code == 204
    assert api.get("/api/v1/routings/default").json()["built_in"] is True
    assert [a for a in actions(api) if a[1].startswith("routing.")] == [
        ("editor-bot", "routing.create", "default"),
        ("editor-bot", "routing.update", "default"),
        ("editor-bot", "routing.delete", "default"),
    ]


def test_other_names_are_stored_beside_the_built_in_default(api: Api) -> None:
    staging = _with("metadata.name", "staging")
    assert api.put("/api/v1/routings/staging", json=staging).status_code == 201
    listed = api.get("/api/v1/routings").json()
    assert [(r["name"], r["built_in"]) for r in listed] == [("default", True), ("staging", False)]


REFUSED = [
    ("metadata.name", "other", ["body", "metadata", "name"], "the name in the path"),
    (
        "spec.routes.0.match_re",
        {"service": "("},
        ["body", "spec", "routes", 0, "match_re", "service"],
        "regular expression",
    ),
    (
        "spec.routes.0.match",
        {"bad-label": "x"},
        ["body", "spec", "routes", 0, "match", "bad-label", "[key]"],
        "pattern",
    ),
    (
        "spec.routes.0.severity",
        "P5",
        ["body", "spec", "routes", 0, "severity"],
        "'P0', 'P1', 'P2' or 'P3'",
    ),
    ("spec.routes.0.incident", "yes", ["body", "spec", "routes", 0, "incident"], "boolean"),
    ("spec.routes.0.receiver", "pager", ["body", "spec", "routes", 0, "receiver"], "Extra inputs"),
    ("spec.routes", [], ["body", "spec", "routes"], "at least 1"),
    (
        "spec.routes.0.match",
        {"team": "a\x00b"},
        ["body", "spec", "routes", 0, "match", "team"],
        "control characters",
    ),
    (
        "spec.routes.0.match_re",
        {"team": "a\u001b[31m"},
        ["body", "spec", "routes", 0, "match_re", "team"],
        "control characters",
    ),
    (
        "spec.routes.0.match",
        {"team": "x" * 5000},
        ["body", "spec", "routes", 0, "match", "team"],
        "at most 1024",
    ),
    ("spec.service_label", "", ["body", "spec", "service_label"], "pattern"),
    ("kind", "SLO", ["body", "kind"], "'AlertRouting'"),
]


@pytest.mark.parametrize(
    ("path", "value", "loc", "said"), REFUSED, ids=[f"{r[0]}={str(r[1])[:20]}" for r in REFUSED]
)
def test_bad_documents_are_422s_naming_the_field_and_store_nothing(
    lite_api: Api, path: str, value: Any, loc: list[str | int], said: str
) -> None:
    answer = lite_api.put("/api/v1/routings/default", role="editor", json=_with(path, value))
    assert answer.status_code == 422, answer.text
    problem = answer.json()["detail"][0]
    assert problem["loc"] == loc
    assert said in problem["msg"]
    assert lite_api.get("/api/v1/routings/default").json()["built_in"] is True
    assert not [a for a in actions(lite_api) if a[1].startswith("routing.")]


@pytest.mark.parametrize(
    "body",
    [
        json.dumps(ONCALL).replace('"P1"', "NaN"),
        json.dumps(ONCALL).replace('"P1"', "1e309"),
        json.dumps(ONCALL).replace("true", "-Infinity", 1),
        '{"apiVersion": "srekit/v1", "kind": "AlertRouting", "metadata": {"name": "default"},'
        ' "spec": {"routes": ' + "[" * 500 + "]" * 500 + "}}",
        json.dumps(_with("spec.routes", [{"match": {"a": "b"}}] * 501)),
        json.dumps(_with("spec.routes.0.group_by", [f"label_{n}" for n in range(65)])),
        json.dumps(_with("spec.routes.0.match_re", {"team": "x" * 2000})),
    ],
    ids=[
        "nan",
        "1e309",
        "-infinity",
        "deep",
        "501 routes",
        "65 labels",
        "long regex",
    ],
)
def test_hostile_documents_are_refused_and_store_nothing(lite_api: Api, body: str) -> None:
    answer = lite_api.client.put(
        "/api/v1/routings/default",
        content=body.encode(),
        headers={**lite_api.headers("editor"), "Content-Type": "application/json"},
    )
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/json"
    assert lite_api.get("/api/v1/routings/default").json()["built_in"] is True


def test_a_body_over_the_limit_is_a_413(lite_api: Api) -> None:
    huge = _with("spec.routes.0.match", {"team": "x" * (2 * 1024 * 1024)})
    answer = lite_api.put("/api/v1/routings/default", role="editor", json=huge)
    assert answer.status_code == 413
    assert lite_api.get("/api/v1/routings/default").json()["built_in"] is True


def test_slo_documents_are_no_way_in_for_a_routing(lite_api: Api) -> None:
    answer = lite_api.post("/api/v1/slos", role="editor", json={"documents": [ONCALL]})
    assert answer.status_code == 422
    (problem,) = answer.json()["detail"]
    assert problem["loc"] == ["body", "documents", 0, "kind"]
    assert "PUT /api/v1/routings/{name}" in problem["msg"]
    assert lite_api.get("/api/v1/routings/default").json()["built_in"] is True
