"""The request guard and the error handler: authentication before bodies, bounded bodies, and
an error path no input can break (one log line per refusal, never a traceback for a 4xx)."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from srekit.errors import NotifierUnavailable
from tests.api.conftest import Api, FakeEvaluator, TestClient, make_app, make_tokens

DEEP = "[" * 500 + "]" * 500
HOSTILE = {
    "nan": '{"name": NaN, "role": NaN, "levels": NaN, "spec": NaN, "documents": NaN}',
    "1e309": '{"name": 1e309, "role": 1e309, "levels": [1e309], "spec": {"objective": 1e309}}',
    "-Infinity": '{"name": -Infinity, "documents": [{"objective": -Infinity}]}',
    "deep": '{"name": %s, "role": %s, "levels": %s, "spec": %s, "documents": %s}' % ((DEEP,) * 5),
    "not json": '{"name": ',
}
# (method, path) of every route that takes a body, and the role it needs
WRITES = [
    ("POST", "/api/v1/gate/flagger", "deploy"),
    ("PUT", "/api/v1/slos/checkout/availability", "editor"),
    ("POST", "/api/v1/slos", "editor"),
    ("PUT", "/api/v1/services/checkout", "editor"),
    ("PUT", "/api/v1/policies/strict", "admin"),
    ("POST", "/api/v1/tokens", "admin"),
]


def _send(api: Api, method: str, path: str, body: str | bytes, role: str | None):  # type: ignore[no-untyped-def]
    headers = {"Content-Type": "application/json", **api.headers(role)}
    return api.client.request(method, path, content=body, headers=headers)


@pytest.mark.parametrize("kind", sorted(HOSTILE))
@pytest.mark.parametrize(("method", "path", "needs"), WRITES)
def test_a_caller_without_the_role_gets_401_or_403_whatever_the_body(
    lite_api: Api, method: str, path: str, needs: str, kind: str
) -> None:
    anonymous = _send(lite_api, method, path, HOSTILE[kind], None)
    assert anonymous.status_code == 401, anonymous.text
    assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    assert "bearer token is required" in anonymous.json()["detail"]
    wrong = "viewer"
    refused = _send(lite_api, method, path, HOSTILE[kind], wrong)
    assert refused.status_code == 403, refused.text
    assert wrong in refused.json()["detail"]


@pytest.mark.parametrize("kind", sorted(HOSTILE))
@pytest.mark.parametrize(("method", "path", "needs"), WRITES)
def test_hostile_bodies_get_a_422_that_echoes_no_hostile_value(
    lite_api: Api, method: str, path: str, needs: str, kind: str
) -> None:
    response = _send(lite_api, method, path, HOSTILE[kind], "admin")
    assert response.status_code == 422, response.text
    assert len(response.content) < 4000
    for error in response.json()["detail"]:
        assert set(error) <= {"type", "loc", "msg", "input", "ctx"}
        value = error.get("input")
        assert not isinstance(value, (list, dict)), error
        assert not (isinstance(value, float) and not math.isfinite(value)), error


def test_a_flagger_caller_without_the_role_gets_the_gate_shape(lite_api: Api) -> None:
    anonymous = _send(lite_api, "POST", "/api/v1/gate/flagger", HOSTILE["nan"], None)
    assert (anonymous.status_code, anonymous.json()["allowed"]) == (401, False)
    viewer = _send(lite_api, "POST", "/api/v1/gate/flagger", '{"name": "checkout"}', "viewer")
    assert (viewer.status_code, viewer.json()["allowed"]) == (403, False)
    assert "viewer" in viewer.json()["detail"]


def test_a_refusal_is_logged_as_one_line_without_a_traceback(
    lite_api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    body = '{{"name": {}, "padding": "{}"}}'.format(DEEP, "x" * 1000)
    with caplog.at_level(logging.DEBUG):
        for role in (None, "admin"):
            response = _send(lite_api, "POST", "/api/v1/gate/flagger", body, role)
            assert response.status_code in (401, 422)
    refusals = [r for r in caplog.records if r.name.startswith("srekit")]
    assert [r.getMessage().split(":")[0] for r in refusals] == [
        "refused POST /api/v1/gate/flagger"
    ] * 2
    assert all(r.exc_info is None and r.levelno == logging.INFO for r in refusals)
    assert all(len(r.getMessage()) < 300 for r in refusals)
    assert "401 a bearer token is required" in refusals[0].getMessage()
    assert "422 1 invalid: string_type at body.name" in refusals[1].getMessage()


def test_an_unavailable_alertmanager_is_a_503_saying_so(lite_api: Api) -> None:
    message = "Alertmanager at http://alertmanager:9093 cannot be reached: connection refused"
    lite_api.evaluator.fail = NotifierUnavailable(message)  # through the one error handler
    response = lite_api.get("/api/v1/slos/checkout/availability/status", role="viewer")
    assert response.status_code == 503
    assert response.json() == {"detail": message}
    assert response.headers["Retry-After"]


def test_a_bug_is_a_json_500_logged_once(lite_api: Api, caplog: pytest.LogCaptureFixture) -> None:
    lite_api.evaluator.fail = RuntimeError("the evaluator broke")
    with caplog.at_level(logging.INFO):
        response = lite_api.get("/api/v1/status", role="viewer")
    assert response.status_code == 500
    assert response.json() == {"detail": "internal error (logged)"}
    tracebacks = [r for r in caplog.records if r.exc_info is not None]
    assert len(tracebacks) == 1
    assert "unhandled error on GET /api/v1/status" in tracebacks[0].getMessage()


@pytest.fixture
def small_api(sqlite_engine: Engine, tmp_path: Path) -> Iterator[Api]:
    """The API refusing bodies over 1000 bytes."""
    evaluator = FakeEvaluator()
    tokens = make_tokens(sqlite_engine)
    app = make_app(sqlite_engine, evaluator, tmp_path, max_body_bytes=1000)
    with TestClient(app) as client:
        yield Api(client, tokens, evaluator)


def _team_body(size: int) -> str:
    body = '{"team": "%s"}'
    return body % ("t" * (size - len(body % "")))


def test_a_body_over_the_limit_is_a_413_before_it_is_read(small_api: Api) -> None:
    at_limit = _send(small_api, "PUT", "/api/v1/services/checkout", _team_body(1000), "editor")
    assert at_limit.status_code == 422  # read: the team name is too long, not the body
    assert at_limit.json()["detail"][0]["loc"] == ["body", "team"]
    over = _send(small_api, "PUT", "/api/v1/services/checkout", _team_body(1001), "editor")
    assert over.status_code == 413
    assert over.json() == {
        "detail": "the request body is larger than 1000 bytes (SREKIT_MAX_BODY_BYTES)"
    }
    assert small_api.get("/api/v1/services", role="viewer").json() == []


def test_a_chunked_body_is_cut_off_at_the_limit(small_api: Api) -> None:
    sent: list[int] = []

    def chunks() -> Iterator[bytes]:
        for _ in range(100):
            sent.append(1)
            yield b" " * 100

    response = small_api.client.put(
        "/api/v1/services/checkout",
        content=chunks(),
        headers={"Content-Type": "application/json", **small_api.headers("editor")},
    )
    assert response.status_code == 413
    assert "1000 bytes" in response.json()["detail"]


def test_authentication_comes_before_the_size_limit(small_api: Api) -> None:
    big = _team_body(5000)
    assert _send(small_api, "PUT", "/api/v1/services/x", big, None).status_code == 401
    assert _send(small_api, "PUT", "/api/v1/services/x", big, "viewer").status_code == 403
    assert _send(small_api, "PUT", "/api/v1/services/x", big, "editor").status_code == 413


def test_the_default_limit_is_one_mebibyte(lite_api: Api) -> None:
    big = _team_body(1_048_577)
    assert _send(lite_api, "PUT", "/api/v1/services/x", big, "editor").status_code == 413
    under = _team_body(1_048_576)
    assert _send(lite_api, "PUT", "/api/v1/services/x", under, "editor").status_code == 422


def test_the_openapi_document_lists_413_wherever_a_body_is_taken(lite_api: Api) -> None:
    openapi = lite_api.client.get("/openapi.json").json()
    taking = [
        (method, path, operation)
        for path, operations in openapi["paths"].items()
        for method, operation in operations.items()
        if "requestBody" in operation
    ]
    assert len(taking) >= 6
    for method, path, operation in taking:
        assert "413" in operation["responses"], f"{method.upper()} {path}"
