"""The HTTP channels against a real local receiver: what it got, retries counted, Retry-After
honoured, 4xx not retried, the Delivery recorded."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from srekit import __version__
from srekit.core.incident import Severity
from srekit.core.notify import (
    Attempt,
    ContactKind,
    ContactMethod,
    Delivery,
    Message,
    Page,
    RetryPolicy,
)
from srekit.notifiers import (
    Notifiers,
    PagerDutyTransport,
    SlackTransport,
    WebhookTransport,
    deliver,
)
from tests.notifiers.conftest import Answer, HttpReceiver

AT = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
PAGE = Page(
    incident_id=9,
    title="Checkout down",
    severity=Severity.P0,
    person="alice",
    step=1,
    ack_url="http://127.0.0.1:8000/api/v1/incidents/9/ack?token=a1.x.y",
    incident_url="http://127.0.0.1:8000/api/v1/incidents/9",
    at=AT,
    services=("checkout",),
)
POLICY = RetryPolicy(attempts=4, base_s=1.0, cap_s=30.0, max_retry_after_s=60.0)


class Sleeps:
    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def _send(
    transport: WebhookTransport | SlackTransport | PagerDutyTransport,
    contact: ContactMethod,
    sleeps: Sleeps,
    policy: RetryPolicy = POLICY,
) -> Delivery:
    try:
        return deliver(
            PAGE, contact, transport=transport, policy=policy, sleep=sleeps, now=lambda: AT
        )
    finally:
        transport.close()


def test_webhook_receives_the_page_with_its_token(receiver: HttpReceiver) -> None:
    sleeps = Sleeps()
    transport = WebhookTransport(bearer="hook-token", headers={"X-Team": "payments"})
    contact = ContactMethod(ContactKind.WEBHOOK, f"{receiver.url}/hooks/pager")
    delivery = _send(transport, contact, sleeps)
    assert len(receiver.received) == 1
    got = receiver.received[0]
    assert got.path == "/hooks/pager"
    assert got.headers["authorization"] == "Bearer hook-token"
    assert got.headers["x-team"] == "payments"
    assert got.headers["content-type"] == "application/json"
    assert got.headers["user-agent"] == f"srekit/{__version__}"
    assert got.json["incident_id"] == 9
    assert got.json["severity"] == "P0"
    assert got.json["ack_url"] == PAGE.ack_url
    assert got.json["at"] == "2026-12-02T12:00:00Z"
    host = receiver.url.removeprefix("http://")
    assert delivery == Delivery(
        ContactKind.WEBHOOK, f"http://{host}/…", True, 1, "webhook: HTTP 200", AT
    )
    assert sleeps.waits == []


def test_5xx_is_retried_until_delivered(receiver: HttpReceiver) -> None:
    receiver.answers = [Answer(500, b"boom"), Answer(503, b"busy")]
    sleeps = Sleeps()
    contact = ContactMethod(ContactKind.SLACK, f"{receiver.url}/services/T/B/x")
    delivery = _send(SlackTransport(), contact, sleeps)
    assert len(receiver.received) == 3
    assert delivery.delivered
    assert delivery.attempts == 3
    # jittered waits: the first two of 1 s, 2 s, each scaled into [0.5, 1)
    assert len(sleeps.waits) == 2
    assert 0.5 <= sleeps.waits[0] < 1.0
    assert 1.0 <= sleeps.waits[1] < 2.0
    bodies = [r.json for r in receiver.received]
    assert bodies[0] == bodies[2]  # the same message each time
    assert bodies[0]["text"].startswith("[P0] Incident 9: Checkout down")
    assert bodies[0]["blocks"][-1]["elements"][0]["url"] == PAGE.ack_url


def test_out_of_attempts_is_recorded(receiver: HttpReceiver) -> None:
    receiver.default = Answer(502, b"bad gateway")
    sleeps = Sleeps()
    contact = ContactMethod(ContactKind.WEBHOOK, receiver.url)
    delivery = _send(WebhookTransport(), contact, sleeps)
    assert len(receiver.received) == 4
    assert len(sleeps.waits) == 3
    assert not delivery.delivered
    assert delivery.detail == ("webhook: HTTP 502 bad gateway (4 attempts; out of attempts)")


def test_retry_after_is_honoured(receiver: HttpReceiver) -> None:
    receiver.answers = [Answer(429, b'{"ok":false}', {"Retry-After": "17"})]
    sleeps = Sleeps()
    contact = ContactMethod(ContactKind.SLACK, receiver.url)
    delivery = _send(SlackTransport(), contact, sleeps)
    assert sleeps.waits == [17.0]  # longer than the schedule's first wait
    assert delivery.delivered
    assert delivery.attempts == 2


def test_a_retry_after_beyond_the_limit_stops(receiver: HttpReceiver) -> None:
    receiver.default = Answer(429, b"slow down", {"Retry-After": "3600"})
    sleeps = Sleeps()
    delivery = _send(SlackTransport(), ContactMethod(ContactKind.SLACK, receiver.url), sleeps)
    assert len(receiver.received) == 1
    assert sleeps.waits == []
    assert "asked to wait 3600 s, longer than 60 s" in delivery.detail


@pytest.mark.parametrize("status", [400, 403, 404, 410])
def test_4xx_is_not_retried(receiver: HttpReceiver, status: int) -> None:
    receiver.default = Answer(status, b"invalid_payload")
    sleeps = Sleeps()
    delivery = _send(WebhookTransport(), ContactMethod(ContactKind.WEBHOOK, receiver.url), sleeps)
    assert len(receiver.received) == 1
    assert sleeps.waits == []
    assert delivery.detail == (
        f"webhook: HTTP {status} invalid_payload (1 attempt; not retried: the failure is permanent)"
    )


def test_a_timeout_is_retried(receiver: HttpReceiver) -> None:
    receiver.answers = [Answer(200, b"ok", delay_s=1.0)]
    sleeps = Sleeps()
    delivery = _send(
        SlackTransport(timeout_s=0.2), ContactMethod(ContactKind.SLACK, receiver.url), sleeps
    )
    assert len(receiver.received) == 2
    assert delivery.delivered
    assert delivery.attempts == 2


def test_a_refused_connection_is_retried_then_recorded(receiver: HttpReceiver) -> None:
    url = receiver.url
    receiver.close()  # nothing listens there any more
    sleeps = Sleeps()
    policy = RetryPolicy(attempts=2, base_s=0.0, cap_s=0.0)
    delivery = _send(WebhookTransport(), ContactMethod(ContactKind.WEBHOOK, url), sleeps, policy)
    assert sleeps.waits == [0.0]
    assert not delivery.delivered
    assert delivery.attempts == 2
    assert "ConnectError" in delivery.detail


def test_pagerduty_event(receiver: HttpReceiver) -> None:
    receiver.answers = [
        Answer(
            202,
            b'{"status":"success","message":"Event processed","dedup_key":"srekit-incident-9"}',
        )
    ]
    transport = PagerDutyTransport(events_url=f"{receiver.url}/v2/enqueue")
    contact = ContactMethod(ContactKind.PAGERDUTY, "R0UT1NGKEY0123456789abcdefabcdef")
    delivery = _send(transport, contact, Sleeps())
    got = receiver.received[0]
    assert got.path == "/v2/enqueue"
    event = got.json
    assert event["routing_key"] == "R0UT1NGKEY0123456789abcdefabcdef"
    assert (event["event_action"], event["dedup_key"]) == ("trigger", "srekit-incident-9")
    assert event["payload"]["severity"] == "critical"
    assert event["links"][0]["href"] == PAGE.incident_url
    assert delivery.detail == "pagerduty: HTTP 202, dedup_key srekit-incident-9"
    assert delivery.target == "R0UT…"


def test_pagerduty_400_is_not_retried(receiver: HttpReceiver) -> None:
    receiver.default = Answer(
        400, b'{"status":"invalid event","message":"Event object is invalid"}'
    )
    transport = PagerDutyTransport(events_url=receiver.url)
    delivery = _send(transport, ContactMethod(ContactKind.PAGERDUTY, "bad"), Sleeps())
    assert len(receiver.received) == 1
    assert "Event object is invalid" in delivery.detail


def test_a_target_that_is_no_url_is_refused_without_sending() -> None:
    delivery = _send(
        WebhookTransport(), ContactMethod(ContactKind.WEBHOOK, "ftp://example/x"), Sleeps()
    )
    assert delivery.attempts == 1
    assert not delivery.delivered
    assert "expected an http:// or https:// URL" in delivery.detail


def test_notifiers_pick_the_transport_and_report_unconfigured_channels(
    receiver: HttpReceiver,
) -> None:
    with Notifiers(
        {ContactKind.WEBHOOK: WebhookTransport()}, policy=POLICY, sleep=Sleeps(), now=lambda: AT
    ) as notifiers:
        sent = notifiers.send(PAGE, ContactMethod(ContactKind.WEBHOOK, receiver.url))
        missing = notifiers.send(PAGE, ContactMethod(ContactKind.EMAIL, "alice@example.org"))
    assert sent.delivered
    assert len(receiver.received) == 1
    assert (missing.delivered, missing.attempts) == (False, 0)
    assert missing.detail == "no SMTP server is configured (SREKIT_SMTP_HOST)"


class Broken:
    def attempt(self, message: Message, contact: ContactMethod) -> Attempt:
        raise RuntimeError("a bug")

    def close(self) -> None:
        pass


def test_a_transport_bug_is_a_failed_delivery_not_an_exception() -> None:
    delivery = deliver(
        PAGE,
        ContactMethod(ContactKind.WEBHOOK, "http://127.0.0.1:9/"),
        transport=Broken(),
        policy=POLICY,
        sleep=Sleeps(),
        now=lambda: AT,
    )
    assert (delivery.delivered, delivery.attempts) == (False, 1)
    assert delivery.detail.startswith("unexpected RuntimeError: a bug")
