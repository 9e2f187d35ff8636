"""Paging people: what a page says, where it goes, how delivery is retried, and the signed
acknowledgement link.

A `Page` tells one person about one incident at one step of its escalation; a `Notice` tells
one person something that is no incident (the on-call handoff). Either goes to one of
their `ContactMethod`s (email, a generic webhook, a Slack-compatible incoming webhook, or a
PagerDuty Events v2 routing key). Each channel's message is rendered here as plain data, so
every transport sends the same words. Adapters (`srekit.notifiers`) make one attempt at a
time and report it as an `Attempt`; the retry rules (which failures are worth another try,
and how long to wait) and the `Delivery` record are decided here.

The acknowledgement link carries a token signed with HMAC-SHA256 over the incident, the
person and the expiry: whoever holds a valid token may acknowledge that incident, as that
person, until then. Nothing else is trusted from it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum

from srekit.core.incident import Severity
from srekit.core.instant import format_instant

__all__ = [
    "ACK_TOKEN_MAX_CHARS",
    "PAGERDUTY_SEVERITIES",
    "AckClaim",
    "AckTokenError",
    "Attempt",
    "ContactKind",
    "ContactMethod",
    "Delivery",
    "EmailText",
    "Message",
    "Notice",
    "Page",
    "RetryPolicy",
    "ack_token",
    "backoff_delays",
    "dedup_key",
    "delay_before_retry",
    "delivery_of",
    "http_status_retryable",
    "notice_refusal",
    "parse_retry_after",
    "redacted_target",
    "render_email",
    "render_notice_email",
    "render_notice_slack",
    "render_notice_webhook",
    "render_pagerduty",
    "render_slack",
    "render_webhook",
    "smtp_reply_retryable",
    "verify_ack_token",
]


class ContactKind(StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"
    SLACK = "slack"
    PAGERDUTY = "pagerduty"


@dataclass(frozen=True)
class ContactMethod:
    """Where a person is paged: an email address, a webhook URL, a Slack incoming-webhook URL,
    or a PagerDuty Events v2 routing (integration) key."""

    kind: ContactKind
    target: str

    def __post_init__(self) -> None:
        if not self.target.strip() or any(ord(c) < 32 or ord(c) == 127 for c in self.target):
            raise ValueError(
                f"{self.kind.value} contact: expected a target without control characters,"
                f" got {self.target[:80]!r}"
            )


@dataclass(frozen=True)
class Page:
    """One person paged about one incident: what every channel renders.

    `step` is the escalation step (1 for the first person asked); `ack_url` the signed link
    that acknowledges the incident, `incident_url` where to read it; `at` when the page was
    made (aware).
    """

    incident_id: int
    title: str
    severity: Severity
    person: str
    step: int
    ack_url: str
    incident_url: str
    at: datetime
    services: tuple[str, ...] = ()
    summary: str | None = None


@dataclass(frozen=True)
class Notice:
    """A message for one person about something that is no incident: `kind` names what it is
    (`handoff`: the generic webhook's `kind`), `subject` is one line, `text` plain text (an
    email's body), `markdown` what chat shows, `link` where to read it in srekit (optional);
    `at` when it was made (aware)."""

    kind: str
    person: str
    subject: str
    text: str
    markdown: str
    at: datetime
    link: str | None = None


#: What a transport sends: a page about an incident, or a notice.
Message = Page | Notice


@dataclass(frozen=True)
class Delivery:
    """The outcome of sending a page to one contact method: whether it got there, after how
    many attempts (0: none was possible), why not, and when the last attempt ended.

    `target` is `redacted_target` of the contact: webhook URLs and routing keys are secrets.
    """

    channel: ContactKind
    target: str
    delivered: bool
    attempts: int
    detail: str
    at: datetime


@dataclass(frozen=True)
class Attempt:
    """One try at sending, as a transport reports it: delivered, or why not, whether another
    try may succeed, and how long the server asked to wait first (its Retry-After)."""

    delivered: bool
    detail: str
    retryable: bool = False
    retry_after_s: float | None = None


def redacted_target(contact: ContactMethod) -> str:
    """What a record may show of a contact: an email address whole; a URL's scheme and host
    only (Slack and webhook URLs carry their credential in the path); a routing key's first
    four characters."""
    target = contact.target.strip()
    if contact.kind is ContactKind.EMAIL:
        return target
    if contact.kind is ContactKind.PAGERDUTY:
        return target[:4] + "…"
    scheme, separator, rest = target.partition("://")
    if not separator:
        return "…"
    host = rest.split("/", 1)[0].rsplit("@", 1)[-1]  # never user:password@
    return f"{scheme}://{host}/…"


# --- retries -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    """How hard a page is pushed: `attempts` tries in all, waits doubling from `base_s` up to
    `cap_s`, and a server's Retry-After honoured up to `max_retry_after_s` (past that, the
    delivery gives up rather than hold the escalation)."""

    attempts: int = 4
    base_s: float = 1.0
    cap_s: float = 30.0
    max_retry_after_s: float = 120.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"attempts: expected at least 1, got {self.attempts}")
        for name in ("base_s", "cap_s", "max_retry_after_s"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name}: expected seconds >= 0, got {value}")


def backoff_delays(
    attempts: int, base_s: float, cap_s: float, *, seed: int | str | None = None
) -> tuple[float, ...]:
    """The waits before each retry of `attempts` tries: `attempts - 1` of them.

    Wait i (from 0) is `min(cap_s, base_s × 2^i)`. With a `seed`, each wait is scaled by a
    factor in [0.5, 1) drawn from `random.Random(seed)` in order ("equal jitter"), so pages
    sent at the same moment spread out, and the same seed always gives the same waits.
    """
    if attempts < 1:
        raise ValueError(f"attempts: expected at least 1, got {attempts}")
    waits = [min(cap_s, base_s * 2.0**index) for index in range(attempts - 1)]
    if seed is None:
        return tuple(waits)
    draws = random.Random(seed)
    return tuple(wait * (0.5 + 0.5 * draws.random()) for wait in waits)


def http_status_retryable(status: int) -> bool:
    """Another try may succeed after 429 (rate limited) and 5xx (the server's fault); any other
    4xx says the request itself is wrong, and will be refused again."""
    return status == 429 or 500 <= status <= 599


def smtp_reply_retryable(code: int) -> bool:
    """SMTP's own split (RFC 5321): 4yz replies are transient, 5yz permanent."""
    return 400 <= code <= 499


def parse_retry_after(value: str | None, *, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header: delay-seconds or an HTTP date (RFC 9110).
    None when absent or unreadable; a date in the past is 0."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(int(text[:12]))
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:  # RFC 9110 dates are GMT
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - now).total_seconds())


