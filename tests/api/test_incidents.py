"""The incident API: Alertmanager's webhook in, incidents through their lifecycle, the gate
denying while a P0/P1 is open, tasks, and hostile input refused without damage."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.api.conftest import Api

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
ZERO = "0001-01-01T00:00:00Z"


def _alert(
    fingerprint: str,
    *,
    starts: datetime = T0,
    ends: datetime | None = None,
    service: str = "checkout",
    severity: str = "page",
) -> dict[str, Any]:
    return {
        "status": "firing" if ends is None else "resolved",
        "labels": {
            "alertname": "CheckoutAvailabilityErrorBudgetBurn",
            "severity": severity,
            "srekit_service": service,
            "srekit_slo": "availability",
        },
        "annotations": {"summary": f"{service}/availability is burning its error budget"},
        "startsAt": starts.isoformat().replace("+00:00", "Z"),
        "endsAt": ZERO if ends is None else ends.isoformat().replace("+00:00", "Z"),
        "generatorURL": "http://prometheus.local/graph",
        "fingerprint": fingerprint,
    }


def _webhook(*alerts: dict[str, Any], **extra: Any) -> dict[str, Any]:
    firing = any(a["status"] == "firing" for a in alerts)
    return {
        "version": "4",
        "groupKey": '{}:{alertname="CheckoutAvailabilityErrorBudgetBurn"}',
        "truncatedAlerts": 0,
        "status": "firing" if firing else "resolved",
        "receiver": "srekit",
        "groupLabels": {"alertname": "CheckoutAvailabilityErrorBudgetBurn"},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.local",
        "alerts": list(alerts),
        **extra,
    }


def _deliver(api: Api, body: dict[str, Any]) -> dict[str, Any]:
    response = api.post("/api/v1/alertmanager", role="ingest", json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def test_alerts_open_an_incident_that_the_gate_and_the_lifecycle_see(api: Api) -> None:
    assert api.put("/api/v1/services/checkout", role="editor", json={}).status_code in (200, 201)
    opened = _deliver(api, _webhook(_alert("a1"), futureField={"x": 1}))  # unknown: ignored
    assert opened["new_alerts"] == 1
    (number,) = opened["incidents_opened"]
    again = _deliver(api, _webhook(_alert("a1"), futureField={"x": 1}))
    assert again["duplicate"] is True

    incident = api.get(f"/api/v1/incidents/{number}", role="viewer").json()
    assert incident["severity"] == "P1"
    assert incident["state"] == "triggered"
    assert incident["services"] == ["checkout"]
    assert incident["slos"] == ["checkout/availability"]
    assert incident["opened_at"] == "2026-11-20T10:00:00Z"
    assert incident["alerts"] == ["a1"]
    assert [e["kind"] for e in incident["timeline"]] == ["state_changed", "alert_fired"]

    gate = api.get("/api/v1/gate?service=checkout&change_type=feature", role="deploy").json()
    assert gate["allowed"] is False
    assert any(f"#{number} P1" in reason for reason in gate["reasons"]), gate["reasons"]
    rollback = api.get("/api/v1/gate?service=checkout&change_type=rollback", role="deploy")
    assert rollback.json()["allowed"] is True

    acked = api.post(f"/api/v1/incidents/{number}/acknowledge", role="editor")
    assert acked.status_code == 200, acked.text
    assert acked.json()["state"] == "acknowledged"
    assert acked.json()["acknowledged_at"] is not None
    refused = api.post(f"/api/v1/incidents/{number}/acknowledge", role="editor")
    assert refused.status_code == 409
    assert "acknowledged already" in refused.json()["detail"]

    resolved = _deliver(api, _webhook(_alert("a1", ends=T0 + timedelta(minutes=30))))
    assert resolved["incidents_resolved"] == [number]
    after = api.get(f"/api/v1/incidents/{number}", role="viewer").json()
    assert after["state"] == "resolved"
    assert after["resolved_at"] == "2026-11-20T10:30:00Z"
    assert after["resolved_by"] == "alertmanager"
    gate = api.get("/api/v1/gate?service=checkout&change_type=feature", role="deploy").json()
    assert not any("incident" in reason for reason in gate["reasons"])

    no_reason = api.post(f"/api/v1/incidents/{number}/close", role="editor")
    assert no_reason.status_code == 409
    assert "post-mortem" in no_reason.json()["detail"]
    closed = api.post(
        f"/api/v1/incidents/{number}/close",
        role="editor",
        json={"waive_postmortem": "a known flake"},
    )
    assert closed.json()["state"] == "closed"
    listed = api.get("/api/v1/incidents?state=closed", role="viewer").json()
    assert [i["id"] for i in listed] == [number]
    assert api.get("/api/v1/incidents", role="viewer").json() == []
    actions = [
        row["action"]
        for row in api.get("/api/v1/audit?limit=100", role="viewer").json()
        if row["entity_kind"] == "incident"
    ]
    assert sorted(actions) == sorted(
        ["incident.open", "incident.acknowledge", "incident.resolve", "incident.close"]
    )


def test_declared_incidents_take_roles_notes_and_tasks(api: Api) -> None:
    created = api.post(
        "/api/v1/incidents",
        role="editor",
        json={
            "title": "payments are slow",
            "severity": "P2",
            "services": ["payments"],
            "summary": "p99 at 4 s\nsince 10:00",
            "commander": "ana",
        },
    )
    assert created.status_code == 201, created.text
    number = created.json()["id"]
    assert created.json()["roles"] == {"commander": "ana"}
    assert created.json()["created_by"] == "editor-bot"

    scribe = api.put(
        f"/api/v1/incidents/{number}/roles/scribe", role="editor", json={"person": "bo"}
    )
    assert scribe.json()["roles"] == {"commander": "ana", "scribe": "bo"}
    noted = api.post(
        f"/api/v1/incidents/{number}/notes", role="editor", json={"text": "rolled back"}
    )
    assert noted.json()["timeline"][-1]["text"] == "rolled back"

    due = "2026-01-01T00:00:00Z"  # in the past: overdue at once
    task = api.post(
        f"/api/v1/incidents/{number}/tasks",
        role="editor",
        json={"title": "add a timeout", "owner": "bo", "due_at": due},
    )
    assert task.status_code == 201, task.text
    task_id = task.json()["id"]
    overdue = api.get("/api/v1/tasks?overdue=true", role="viewer").json()
    assert [t["id"] for t in overdue] == [task_id]
    done = api.request("PATCH", f"/api/v1/tasks/{task_id}", role="editor", json={"state": "done"})
    assert done.json()["state"] == "done"
    assert done.json()["done_at"] is not None
    assert api.get("/api/v1/tasks?overdue=true", role="viewer").json() == []
    # a P2 does not stop deploys
    api.put("/api/v1/services/payments", role="editor", json={})
    gate = api.get("/api/v1/gate?service=payments&change_type=feature", role="deploy").json()
    assert not any("incident" in reason for reason in gate["reasons"])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (_webhook(_alert("a1"), version="3"), "version"),
        (_webhook({**_alert("a1"), "startsAt": "yesterday"}), "startsAt"),
        (_webhook({**_alert("a1"), "startsAt": "2026-11-20T10:00:00"}), "startsAt"),
        (_webhook({**_alert("a1"), "startsAt": ZERO}), "startsAt"),
        (_webhook({**_alert("a1"), "fingerprint": "a1\x00"}), "fingerprint"),
        (_webhook({**_alert("a1"), "fingerprint": "f" * 65}), "fingerprint"),
        (_webhook({**_alert("a1"), "labels": {"alertname": 1e309}}), "labels"),
        (_webhook({**_alert("a1"), "labels": {"a\x07": "x"}}), "labels"),
        (_webhook({**_alert("a1"), "status": "pending"}), "status"),
        (_webhook({**_alert("a1"), "labels": {"deep": {"deeper": {"deepest": "x"}}}}), "labels"),
        ({"version": "4"}, "groupKey"),
    ],
)
def test_bad_payloads_are_422_naming_the_field(api: Api, body: Any, field: str) -> None:
    text = json.dumps(body).replace("Infinity", "1e309")  # as an attacker would write it
    response = _raw(api, text.encode())
    assert response.status_code == 422, response.text
    assert field in json.dumps(response.json()["detail"])
    assert api.get("/api/v1/incidents?state=all", role="viewer").json() == []


def _raw(api: Api, body: bytes) -> Any:
    return api.client.post(
        "/api/v1/alertmanager",
        content=body,
        headers={"Content-Type": "application/json", **api.headers("ingest")},
    )


def test_nan_and_huge_bodies_are_refused(api: Api) -> None:
    assert _raw(api, b'{"version": "4", "truncatedAlerts": NaN}').status_code == 422
    too_large = _raw(api, b'{"version": "4", "alerts": [' + b" " * (9 * 1024 * 1024) + b"]}")
    assert too_large.status_code == 413
    assert "SREKIT_MAX_ALERT_BODY_BYTES" in too_large.json()["detail"]
    deep = b'{"version": "4", "alerts": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    assert _raw(api, deep).status_code == 422
    # the same size is too large for the other routes
    other = api.client.post(
        "/api/v1/incidents",
        content=b" " * (2 * 1024 * 1024),
        headers={"Content-Type": "application/json", **api.headers("editor")},
    )
    assert other.status_code == 413
    assert "SREKIT_MAX_BODY_BYTES" in other.json()["detail"]


def test_a_bad_declaration_is_refused_and_changes_nothing(api: Api) -> None:
    for body in (
        {"title": "x", "severity": "P9"},
        {"title": "line\x1b[31m", "severity": "P1"},
        {"title": "x", "severity": "P1", "services": ["Bad Name"]},
        {"title": "x", "severity": "P1", "extra": True},
        {"title": "", "severity": "P1"},
    ):
        assert api.post("/api/v1/incidents", role="editor", json=body).status_code == 422, body
    assert api.post("/api/v1/incidents/999/acknowledge", role="editor").status_code == 404
    assert api.get("/api/v1/incidents/0", role="viewer").status_code == 422
    assert api.get("/api/v1/incidents?state=all", role="viewer").json() == []


def test_many_senders_at_once_open_one_incident(api: Api) -> None:
    body = _webhook(_alert("a1"), _alert("b2", starts=T0 + timedelta(minutes=1)))
    answers: list[int] = []

    def send(copy: int) -> None:
        twin = {**body, "externalURL": f"http://am-{copy}.local"}
        answers.append(api.post("/api/v1/alertmanager", role="ingest", json=twin).status_code)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [200] * 8
    incidents = api.get("/api/v1/incidents", role="viewer").json()
    assert len(incidents) == 1
    assert sorted(incidents[0]["alerts"]) == ["a1", "b2"]


def test_a_bad_notification_among_many_senders_is_refused_alone(api: Api) -> None:
    """Notifications arriving together are stored together; one srekit cannot store (its
    service label is not a name) is a 422 for its sender, and the others' are stored."""
    answers: dict[int, Any] = {}

    def send(copy: int) -> None:
        alert = _alert(f"f{copy}", starts=T0 + timedelta(minutes=copy))
        if copy == 3:
            alert["labels"]["srekit_service"] = "Not A Name"
        body = _webhook(alert, externalURL=f"http://am-{copy}.local")
        answers[copy] = api.post("/api/v1/alertmanager", role="ingest", json=body)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {copy: answer.status_code for copy, answer in answers.items()} == {
        copy: 422 if copy == 3 else 200 for copy in range(8)
    }
    assert "services" in json.dumps(answers[3].json()["detail"])
    incidents = api.get("/api/v1/incidents", role="viewer").json()
    assert len(incidents) == 1
    assert sorted(incidents[0]["alerts"]) == [f"f{copy}" for copy in range(8) if copy != 3]


