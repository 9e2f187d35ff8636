"""The on-call loop, every part real: an alert posted to a real Alertmanager (as Prometheus posts
it) reaches a running `srekit serve`, which opens an incident, pages the primary on call through
the person's webhook (a local HTTP receiver), escalates to the secondary when nobody
acknowledges, and stops when the secondary presses the signed link in the page. Then a restart:
a server stopped between two steps pages the second once, when it is back.

Short delays: the policy waits 2 s between steps, the escalation job runs every 0.5 s.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from typer.testing import CliRunner

from srekit.cli.main import app
from tests.alertmanager_fixture import (
    WEBHOOK_PATH,
    RecordedRequest,
    StartAlertmanager,
    WebhookRecorder,
    postable_alert,
)
from tests.served import free_port, srekit_serve

pytestmark = pytest.mark.integration

T = TypeVar("T")
STEP_S = 2.0
INTERVAL_S = 0.5
ROTATION_AND_POLICY = """\
apiVersion: srekit/v1
kind: Rotation
metadata: {name: payments}
spec:
  timezone: UTC
  layers:
    - {name: primary, members: [alice], shift: 1d, handoff: "00:00", start: 2026-01-01}
    - {name: secondary, members: [dave], shift: 1d, handoff: "00:00", start: 2026-01-01}
---
apiVersion: srekit/v1
kind: EscalationPolicy
metadata: {name: payments}
spec:
  services: [checkout]
  steps:
    - notify: {rotation: payments, layer: primary}
    - notify: {rotation: payments, layer: secondary}
      after: 2s
    - notify: {person: grace}
      after: 2s