def delay_before_retry(
    attempt: Attempt, *, tried: int, delays: Sequence[float], policy: RetryPolicy
) -> float | None:
    """Seconds to wait before the next try after `attempt` failed as try number `tried` (from
    1); None when there is no next try: it was delivered, the failure is not retryable, the
    tries are used up, or the server's Retry-After is longer than the policy accepts.

    The wait is the schedule's (`delays[tried - 1]`), or the server's Retry-After when longer.
    """
    if attempt.delivered or not attempt.retryable or tried >= policy.attempts:
        return None
    wait = delays[tried - 1]
    if attempt.retry_after_s is not None:
        if attempt.retry_after_s > policy.max_retry_after_s:
            return None
        wait = max(wait, attempt.retry_after_s)
    return wait


def delivery_of(
    contact: ContactMethod, attempts: Sequence[Attempt], *, at: datetime, policy: RetryPolicy
) -> Delivery:
    """The record of a delivery from its tries (in order; none when none could be made)."""
    target = redacted_target(contact)
    if not attempts:
        return Delivery(contact.kind, target, False, 0, "no attempt was made", at)
    last = attempts[-1]
    count = len(attempts)
    if last.delivered:
        return Delivery(contact.kind, target, True, count, last.detail, at)
    tries = f"{count} attempt{'s' if count > 1 else ''}"
    if not last.retryable:
        why = "not retried: the failure is permanent"
    elif last.retry_after_s is not None and last.retry_after_s > policy.max_retry_after_s:
        why = (
            f"the server asked to wait {last.retry_after_s:g} s, longer than"
            f" {policy.max_retry_after_s:g} s"
        )
    else:
        why = "out of attempts"
    return Delivery(contact.kind, target, False, count, f"{last.detail} ({tries}; {why})", at)


