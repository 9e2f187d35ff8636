"""Prometheus's HTTP API as srekit calls it: instant queries, range queries, label values.

Queries go as POST forms (label values as GET), with the bearer token, basic auth or headers
given. Connect errors, timeouts and 5xx answers are retried with exponential backoff; what still
fails, or answers with something that is not the API, is `SourceUnavailable`. A query the server
itself refuses (400 bad_data, 422 execution) is `QueryRefusedError`, so that the caller can
blame the SLO it was built from.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

import httpx

from srekit.errors import SourceUnavailable

__all__ = [
    "PrometheusClient",
    "QueryRefusedError",
    "milliseconds",
    "timestamp",
    "transport_failure",
    "url_problem",
]


class QueryRefusedError(Exception):
    """Prometheus answered `status: error` for a query (bad syntax, failed execution)."""

    def __init__(self, error_type: str, error: str) -> None:
        super().__init__(f"{error_type}: {error}")
        self.error_type = error_type
        self.error = error


class PrometheusClient:
    """Requests to one Prometheus-compatible API; see `PrometheusSource` for the arguments."""

    def __init__(
        self,
        url: str,
        *,
        timeout_s: float,
        retries: int,
        backoff_s: float,
        token: str | None,
        basic_auth: tuple[str, str] | None,
        headers: Mapping[str, str] | None,
        client: httpx.Client | None,
    ) -> None:
        if retries < 1:
            raise ValueError(f"expected at least one attempt, got retries={retries}")
        self.url = url.rstrip("/")
        self.retries = retries
        self.backoff_s = backoff_s
        self._headers = {"Accept": "application/json", **(headers or {})}
        if token:
            self._headers["Authorization"] = f"Bearer {token}"
        self._auth = basic_auth
        self._owns_client = client is None
        self._client = client or httpx.Client(timeout=timeout_s)

    def close(self) -> None:
        """Close the HTTP client, unless it was given."""
        if self._owns_client:
            self._client.close()

    def query(
        self,
        query: str,
        at: datetime,
        *,
        what: str,
        result_type: Literal["vector", "matrix"] = "vector",
    ) -> list[dict[str, Any]]:
        """The series of an instant query evaluated at `at`."""
        data = self._request(
            "/api/v1/query", what=what, data={"query": query, "time": timestamp(at)}
        )
        if not isinstance(data, dict) or data.get("resultType") != result_type:
            raise SourceUnavailable(f"Prometheus at {self.url} gave no {result_type} for {what}")
        result: list[dict[str, Any]] = data["result"]
        return result

    def query_range(
        self, query: str, start: datetime, end: datetime, step_s: int
    ) -> list[dict[str, Any]]:
        """The series of a range query from `start` to `end` every `step_s` seconds."""
        data = self._request(
            "/api/v1/query_range",
            what=f"a range query ({start.isoformat()} to {end.isoformat()}, step {step_s}s)",
            data={
                "query": query,
                "start": timestamp(start),
                "end": timestamp(end),
                "step": str(step_s),
            },
        )
        if not isinstance(data, dict) or data.get("resultType") != "matrix":
            raise SourceUnavailable(f"Prometheus at {self.url} gave no matrix for a range query")
        result: list[dict[str, Any]] = data["result"]
        return result

    def label_values(
        self, label: str, *, match: str, start: datetime, end: datetime, what: str
    ) -> list[Any]:
        """The values of `label` on the series `match` selects between `start` and `end`."""
        values = self._request(
            f"/api/v1/label/{label}/values",
            what=what,
            data={"match[]": match, "start": timestamp(start), "end": timestamp(end)},
        )
        return list(values or [])

    def _request(self, path: str, *, what: str, data: Mapping[str, str]) -> Any:
        """The `data` of a successful API answer; retries transient failures.

        Raises SourceUnavailable when Prometheus cannot be reached or fails, and QueryRefusedError
        when it answers `status: error` for the query itself (400 bad_data, 422 execution).
        """
        url = f"{self.url}{path}"
        method = "GET" if path.startswith("/api/v1/label/") else "POST"
        failure = ""
        for attempt in range(self.retries):
            if attempt:
                time.sleep(self.backoff_s * 2 ** (attempt - 1))
            try:
                response = self._client.request(
                    method,
                    url,
                    params=data if method == "GET" else None,
                    data=data if method == "POST" else None,
                    headers=self._headers,
                    auth=self._auth or httpx.USE_CLIENT_DEFAULT,
                )
            except httpx.TimeoutException:
                failure = (
                    f"did not answer within {self._client.timeout.read or 0:g} s"
                    " (SREKIT_PROMETHEUS_TIMEOUT_S)"
                )
                continue
            except httpx.TransportError as error:
                failure = f"cannot be reached: {transport_failure(error)}"
                continue
            if response.status_code >= 500:
                failure = f"answered HTTP {response.status_code}: {_error_text(response)}"
                continue
            return _answer(response, url=url, what=what)
        # which query does not matter when none gets through
        raise SourceUnavailable(f"Prometheus at {self.url} {failure} ({self.retries} attempts)")


def url_problem(url: str, *, example: str = "http://prometheus:9090") -> str | None:
    """What is wrong with `url` as the address of an HTTP API (None: nothing)."""
    expected = f"expected an http:// or https:// URL such as {example}"
    if any(ord(character) < 33 or ord(character) == 127 for character in url):
        return f"{expected}, got one with spaces or control characters"
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError):
        return f"{expected}, got {url!r}"
    if parsed.scheme not in ("http", "https") or not parsed.host:
        return f"{expected}, got {url!r}"
    if parsed.query or parsed.fragment:
        return f"{expected} without ?query or #fragment, got {url!r}"
    return None


def transport_failure(error: httpx.TransportError) -> str:
    """A connection failure in words: `connection refused`, not `[Errno 111] ...`."""
    text = str(error) or type(error).__name__
    for cause, words in (
        ("Connection refused", "connection refused (is it running there?)"),
        ("Name or service not known", "the host name does not resolve"),
        ("Temporary failure in name resolution", "the host name does not resolve"),
        ("No route to host", "no route to the host"),
        ("Network is unreachable", "the network is unreachable"),
        ("CERTIFICATE_VERIFY_FAILED", "its TLS certificate is not trusted"),
    ):
        if cause in text:
            return words
    return text


def _error_text(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300].strip() or response.reason_phrase
    if isinstance(body, dict) and body.get("error"):
        return str(body["error"])
    return response.text[:300].strip()


def _answer(response: httpx.Response, *, url: str, what: str) -> Any:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or "status" not in body:
        raise SourceUnavailable(
            f"Prometheus at {url} gave HTTP {response.status_code} to {what}, "
            f"not an API answer: {response.text[:300].strip()!r}"
        )
    if body["status"] != "success":
        error_type = str(body.get("errorType", "error"))
        error = str(body.get("error", "no error text"))
        if response.status_code in (400, 422):
            raise QueryRefusedError(error_type, error)
        raise SourceUnavailable(
            f"Prometheus at {url} refused {what} (HTTP {response.status_code}, "
            f"{error_type}): {error}"
        )
    return body.get("data")


def milliseconds(at: datetime) -> int:
    """Unix milliseconds of `at` as `timestamp` sends it (Prometheus rounds to the ms)."""
    return round(float(timestamp(at)) * 1000)


def timestamp(at: datetime) -> str:
    """Unix seconds, as Prometheus takes them; naive datetimes are refused (ambiguous)."""
    if at.tzinfo is None:
        raise ValueError(f"expected a timezone-aware datetime, got {at.isoformat()}")
    return f"{at.timestamp():.3f}"