def test_stats_of_a_period_from_the_alerts_instants(api: Api) -> None:
    minute = timedelta(minutes=1)
    for fingerprint, start, length in (("a1", T0, 30), ("b2", T0 + 120 * minute, 10)):
        _deliver(api, _webhook(_alert(fingerprint, starts=start)))
        _deliver(api, _webhook(_alert(fingerprint, starts=start, ends=start + length * minute)))
    figures = api.get(
        "/api/v1/incidents/stats?from=2026-11-20T00:00:00Z&to=2026-11-21T00:00:00Z", role="viewer"
    )
    assert figures.status_code == 200, figures.text
    document = figures.json()
    overall = document["overall"]
    # two P1 incidents: resolved after 30 and 10 minutes, opened two hours apart
    assert (overall["count"], overall["open"], overall["resolved"]) == (2, 0, 2)
    assert overall["mttr_s"] == (30 * 60 + 10 * 60) / 2
    assert overall["mtbf_s"] == 120 * 60
    assert overall["mtta_s"] is None  # nobody acknowledged: the alerts resolved on their own
    # a P1's response target is 15 minutes: the 10-minute one met it, the 30-minute one not
    assert (overall["response_met"], overall["response_missed"]) == (1, 1)
    assert overall["response_share"] == 0.5
    assert document["by_severity"]["P1"]["count"] == 2
    assert document["by_severity"]["P0"]["count"] == 0
    assert document["by_service"]["checkout"]["count"] == 2
    # the SLO they name is not stored: its budget is unknown, and says why
    assert {b["slo"] for b in document["budgets"]} == {"checkout/availability"}
    assert all(b["consumed"] is None and b["reason"] for b in document["budgets"])
    empty = api.get(
        "/api/v1/incidents/stats?from=2026-11-21T00:00:00Z&to=2026-11-20T00:00:00Z", role="viewer"
    )
    assert empty.status_code == 422
    naive = api.get("/api/v1/incidents/stats?from=2026-11-20T00:00:00", role="viewer")
    assert naive.status_code == 422