# --- rendering ---------------------------------------------------------------------------------

#: PagerDuty's four event severities, from srekit's incident severities.
PAGERDUTY_SEVERITIES: dict[Severity, str] = {
    Severity.P0: "critical",
    Severity.P1: "error",
    Severity.P2: "warning",
    Severity.P3: "info",
}
_PAGERDUTY_SUMMARY_CHARS = 1024  # the Events API's limit


@dataclass(frozen=True)
class EmailText:
    subject: str
    body: str


def dedup_key(incident_id: int) -> str:
    """One PagerDuty alert per incident, whoever is paged and however often."""
    return f"srekit-incident-{incident_id}"


def _headline(page: Page) -> str:
    return f"[{page.severity.value}] Incident {page.incident_id}: {_one_line(page.title)}"


def _one_line(text: str) -> str:
    """Text safe on one line (a subject, a summary): control characters become spaces."""
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())


def _services(page: Page) -> str:
    return ", ".join(page.services) if page.services else "none named"


def render_email(page: Page) -> EmailText:
    """The mail: the headline as subject, a plain-text body with the facts and both links."""
    lines = [
        f"{page.person}, you are paged (escalation step {page.step}).",
        "",
        f"Incident:  {page.incident_id} — {_one_line(page.title)}",
        f"Severity:  {page.severity.value}",
        f"Services:  {_services(page)}",
        f"Paged at:  {format_instant(page.at)}",
    ]
    if page.summary:
        lines += ["", page.summary.strip()]
    lines += [
        "",
        f"Acknowledge: {page.ack_url}",
        f"Incident:    {page.incident_url}",
        "",
        "The acknowledge link opens a page with a button; it acknowledges only when pressed.",
    ]
    return EmailText(subject=_headline(page), body="\n".join(lines) + "\n")


def render_slack(page: Page) -> dict[str, object]:
    """A Slack incoming-webhook message: `text` (the notification's fallback) and `blocks`."""
    facts = (
        f"*Severity:* {page.severity.value}   *Services:* {_services(page)}\n"
        f"*Paged:* {page.person} (step {page.step}) at {format_instant(page.at)}"
    )
    blocks: list[dict[str, object]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _headline(page)[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": facts}},
    ]
    if page.summary:
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": page.summary.strip()[:3000]}}
        )
    blocks.append(
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "text": {"type": "plain_text", "text": "Acknowledge"},
                    "url": page.ack_url,
                    "style": "primary",
                },
                {
                    "type": "button",
                    "text": {"type": "plain_text", "text": "Open incident"},
                    "url": page.incident_url,
                },
            ],
        }
    )
    text = f"{_headline(page)} — {page.person} paged. Acknowledge: {page.ack_url}"
    return {"text": text, "blocks": blocks}


