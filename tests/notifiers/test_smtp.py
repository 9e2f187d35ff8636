"""Pages by email to a real local SMTP server (aiosmtpd): the mail it got, logins, refusals
retried or not by SMTP's own split."""

from __future__ import annotations

from datetime import UTC, datetime

from srekit.config import Settings
from srekit.core.incident import Severity
from srekit.core.notify import ContactKind, ContactMethod, Page, RetryPolicy
from srekit.notifiers import SmtpTransport, deliver, notifiers_of
from tests.notifiers.conftest import SmtpServer

AT = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
# as long as a real link: the mail must carry it whole, whatever its transfer encoding
ACK = "http://127.0.0.1:8000/api/v1/incidents/31/ack?token=a1." + "eyJpIjozMX0" * 8 + ".s1g"
PAGE = Page(
    incident_id=31,
    title="Payments latency",
    severity=Severity.P2,
    person="bob",
    step=3,
    ack_url=ACK,
    incident_url="http://127.0.0.1:8000/api/v1/incidents/31",
    at=AT,
    services=("payments",),
    summary="p99 above 2 s for 20 minutes.",
)
BOB = ContactMethod(ContactKind.EMAIL, "bob@example.org")
POLICY = RetryPolicy(attempts=3, base_s=0.0, cap_s=0.0)


def _transport(server: SmtpServer, **options: object) -> SmtpTransport:
    return SmtpTransport(
        host=server.host,
        port=server.port,
        tls="none",
        from_address="pager@srekit.example",
        timeout_s=5.0,
        **options,  # type: ignore[arg-type]
    )


def test_the_mail_says_what_the_page_says(smtp_server: SmtpServer) -> None:
    waits: list[float] = []
    delivery = deliver(
        PAGE, BOB, transport=_transport(smtp_server), policy=POLICY, sleep=waits.append
    )
    assert delivery.delivered
    assert delivery.attempts == 1
    assert delivery.detail == f"smtp 127.0.0.1:{smtp_server.port}: accepted for bob@example.org"
    [(envelope, mail)] = smtp_server.recorder.messages
    assert envelope.mail_from == "pager@srekit.example"
    assert envelope.rcpt_tos == ["bob@example.org"]
    assert mail["Subject"] == "[P2] Incident 31: Payments latency"
    assert mail["To"] == "bob@example.org"
    assert mail["From"] == "pager@srekit.example"
    assert mail["X-Srekit-Incident"] == "31"
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail["Message-ID"].strip().startswith("<")
    assert "srekit-incident-31" in mail["Message-ID"]
    payload = mail.get_payload(decode=True)
    assert isinstance(payload, bytes)  # a single-part message, decoded
    body = payload.decode().replace("\r\n", "\n")
    assert f"Acknowledge: {ACK}\n" in body
    assert "bob, you are paged (escalation step 3)." in body
    assert "p99 above 2 s for 20 minutes." in body
    assert waits == []


def test_login(smtp_server: SmtpServer) -> None:
    transport = _transport(smtp_server, username="pager", password="s3cret")
    delivery = deliver(PAGE, BOB, transport=transport, policy=POLICY, sleep=lambda s: None)
    assert delivery.delivered
    assert smtp_server.logins == ["pager"]


def test_a_wrong_password_is_not_retried(smtp_server: SmtpServer) -> None:
    transport = _transport(smtp_server, username="pager", password="wrong")
    delivery = deliver(PAGE, BOB, transport=transport, policy=POLICY, sleep=lambda s: None)
    assert (delivery.delivered, delivery.attempts) == (False, 1)
    assert "535" in delivery.detail
    assert smtp_server.recorder.messages == []


def test_a_busy_server_is_retried(smtp_server: SmtpServer) -> None:
    smtp_server.recorder.refuse = ["451 4.3.0 try again later"] * 2
    waits: list[float] = []
    transport = _transport(smtp_server)
    delivery = deliver(PAGE, BOB, transport=transport, policy=POLICY, sleep=waits.append)
    assert (delivery.delivered, delivery.attempts) == (True, 3)
    assert smtp_server.recorder.rcpt_calls == 3
    assert len(smtp_server.recorder.messages) == 1
    assert waits == [0.0, 0.0]


def test_an_unknown_recipient_is_not_retried(smtp_server: SmtpServer) -> None:
    smtp_server.recorder.refuse = ["550 5.1.1 no such user"]
    delivery = deliver(
        PAGE, BOB, transport=_transport(smtp_server), policy=POLICY, sleep=lambda s: None
    )
    assert (delivery.delivered, delivery.attempts) == (False, 1)
    assert delivery.detail == (
        f"smtp 127.0.0.1:{smtp_server.port}: recipient refused: 550 5.1.1 no such user"
        " (1 attempt; not retried: the failure is permanent)"
    )


def test_starttls_against_a_server_without_it_is_not_retried(smtp_server: SmtpServer) -> None:
    transport = SmtpTransport(
        host=smtp_server.host, port=smtp_server.port, tls="starttls", from_address="p@x.example"
    )
    delivery = deliver(PAGE, BOB, transport=transport, policy=POLICY, sleep=lambda s: None)
    assert (delivery.delivered, delivery.attempts) == (False, 1)
    assert "STARTTLS extension not supported" in delivery.detail


def test_no_server_is_retried_then_recorded(smtp_server: SmtpServer) -> None:
    transport = SmtpTransport(host="127.0.0.1", port=1, tls="none", from_address="p@x.example")
    delivery = deliver(PAGE, BOB, transport=transport, policy=POLICY, sleep=lambda s: None)
    assert (delivery.delivered, delivery.attempts) == (False, 3)
    assert "out of attempts" in delivery.detail


def test_the_factory_builds_email_from_settings(smtp_server: SmtpServer) -> None:
    settings = Settings(
        smtp_host="127.0.0.1",
        smtp_port=smtp_server.port,
        smtp_tls="none",
        smtp_from="oncall@srekit.example",
        smtp_username="pager",
        smtp_password="s3cret",
        notify_retries=2,
        notify_backoff_s=0,
    )
    with notifiers_of(settings, sleep=lambda s: None) as notifiers:
        assert notifiers.policy.attempts == 2
        delivery = notifiers.send(PAGE, BOB)
    assert delivery.delivered
    assert smtp_server.logins == ["pager"]
    assert smtp_server.recorder.messages[0][0].mail_from == "oncall@srekit.example"
    without = notifiers_of(Settings())
    assert ContactKind.EMAIL not in without.transports
    assert set(without.transports) == {
        ContactKind.WEBHOOK,
        ContactKind.SLACK,
        ContactKind.PAGERDUTY,
    }
    without.close()