"""
LABELS = {"alertname": "CheckoutDown", "severity": "page", "service": "checkout"}


def _cli(env: dict[str, str], *args: str) -> str:
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exit_code == 0, f"srekit {' '.join(args)}: {result.output}"
    return result.stdout


@dataclass
class Srekit:
    url: str
    tokens: dict[str, str]
    log: Path

    def get(self, path: str, **params: str) -> Any:
        answer = httpx.get(
            f"{self.url}{path}",
            params=params,
            headers={"Authorization": f"Bearer {self.tokens['viewer']}"},
            timeout=10,
        )
        assert answer.status_code == 200, f"GET {path}: {answer.status_code} {answer.text}"
        return answer.json()

    def incidents(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.get("/api/v1/incidents", service="checkout", state="all")
        return found


@contextmanager
def _serve(home: Path, port: int, tokens: dict[str, str], **settings: str) -> Iterator[Srekit]:
    """`srekit serve` with these SREKIT_* settings, ready; stopped (SIGINT) after the block."""
    log = home / f"serve-{time.monotonic_ns()}.log"
    with srekit_serve(home, "--no-evaluate", port=port, log=log, settings=settings) as url:
        yield Srekit(url, tokens, log)


def _poll(
    what: str, read: Callable[[], T | None], *, timeout_s: float, explain: Callable[[], str]
) -> T:
    deadline = time.monotonic() + timeout_s
    while True:
        found = read()
        if found:
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout_s:g} s\n{explain()}", pytrace=False)
        time.sleep(0.1)


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass
class OnCall:
    """A state directory with people, the rotation and the policy stored, and tokens."""

    home: Path
    tokens: dict[str, str]
    receiver: WebhookRecorder

    def pages(self, person: str | None = None) -> list[RecordedRequest]:
        return [
            request
            for request in self.receiver.requests
            if person is None or request.path == f"/{person}"
        ]


@pytest.fixture
def oncall(tmp_path: Path, webhook_recorder: WebhookRecorder) -> OnCall:
    home = tmp_path / "srekit"
    env = {"SREKIT_HOME": str(home), "SREKIT_DATABASE_URL": "", "SREKIT_ACTOR": "ci"}
    _cli(env, "db", "upgrade")
    for person in ("alice", "dave", "grace"):
        _cli(env, "person", "add", person, "--contact", f"webhook={webhook_recorder.url}/{person}")
    spec = tmp_path / "oncall.yaml"
    spec.write_text(ROTATION_AND_POLICY, encoding="utf-8")
    _cli(env, "apply", "-f", str(spec))
    tokens = {
        role: _cli(env, "token", "create", "--role", role, "--name", f"{role}-bot").strip()
        for role in ("viewer", "ingest")
    }
    return OnCall(home, tokens, webhook_recorder)


def _settings(port: int) -> dict[str, str]:
    return {
        "SREKIT_ESCALATION_INTERVAL_S": str(INTERVAL_S),
        "SREKIT_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "SREKIT_NOTIFY_RETRIES": "1",
    }


def test_an_alert_pages_the_primary_escalates_and_stops_at_the_signed_link(
    oncall: OnCall, start_alertmanager: StartAlertmanager
) -> None:
    port = free_port()
    alertmanager = start_alertmanager(
        f"http://127.0.0.1:{port}{WEBHOOK_PATH}",
        bearer_token=oncall.tokens["ingest"],
        group_wait="1s",
        group_interval="2s",
    )
    with _serve(oncall.home, port, oncall.tokens, **_settings(port)) as srekit:

        def explain() -> str:
            pages = [(r.path, r.body[:300]) for r in oncall.pages()]
            details = [srekit.get(f"/api/v1/incidents/{i['id']}") for i in srekit.incidents()]
            return (
                f"--- pages: {pages}\n--- incidents: {json.dumps(details, indent=1)[:8000]}\n"
                f"--- log:\n{srekit.log.read_text()[-4000:]}\n"
                f"--- Alertmanager:\n{alertmanager.log()[-2000:]}"
            )

        # as Prometheus posts a firing alert
        alertmanager.post_alerts([postable_alert(LABELS, starts_at=datetime.now(UTC))])
        (incident,) = _poll("an incident opened", srekit.incidents, timeout_s=20, explain=explain)
        number = incident["id"]
        (alice,) = _poll(
            "alice paged", lambda: oncall.pages("alice"), timeout_s=10, explain=explain
        )
        page = alice.json()
        assert (page["kind"], page["person"], page["escalation_step"]) == ("page", "alice", 1)
        assert (page["incident_id"], page["severity"], page["services"]) == (
            number,
            "P1",
            ["checkout"],
        )
        assert page["ack_url"].startswith(f"{srekit.url}/api/v1/incidents/{number}/ack?token=")
        assert page["incident_url"] == f"{srekit.url}/api/v1/incidents/{number}"

        # nobody acknowledges: dave, 2 s after alice's page was due
        (dave,) = _poll("dave paged", lambda: oncall.pages("dave"), timeout_s=10, explain=explain)
        second = dave.json()
        assert (second["person"], second["escalation_step"]) == ("dave", 2)
        waited = (_instant(second["at"]) - _instant(page["at"])).total_seconds()
        assert STEP_S - 0.05 <= waited <= STEP_S + 3 * INTERVAL_S + 1, waited

        # dave presses the link in his page: a POST, with the token the link carries
        pressed = httpx.post(second["ack_url"], timeout=10)
        assert pressed.status_code == 200, pressed.text
        detail = srekit.get(f"/api/v1/incidents/{number}")
        assert detail["state"] == "acknowledged"

        # grace's step would be due 2 s after dave's: wait well past it
        def stopped_escalation() -> dict[str, Any] | None:
            escalation: dict[str, Any] = srekit.get(f"/api/v1/incidents/{number}")["escalation"]
            return escalation if escalation["state"] == "stopped" else None

        stopped = _poll("the escalation stopped", stopped_escalation, timeout_s=10, explain=explain)
        time.sleep(STEP_S + 4 * INTERVAL_S)
        assert [request.path for request in oncall.pages()] == ["/alice", "/dave"], explain()

        assert stopped["reason"] == "acknowledged"
        assert (stopped["policy"], stopped["policy_version"], stopped["steps_paged"]) == (
            "payments",
            1,
            2,
        )
        timeline = srekit.get(f"/api/v1/incidents/{number}")["timeline"]
        sent = [entry for entry in timeline if entry["kind"] == "page_sent"]
        assert [
            {key: entry["data"][key] for key in ("person", "channel", "delivered", "attempts")}
            | {"step": entry["data"]["step"], "target": entry["data"]["target"]}
            for entry in sent
        ] == [
            {
                "person": person,
                "channel": "webhook",
                "delivered": True,
                "attempts": 1,
                "step": step,
                "target": f"{oncall.receiver.url}/…",
            }
            for person, step in (("alice", 1), ("dave", 2))
        ]
        assert [entry["data"]["detail"] for entry in sent] == ["webhook: HTTP 200"] * 2
        acknowledged = [
            entry
            for entry in timeline
            if entry["kind"] == "state_changed" and entry["data"]["state"] == "acknowledged"
        ]
        assert [entry["actor"] for entry in acknowledged] == ["link:dave"]
        notes = [entry["text"] for entry in timeline if entry["kind"] == "note"]
        assert "escalation stopped: acknowledged, after 2 page(s) of policy payments" in notes
        # the ack came before the stop, and the stop before any later step
        ack_at = _instant(acknowledged[0]["at"])
        assert _instant(sent[-1]["at"]) <= ack_at


def test_a_restarted_server_resumes_the_escalation_where_it_was(oncall: OnCall) -> None:
    """An incident opened by the webhook Alertmanager sends (captured); the server stops after
    the first page and comes back after the second step fell due: it pages the second once."""
    captured = json.loads(
        (Path(__file__).parents[1] / "data" / "alertmanager_sequence.json").read_text()
    )[0]
    captured["alerts"][0]["labels"]["service"] = "checkout"
    captured["alerts"][0]["startsAt"] = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    port = free_port()
    with _serve(oncall.home, port, oncall.tokens, **_settings(port)) as srekit:
        answer = httpx.post(
            f"{srekit.url}{WEBHOOK_PATH}",
            json=captured,
            headers={"Authorization": f"Bearer {oncall.tokens['ingest']}"},
            timeout=10,
        )
        assert answer.status_code == 200, answer.text
        (alice,) = _poll(
            "alice paged", lambda: oncall.pages("alice"), timeout_s=10, explain=lambda: ""
        )
    stopped_at = time.monotonic()
    assert oncall.pages("dave") == []
    time.sleep(STEP_S + 1)  # dave's step falls due while no server runs
    with _serve(oncall.home, port, oncall.tokens, **_settings(port)) as srekit:
        (dave,) = _poll(
            "dave paged after the restart",
            lambda: oncall.pages("dave"),
            timeout_s=10,
            explain=lambda: srekit.log.read_text()[-4000:],
        )
        assert dave.received_s > stopped_at + STEP_S
        # grace 2 s after dave's step was due: by then already, so soon after the restart
        (grace,) = _poll(
            "grace paged", lambda: oncall.pages("grace"), timeout_s=10, explain=lambda: ""
        )
        time.sleep(3 * INTERVAL_S)
        (incident,) = srekit.incidents()
        shown = srekit.get(f"/api/v1/incidents/{incident['id']}")
    assert [request.path for request in oncall.pages()] == ["/alice", "/dave", "/grace"]
    assert alice.json()["escalation_step"] == 1
    assert (dave.json()["escalation_step"], grace.json()["escalation_step"]) == (2, 3)
    assert shown["escalation"]["state"] == "exhausted"
    assert [e["data"]["person"] for e in shown["timeline"] if e["kind"] == "page_sent"] == [
        "alice",
        "dave",
        "grace",
    ]
    assert (_instant(shown["escalation"]["updated_at"]) - _instant(shown["opened_at"])) > (
        timedelta(seconds=2 * STEP_S)
    )
