"""Silences in Alertmanager, through its API v2: create one for a set of alerts, expire it,
read one, list them; and what a silenced incident's watch reads: the alerts Alertmanager holds,
and when it started.

A silence made here holds one equality matcher per label, so it mutes exactly the alerts
carrying all those labels with those values. What Alertmanager (0.25) answers shapes the
errors: an unknown silence is `NotFound` (a GET answers 404, an expiry 500 `silence not
found`; an ID that is not a UUID, which it would refuse, is not even asked about), while a
refusal, an unreachable server, a timeout or an answer that is not its API is
`NotifierUnavailable`, naming Alertmanager's URL. Reads and expiries are idempotent, so they
are retried; a creation is retried only when the request cannot have reached Alertmanager
(the connection failed), since a retry after a timeout or a 5xx could make two silences.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Literal, Self, get_args

import httpx

from srekit.core.instant import parse_instant
from srekit.core.silences import ReportedAlert
from srekit.errors import NotFound, NotifierUnavailable, SpecError
from srekit.sources.prometheus import transport_failure, url_problem

__all__ = ["AlertmanagerClient", "Silence", "SilenceMatcher", "SilenceState"]

SilenceState = Literal["active", "pending", "expired"]

_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_IDEMPOTENT = frozenset({"GET", "DELETE"})


@dataclass(frozen=True)
class SilenceMatcher:
    """One matcher of a silence: `name` equals (`is_equal`) or differs from `value`, taken
    literally or as an anchored regular expression (`is_regex`)."""

    name: str
    value: str
    is_regex: bool = False
    is_equal: bool = True


@dataclass(frozen=True)
class Silence:
    """A silence as Alertmanager keeps it; `state` is Alertmanager's own, as of the answer."""

    silence_id: str
    state: SilenceState
    matchers: tuple[SilenceMatcher, ...]
    starts_at: datetime
    ends_at: datetime
    updated_at: datetime
    created_by: str
    comment: str

    @property
    def labels(self) -> dict[str, str]:
        """The labels an alert must carry to be muted, when every matcher is an equality (as
        in the silences `create_silence` makes); empty otherwise."""
        if any(m.is_regex or not m.is_equal for m in self.matchers):
            return {}
        return {m.name: m.value for m in self.matchers}


