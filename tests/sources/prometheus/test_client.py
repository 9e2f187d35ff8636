"""The HTTP client: auth, retries, and what counts as Prometheus being unavailable."""

from __future__ import annotations

import httpx
import pytest

from srekit.core.sli import EventCounts
from srekit.core.slo import PromRatio
from srekit.errors import SourceUnavailable
from tests.sources.prometheus.conftest import make_slo, make_source, make_window, vector


def test_auth_headers_are_sent() -> None:
    headers: list[httpx.Headers] = []

    def handler(request: httpx.Request) -> httpx.Response:
        headers.append(request.headers)
        return vector()

    slo = make_slo("a", PromRatio(good="g", total="t"))
    make_source(handler, token="t0k", headers={"X-Scope-OrgID": "team"}).counts(
        [slo], [make_window()]
    )
    make_source(handler, basic_auth=("u", "p")).counts([slo], [make_window()])
    assert headers[0]["authorization"] == "Bearer t0k"
    assert headers[0]["x-scope-orgid"] == "team"
    assert headers[1]["authorization"].startswith("Basic ")


def test_transient_failures_are_retried() -> None:
    answers = iter([httpx.Response(503, text="overloaded"), vector(("api-a", "total@1h", 4))])
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return next(answers)

    slo = make_slo("a", PromRatio(good="g", total="t"))
    counts = make_source(handler).counts([slo], [make_window()])
    assert counts[("api-a", "1h")] == EventCounts(good=0.0, total=4.0)
    assert len(calls) == 2


def test_persistent_failure_is_source_unavailable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("slow", request=request)

    slo = make_slo("a", PromRatio(good="g", total="t"))
    with pytest.raises(
        SourceUnavailable, match=r"prometheus\.test did not answer within .* \(3 attempts\)$"
    ):
        make_source(handler).counts([slo], [make_window()])


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (401, {"status": "error", "errorType": "auth", "error": "no"}, "HTTP 401"),
        (200, "<html>proxy</html>", "not an API answer"),
        (404, "404 page not found", "not an API answer"),
    ],
)
def test_unusable_answers_are_source_unavailable(status: int, body: object, message: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(body, str):
            return httpx.Response(status, text=body)
        return httpx.Response(status, json=body)

    slo = make_slo("a", PromRatio(good="g", total="t"))
    with pytest.raises(SourceUnavailable, match=message):
        make_source(handler).counts([slo], [make_window()])