def test_alerts_no_route_took_are_kept_and_listed(api: Api) -> None:
    watchdog = {**_alert("w1"), "labels": {"alertname": "Watchdog", "severity": "none"}}
    result = _deliver(api, _webhook(watchdog, _alert("a1")))
    assert (result["new_alerts"], result["unrouted_alerts"]) == (2, 1)
    unrouted = api.get("/api/v1/alerts?unrouted=true", role="viewer").json()
    assert [(a["fingerprint"], a["routed"], a["incident"]) for a in unrouted] == [
        ("w1", False, None)
    ]
    everything = api.get("/api/v1/alerts", role="viewer").json()
    assert sorted(a["fingerprint"] for a in everything) == ["a1", "w1"]
    (number,) = result["incidents_opened"]
    of_incident = api.get(f"/api/v1/alerts?incident={number}", role="viewer").json()
    assert [a["fingerprint"] for a in of_incident] == ["a1"]
    assert api.get("/api/v1/alerts", role="ingest").status_code == 403


def test_a_stored_default_routing_is_the_one_the_intake_applies(api: Api) -> None:
    routing = {
        "apiVersion": "srekit/v1",
        "kind": "AlertRouting",
        "metadata": {"name": "default"},
        "spec": {
            "routes": [
                {"match": {"severity": "page"}, "incident": True, "severity": "P0"},
                {"match": {"severity": "ticket"}, "incident": False},
            ],
            "on_resolved": "keep",
        },
    }
    stored = api.put("/api/v1/routings/default", role="editor", json=routing)
    assert stored.status_code in (200, 201), stored.text
    page = _deliver(api, _webhook(_alert("p1")))
    (number,) = page["incidents_opened"]
    assert api.get(f"/api/v1/incidents/{number}", role="viewer").json()["severity"] == "P0"
    ticket = _deliver(api, _webhook(_alert("t1", service="search", severity="ticket")))
    assert (ticket["new_alerts"], ticket["incidents_opened"]) == (1, [])
    resolved = _deliver(api, _webhook(_alert("p1", ends=T0 + timedelta(minutes=5))))
    assert resolved["incidents_resolved"] == []  # on_resolved: keep
    assert api.get(f"/api/v1/incidents/{number}", role="viewer").json()["state"] == "triggered"


