"""What the silence watch reads of Alertmanager: its alerts (those it has not seen end) and
when it started; against a real Alertmanager, then a local server answering what it never
would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from srekit.alertmanager import AlertmanagerClient, alertmanager_of
from srekit.config import Settings
from srekit.core.silences import same_instant
from srekit.errors import NotifierUnavailable, SpecError
from tests.alertmanager_fixture import AlertmanagerServer, WebhookRecorder, postable_alert

pytestmark = pytest.mark.integration

PAGE = {
    "alertname": "CheckoutAvailabilityErrorBudgetBurn",
    "severity": "page",
    "srekit_service": "checkout",
    "srekit_slo": "availability",
}
TICKET = {**PAGE, "severity": "ticket"}


def test_alerts_are_listed_until_their_end_passes(alertmanager: AlertmanagerServer) -> None:
    now = datetime.now(UTC)
    starts_at = now - timedelta(minutes=10)
    ends_at = (now + timedelta(minutes=4)).replace(microsecond=123_000)
    alertmanager.post_alerts(
        [
            postable_alert(PAGE, starts_at=starts_at, ends_at=ends_at),
            postable_alert(TICKET, starts_at=starts_at, ends_at=ends_at),
        ]
    )
    with AlertmanagerClient(alertmanager.url) as client:
        silence_id = client.create_silence(
            PAGE, starts_at=now, ends_at=now + timedelta(hours=1), created_by="t", comment="c"
        )
        found = {alert.labels["severity"]: alert for alert in client.list_alerts()}
        assert set(found) == {"page", "ticket"}
        page = found["page"]
        assert page.labels == PAGE
        assert same_instant(page.starts_at, starts_at)
        assert page.ends_at == ends_at  # milliseconds kept
        assert (page.state, page.silenced_by) == ("suppressed", (silence_id,))
        assert (found["ticket"].state, found["ticket"].silenced_by) == ("active", ())
        assert page.fingerprint != found["ticket"].fingerprint
        # Alertmanager's own fingerprints, as its webhooks carry them
        raw = {a["labels"]["severity"]: a["fingerprint"] for a in alertmanager.alerts()}
        assert raw == {"page": page.fingerprint, "ticket": found["ticket"].fingerprint}

        (only,) = client.list_alerts({"severity": "ticket", "srekit_service": "checkout"})
        assert only.labels == TICKET
        assert client.list_alerts({"srekit_service": "payments"}) == []

        # Prometheus resolving the page alert: its end is now in the past, and it is gone
        alertmanager.post_alerts(
            [postable_alert(PAGE, starts_at=starts_at, ends_at=datetime.now(UTC))]
        )
        assert [a.labels["severity"] for a in client.list_alerts()] == ["ticket"]


def test_the_start_is_the_uptimes_origin(alertmanager: AlertmanagerServer) -> None:
    with AlertmanagerClient(alertmanager.url) as client:
        started = client.started_at()
    assert started.tzinfo is not None
    assert timedelta(0) <= datetime.now(UTC) - started < timedelta(seconds=60)


@pytest.mark.parametrize(
    ("answer", "call"),
    [
        ((200, b'{"alerts": []}'), "alerts"),
        ((200, b'[{"fingerprint": "a"}]'), "alerts"),
        (
            (
                200,
                b'[{"fingerprint": "a", "startsAt": "yesterday", "labels": {},'
                b' "status": {"state": "active"}}]',
            ),
            "alerts",
        ),
        ((200, b'{"cluster": {}}'), "status"),
        ((200, b'["uptime"]'), "status"),
        ((200, b'{"uptime": 5}'), "status"),
    ],
)
def test_answers_that_are_not_alertmanager_are_unavailable(
    webhook_recorder: WebhookRecorder, answer: tuple[int, bytes], call: str
) -> None:
    client = AlertmanagerClient(webhook_recorder.url, retries=1)
    webhook_recorder.answer_next(answer)
    with pytest.raises(NotifierUnavailable, match="with something that is not its API v2"):
        client.list_alerts() if call == "alerts" else client.started_at()
    path = "/api/v2/alerts" if call == "alerts" else "/api/v2/status"
    assert webhook_recorder.requests[0].path == path


def test_a_zero_end_is_no_end(webhook_recorder: WebhookRecorder) -> None:
    webhook_recorder.answer_next(
        (
            200,
            b'[{"fingerprint": "a", "startsAt": "2026-11-20T10:00:00.000Z",'
            b' "endsAt": "0001-01-01T00:00:00.000Z", "labels": {"alertname": "A"},'
            b' "status": {"state": "active", "silencedBy": null}}]',
        )
    )
    (alert,) = AlertmanagerClient(webhook_recorder.url).list_alerts({"alertname": "A"})
    assert (alert.ends_at, alert.silenced_by) == (None, ())
    assert webhook_recorder.requests[0].path == "/api/v2/alerts?filter=alertname%3D%22A%22"


def test_the_settings_name_the_client() -> None:
    assert alertmanager_of(Settings(alertmanager_url=" ")) is None
    assert alertmanager_of(Settings()) is None
    client = alertmanager_of(
        Settings(alertmanager_url="http://127.0.0.1:9093/", alertmanager_token="t0k")
    )
    assert client is not None
    with client:
        assert client.url == "http://127.0.0.1:9093"
    with pytest.raises(SpecError) as refused:
        alertmanager_of(Settings(alertmanager_url="alertmanager:9093"))
    assert refused.value.field == "SREKIT_ALERTMANAGER_URL"
    assert "expected an http:// or https:// URL such as http://alertmanager:9093" in str(
        refused.value
    )


def test_the_token_of_the_settings_is_sent(webhook_recorder: WebhookRecorder) -> None:
    webhook_recorder.answer_next((200, b"[]"))
    client = alertmanager_of(
        Settings(alertmanager_url=webhook_recorder.url, alertmanager_token="t0k")
    )
    assert client is not None
    assert client.list_alerts() == []
    assert webhook_recorder.requests[0].headers["authorization"] == "Bearer t0k"
    assert httpx.URL(webhook_recorder.requests[0].path).path == "/api/v2/alerts"
