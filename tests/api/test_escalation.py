"""Escalation policies and incidents' escalations through the API, on SQLite and PostgreSQL:
viewers read and editors change, a document GET shows is one PUT takes back, bad documents are
refused naming the field, and an incident's detail shows where its escalation is."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta
from typing import Any

import pytest

from srekit.core.incident import DEFAULT_SEVERITIES
from srekit.flows.escalation import Paging, escalate
from tests.api.conftest import Api
from tests.api.test_crud import actions
from tests.escalation_fakes import FakeDirectory, FakeLinks, RecordingSender

POLICIES = "/api/v1/oncall/escalation-policies"
PAYMENTS: dict[str, Any] = {
    "apiVersion": "srekit/v1",
    "kind": "EscalationPolicy",
    "metadata": {"name": "payments"},
    "spec": {
        "services": ["checkout"],
        "steps": [
            {"notify": {"rotation": "payments", "layer": "primary"}},
            {"notify": {"person": "grace"}, "after": "10m"},
        ],
    },
}


def test_viewers_read_editors_change_and_every_change_is_audited(api: Api) -> None:
    assert api.get(POLICIES, role=None).status_code == 401
    assert api.get(POLICIES, role="viewer").json() == []
    assert api.put(f"{POLICIES}/payments", role="viewer", json=PAYMENTS).status_code == 403
    created = api.put(f"{POLICIES}/payments", role="editor", json=PAYMENTS)
    assert (created.status_code, created.json()) == (
        201,
        {"name": "payments", "result": "created", "version": 1, "changes": []},
    )
    shown = api.get(f"{POLICIES}/payments", role="viewer").json()
    assert shown["version"] == 1
    # the defaults spelt out: every severity, no repeat
    assert shown["document"]["spec"] == {
        **PAYMENTS["spec"],
        "severities": ["P0", "P1", "P2", "P3"],
        "repeat": 0,
    }
    again = api.put(f"{POLICIES}/payments", role="editor", json=shown["document"])
    assert (again.status_code, again.json()["result"]) == (200, "unchanged")
    changed = copy.deepcopy(PAYMENTS)
    changed["spec"]["steps"][1]["after"] = 300
    updated = api.put(f"{POLICIES}/payments", role="editor", json=changed).json()
    assert (updated["version"], updated["changes"]) == (2, ['steps[1].after: "10m" → "5m"'])
    assert [p["name"] for p in api.get(POLICIES).json()] == ["payments"]
    assert api.get(f"{POLICIES}/other").status_code == 404
    assert api.delete(f"{POLICIES}/payments", role="viewer").status_code == 403
    assert api.delete(f"{POLICIES}/payments", role="editor").status_code == 204
    assert api.get(f"{POLICIES}/payments").status_code == 404
    assert [a for a in actions(api) if a[1].startswith("escalation_policy.")] == [
        ("editor-bot", "escalation_policy.create", "payments"),
        ("editor-bot", "escalation_policy.update", "payments"),
        ("editor-bot", "escalation_policy.delete", "payments"),
    ]


REFUSED = [
    ("metadata.name", "other", ["body", "metadata", "name"], "the name in the path"),
    ("spec.services", [], ["body", "spec", "services"], "at least 1 item"),
    ("spec.steps.1.after", "soon", ["body", "spec", "steps", 1, "after"], "expected a duration"),
    ("spec.steps.1.after", float("nan"), ["body", "spec", "steps", 1, "after"], ""),
    ("spec.steps.0.after", "1m", ["body", "spec", "steps"], "the first step pages at once"),
    ("spec.steps.0.notify", {}, ["body", "spec", "steps", 0, "notify"], "either a rotation"),
    ("spec.repeat", 1000, ["body", "spec", "repeat"], "less than or equal to 100"),
]


def _with(path: str, value: Any) -> dict[str, Any]:
    document = copy.deepcopy(PAYMENTS)
    *parents, last = path.split(".")
    node: Any = document
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    node[int(last) if last.isdigit() else last] = value
    return document


@pytest.mark.parametrize(("path", "value", "location", "message"), REFUSED)
def test_bad_documents_are_refused_naming_the_field(
    api: Api, path: str, value: Any, location: list[Any], message: str
) -> None:
    answer = api.client.put(  # json.dumps: NaN is sent as JSON's NaN token
        f"{POLICIES}/payments",
        content=json.dumps(_with(path, value)),
        headers={**api.headers("editor"), "Content-Type": "application/json"},
    )
    assert answer.status_code == 422
    detail = answer.json()["detail"]
    assert detail[0]["loc"][: len(location)] == location
    assert message in detail[0]["msg"]
    assert api.get(f"{POLICIES}/payments").status_code == 404


def test_an_incidents_detail_and_the_escalations_show_where_it_is(api: Api) -> None:
    engine = api.client.app.state.srekit.engine  # type: ignore[attr-defined]
    assert api.put(f"{POLICIES}/payments", role="editor", json=PAYMENTS).status_code == 201
    opened = api.post(
        "/api/v1/incidents",
        role="editor",
        json={"title": "checkout is down", "severity": "P1", "services": ["checkout"]},
    )
    assert opened.status_code == 201, opened.text
    incident_id = opened.json()["id"]
    assert api.get(f"/api/v1/incidents/{incident_id}").json()["escalation"] is None
    assert api.get(f"/api/v1/oncall/escalations/{incident_id}").status_code == 404
    opened_at = datetime.fromisoformat(opened.json()["opened_at"].replace("Z", "+00:00"))
    sender = RecordingSender()
    started = opened_at + timedelta(seconds=1)  # the answer's instant may drop a fraction
    escalate(engine, Paging(FakeDirectory(), sender, FakeLinks(), DEFAULT_SEVERITIES), now=started)
    assert sender.people() == [("alice", 1)]
    expected = {
        "incident_id": incident_id,
        "policy": "payments",
        "policy_version": 1,
        "state": "active",
        "next_step": 2,
        "steps_paged": 1,
        "reason": None,
    }
    shown = api.get(f"/api/v1/incidents/{incident_id}", role="viewer").json()["escalation"]
    assert {key: shown[key] for key in expected} == expected
    next_at = datetime.fromisoformat(shown["next_at"].replace("Z", "+00:00"))
    assert next_at == started + timedelta(minutes=10)  # from the escalation's start
    assert api.get("/api/v1/oncall/escalations", role="viewer").json() == [shown]
    assert api.get("/api/v1/oncall/escalations?state=stopped").json() == []
    assert api.get("/api/v1/oncall/escalations?state=paused").status_code == 422
    assert api.get(f"/api/v1/oncall/escalations/{incident_id}").json() == shown