def test_response_targets_follow_the_configuration(sqlite_engine: Any, tmp_path: Any) -> None:
    from tests.api.conftest import FakeEvaluator, TestClient, make_app, make_tokens

    tokens = make_tokens(sqlite_engine)
    settings = {"incident_severities": {"P1": {"response_target_s": 45 * 60}}}
    app = make_app(sqlite_engine, FakeEvaluator(), tmp_path, **settings)
    with TestClient(app) as client:
        api = Api(client, tokens, FakeEvaluator())
        _deliver(api, _webhook(_alert("a1")))
        _deliver(api, _webhook(_alert("a1", ends=T0 + timedelta(minutes=30))))
        figures = api.get(
            "/api/v1/incidents/stats?from=2026-11-20T00:00:00Z&to=2026-11-21T00:00:00Z",
            role="viewer",
        ).json()
    # resolved after 30 minutes: late for the default 15-minute target, in time for 45
    assert (figures["overall"]["response_met"], figures["overall"]["response_missed"]) == (1, 0)


def test_the_timeline_holds_the_deploys_before_and_the_people_who_took_part(api: Api) -> None:
    api.put("/api/v1/services/checkout", role="editor", json={})
    gate = "/api/v1/gate?service=checkout&change_type=feature&version=v1.4.2"
    assert api.get(gate, role="deploy").status_code == 200  # recorded, allowed or not
    created = api.post(
        "/api/v1/incidents",
        role="editor",
        json={"title": "checkout errors", "severity": "P2", "services": ["checkout"]},
    ).json()
    number = created["id"]
    api.put(f"/api/v1/incidents/{number}/roles/commander", role="editor", json={"person": "ana"})
    shown = api.get(f"/api/v1/incidents/{number}", role="viewer").json()
    deploys = [e for e in shown["timeline"] if e["kind"] == "deployment"]
    assert len(deploys) == 1
    assert deploys[0]["text"].startswith("feature deploy of checkout v1.4.2:")
    assert [d["version"] for d in shown["deployments"]] == ["v1.4.2"]
    assert shown["timeline"][0]["kind"] == "deployment"  # it came before the incident
    assert shown["participants"] == ["ana", "editor-bot"]


