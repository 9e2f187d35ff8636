"""Services, teams, SLOs, policies, tokens and the audit log through the API, on SQLite and
PostgreSQL: the status codes, the stored state, and the audit rows each change writes."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import AVAILABILITY_SPEC, Api

OPENSLO = {
    "apiVersion": "openslo/v1",
    "kind": "SLO",
    "metadata": {"name": "latency"},
    "spec": {
        "service": "checkout",
        "budgetingMethod": "Occurrences",
        "timeWindow": [{"duration": "28d", "isRolling": True}],
        "indicator": {
            "metadata": {"name": "latency-sli"},
            "spec": {
                "ratioMetric": {
                    "counter": True,
                    "good": {
                        "metricSource": {
                            "type": "Prometheus",
                            "spec": {"query": 'http_request_duration_seconds_bucket{le="0.3"}'},
                        }
                    },
                    "total": {
                        "metricSource": {
                            "type": "Prometheus",
                            "spec": {"query": "http_request_duration_seconds_count"},
                        }
                    },
                }
            },
        },
        "objectives": [{"target": 0.95}],
    },
}


def actions(api: Api) -> list[tuple[str, str, str]]:
    """(actor, action, entity) of the audit log, oldest first, without the fixture's tokens."""
    rows = api.get("/api/v1/audit?limit=1000").json()
    return [
        (row["actor"], row["action"], row["entity_id"])
        for row in reversed(rows)
        if row["entity_kind"] != "token"
    ]


def test_teams_create_read_delete_and_audit(api: Api) -> None:
    assert api.put("/api/v1/teams/payments", role="editor").status_code == 201
    assert api.put("/api/v1/teams/payments", role="editor").status_code == 200
    assert api.get("/api/v1/teams", role="viewer").json()[0]["name"] == "payments"
    team = api.get("/api/v1/teams/payments", role="viewer").json()
    assert team["services"] == []
    assert api.delete("/api/v1/teams/payments", role="editor").status_code == 204
    assert api.get("/api/v1/teams/payments").status_code == 404
    assert actions(api) == [
        ("editor-bot", "team.create", "payments"),
        ("editor-bot", "team.delete", "payments"),
    ]


def test_services_belong_to_teams_and_conflict_while_in_use(api: Api) -> None:
    created = api.put("/api/v1/services/checkout", role="editor", json={"team": "payments"})
    assert created.status_code == 201
    assert created.json()["team"] == "payments"
    assert api.put("/api/v1/services/checkout", role="editor").status_code == 200
    assert api.put("/api/v1/services/checkout", json={"team": "platform"}).json()["team"] == (
        "platform"
    )
    busy = api.delete("/api/v1/teams/platform")
    assert busy.status_code == 409
    # srekit's words, not the driver's ("FOREIGN KEY constraint failed")
    assert busy.json()["detail"] == (
        "team 'platform' still owns services; move or delete them first"
    )
    put = api.put("/api/v1/slos/checkout/availability", json={"spec": AVAILABILITY_SPEC})
    assert put.status_code == 201
    refused = api.delete("/api/v1/services/checkout")
    assert refused.status_code == 409
    assert refused.json()["detail"] == "service 'checkout' still has SLOs; delete them first"
    listed = api.get("/api/v1/services", role="viewer").json()
    assert [(s["name"], s["slos"]) for s in listed] == [("checkout", ["availability"])]
    assert api.delete("/api/v1/slos/checkout/availability").status_code == 204
    assert api.delete("/api/v1/services/checkout").status_code == 204
    assert api.get("/api/v1/services/checkout").status_code == 404
    assert api.delete("/api/v1/services/checkout").status_code == 404


