"""Who may call what: 401 without a valid token (with a challenge), 403 for the wrong role."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.api.conftest import ROLES, Api, FakeEvaluator, TestClient, make_app, make_tokens

# (method, path, body, the roles allowed)
READ = ("viewer", "editor", "admin")
MATRIX: list[tuple[str, str, object, tuple[str, ...]]] = [
    ("GET", "/api/v1/services", None, READ),
    ("GET", "/api/v1/teams", None, READ),
    ("GET", "/api/v1/slos", None, READ),
    ("GET", "/api/v1/status", None, READ),
    ("GET", "/api/v1/policies", None, READ),
    ("GET", "/api/v1/deployments", None, READ),
    ("GET", "/api/v1/audit", None, READ),
    ("GET", "/metrics", None, READ),
    ("PUT", "/api/v1/teams/t", None, ("editor", "admin")),
    ("PUT", "/api/v1/services/s", {}, ("editor", "admin")),
    ("DELETE", "/api/v1/slos/s/none", None, ("editor", "admin")),
    (
        "PUT",
        "/api/v1/policies/p",
        {"levels": [{"state": "x", "decision": "deny"}]},
        ("admin",),
    ),
    ("GET", "/api/v1/tokens", None, ("admin",)),
    ("POST", "/api/v1/tokens", {"role": "viewer"}, ("admin",)),
    ("GET", "/api/v1/gate?service=s", None, ("deploy", "admin")),
    ("POST", "/api/v1/gate/flagger", {"name": "s"}, ("deploy", "admin")),
]


@pytest.mark.parametrize(("method", "path", "body", "allowed"), MATRIX)
def test_roles(
    lite_api: Api, method: str, path: str, body: object, allowed: tuple[str, ...]
) -> None:
    anonymous = lite_api.request(method, path, role=None, json=body)
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    assert "detail" in anonymous.json()
    for role in ROLES:
        response = lite_api.request(method, path, role=role, json=body)
        if role in allowed:  # Flagger's denial is a 403 too, but not an auth error's
            refused = response.status_code in (401, 403) and "detail" in response.json()
            assert not refused, (role, response.text)
        else:
            assert response.status_code == 403, (role, response.text)
            assert role in response.json()["detail"]


@pytest.mark.parametrize("header", ["Bearer srk_unknown", "Bearer nope", "Basic abc", "Bearer"])
def test_unknown_or_malformed_tokens_are_401(lite_api: Api, header: str) -> None:
    response = lite_api.client.get("/api/v1/services", headers={"Authorization": header})
    assert response.status_code == 401
    assert "Bearer" in response.headers["WWW-Authenticate"]


def test_the_gate_answers_auth_failures_in_its_own_shape(lite_api: Api) -> None:
    response = lite_api.get("/api/v1/gate?service=s", role="viewer")
    assert response.status_code == 403
    assert response.json()["allowed"] is False


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/docs", "/openapi.json"])
def test_public_endpoints(lite_api: Api, path: str) -> None:
    assert lite_api.client.get(path).status_code == 200


def test_metrics_can_be_made_public(sqlite_engine: Engine, tmp_path: Path) -> None:
    app = make_app(sqlite_engine, FakeEvaluator(), tmp_path, metrics_public=True)
    with TestClient(app) as client:
        response = client.get("/metrics")
    assert response.status_code == 200
    assert "srekit_evaluation_rounds_total" in response.text


def test_tokens_are_stored_as_hashes_only(sqlite_engine: Engine) -> None:
    from sqlalchemy import select

    from srekit.store.database import transaction
    from srekit.store.repo import ApiTokenRow, hash_token

    tokens = make_tokens(sqlite_engine)
    with transaction(sqlite_engine) as session:
        stored = {row.name: row.token_hash for row in session.scalars(select(ApiTokenRow))}
    assert stored == {f"{role}-bot": hash_token(token) for role, token in tokens.items()}
    assert not set(stored.values()) & set(tokens.values())
