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
    ("GET", "/api/v1/gate?change_type=feature&service=s", None, ("deploy", "admin")),
    ("POST", "/api/v1/gate/flagger", {"name": "s"}, ("deploy", "admin")),
    ("GET", "/api/v1/incidents", None, READ),
    ("GET", "/api/v1/tasks", None, READ),
    ("POST", "/api/v1/incidents", {"title": "t", "severity": "P3"}, ("editor", "admin")),
    ("POST", "/api/v1/incidents/1/acknowledge", None, ("editor", "admin")),
    ("PATCH", "/api/v1/tasks/1", {"state": "done"}, ("editor", "admin")),
    (
        "POST",
        "/api/v1/alertmanager",
        {"version": "4", "groupKey": "g", "status": "firing", "receiver": "r", "alerts": []},
        ("ingest", "admin"),
    ),
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
    response = lite_api.get("/api/v1/gate?change_type=feature&service=s", role="viewer")
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


def test_a_client_that_keeps_failing_gets_429_and_valid_tokens_still_pass(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    tokens = make_tokens(sqlite_engine)
    app = make_app(sqlite_engine, FakeEvaluator(), tmp_path, auth_failure_limit=5)
    bad = {"Authorization": "Bearer srk_guess"}
    good = {"Authorization": f"Bearer {tokens['admin']}"}
    with (
        TestClient(app, client=("192.0.2.7", 1000)) as attacker,
        TestClient(app, client=("192.0.2.8", 1000)) as neighbour,
    ):
        codes = [attacker.get("/api/v1/services", headers=bad).status_code for _ in range(5)]
        assert codes == [401] * 5
        for limited in (
            attacker.get("/api/v1/services", headers=bad),
            attacker.get("/api/v1/services"),  # no token at all fails the same way
            attacker.get("/metrics", headers=bad),
        ):
            assert limited.status_code == 429, limited.text
            assert 1 <= int(limited.headers["Retry-After"]) <= 60
            assert "too many failed authentications" in limited.json()["detail"]
        gate = attacker.get("/api/v1/gate?change_type=feature&service=s", headers=bad)
        assert gate.status_code == 429
        assert gate.json()["allowed"] is False
        assert "Retry-After" in gate.headers
        # a valid token is never limited, and other addresses are not affected
        assert attacker.get("/api/v1/services", headers=good).status_code == 200
        assert (
            attacker.get("/api/v1/gate?change_type=feature&service=s", headers=good).status_code
            == 200
        )
        assert neighbour.get("/api/v1/services", headers=bad).status_code == 401
        assert neighbour.get("/api/v1/services", headers=good).status_code == 200
        # successes do not count: many of them leave the neighbour's budget untouched
        for _ in range(20):
            assert neighbour.get("/api/v1/status", headers=good).status_code == 200
        codes = [neighbour.get("/api/v1/teams", headers=bad).status_code for _ in range(5)]
        assert codes == [401, 401, 401, 401, 429]


def test_failures_age_out_of_the_window_and_memory_is_bounded() -> None:
    from srekit.api.deps import AuthFailures

    failures = AuthFailures(limit=3, window_s=60, max_clients=100)
    assert [failures.fail("a", now=t) for t in (0, 1, 2)] == [None, None, None]
    assert failures.fail("a", now=10) == 1 + 60 - 10  # the last three: t=1, 2 and 10
    # the window keeps t=2 and t=10 only: a 401 again, then t=2 leaves it too
    assert [failures.fail("a", now=t) for t in (61.5, 63)] == [None, None]
    # t=10, 61.5 and 63 in the window: limited; this failure counts too, so the last three
    # are 61.5, 63 and 64, and the next may succeed once t=61.5 ages out
    assert failures.fail("a", now=64) == 61.5 + 60 - 64
    assert failures.fail("a", now=200) is None  # all of them aged out
    for n in range(1000):
        failures.fail(f"10.0.{n // 256}.{n % 256}", now=300)
    assert len(failures._failures) == 100


def test_a_token_revoked_through_the_api_stops_working_at_once(lite_api: Api) -> None:
    from srekit.core.access import TOKEN_CACHE_TTL_S

    created = lite_api.post("/api/v1/tokens", json={"role": "viewer", "name": "temp"}).json()
    headers = {"Authorization": f"Bearer {created['token']}"}
    assert lite_api.client.get("/api/v1/services", headers=headers).status_code == 200
    assert lite_api.client.get("/api/v1/status", headers=headers).status_code == 200  # fast path
    assert TOKEN_CACHE_TTL_S >= 5  # the look-up is cached; the revocation must still win
    assert lite_api.delete("/api/v1/tokens/temp").status_code == 204
    assert lite_api.client.get("/api/v1/services", headers=headers).status_code == 401
    assert lite_api.client.get("/api/v1/status", headers=headers).status_code == 401


def test_a_look_up_overtaken_by_a_revocation_is_not_cached(
    lite_api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A look-up that read the token as valid just before an API revocation committed must
    not put that answer back in the cache after the revocation cleared it."""
    from srekit.store import repo
    from srekit.store.repo import hash_token

    state = lite_api.client.app.state.srekit  # type: ignore[attr-defined]
    real = repo.authenticate_token

    def read_then_revoked(session: object, *, token: str) -> object:
        row = real(session, token=token)  # type: ignore[arg-type]
        state.tokens.clear()  # the revocation lands while this look-up is in flight
        return row

    monkeypatch.setattr(repo, "authenticate_token", read_then_revoked)
    token = lite_api.tokens["viewer"]
    assert state.lookup_token(token) is not None  # this request was already let in
    assert state.tokens.get(hash_token(token)) == (False, None)  # but nothing was kept