def test_slo_versions_from_the_schema_and_from_spec_documents(api: Api) -> None:
    first = api.put(
        "/api/v1/slos/checkout/availability", role="editor", json={"spec": AVAILABILITY_SPEC}
    )
    assert (first.status_code, first.json()["result"], first.json()["version"]) == (
        201,
        "created",
        1,
    )
    same = api.put("/api/v1/slos/checkout/availability", json={"spec": AVAILABILITY_SPEC})
    assert (same.status_code, same.json()["result"]) == (200, "unchanged")
    changed = api.put(
        "/api/v1/slos/checkout/availability",
        json={"spec": {**AVAILABILITY_SPEC, "objective": 0.995}},
    )
    assert changed.json()["result"] == "updated"
    assert changed.json()["changes"] == ["objective: 0.999 → 0.995"]
    native = {
        "apiVersion": "srekit/v1",
        "kind": "SLO",
        "service": "checkout",
        "name": "availability",
        "objective": "99.9%",
        "window": "30d",
        "owner": "payments",
        "indicator": {"events": {"good": "status < 500"}},
    }
    as_document = api.put("/api/v1/slos/checkout/availability", json={"document": native})
    assert as_document.json()["version"] == 3
    shown = api.get("/api/v1/slos/checkout/availability", role="viewer").json()
    assert shown["version"] == 3
    assert shown["team"] == "payments"
    assert shown["spec"]["objective"] == 0.999
    assert shown["source_format"] == "srekit/v1"
    assert [v["applied_by"] for v in shown["versions"]] == ["editor-bot", "admin-bot", "admin-bot"]
    listed = api.get("/api/v1/slos?service=checkout", role="viewer").json()
    assert [(s["slo"], s["window"], s["version"]) for s in listed] == [("availability", "30d", 3)]
    assert api.get("/api/v1/slos?service=other").json() == []


def test_apply_documents_in_any_format_all_or_nothing(api: Api) -> None:
    applied = api.post("/api/v1/slos", role="editor", json={"documents": [OPENSLO]})
    assert applied.status_code == 200
    assert applied.json()["slos"] == [
        {"name": "checkout/latency", "result": "created", "version": 1, "changes": []}
    ]
    assert api.get("/api/v1/slos/checkout/latency").json()["source_format"] == "openslo/v1"
    broken: dict[str, Any] = {**OPENSLO, "metadata": {"name": "other"}}
    broken["spec"] = {**OPENSLO["spec"], "objectives": [{"target": 2}]}  # type: ignore[dict-item]
    refused = api.post("/api/v1/slos", json={"documents": [OPENSLO, broken]})
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"][:3] == ["body", "documents", 1]
    assert [s["slo"] for s in api.get("/api/v1/slos").json()] == ["latency"]


def test_documents_defining_policies_need_admin(api: Api) -> None:
    policy = {
        "apiVersion": "srekit/v1",
        "kind": "Policy",
        "name": "strict",
        "levels": [
            {"state": "ok", "above": 0.5, "decision": "allow"},
            {"state": "no", "decision": "deny"},
        ],
    }
    assert api.post("/api/v1/slos", role="editor", json={"documents": [policy]}).status_code == 403
    applied = api.post("/api/v1/slos", role="admin", json={"documents": [policy]})
    assert applied.json()["policies"][0]["name"] == "strict"


def test_a_put_document_must_define_exactly_that_slo(api: Api) -> None:
    response = api.put("/api/v1/slos/checkout/other", json={"document": OPENSLO})
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", "document"]
    assert "exactly the SLO checkout/other" in error["msg"]


def test_slos_naming_unknown_policies_are_refused(api: Api) -> None:
    response = api.put(
        "/api/v1/slos/checkout/availability", json={"spec": {**AVAILABILITY_SPEC, "policy": "nope"}}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "spec", "policy"]


def test_policies_are_read_by_viewers_and_changed_by_admins(api: Api) -> None:
    body = {
        "levels": [
            {"state": "normal", "floor": 0.5, "decision": "allow"},
            {"state": "frozen", "floor": None, "decision": "deny"},
        ]
    }
    assert api.put("/api/v1/policies/strict", role="editor", json=body).status_code == 403
    assert api.put("/api/v1/policies/strict", role="admin", json=body).status_code == 201
    assert api.put("/api/v1/policies/strict", role="admin", json=body).json()["result"] == (
        "unchanged"
    )
    shown = api.get("/api/v1/policies/strict", role="viewer").json()
    assert shown["spec"]["levels"][1]["state"] == "frozen"
    assert [p["name"] for p in api.get("/api/v1/policies", role="viewer").json()] == ["strict"]
    assert api.get("/api/v1/policies/none").status_code == 404
    unordered = {"levels": [{"state": "a", "floor": None, "decision": "deny"}, *body["levels"]]}
    refused = api.put("/api/v1/policies/strict", json=unordered)
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"][:2] == ["body", "levels"]