def test_closing_as_noise_through_the_api(api: Api) -> None:
    created = api.post(
        "/api/v1/incidents", role="editor", json={"title": "probe flapped", "severity": "P3"}
    )
    number = created.json()["id"]
    assert created.json()["noise"] is False
    api.post(f"/api/v1/incidents/{number}/resolve", role="editor")
    for body, status in (
        ({"reason": "flaky"}, 422),  # a reason without the mark
        ({"noise": "yes"}, 422),  # strict: a boolean
        ({"noise": True, "reason": "a\x00b"}, 422),
        ({"noise": True, "reason": "x" * 401}, 422),
        ({"noise": True, "extra": 1}, 422),
    ):
        refused = api.post(f"/api/v1/incidents/{number}/close", role="editor", json=body)
        assert refused.status_code == status, (body, refused.text)
    still = api.get(f"/api/v1/incidents/{number}", role="viewer").json()
    assert (still["state"], still["noise"]) == ("resolved", False)
    closed = api.post(
        f"/api/v1/incidents/{number}/close",
        role="editor",
        json={"noise": True, "reason": "the probe flapped"},
    )
    assert closed.status_code == 200, closed.text
    assert (closed.json()["state"], closed.json()["noise"]) == ("closed", True)
    assert closed.json()["timeline"][-1]["data"]["noise_reason"] == "the probe flapped"
    assert api.post(f"/api/v1/incidents/{number}/reopen", role="editor").json()["noise"] is False
    listed = api.get("/api/v1/incidents?state=all", role="viewer").json()
    assert [i["noise"] for i in listed] == [False]


def test_a_full_intake_answers_503_with_retry_after_and_stores_nothing_of_it(
    sqlite_engine: Any, tmp_path: Any
) -> None:
    from srekit.core.routing import DEFAULT_ROUTING
    from tests.api.conftest import FakeEvaluator, TestClient, make_app, make_tokens
    from tests.flows.test_intake import NOW, SEQUENCE
    from tests.jobs.test_intake_queue import _running

    tokens = make_tokens(sqlite_engine)
    app = make_app(sqlite_engine, FakeEvaluator(), tmp_path, intake_max_waiting=1)
    store_slow = threading.Event()

    def slow_routing(session: Any) -> Any:
        """The writer's first step waits while the test says the store is slow."""
        store_slow.wait(timeout=30)
        return DEFAULT_ROUTING

    with TestClient(app) as client:
        api = Api(client, tokens, FakeEvaluator())
        # the sender's token is checked once and then remembered: no store read later
        _deliver(api, _webhook(_alert("warm", service="search")))
        state = app.state.srekit
        state.routing_of = slow_routing
        taken = state.intake.submit(SEQUENCE[0], now=NOW)
        _running(taken)  # the writer holds it, waiting
        queued = state.intake.submit(SEQUENCE[1], now=NOW)  # the one place in the queue
        refused = api.post("/api/v1/alertmanager", role="ingest", json=_webhook(_alert("late")))
        assert refused.status_code == 503
        assert int(refused.headers["Retry-After"]) > 0
        assert "1 notifications waiting" in refused.json()["detail"]
        store_slow.set()
        assert (taken.result(timeout=30).new_alerts, queued.result(timeout=30).new_alerts) == (1, 1)
        opened = api.get("/api/v1/incidents", role="viewer").json()
        assert "late" not in {fingerprint for i in opened for fingerprint in i["alerts"]}
        # sent again once the queue drained, as Alertmanager does: now it is stored
        _deliver(api, _webhook(_alert("late")))
        stored = api.get("/api/v1/incidents", role="viewer").json()
        assert "late" in {fingerprint for i in stored for fingerprint in i["alerts"]}