class AlertmanagerClient:
    """Alertmanager's API v2 at `url` (`http://alertmanager:9093`, or with its route prefix).

    Args:
        url: the base URL, an absolute http:// or https:// URL.
        timeout_s: per request.
        retries: attempts per request (see the module's docstring for which are retried),
            `backoff_s` apart, doubling.
        token: a bearer token, for an Alertmanager behind an authenticating proxy;
            `headers`: anything else to send.
        client: an httpx client to use; not closed by `close`.
    """

    def __init__(
        self,
        url: str,
        *,
        timeout_s: float = 10.0,
        retries: int = 3,
        backoff_s: float = 0.5,
        token: str | None = None,
        headers: Mapping[str, str] | None = None,
        client: httpx.Client | None = None,
    ) -> None:
        problem = url_problem(url, example="http://alertmanager:9093")
        if problem:
            raise SpecError(problem, field="alertmanager_url")
        if retries < 1:
            raise ValueError(f"expected at least one attempt, got retries={retries}")
        self.url = url.rstrip("/")
        self.retries = retries
        self.backoff_s = backoff_s
        self._headers = {"Accept": "application/json", **(headers or {})}
        if token:
            self._headers["Authorization"] = f"Bearer {token}"
        self._owns_client = client is None
        self._client = client or httpx.Client(timeout=timeout_s)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP client, unless it was given."""
        if self._owns_client:
            self._client.close()

    def create_silence(
        self,
        labels: Mapping[str, str],
        *,
        starts_at: datetime,
        ends_at: datetime,
        created_by: str,
        comment: str,
    ) -> str:
        """Silence every alert carrying all of `labels` from `starts_at` to `ends_at`; the new
        silence's ID.

        Alertmanager starts a silence whose start has passed at the moment it receives it, and
        refuses one that has already ended. Raises SpecError for labels Alertmanager would
        refuse (none, a name that is not a label name, all values empty), an unzoned time or
        an end not after the start.
        """
        _check_labels(labels)
        for field, moment in (("starts_at", starts_at), ("ends_at", ends_at)):
            if moment.tzinfo is None:
                raise SpecError(
                    f"expected a time with a zone, got {moment.isoformat()}", field=field
                )
        if ends_at <= starts_at:
            raise SpecError(
                f"expected an end after the start ({_instant(starts_at)}), got {_instant(ends_at)}",
                field="ends_at",
            )
        for field, text in (("created_by", created_by), ("comment", comment)):
            if not text.strip():
                raise SpecError("expected some text, got none", field=field)
        body = {
            "matchers": [
                {"name": name, "value": value, "isRegex": False, "isEqual": True}
                for name, value in sorted(labels.items())
            ],
            "startsAt": _instant(starts_at),
            "endsAt": _instant(ends_at),
            "createdBy": created_by,
            "comment": comment,
        }
        answer = self._request("POST", "/api/v2/silences", what="creating a silence", json=body)
        silence_id = answer.get("silenceID") if isinstance(answer, dict) else None
        if not isinstance(silence_id, str) or not silence_id:
            raise self._malformed("creating a silence", answer)
        return silence_id

    def expire_silence(self, silence_id: str) -> None:
        """End the silence now; expiring an expired silence changes nothing.

        Raises NotFound when Alertmanager has no such silence (any more: it forgets expired
        silences after its `--data.retention`).
        """
        self._check_id(silence_id)
        self._request(
            "DELETE",
            f"/api/v2/silence/{silence_id}",
            what=f"expiring silence {silence_id}",
            silence_id=silence_id,
        )

    def get_silence(self, silence_id: str) -> Silence:
        """The silence with this ID; NotFound when Alertmanager has none."""
        self._check_id(silence_id)
        what = f"reading silence {silence_id}"
        answer = self._request(
            "GET", f"/api/v2/silence/{silence_id}", what=what, silence_id=silence_id
        )
        return self._silence(answer, what=what)

    def list_silences(self, labels: Mapping[str, str] | None = None) -> list[Silence]:
        """Every silence Alertmanager keeps (active, pending, then expired), or those with an
        equality matcher for each of `labels` (as `create_silence` makes them)."""
        params = httpx.QueryParams(
            [("filter", _filter(name, value)) for name, value in (labels or {}).items()]
        )
        answer = self._request("GET", "/api/v2/silences", what="listing silences", params=params)
        if not isinstance(answer, list):
            raise self._malformed("listing silences", answer)
        return [self._silence(item, what="listing silences") for item in answer]

    def list_alerts(self, labels: Mapping[str, str] | None = None) -> list[ReportedAlert]:
        """The alerts Alertmanager holds and has not seen end (active, silenced, inhibited or
        not yet processed; it leaves out those whose end has passed), or those carrying every
        one of `labels`."""
        params = httpx.QueryParams(
            [("filter", _filter(name, value)) for name, value in (labels or {}).items()]
        )
        answer = self._request("GET", "/api/v2/alerts", what="listing alerts", params=params)
        if not isinstance(answer, list):
            raise self._malformed("listing alerts", answer)
        try:
            return [_parse_alert(item) for item in answer]
        except (KeyError, TypeError, ValueError):
            raise self._malformed("listing alerts", answer) from None

    def started_at(self) -> datetime:
        """When Alertmanager started: the `uptime` of its `/api/v2/status`."""
        answer = self._request("GET", "/api/v2/status", what="reading its status")
        try:
            return parse_instant(_string(_mapping(answer)["uptime"]))
        except (KeyError, TypeError, ValueError):
            raise self._malformed("reading its status", answer) from None

    def _check_id(self, silence_id: str) -> None:
        try:
            uuid.UUID(silence_id)
        except ValueError:
            raise NotFound(
                f"Alertmanager at {self.url} has no silence {silence_id!r}: its IDs are UUIDs"
            ) from None

    def _request(
        self,
        method: str,
        path: str,
        *,
        what: str,
        json: object = None,
        params: httpx.QueryParams | None = None,
        silence_id: str | None = None,
    ) -> Any:
        """The JSON of a 2xx answer (None for an empty one), retrying what is safe to retry."""
        failure = ""
        attempts = 0
        while attempts < self.retries:
            if attempts:
                time.sleep(self.backoff_s * 2 ** (attempts - 1))
            attempts += 1
            try:
                response = self._client.request(
                    method, f"{self.url}{path}", json=json, params=params, headers=self._headers
                )
            except (httpx.ConnectError, httpx.ConnectTimeout) as error:
                failure = f"cannot be reached: {_connect_failure(error)}"
                continue
            except httpx.TimeoutException:
                failure = f"did not answer {what} within {self._timeout_s():g} s"
                if method in _IDEMPOTENT:
                    continue
                raise NotifierUnavailable(
                    f"Alertmanager at {self.url} {failure}: it may have done it all the same"
                ) from None
            except httpx.TransportError as error:
                failure = f"failed while {what}: {transport_failure(error)}"
                if method in _IDEMPOTENT:
                    continue
                raise NotifierUnavailable(f"Alertmanager at {self.url} {failure}") from None
            if response.is_success:
                return self._json(response, what=what)
            self._refused(response, what=what, silence_id=silence_id)
            failure = f"answered HTTP {response.status_code} to {what}: {_text(response)}"
            if method not in _IDEMPOTENT:
                break
        tries = f" ({attempts} attempts)" if attempts > 1 else ""
        raise NotifierUnavailable(f"Alertmanager at {self.url} {failure}{tries}")

    def _refused(self, response: httpx.Response, *, what: str, silence_id: str | None) -> None:
        """Raise for an answer that retrying cannot change: a missing silence, a refusal.

        Alertmanager answers a GET of an unknown silence 404 with no body and a DELETE 500
        `silence not found`; a 404 with a body (`404 page not found`) is a wrong URL.
        """
        status = response.status_code
        text = _text(response)
        if silence_id is not None and (
            (status == 404 and not response.content.strip())
            or (status == 500 and "silence not found" in text)
        ):
            raise NotFound(f"Alertmanager at {self.url} has no silence {silence_id}")
        if status < 500:
            raise NotifierUnavailable(
                f"Alertmanager at {self.url} refused {what} (HTTP {status}): {text}"
            )

    def _json(self, response: httpx.Response, *, what: str) -> Any:
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise self._malformed(what, response.text) from None

    def _silence(self, item: object, *, what: str) -> Silence:
        try:
            return _parse_silence(item)
        except (KeyError, TypeError, ValueError):
            raise self._malformed(what, item) from None

    def _malformed(self, what: str, answer: object) -> NotifierUnavailable:
        shown = answer if isinstance(answer, str) else repr(answer)
        return NotifierUnavailable(
            f"Alertmanager at {self.url} answered {what} with something that is not its"
            f" API v2: {shown[:300]!r}"
        )

    def _timeout_s(self) -> float:
        return self._client.timeout.read or 0.0


def _parse_silence(item: object) -> Silence:
    """A GettableSilence; KeyError, TypeError or ValueError when it is not one."""
    fields = _mapping(item)
    state = _mapping(fields["status"])["state"]
    if state not in get_args(SilenceState):
        raise ValueError(f"unknown state {state!r}")
    matchers = []
    for one in fields["matchers"]:
        matcher = _mapping(one)
        matchers.append(
            SilenceMatcher(
                name=_string(matcher["name"]),
                value=_string(matcher["value"]),
                is_regex=matcher["isRegex"] is True,
                is_equal=matcher.get("isEqual", True) is not False,
            )
        )
    return Silence(
        silence_id=_string(fields["id"]),
        state=state,
        matchers=tuple(matchers),
        starts_at=parse_instant(_string(fields["startsAt"])),
        ends_at=parse_instant(_string(fields["endsAt"])),
        updated_at=parse_instant(_string(fields["updatedAt"])),
        created_by=_string(fields["createdBy"]),
        comment=_string(fields["comment"]),
    )


def _parse_alert(item: object) -> ReportedAlert:
    """A GettableAlert; KeyError, TypeError or ValueError when it is not one."""
    fields = _mapping(item)
    status = _mapping(fields["status"])
    labels = _mapping(fields["labels"])
    ends = fields.get("endsAt")
    ends_at = None if not ends else parse_instant(_string(ends))
    return ReportedAlert(
        fingerprint=_string(fields["fingerprint"]),
        starts_at=parse_instant(_string(fields["startsAt"])),
        ends_at=None if ends_at is None or ends_at.year == 1 else ends_at,  # Go's zero time
        labels={_string(name): _string(value) for name, value in labels.items()},
        state=_string(status["state"]),
        silenced_by=tuple(_string(one) for one in status.get("silencedBy") or ()),
    )


def _check_labels(labels: Mapping[str, str]) -> None:
    if not labels:
        raise SpecError("expected at least one label to match, got none", field="labels")
    for name, value in labels.items():
        if not isinstance(name, str) or not _LABEL_NAME.fullmatch(name):
            raise SpecError(
                f"expected a label name ([a-zA-Z_][a-zA-Z0-9_]*), got {name!r}", field="labels"
            )
        if not isinstance(value, str):
            raise SpecError(f"expected text, got {value!r}", field=f"labels.{name}")
    if not any(labels.values()):
        # Alertmanager refuses a silence that would match alerts lacking every label
        raise SpecError(
            "expected at least one label with a value, got only empty ones", field="labels"
        )


def _filter(name: str, value: str) -> str:
    """`name="value"` as Alertmanager parses a filter, with `\\`, `"` and newlines escaped."""
    if not _LABEL_NAME.fullmatch(name):
        raise SpecError(
            f"expected a label name ([a-zA-Z_][a-zA-Z0-9_]*), got {name!r}", field="labels"
        )
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'{name}="{escaped}"'


def _instant(moment: datetime) -> str:
    """RFC 3339 in UTC to the millisecond, as Alertmanager keeps times."""
    text = moment.astimezone(UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def _mapping(value: object) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise TypeError(value)
    return value


def _string(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(value)
    return value


def _text(response: httpx.Response) -> str:
    """An error answer in a line: go-swagger's `{"code", "message"}`, a JSON string, or text
    (a proxy's HTML page), its whitespace collapsed."""
    try:
        body = response.json()
    except ValueError:
        body = response.text
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        body = body["message"]
    text = body if isinstance(body, str) else response.text
    return " ".join(text[:300].split()) or response.reason_phrase


def _connect_failure(error: httpx.TransportError) -> str:
    if isinstance(error, httpx.ConnectTimeout):
        return "the connection timed out"
    return transport_failure(error)
