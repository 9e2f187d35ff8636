"""Notices through the real transports: a local HTTP receiver and a local SMTP server record
what they got; retries are the pages' own loop; PagerDuty is never called for a notice."""

from __future__ import annotations

from datetime import UTC, datetime
from email.header import decode_header, make_header

from srekit.core.notify import ContactKind, ContactMethod, Delivery, Notice, RetryPolicy
from srekit.notifiers import (
    Notifiers,
    PagerDutyTransport,
    SlackTransport,
    SmtpTransport,
    WebhookTransport,
    deliver_notice,
)
from tests.notifiers.conftest import Answer, HttpReceiver, SmtpServer

AT = datetime(2026, 3, 30, 7, 0, tzinfo=UTC)
NOTICE = Notice(
    kind="handoff",
    person="alice",
    subject="On-call handoff: payments, primary bob → alice",
    text="# On-call handoff: payments\n\n- [ ] I have read it\n",
    markdown="# On-call handoff: payments\n\n- [ ] I have read it\n",
    at=AT,
    link="http://127.0.0.1:8000/api/v1/oncall/rotations/payments/handoff?at=x&format=md",
)
POLICY = RetryPolicy(attempts=3, base_s=1.0, cap_s=30.0)


def _notifiers(receiver: HttpReceiver, waits: list[float]) -> Notifiers:
    return Notifiers(
        {
            ContactKind.WEBHOOK: WebhookTransport(bearer="hook-token"),
            ContactKind.SLACK: SlackTransport(),
            ContactKind.PAGERDUTY: PagerDutyTransport(events_url=f"{receiver.url}/v2/enqueue"),
        },
        policy=POLICY,
        sleep=waits.append,
        now=lambda: AT,
    )


def test_the_webhook_and_slack_receive_the_notice(receiver: HttpReceiver) -> None:
    waits: list[float] = []
    with _notifiers(receiver, waits) as notifiers:
        hook = notifiers.send_notice(
            NOTICE, ContactMethod(ContactKind.WEBHOOK, f"{receiver.url}/hooks/alice")
        )
        slack = notifiers.send_notice(
            NOTICE, ContactMethod(ContactKind.SLACK, f"{receiver.url}/services/T/B/X")
        )
    host = receiver.url.removeprefix("http://")
    assert hook == Delivery(
        ContactKind.WEBHOOK, f"http://{host}/…", True, 1, "webhook: HTTP 200", AT
    )
    assert slack == Delivery(ContactKind.SLACK, f"http://{host}/…", True, 1, "slack: HTTP 200", AT)
    first, second = receiver.received
    assert first.path == "/hooks/alice"
    assert first.headers["authorization"] == "Bearer hook-token"
    assert first.json == {
        "kind": "handoff",
        "person": "alice",
        "subject": NOTICE.subject,
        "text": NOTICE.text,
        "markdown": NOTICE.markdown,
        "link": NOTICE.link,
        "at": "2026-03-30T07:00:00Z",
    }
    assert second.path == "/services/T/B/X"
    assert second.json["text"] == f"{NOTICE.subject}: {NOTICE.link}"
    assert [block["type"] for block in second.json["blocks"]] == ["header", "section", "actions"]
    assert second.json["blocks"][1]["text"]["text"] == NOTICE.markdown.rstrip("\n")
    assert waits == []


def test_pagerduty_is_not_called_for_a_notice(receiver: HttpReceiver) -> None:
    waits: list[float] = []
    with _notifiers(receiver, waits) as notifiers:
        delivery = notifiers.send_notice(
            NOTICE, ContactMethod(ContactKind.PAGERDUTY, "R0UT1NGK3YALICE")
        )
    assert delivery == Delivery(
        ContactKind.PAGERDUTY,
        "R0UT…",
        False,
        0,
        "not sent: a handoff is not an incident, and PagerDuty events are for incidents",
        AT,
    )
    assert receiver.received == []
    # even handed a notice directly, the transport refuses it without a request
    attempt = PagerDutyTransport(events_url=f"{receiver.url}/v2/enqueue").attempt(
        NOTICE, ContactMethod(ContactKind.PAGERDUTY, "R0UT1NGK3YALICE")
    )
    assert not attempt.delivered
    assert not attempt.retryable
    assert receiver.received == []


def test_a_notice_is_retried_as_a_page_is(receiver: HttpReceiver) -> None:
    receiver.answers = [Answer(503, b"busy"), Answer(429, b"slow down", {"Retry-After": "7"})]
    waits: list[float] = []
    contact = ContactMethod(ContactKind.WEBHOOK, f"{receiver.url}/hook")
    delivery = deliver_notice(
        NOTICE, contact, transport=WebhookTransport(), policy=POLICY, sleep=waits.append
    )
    assert delivery.delivered
    assert delivery.attempts == 3
    assert len(receiver.received) == 3
    assert all(got.json["kind"] == "handoff" for got in receiver.received)
    # the jittered schedule's first wait is in [0.5, 1) s; the second is the server's 7 s,
    # longer than the schedule's [1, 2)
    assert 0.5 <= waits[0] < 1.0
    assert waits[1] == 7.0
    receiver.default = Answer(404, b"no_service")
    refused = deliver_notice(
        NOTICE, contact, transport=WebhookTransport(), policy=POLICY, sleep=waits.append
    )
    assert refused.attempts == 1
    assert (
        refused.detail
        == "webhook: HTTP 404 no_service (1 attempt; not retried: the failure is permanent)"
    )


def test_an_unconfigured_channel_is_said(receiver: HttpReceiver) -> None:
    delivery = deliver_notice(
        NOTICE,
        ContactMethod(ContactKind.EMAIL, "alice@example.org"),
        transport=None,
        policy=POLICY,
        now=lambda: AT,
    )
    assert delivery == Delivery(
        ContactKind.EMAIL,
        "alice@example.org",
        False,
        0,
        "no SMTP server is configured (SREKIT_SMTP_HOST)",
        AT,
    )


def test_the_mail_of_a_notice(smtp_server: SmtpServer) -> None:
    transport = SmtpTransport(
        host=smtp_server.host,
        port=smtp_server.port,
        tls="none",
        from_address="oncall@srekit.example",
        timeout_s=5.0,
    )
    delivery = deliver_notice(
        NOTICE,
        ContactMethod(ContactKind.EMAIL, "alice@example.org"),
        transport=transport,
        policy=POLICY,
    )
    assert delivery.delivered, delivery.detail
    [(envelope, mail)] = smtp_server.recorder.messages
    assert envelope.rcpt_tos == ["alice@example.org"]
    assert str(make_header(decode_header(mail["Subject"]))) == NOTICE.subject  # RFC 2047
    assert mail["X-Srekit-Notice"] == "handoff"
    assert mail["X-Srekit-Incident"] is None
    assert mail["Auto-Submitted"] == "auto-generated"
    payload = mail.get_payload(decode=True)
    assert isinstance(payload, bytes)  # a single-part message, decoded
    body = payload.decode().replace("\r\n", "\n")  # SMTP line ends
    assert body == f"{NOTICE.text}\nIn srekit: {NOTICE.link}\n"