def test_audit_rows_carry_the_token_name_and_before_after(api: Api) -> None:
    api.put("/api/v1/slos/checkout/availability", role="editor", json={"spec": AVAILABILITY_SPEC})
    api.delete("/api/v1/slos/checkout/availability", role="editor")
    rows = api.get("/api/v1/audit?entity_kind=slo", role="viewer").json()
    assert [(r["actor"], r["action"]) for r in rows] == [
        ("editor-bot", "slo.delete"),
        ("editor-bot", "slo.create"),
    ]
    deleted, created = rows
    assert created["before"] is None
    assert created["after"]["version"] == 1
    assert deleted["before"]["spec"]["objective"] == 0.999
    assert deleted["after"] is None
    assert actions(api)[:2] == [
        ("editor-bot", "team.create", "payments"),
        ("editor-bot", "service.create", "checkout"),
    ]


def test_tokens_are_managed_by_admins_and_shown_once(api: Api) -> None:
    created = api.post("/api/v1/tokens", json={"role": "viewer", "name": "grafana"})
    assert created.status_code == 201
    token = created.json()["token"]
    assert token.startswith("srk_")
    assert len(token) >= 40
    assert "token" not in api.get("/api/v1/tokens").json()[0]
    headers = {"Authorization": f"Bearer {token}"}
    assert api.client.get("/api/v1/services", headers=headers).status_code == 200
    assert api.post("/api/v1/tokens", json={"role": "viewer", "name": "grafana"}).status_code == 409
    assert api.delete("/api/v1/tokens/grafana").status_code == 204
    assert api.client.get("/api/v1/services", headers=headers).status_code == 401
    assert api.delete("/api/v1/tokens/grafana").status_code == 404
    names = [t["name"] for t in api.get("/api/v1/tokens?include_revoked=true").json()]
    assert "grafana" in names
    audit = api.get("/api/v1/audit?entity_kind=token&entity_id=grafana").json()
    assert [row["action"] for row in audit] == ["token.revoke", "token.create"]
    assert "token_hash" not in str(audit)
    assert token not in str(audit)


NATIVE_EVENTS = {
    "apiVersion": "srekit/v1",
    "kind": "SLO",
    "service": "checkout",
    "name": "availability",
    "objective": "99.9%",
    "window": "30d",
    "owner": "payments",
    "indicator": {"events": {"good": "status < 500"}},
}


@pytest.mark.parametrize(
    ("good", "message"),
    [
        ("getenv('HOME') = ''", "getenv"),
        ("true; DROP TABLE events", "single expression"),
        ("status < 500 -- x", "comments"),
        ("path IN (SELECT path FROM events)", "subqueries"),
        ("read_text('/etc/passwd') <> ''", "read_text"),
        ("status", "expected a boolean"),
        ("(" * 3000 + "true" + ")" * 3000, "depth"),
    ],
)
def test_predicates_are_checked_when_an_slo_is_written(
    lite_api: Api, good: str, message: str
) -> None:
    """No event store exists under SREKIT_HOME: the check needs none."""
    spec = {**AVAILABILITY_SPEC, "indicator": {"kind": "events_ratio", "good": good}}
    put = lite_api.put("/api/v1/slos/checkout/availability", json={"spec": spec})
    assert put.status_code == 422, put.text
    (error,) = put.json()["detail"]
    assert error["loc"] == ["body", "spec", "indicator", "good"]
    assert message in error["msg"]
    document = {**NATIVE_EVENTS, "indicator": {"events": {"good": "true", "total": good}}}
    put = lite_api.put("/api/v1/slos/checkout/availability", json={"document": document})
    assert put.status_code == 422, put.text
    assert put.json()["detail"][0]["loc"] == ["body", "document", "indicator", "total"]
    fine = {**NATIVE_EVENTS, "name": "fine"}
    posted = lite_api.post("/api/v1/slos", json={"documents": [fine, document]})
    assert posted.status_code == 422, posted.text
    (error,) = posted.json()["detail"]
    assert error["loc"] == ["body", "documents", 1, "indicator", "total"]
    assert message in error["msg"]
    # nothing was stored, not even the good document beside the bad one
    assert lite_api.get("/api/v1/slos").json() == []