def render_pagerduty(page: Page, *, routing_key: str) -> dict[str, object]:
    """A PagerDuty Events API v2 `trigger` event, deduplicated per incident."""
    details: dict[str, object] = {
        "incident_id": page.incident_id,
        "severity": page.severity.value,
        "services": list(page.services),
        "paged": page.person,
        "escalation_step": page.step,
    }
    if page.summary:
        details["summary"] = page.summary
    payload: dict[str, object] = {
        "summary": _headline(page)[:_PAGERDUTY_SUMMARY_CHARS],
        "source": page.services[0] if page.services else "srekit",
        "severity": PAGERDUTY_SEVERITIES[page.severity],
        "timestamp": format_instant(page.at),
        "component": "srekit",
        "custom_details": details,
    }
    return {
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": dedup_key(page.incident_id),
        "payload": payload,
        "client": "srekit",
        "client_url": page.incident_url,
        "links": [
            {"href": page.incident_url, "text": f"Incident {page.incident_id} in srekit"},
            {"href": page.ack_url, "text": "Acknowledge in srekit"},
        ],
    }


def render_webhook(page: Page) -> dict[str, object]:
    """The generic webhook's JSON: the page's fields, snake_case, instants in RFC 3339 UTC."""
    return {
        "kind": "page",
        "incident_id": page.incident_id,
        "title": page.title,
        "severity": page.severity.value,
        "services": list(page.services),
        "summary": page.summary,
        "person": page.person,
        "escalation_step": page.step,
        "ack_url": page.ack_url,
        "incident_url": page.incident_url,
        "at": format_instant(page.at),
    }


# --- notices ------------------------------------------------------------------------------------

_SLACK_SECTION_CHARS = 3000  # Slack's limit for a section's text
_SLACK_SECTIONS = 45  # of Slack's 50 blocks per message, leaving room for the header and link


def notice_refusal(notice: Notice, contact: ContactMethod) -> str | None:
    """Why a notice is not sent to `contact` (None: it is sent). PagerDuty's events open
    incidents and page whoever is on call there: a notice is no incident."""
    if contact.kind is ContactKind.PAGERDUTY:
        return (
            f"not sent: a {notice.kind} is not an incident, and PagerDuty events are for incidents"
        )
    return None


def render_notice_email(notice: Notice) -> EmailText:
    """The mail: the subject on one line; the text, then the link when there is one."""
    body = notice.text.rstrip("\n") + "\n"
    if notice.link:
        body += f"\nIn srekit: {notice.link}\n"
    return EmailText(subject=_one_line(notice.subject), body=body)


def _slack_sections(markdown: str) -> list[str]:
    """The text cut at line ends into sections Slack accepts; a line longer than a section is
    cut; past the sections Slack allows, the rest is left to the link."""
    limit = _SLACK_SECTION_CHARS
    pieces = [
        line[start : start + limit]
        for line in markdown.splitlines()
        for start in range(0, max(len(line), 1), limit)
    ]
    sections: list[str] = []
    current = ""
    for piece in pieces:
        joined = f"{current}\n{piece}" if current else piece
        if len(joined) > limit:
            sections.append(current)
            current = piece
        else:
            current = joined
    sections.append(current)
    return [section for section in sections if section.strip()][:_SLACK_SECTIONS]


def render_notice_slack(notice: Notice) -> dict[str, object]:
    """A Slack incoming-webhook message: `text` (the notification's fallback: subject and
    link) and `blocks`: a header, the Markdown in sections, and a button to the link."""
    subject = _one_line(notice.subject)
    blocks: list[dict[str, object]] = [
        {"type": "header", "text": {"type": "plain_text", "text": subject[:150]}},
    ]
    blocks += [
        {"type": "section", "text": {"type": "mrkdwn", "text": section}}
        for section in _slack_sections(notice.markdown)
    ]
    if notice.link:
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Open in srekit"},
                        "url": notice.link,
                    }
                ],
            }
        )
    text = f"{subject}: {notice.link}" if notice.link else subject
    return {"text": text, "blocks": blocks}


def render_notice_webhook(notice: Notice) -> dict[str, object]:
    """The generic webhook's JSON: `kind` says what the notice is (`handoff`), the rest its
    fields, snake_case, `at` in RFC 3339 UTC."""
    return {
        "kind": notice.kind,
        "person": notice.person,
        "subject": notice.subject,
        "text": notice.text,
        "markdown": notice.markdown,
        "link": notice.link,
        "at": format_instant(notice.at),
    }


