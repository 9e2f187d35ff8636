"""Pages, retries and the signed acknowledgement link, against hand-checked values."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
from datetime import UTC, datetime, timedelta

import pytest

from srekit.core.incident import Severity
from srekit.core.notify import (
    ACK_TOKEN_MAX_CHARS,
    AckTokenError,
    Attempt,
    ContactKind,
    ContactMethod,
    Page,
    RetryPolicy,
    ack_token,
    backoff_delays,
    dedup_key,
    delay_before_retry,
    delivery_of,
    http_status_retryable,
    parse_retry_after,
    redacted_target,
    render_email,
    render_pagerduty,
    render_slack,
    render_webhook,
    smtp_reply_retryable,
    verify_ack_token,
)

SECRET = b"0123456789abcdef0123456789abcdef"
NOON = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)  # 1796212800 in Unix seconds
PAGE = Page(
    incident_id=42,
    title="Checkout errors\nabove budget",
    severity=Severity.P1,
    person="alice",
    step=2,
    ack_url="http://127.0.0.1:8000/api/v1/incidents/42/ack?token=t",
    incident_url="http://127.0.0.1:8000/api/v1/incidents/42",
    at=NOON,
    services=("checkout", "payments"),
    summary="5xx at 4 % since 11:50.",
)


# --- the token ---------------------------------------------------------------------------------


def _by_hand(secret: bytes, claims: str) -> str:
    """The documented format, built without srekit: a1.<b64 claims>.<b64 HMAC>."""
    body = base64.urlsafe_b64encode(claims.encode()).rstrip(b"=").decode()
    mac = hmac.new(secret, b"srekit-ack-link.a1." + body.encode(), hashlib.sha256).digest()
    return f"a1.{body}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


def test_token_matches_the_documented_format() -> None:
    token = ack_token(SECRET, incident_id=42, person="alice", expires_at=NOON)
    assert token == _by_hand(SECRET, '{"i":42,"p":"alice","e":1796212800}')
    # fractions of a second are dropped, not rounded up
    later = ack_token(
        SECRET, incident_id=42, person="alice", expires_at=NOON + timedelta(milliseconds=900)
    )
    assert later == token


def test_a_valid_token_names_the_person_and_expiry() -> None:
    token = ack_token(SECRET, incident_id=42, person="élodie", expires_at=NOON)
    claim = verify_ack_token(SECRET, token, incident_id=42, now=NOON - timedelta(hours=1))
    assert (claim.incident_id, claim.person, claim.expires_at) == (42, "élodie", NOON)
    assert token.isascii()


@pytest.mark.parametrize(
    ("now", "valid"),
    [
        (NOON - timedelta(seconds=1), True),
        (NOON - timedelta(microseconds=1), True),
        (NOON, False),  # expired from its second on
        (NOON + timedelta(days=1), False),
    ],
)
def test_expiry_boundary(now: datetime, valid: bool) -> None:
    token = ack_token(SECRET, incident_id=7, person="bob", expires_at=NOON)
    if valid:
        assert verify_ack_token(SECRET, token, incident_id=7, now=now).person == "bob"
    else:
        with pytest.raises(AckTokenError, match="expired at 2026-12-02T12:00:00Z") as caught:
            verify_ack_token(SECRET, token, incident_id=7, now=now)
        assert caught.value.reason == "expired"


def test_another_incident_is_refused() -> None:
    token = ack_token(SECRET, incident_id=7, person="bob", expires_at=NOON)
    with pytest.raises(AckTokenError, match="for incident 7, not incident 8") as caught:
        verify_ack_token(SECRET, token, incident_id=8, now=NOON - timedelta(hours=1))
    assert caught.value.reason == "other incident"


def _tampered_claims() -> str:
    # a valid signature's token with its claims swapped for others (another person)
    good = ack_token(SECRET, incident_id=7, person="bob", expires_at=NOON)
    forged = _by_hand(b"another secret of 16+ bytes", '{"i":7,"p":"mallory","e":1796212800}')
    return ".".join([*forged.split(".")[:2], good.split(".")[2]])


@pytest.mark.parametrize(
    "token",
    [
        _by_hand(b"another secret of 16+ bytes", '{"i":7,"p":"bob","e":1796212800}'),
        _tampered_claims(),
        # a later expiry, signed with the right format but not the right key
        _by_hand(SECRET[::-1], '{"i":7,"p":"bob","e":1999999999}'),
    ],
)
def test_tampering_is_a_bad_signature(token: str) -> None:
    with pytest.raises(AckTokenError, match="signature does not match") as caught:
        verify_ack_token(SECRET, token, incident_id=7, now=NOON - timedelta(hours=1))
    assert caught.value.reason == "bad signature"


def test_one_flipped_character_is_refused() -> None:
    token = ack_token(SECRET, incident_id=7, person="bob", expires_at=NOON)
    for index in range(3, len(token)):
        if token[index] == ".":
            continue
        flipped = token[:index] + ("A" if token[index] != "A" else "B") + token[index + 1 :]
        with pytest.raises(AckTokenError) as caught:
            verify_ack_token(SECRET, flipped, incident_id=7, now=NOON - timedelta(hours=1))
        assert caught.value.reason in {"bad signature", "malformed"}


@pytest.mark.parametrize(
    "token",
    [
        "",
        "a1",
        "a1..",
        "a1.e30.",
        "b1.e30.AAAA",
        "a1.e30.AAAA.extra",
        "a1.e3=0.AAAA",
        "a1.e30.A\x00A",
        "a1.NaN.NaN!",
        "a1." + "A" * (ACK_TOKEN_MAX_CHARS + 1) + ".AAAA",
        "a1.eyJp\u00e9.AAAA",
    ],
)
def test_malformed_tokens(token: str) -> None:
    with pytest.raises(AckTokenError, match="not a valid srekit link") as caught:
        verify_ack_token(SECRET, token, incident_id=7, now=NOON)
    assert caught.value.reason == "malformed"


def test_token_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="at least 16 bytes"):
        ack_token(b"short", incident_id=1, person="a", expires_at=NOON)
    with pytest.raises(ValueError, match="aware"):
        ack_token(SECRET, incident_id=1, person="a", expires_at=datetime(2026, 1, 1))


# --- retries -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attempts", "base_s", "cap_s", "expected"),
    [
        (1, 1.0, 30.0, ()),
        (4, 1.0, 30.0, (1.0, 2.0, 4.0)),
        (6, 0.5, 5.0, (0.5, 1.0, 2.0, 4.0, 5.0)),
        (3, 10.0, 15.0, (10.0, 15.0)),
        (3, 0.0, 30.0, (0.0, 0.0)),
    ],
)
def test_backoff_table(
    attempts: int, base_s: float, cap_s: float, expected: tuple[float, ...]
) -> None:
    assert backoff_delays(attempts, base_s, cap_s) == expected


def test_backoff_jitter_is_deterministic_and_bounded() -> None:
    plain = backoff_delays(5, 1.0, 30.0)
    jittered = backoff_delays(5, 1.0, 30.0, seed="42:alice:1")
    assert jittered == backoff_delays(5, 1.0, 30.0, seed="42:alice:1")
    assert jittered != backoff_delays(5, 1.0, 30.0, seed="42:bob:1")
    draws = random.Random("42:alice:1")
    assert jittered == tuple(d * (0.5 + 0.5 * draws.random()) for d in (1.0, 2.0, 4.0, 8.0))
    assert all(d / 2 <= j < d for d, j in zip(plain, jittered, strict=True))


def test_backoff_needs_an_attempt() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        backoff_delays(0, 1.0, 1.0)


@pytest.mark.parametrize(
    ("status", "retryable"),
    [
        (200, False),
        (400, False),
        (401, False),
        (403, False),
        (404, False),
        (408, False),
        (413, False),
        (429, True),
        (500, True),
        (502, True),
        (503, True),
        (599, True),
    ],
)
def test_http_statuses(status: int, retryable: bool) -> None:
    assert http_status_retryable(status) is retryable


@pytest.mark.parametrize(
    ("code", "retryable"), [(421, True), (451, True), (550, False), (250, False)]
)
def test_smtp_replies(code: int, retryable: bool) -> None:
    assert smtp_reply_retryable(code) is retryable


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        (None, None),
        ("7", 7.0),
        (" 120 ", 120.0),
        ("Wed, 02 Dec 2026 12:00:30 GMT", 30.0),
        ("Wed, 02 Dec 2026 11:00:00 GMT", 0.0),  # in the past
        ("soon", None),
        ("-1", None),
        ("1.5", None),
    ],
)
def test_retry_after(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header, now=NOON) == seconds


def test_retry_after_date_without_zone_is_gmt() -> None:
    assert parse_retry_after("Wed, 02 Dec 2026 12:01:00 -0000", now=NOON) == 60.0


POLICY = RetryPolicy(attempts=4, base_s=1.0, cap_s=30.0, max_retry_after_s=60.0)
DELAYS = (1.0, 2.0, 4.0)
FAILED = Attempt(delivered=False, detail="HTTP 503", retryable=True)


@pytest.mark.parametrize(
    ("attempt", "tried", "wait"),
    [
        (FAILED, 1, 1.0),
        (FAILED, 3, 4.0),
        (FAILED, 4, None),  # out of attempts
        (Attempt(True, "HTTP 200"), 1, None),
        (Attempt(False, "HTTP 400", retryable=False), 1, None),
        (Attempt(False, "HTTP 429", retryable=True, retry_after_s=9.0), 1, 9.0),
        (Attempt(False, "HTTP 429", retryable=True, retry_after_s=0.5), 2, 2.0),
        (Attempt(False, "HTTP 429", retryable=True, retry_after_s=60.0), 1, 60.0),
        (Attempt(False, "HTTP 429", retryable=True, retry_after_s=61.0), 1, None),
    ],
)
def test_delay_before_retry(attempt: Attempt, tried: int, wait: float | None) -> None:
    assert delay_before_retry(attempt, tried=tried, delays=DELAYS, policy=POLICY) == wait


@pytest.mark.parametrize(
    "changes",
    [{"attempts": 0}, {"base_s": -1.0}, {"cap_s": float("nan")}, {"max_retry_after_s": 1e309}],
)
def test_retry_policy_is_checked(changes: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="expected"):
        RetryPolicy(**changes)  # type: ignore[arg-type]


HOOK = ContactMethod(ContactKind.WEBHOOK, "https://user:pw@hooks.example/T000/B000/secret")


def test_delivery_records() -> None:
    ok = delivery_of(HOOK, [FAILED, Attempt(True, "HTTP 200")], at=NOON, policy=POLICY)
    assert (ok.delivered, ok.attempts, ok.detail, ok.target) == (
        True,
        2,
        "HTTP 200",
        "https://hooks.example/…",
    )
    assert ok.channel is ContactKind.WEBHOOK
    assert ok.at == NOON
    out = delivery_of(HOOK, [FAILED] * 4, at=NOON, policy=POLICY)
    assert (out.delivered, out.detail) == (False, "HTTP 503 (4 attempts; out of attempts)")
    refused = delivery_of(HOOK, [Attempt(False, "HTTP 404")], at=NOON, policy=POLICY)
    assert refused.detail == "HTTP 404 (1 attempt; not retried: the failure is permanent)"
    slow = Attempt(False, "HTTP 429", retryable=True, retry_after_s=600.0)
    waited = delivery_of(HOOK, [slow], at=NOON, policy=POLICY)
    assert waited.detail == "HTTP 429 (1 attempt; the server asked to wait 600 s, longer than 60 s)"
    none = delivery_of(HOOK, [], at=NOON, policy=POLICY)
    assert (none.attempts, none.delivered, none.detail) == (0, False, "no attempt was made")


@pytest.mark.parametrize(
    ("contact", "shown"),
    [
        (ContactMethod(ContactKind.EMAIL, "alice@example.org"), "alice@example.org"),
        (ContactMethod(ContactKind.PAGERDUTY, "R0UT1NGKEY0123456789"), "R0UT…"),
        (
            ContactMethod(ContactKind.SLACK, "https://hooks.slack.com/services/T/B/x"),
            "https://hooks.slack.com/…",
        ),
        (ContactMethod(ContactKind.WEBHOOK, "not a url"), "…"),
    ],
)
def test_redacted_targets(contact: ContactMethod, shown: str) -> None:
    assert redacted_target(contact) == shown


@pytest.mark.parametrize("target", ["", "   ", "a@b\r\nBcc: x@y", "x\x7f"])
def test_contact_targets_are_checked(target: str) -> None:
    with pytest.raises(ValueError, match="email contact: expected a target"):
        ContactMethod(ContactKind.EMAIL, target)


# --- rendering ---------------------------------------------------------------------------------


def test_email_rendering() -> None:
    mail = render_email(PAGE)
    assert mail.subject == "[P1] Incident 42: Checkout errors above budget"
    assert mail.body == (
        "alice, you are paged (escalation step 2).\n"
        "\n"
        "Incident:  42 — Checkout errors above budget\n"
        "Severity:  P1\n"
        "Services:  checkout, payments\n"
        "Paged at:  2026-12-02T12:00:00Z\n"
        "\n"
        "5xx at 4 % since 11:50.\n"
        "\n"
        "Acknowledge: http://127.0.0.1:8000/api/v1/incidents/42/ack?token=t\n"
        "Incident:    http://127.0.0.1:8000/api/v1/incidents/42\n"
        "\n"
        "The acknowledge link opens a page with a button; it acknowledges only when pressed.\n"
    )
    bare = render_email(Page(**{**PAGE.__dict__, "summary": None, "services": ()}))
    assert "Services:  none named\n" in bare.body
    assert "5xx" not in bare.body


def test_slack_rendering() -> None:
    message = render_slack(PAGE)
    assert message["text"] == (
        "[P1] Incident 42: Checkout errors above budget — alice paged."
        " Acknowledge: http://127.0.0.1:8000/api/v1/incidents/42/ack?token=t"
    )
    blocks = message["blocks"]
    assert isinstance(blocks, list)
    assert [b["type"] for b in blocks] == ["header", "section", "section", "actions"]
    assert blocks[0]["text"] == {
        "type": "plain_text",
        "text": "[P1] Incident 42: Checkout errors above budget",
    }
    assert blocks[1]["text"]["text"] == (
        "*Severity:* P1   *Services:* checkout, payments\n"
        "*Paged:* alice (step 2) at 2026-12-02T12:00:00Z"
    )
    buttons = blocks[3]["elements"]
    assert [(b["text"]["text"], b["url"]) for b in buttons] == [
        ("Acknowledge", PAGE.ack_url),
        ("Open incident", PAGE.incident_url),
    ]
    without_summary = render_slack(Page(**{**PAGE.__dict__, "summary": None}))
    assert len(without_summary["blocks"]) == 3  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("severity", "expected"),
    [
        (Severity.P0, "critical"),
        (Severity.P1, "error"),
        (Severity.P2, "warning"),
        (Severity.P3, "info"),
    ],
)
def test_pagerduty_rendering(severity: Severity, expected: str) -> None:
    event = render_pagerduty(Page(**{**PAGE.__dict__, "severity": severity}), routing_key="rk")
    assert event["routing_key"] == "rk"
    assert event["event_action"] == "trigger"
    assert event["dedup_key"] == "srekit-incident-42" == dedup_key(42)
    payload = event["payload"]
    assert isinstance(payload, dict)
    assert payload["severity"] == expected
    assert payload["summary"] == f"[{severity.value}] Incident 42: Checkout errors above budget"
    assert payload["source"] == "checkout"
    assert payload["timestamp"] == "2026-12-02T12:00:00Z"
    assert payload["custom_details"]["summary"] == "5xx at 4 % since 11:50."
    assert event["links"] == [
        {"href": PAGE.incident_url, "text": "Incident 42 in srekit"},
        {"href": PAGE.ack_url, "text": "Acknowledge in srekit"},
    ]


def test_pagerduty_summary_is_cut_to_its_limit() -> None:
    long = Page(**{**PAGE.__dict__, "title": "x" * 5000, "services": (), "summary": None})
    payload = render_pagerduty(long, routing_key="rk")["payload"]
    assert isinstance(payload, dict)
    assert len(payload["summary"]) == 1024
    assert payload["source"] == "srekit"
    assert "summary" not in payload["custom_details"]


def test_webhook_rendering() -> None:
    assert json.loads(json.dumps(render_webhook(PAGE))) == {
        "kind": "page",
        "incident_id": 42,
        "title": "Checkout errors\nabove budget",
        "severity": "P1",
        "services": ["checkout", "payments"],
        "summary": "5xx at 4 % since 11:50.",
        "person": "alice",
        "escalation_step": 2,
        "ack_url": PAGE.ack_url,
        "incident_url": PAGE.incident_url,
        "at": "2026-12-02T12:00:00Z",
    }
