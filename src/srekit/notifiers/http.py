"""The HTTP channels: a generic JSON webhook, Slack-compatible incoming webhooks, and
PagerDuty's Events API v2. Each POSTs JSON once per attempt with httpx.

What counts as what: any 2xx is delivered (Slack answers 200 `ok`, PagerDuty 202 with
`{"status": "success", "dedup_key": ...}`); 429 and 5xx, a refused connection and a timeout
may succeed later (with the server's Retry-After, if it sent one); any other answer (400
`invalid_payload`, 403, 404 `no_service`...) will be refused again and is not retried.
A retry after a timeout may repeat a page the server did take: a page twice is better than
none, and PagerDuty folds repeats into one alert by their `dedup_key`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from srekit import __version__
from srekit.core.notify import (
    Attempt,
    ContactMethod,
    Message,
    Page,
    http_status_retryable,
    notice_refusal,
    parse_retry_after,
    render_notice_slack,
    render_notice_webhook,
    render_pagerduty,
    render_slack,
    render_webhook,
)
from srekit.notifiers.base import Clock, utc_now

__all__ = [
    "DEFAULT_PAGERDUTY_EVENTS_URL",
    "PagerDutyTransport",
    "SlackTransport",
    "WebhookTransport",
]

DEFAULT_PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
_SHOWN_BODY_CHARS = 200


def _shown(text: str) -> str:
    """An answer's body as a detail may show it: one line, short."""
    flat = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    return flat if len(flat) <= _SHOWN_BODY_CHARS else flat[: _SHOWN_BODY_CHARS - 1] + "…"


class _JsonPoster:
    """One JSON POST per attempt, its outcome classified."""

    def __init__(
        self,
        *,
        timeout_s: float,
        client: httpx.Client | None,
        headers: Mapping[str, str] | None = None,
        now: Clock = utc_now,
    ) -> None:
        self.timeout_s = timeout_s
        self._owned = client is None
        self.client = client if client is not None else httpx.Client(timeout=timeout_s)
        self.headers = {"User-Agent": f"srekit/{__version__}", **(headers or {})}
        self.now = now

    def close(self) -> None:
        if self._owned:
            self.client.close()

    def post(self, url: str, body: Any, *, name: str) -> tuple[Attempt, httpx.Response | None]:
        if not url.startswith(("http://", "https://")):
            return Attempt(False, f"{name}: expected an http:// or https:// URL"), None
        try:
            response = self.client.post(
                url, json=body, headers=self.headers, timeout=self.timeout_s
            )
        except httpx.TimeoutException:
            return Attempt(False, f"{name}: no answer within {self.timeout_s:g} s", True), None
        except (httpx.TransportError, httpx.InvalidURL) as error:
            # the network's failures may pass; a URL or request httpx refuses will not
            retryable = isinstance(
                error, httpx.NetworkError | httpx.RemoteProtocolError | httpx.ProxyError
            )
            return Attempt(False, f"{name}: {type(error).__name__}: {error}", retryable), None
        status = response.status_code
        if 200 <= status <= 299:
            return Attempt(True, f"{name}: HTTP {status}"), response
        retry_after = parse_retry_after(response.headers.get("Retry-After"), now=self.now())
        detail = f"{name}: HTTP {status} {_shown(response.text)}".rstrip()
        return Attempt(False, detail, http_status_retryable(status), retry_after), response


class WebhookTransport:
    """POSTs the page (`core.notify.render_webhook`) or the notice (`render_notice_webhook`)
    to the contact's URL, with an optional bearer token and extra headers (e.g. a shared
    secret a receiver checks)."""

    def __init__(
        self,
        *,
        timeout_s: float = 10.0,
        bearer: str | None = None,
        headers: Mapping[str, str] | None = None,
        client: httpx.Client | None = None,
        now: Clock = utc_now,
    ) -> None:
        sent = dict(headers or {})
        if bearer:
            sent["Authorization"] = f"Bearer {bearer}"
        self._poster = _JsonPoster(timeout_s=timeout_s, client=client, headers=sent, now=now)

    def attempt(self, message: Message, contact: ContactMethod) -> Attempt:
        body = (
            render_webhook(message) if isinstance(message, Page) else render_notice_webhook(message)
        )
        return self._poster.post(contact.target, body, name="webhook")[0]

    def close(self) -> None:
        self._poster.close()


class SlackTransport:
    """POSTs `core.notify.render_slack` (a page) or `render_notice_slack` (a notice) to a
    Slack (or Mattermost, Rocket.Chat...) incoming webhook URL, the contact's target."""

    def __init__(
        self, *, timeout_s: float = 10.0, client: httpx.Client | None = None, now: Clock = utc_now
    ) -> None:
        self._poster = _JsonPoster(timeout_s=timeout_s, client=client, now=now)

    def attempt(self, message: Message, contact: ContactMethod) -> Attempt:
        body = render_slack(message) if isinstance(message, Page) else render_notice_slack(message)
        return self._poster.post(contact.target, body, name="slack")[0]

    def close(self) -> None:
        self._poster.close()


class PagerDutyTransport:
    """Triggers a PagerDuty alert through the Events API v2 at `events_url`, with the
    contact's target as routing (integration) key: `core.notify.render_pagerduty`. Pages
    only: a notice is refused unsent (`core.notify.notice_refusal`)."""

    def __init__(
        self,
        *,
        events_url: str = DEFAULT_PAGERDUTY_EVENTS_URL,
        timeout_s: float = 10.0,
        client: httpx.Client | None = None,
        now: Clock = utc_now,
    ) -> None:
        self.events_url = events_url
        self._poster = _JsonPoster(timeout_s=timeout_s, client=client, now=now)

    def attempt(self, message: Message, contact: ContactMethod) -> Attempt:
        if not isinstance(message, Page):
            return Attempt(False, f"pagerduty: {notice_refusal(message, contact)}")
        event = render_pagerduty(message, routing_key=contact.target.strip())
        attempt, response = self._poster.post(self.events_url, event, name="pagerduty")
        if attempt.delivered and response is not None:
            return Attempt(True, f"pagerduty: HTTP {response.status_code}, {_accepted(response)}")
        return attempt

    def close(self) -> None:
        self._poster.close()


def _accepted(response: httpx.Response) -> str:
    try:
        answer = response.json()
    except ValueError:
        answer = None
    key = answer.get("dedup_key") if isinstance(answer, dict) else None
    return f"dedup_key {_shown(str(key))}" if key else "accepted"
