"""Hostile names through every way a name enters the API: URL paths, JSON bodies and spec
documents of each format. Each is a 422 naming the field and saying what is expected, and
nothing is stored."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest

from srekit.core.names import NAME_RULE
from tests.api.conftest import AVAILABILITY_SPEC, Api
from tests.api.test_crud import OPENSLO
from tests.hostile import HOSTILE_NAMES

POLICY = {
    "levels": [
        {"state": "ok", "floor": 0.5, "decision": "allow"},
        {"state": "no", "decision": "deny"},
    ]
}


def _segment(name: str) -> str:
    """`name` as one URL path segment (dots escaped, or the client would resolve `..`)."""
    return quote(name, safe="").replace(".", "%2E")


def _native(service: str = "checkout", name: str = "availability", **more: Any) -> dict[str, Any]:
    return {
        "apiVersion": "srekit/v1",
        "kind": "SLO",
        "service": service,
        "name": name,
        "objective": "99.9%",
        "indicator": {"events": {"good": "status < 500"}},
        **more,
    }


def _sloth(service: str = "checkout", name: str = "availability") -> dict[str, Any]:
    return {
        "version": "prometheus/v1",
        "service": service,
        "slos": [
            {
                "name": name,
                "objective": 99.9,
                "sli": {"raw": {"error_ratio_query": "rate(errors[{{.window}}])"}},
                "alerting": {"page_alert": {"disable": True}, "ticket_alert": {"disable": True}},
            }
        ],
    }


def _openslo(service: str = "checkout", name: str = "latency") -> dict[str, Any]:
    return {
        **OPENSLO,
        "metadata": {"name": name},
        "spec": {**OPENSLO["spec"], "service": service},  # type: ignore[dict-item]
    }


def _routing(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "srekit/v1",
        "kind": "AlertRouting",
        "metadata": {"name": name},
        "spec": {"routes": [{"match": {"severity": "page"}}]},
    }


# (method, path, body) for a name; the 422's `loc`
Attempt = Callable[[str], tuple[str, str, dict[str, Any] | None]]
ENTRIES: dict[str, tuple[Attempt, list[str | int]]] = {
    "slo path service": (
        lambda n: ("PUT", f"/api/v1/slos/{_segment(n)}/availability", {"spec": AVAILABILITY_SPEC}),
        ["path", "service"],
    ),
    "slo path name": (
        lambda n: ("PUT", f"/api/v1/slos/checkout/{_segment(n)}", {"spec": AVAILABILITY_SPEC}),
        ["path", "name"],
    ),
    "slo spec owner": (
        lambda n: (
            "PUT",
            "/api/v1/slos/checkout/availability",
            {"spec": {**AVAILABILITY_SPEC, "owner": n}},
        ),
        ["body", "spec", "owner"],
    ),
    "slo spec policy": (
        lambda n: (
            "PUT",
            "/api/v1/slos/checkout/availability",
            {"spec": {**AVAILABILITY_SPEC, "policy": n}},
        ),
        ["body", "spec", "policy"],
    ),
    "service path": (lambda n: ("PUT", f"/api/v1/services/{_segment(n)}", None), ["path", "name"]),
    "service team": (
        lambda n: ("PUT", "/api/v1/services/checkout", {"team": n}),
        ["body", "team"],
    ),
    "team path": (lambda n: ("PUT", f"/api/v1/teams/{_segment(n)}", None), ["path", "name"]),
    "policy path": (
        lambda n: ("PUT", f"/api/v1/policies/{_segment(n)}", POLICY),
        ["path", "name"],
    ),
    "routing path": (
        lambda n: ("PUT", f"/api/v1/routings/{_segment(n)}", _routing("default")),
        ["path", "name"],
    ),
    "routing metadata.name": (
        lambda n: ("PUT", "/api/v1/routings/default", _routing(n)),
        ["body", "metadata", "name"],
    ),
    "token name": (
        lambda n: ("POST", "/api/v1/tokens", {"role": "viewer", "name": n}),
        ["body", "name"],
    ),
    "srekit/v1 service": (
        lambda n: ("POST", "/api/v1/slos", {"documents": [_native(service=n)]}),
        ["body", "documents", 0, "service"],
    ),
    "srekit/v1 name": (
        lambda n: ("POST", "/api/v1/slos", {"documents": [_native(name=n)]}),
        ["body", "documents", 0, "name"],
    ),
    "srekit/v1 owner": (
        lambda n: ("POST", "/api/v1/slos", {"documents": [_native(owner=n)]}),
        ["body", "documents", 0, "owner"],
    ),
    "srekit/v1 policy name": (
        lambda n: (
            "POST",
            "/api/v1/slos",
            {
                "documents": [
                    {
                        "apiVersion": "srekit/v1",
                        "kind": "Policy",
                        "name": n,
                        "levels": [{"state": "ok", "decision": "allow"}],
                    }
                ]
            },
        ),
        ["body", "documents", 0, "name"],
    ),
    "openslo service": (
        lambda n: ("POST", "/api/v1/slos", {"documents": [_openslo(service=n)]}),
        ["body", "documents", 0, "spec", "service"],
    ),
    "openslo name": (
        lambda n: ("POST", "/api/v1/slos", {"documents": [_openslo(name=n)]}),
        ["body", "documents", 0, "metadata", "name"],
    ),
    "sloth service": (
        lambda n: ("POST", "/api/v1/slos", {"documents": [_sloth(service=n)]}),
        ["body", "documents", 0, "service"],
    ),
    "sloth name": (
        lambda n: ("POST", "/api/v1/slos", {"documents": [_sloth(name=n)]}),
        ["body", "documents", 0, "slos", 0, "name"],
    ),
}
# Sloth and OpenSLO refuse some hostile names by their own rules, in their own words.
OWN_WORDS = {"openslo name", "openslo service", "sloth name", "sloth service"}


def _stored(api: Api) -> dict[str, Any]:
    return {
        noun: api.get(f"/api/v1/{noun}").json()
        for noun in (
            "slos",
            "services",
            "teams",
            "policies",
            "routings",
            "tokens",
            "audit?limit=1000",
        )
    }


@pytest.mark.parametrize("hostile", HOSTILE_NAMES.values(), ids=list(HOSTILE_NAMES))
@pytest.mark.parametrize("entry", ENTRIES, ids=list(ENTRIES))
def test_hostile_names_are_refused_naming_the_field_and_nothing_is_stored(
    lite_api: Api, entry: str, hostile: str
) -> None:
    attempt, location = ENTRIES[entry]
    before = _stored(lite_api)
    method, path, body = attempt(hostile)
    answer = lite_api.request(method, path, json=body)
    assert answer.status_code == 422, answer.text
    problems = answer.json()["detail"]
    assert problems[0]["loc"] == location, problems
    message = problems[0]["msg"]
    if entry in OWN_WORDS:
        assert "expected" in message, message
    elif len(hostile) > 200:
        assert "at most 200 characters" in message, message
    else:
        assert NAME_RULE in message, message
    assert _stored(lite_api) == before


def test_good_names_still_enter_everywhere(lite_api: Api) -> None:
    assert lite_api.put("/api/v1/teams/team_x.v2").status_code == 201
    assert lite_api.put("/api/v1/services/web-shop", json={"team": "team_x.v2"}).status_code == 201
    assert lite_api.put("/api/v1/policies/p.1", json=POLICY).status_code == 201
    assert (
        lite_api.put("/api/v1/routings/on-call_2.b", json=_routing("on-call_2.b")).status_code
        == 201
    )
    long = "s" * 200
    put = lite_api.put(
        f"/api/v1/slos/{long}/a..b", json={"spec": {**AVAILABILITY_SPEC, "policy": "p.1"}}
    )
    assert put.status_code == 201, put.text
    assert (
        lite_api.post("/api/v1/tokens", json={"role": "viewer", "name": "ci-9"}).status_code == 201
    )
    applied = lite_api.post(
        "/api/v1/slos", json={"documents": [_native(), _sloth("web-shop"), _openslo()]}
    )
    assert applied.status_code == 200, applied.text
    assert sorted(s["name"] for s in applied.json()["slos"]) == [
        "checkout/availability",
        "checkout/latency",
        "web-shop/availability",
    ]


@pytest.mark.parametrize("hostile", ["Legacy", "a b", "x" * 200])
def test_reads_and_deletes_of_names_the_rule_refuses_are_404s(lite_api: Api, hostile: str) -> None:
    # names stored before the rule stay readable and deletable: reads are looked up, not refused
    segment = _segment(hostile)
    for method, path in (
        ("GET", f"/api/v1/services/{segment}"),
        ("DELETE", f"/api/v1/services/{segment}"),
        ("GET", f"/api/v1/teams/{segment}"),
        ("DELETE", f"/api/v1/teams/{segment}"),
        ("GET", f"/api/v1/policies/{segment}"),
        ("GET", f"/api/v1/routings/{segment}"),
        ("DELETE", f"/api/v1/routings/{segment}"),
        ("GET", f"/api/v1/slos/{segment}/{segment}"),
        ("DELETE", f"/api/v1/slos/{segment}/{segment}"),
        ("DELETE", f"/api/v1/tokens/{segment}"),
    ):
        assert lite_api.request(method, path).status_code == 404, (method, path)