# --- the signed acknowledgement link -----------------------------------------------------------

#: Longer tokens are refused unread: a real one is about 120 characters.
ACK_TOKEN_MAX_CHARS = 1024
_TOKEN_VERSION = "a1"
_SIGNED_PREFIX = b"srekit-ack-link." + _TOKEN_VERSION.encode() + b"."


class AckTokenError(ValueError):
    """An acknowledgement token that may not be used; `reason` is one of `malformed`,
    `bad signature`, `other incident`, `expired`, and the message says it for people."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class AckClaim:
    """What a valid token proves: `person` may acknowledge incident `incident_id` until
    `expires_at`."""

    incident_id: int
    person: str
    expires_at: datetime


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if not text or any(c not in _B64_CHARS for c in text):
        raise ValueError("not URL-safe base64")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_B64_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def _signature(secret: bytes, body: str) -> bytes:
    return hmac.new(secret, _SIGNED_PREFIX + body.encode("ascii"), hashlib.sha256).digest()


def ack_token(secret: bytes, *, incident_id: int, person: str, expires_at: datetime) -> str:
    """A token letting `person` acknowledge incident `incident_id` until `expires_at` (aware;
    whole seconds, earlier fractions dropped).

    `a1.<claims>.<signature>`: the claims `{"i": id, "p": person, "e": unix seconds}` as
    compact JSON in URL-safe base64, and HMAC-SHA256 of the version and claims under `secret`
    (at least 16 bytes), also URL-safe base64. URL-safe throughout: it goes in a query string.
    """
    if len(secret) < 16:
        raise ValueError("the acknowledgement secret must be at least 16 bytes")
    if expires_at.tzinfo is None:
        raise ValueError("expires_at must be an aware datetime")
    claims = {"i": incident_id, "p": person, "e": math.floor(expires_at.timestamp())}
    body = _b64(json.dumps(claims, separators=(",", ":"), ensure_ascii=True).encode("ascii"))
    return f"{_TOKEN_VERSION}.{body}.{_b64(_signature(secret, body))}"


def verify_ack_token(secret: bytes, token: str, *, incident_id: int, now: datetime) -> AckClaim:
    """The claim of a token valid for incident `incident_id` at `now`; raises AckTokenError.

    Checked in this order, so nothing unsigned is ever believed: the shape (`malformed`), the
    signature, compared in constant time (`bad signature`), the incident (`other incident`),
    and the expiry: valid while `now` is before `expires_at` (`expired` from that second on).
    """
    malformed = AckTokenError("malformed", "the acknowledgement link is not a valid srekit link")
    if len(token) > ACK_TOKEN_MAX_CHARS:
        raise malformed
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != _TOKEN_VERSION:
        raise malformed
    _, body, signature = parts
    try:
        given = _unb64(signature)
        _unb64(body)
    except (ValueError, binascii.Error):
        raise malformed from None
    if not hmac.compare_digest(given, _signature(secret, body)):
        raise AckTokenError(
            "bad signature",
            "the acknowledgement link's signature does not match: it was altered, or made by"
            " another srekit",
        )
    claims = json.loads(_unb64(body))  # signed by us: the shape ack_token wrote
    claim = AckClaim(
        incident_id=int(claims["i"]),
        person=str(claims["p"]),
        expires_at=datetime.fromtimestamp(int(claims["e"]), UTC),
    )
    if claim.incident_id != incident_id:
        raise AckTokenError(
            "other incident",
            f"this acknowledgement link is for incident {claim.incident_id},"
            f" not incident {incident_id}",
        )
    if now >= claim.expires_at:
        raise AckTokenError(
            "expired",
            f"this acknowledgement link expired at {format_instant(claim.expires_at)}:"
            " acknowledge in srekit itself",
        )
    return claim
