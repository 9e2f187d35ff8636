"""The deploy gate over HTTP: always a JSON decision (200 for Argo Rollouts, 200/403 for
Flagger), failing closed on every error path, and every decision recorded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from srekit.api import create_app
from srekit.config import Settings
from srekit.core.status import DataState
from srekit.errors import StoreUnavailable
from tests.api.conftest import AVAILABILITY_SPEC, Api, FakeEvaluator, TestClient, status_for

GATE = "/api/v1/gate?change_type=feature&service=checkout"
FEATURE = {"metadata": {"change_type": "feature"}}


@pytest.fixture
def gated(lite_api: Api) -> Api:
    """checkout with one SLO, evaluated with 80 % of its budget left."""
    response = lite_api.put("/api/v1/slos/checkout/availability", json={"spec": AVAILABILITY_SPEC})
    assert response.status_code == 201
    lite_api.evaluator.statuses = [status_for("checkout", "availability", 0.8)]
    return lite_api


def gate(api: Api, query: str = GATE, role: str = "deploy") -> dict[str, Any]:
    response = api.get(query, role=role)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    assert set(body) >= {"allowed", "state", "reasons", "slos", "decision"}
    return body


def test_allowed_with_budget_left(gated: Api) -> None:
    body = gate(gated)
    assert (body["allowed"], body["decision"], body["state"]) == (True, "allow", "normal")
    (slo,) = body["slos"]
    assert slo["slo"] == "availability"
    assert slo["remaining"] == pytest.approx(0.8)


def test_denied_when_the_budget_is_spent(gated: Api) -> None:
    gated.evaluator.statuses = [status_for("checkout", "availability", 0.05)]
    body = gate(gated)
    assert (body["allowed"], body["decision"], body["state"]) == (False, "deny", "all_hands")
    assert gate(gated, GATE + "&change_type=rollback")["allowed"] is True


def test_review_is_not_allowed(gated: Api) -> None:
    gated.evaluator.statuses = [status_for("checkout", "availability", 0.2)]
    body = gate(gated)
    assert (body["allowed"], body["decision"]) == (False, "review")


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("/api/v1/gate", "service is required"),
        ("/api/v1/gate?change_type=feature&service=", "service is required"),
        ("/api/v1/gate?change_type=feature&service=nope", "unknown service 'nope'"),
        (GATE + "&commit_time=yesterday", "commit_time: expected RFC 3339"),
        (GATE + "&commit_time=2026-11-01T00:00:00", "commit_time: expected RFC 3339"),
        (GATE + "&fail_open=maybe", "fail_open: expected true or false"),
        (GATE + "&change_type=" + "x" * 41, "change_type at most 40"),
        ("/api/v1/gate?change_type=feature&service=" + "s" * 201, "service is at most 200"),
    ],
)
def test_bad_requests_are_denied_with_a_reason(gated: Api, query: str, reason: str) -> None:
    body = gate(gated, query)
    assert body["allowed"] is False
    assert reason in body["reasons"][0]


def test_missing_stale_or_unreadable_statuses_fail_closed_unless_asked(gated: Api) -> None:
    old = datetime.now(UTC) - timedelta(hours=1)
    cases = [
        [],  # never evaluated
        [status_for("checkout", "availability", 0.9, at=old)],  # older than the limit
        [status_for("checkout", "availability", 0.9, data=DataState.STALE)],  # marked stale
        [status_for("checkout", "availability", None, data=DataState.ERROR)],  # source failed
    ]
    for statuses in cases:
        gated.evaluator.statuses = statuses
        closed = gate(gated)
        assert closed["allowed"] is False, statuses
        assert "fails closed" in str(closed["reasons"])
        opened = gate(gated, GATE + "&fail_open=true")
        assert opened["allowed"] is True, opened


def test_an_evaluator_that_cannot_read_the_store_denies(gated: Api) -> None:
    gated.evaluator.fail = StoreUnavailable("the store is down")
    body = gate(gated, GATE + "&fail_open=true")
    assert body["allowed"] is False
    assert "the store is down" in str(body["reasons"])


def test_a_store_that_cannot_be_read_denies(gated: Api) -> None:
    def down() -> object:
        raise StoreUnavailable("connection refused")

    gated.client.app.state.srekit.gate._catalog._load = down  # type: ignore[attr-defined]
    body = gate(gated, GATE + "&change_type=rollback")
    assert body["allowed"] is False
    assert "state store is unavailable" in body["reasons"][0]


def test_a_store_that_is_down_from_the_start_still_gets_a_json_denial(tmp_path: Path) -> None:
    from srekit.store.database import create_store_engine

    engine = create_store_engine("postgresql+psycopg://srekit@127.0.0.1:9/none?connect_timeout=1")
    app = create_app(Settings(home=tmp_path), engine=engine, evaluator=FakeEvaluator())
    with TestClient(app) as client:
        headers = {"Authorization": "Bearer srk_whatever"}
        response = client.get(GATE, headers=headers)
        flagger = client.post("/api/v1/gate/flagger", json={"name": "checkout"}, headers=headers)
        services = client.get("/api/v1/services", headers=headers)
    assert response.status_code == 200
    assert response.json()["allowed"] is False
    assert "fails closed" in response.json()["reasons"][0]
    assert flagger.status_code == 403
    assert flagger.json()["allowed"] is False
    assert services.status_code == 503
    assert services.headers["Retry-After"] == "5"
    engine.dispose()


class _CheckoutOnFire:
    """An incident repository with one open P1, on checkout."""

    def open_severe_incidents(self, service: str) -> list[str]:
        return ["INC-7 (P1)"] if service == "checkout" else []


def test_an_open_severe_incident_denies(sqlite_engine: Engine, tmp_path: Path) -> None:
    from tests.api.conftest import make_tokens

    evaluator = FakeEvaluator()
    evaluator.statuses = [status_for("checkout", "availability", 0.9)]
    tokens = make_tokens(sqlite_engine)
    app = create_app(
        Settings(home=tmp_path),
        engine=sqlite_engine,
        evaluator=evaluator,
        incidents=_CheckoutOnFire(),
    )
    with TestClient(app) as client:
        headers = {"Authorization": f"Bearer {tokens['admin']}"}
        client.put(
            "/api/v1/slos/checkout/availability", json={"spec": AVAILABILITY_SPEC}, headers=headers
        )
        body = client.get(GATE, headers=headers).json()
    assert body["allowed"] is False
    assert "INC-7 (P1)" in body["reasons"][0]


def test_flagger_allows_with_200_and_denies_with_403(gated: Api) -> None:
    payload = {
        "name": "checkout-canary",
        "namespace": "shop",
        "phase": "Progressing",
        "checksum": "abc",
        "type": "pre-rollout",
        "metadata": {"service": "checkout", "change_type": "config", "version": "1.4.2"},
    }
    allowed = gated.post("/api/v1/gate/flagger", role="deploy", json=payload)
    assert allowed.status_code == 200
    assert allowed.json()["allowed"] is True
    gated.evaluator.statuses = [status_for("checkout", "availability", -0.1)]
    denied = gated.post("/api/v1/gate/flagger", role="deploy", json=payload)
    assert denied.status_code == 403
    assert (denied.json()["allowed"], denied.json()["state"]) == (False, "emergency")
    by_name = gated.post(
        "/api/v1/gate/flagger", role="deploy", json={"name": "checkout", **FEATURE}
    )
    assert by_name.json()["service"] == "checkout"
    unsaid = gated.post("/api/v1/gate/flagger", role="deploy", json={"name": "checkout"})
    assert unsaid.status_code == 403
    assert unsaid.json()["reasons"][0].startswith("change_type is required")
    unknown = gated.post("/api/v1/gate/flagger", role="deploy", json={"name": "podinfo", **FEATURE})
    assert unknown.status_code == 403
    assert "unknown service" in unknown.json()["reasons"][0]
    malformed = gated.post("/api/v1/gate/flagger", role="deploy", json={"metadata": {}})
    assert malformed.status_code == 422


def test_every_decision_about_a_stored_service_is_recorded(gated: Api) -> None:
    gate(
        gated,
        "/api/v1/gate?service=checkout&version=1.2.3&commit_time=2026-11-01T09:00:00Z"
        "&change_type=config",
    )
    gated.evaluator.statuses = []
    gate(gated)
    gate(gated, "/api/v1/gate?change_type=feature&service=nope")
    gated.post("/api/v1/gate/flagger", role="admin", json={"name": "checkout", **FEATURE})
    rows = gated.get("/api/v1/deployments", role="viewer").json()
    assert [(r["service"], r["allowed"], r["source"], r["requested_by"]) for r in rows] == [
        ("checkout", False, "flagger", "admin-bot"),
        ("checkout", False, "api", "deploy-bot"),
        ("checkout", True, "api", "deploy-bot"),
    ]
    first = rows[-1]
    assert (first["version"], first["commit_time"], first["change_type"]) == (
        "1.2.3",
        "2026-11-01T09:00:00Z",
        "config",
    )
    # a service the store does not hold is denied but not recorded
    assert gated.get("/api/v1/deployments?service=nope&limit=5").json() == []


@pytest.mark.parametrize("fail_open", ["1", "yes", "TRUE", "True", "on"])
def test_fail_open_is_exactly_true_or_false(gated: Api, fail_open: str) -> None:
    reasons = [f"fail_open: expected true or false, got {fail_open!r}"]
    body = gate(gated, GATE + f"&fail_open={fail_open}")
    assert (body["allowed"], body["reasons"]) == (False, reasons)
    payload = {"name": "checkout", "metadata": {"fail_open": fail_open, "change_type": "feature"}}
    flagger = gated.post("/api/v1/gate/flagger", role="deploy", json=payload)
    assert flagger.status_code == 403
    assert (flagger.json()["allowed"], flagger.json()["reasons"]) == (False, reasons)


@pytest.mark.parametrize(
    "service", ["Checkout", "check%00out", "check%09out", "%E2%80%AEcheckout", "%22checkout%22"]
)
def test_a_service_that_is_no_name_is_denied_and_not_recorded(gated: Api, service: str) -> None:
    body = gate(gated, f"/api/v1/gate?change_type=feature&service={service}")
    assert body["allowed"] is False
    assert body["reasons"][0].startswith("service: expected a name of lowercase letters")
    flagger = gated.post("/api/v1/gate/flagger", role="deploy", json={"name": "Checkout"})
    assert flagger.status_code == 403
    assert flagger.json()["reasons"][0].startswith("service: expected a name of")
    assert gated.get("/api/v1/deployments").json() == []


def test_asking_about_made_up_services_does_not_grow_the_deployments_table(gated: Api) -> None:
    for n in range(50):
        body = gate(gated, f"/api/v1/gate?change_type=feature&service=made-up-{n}&version={n}")
        assert body["allowed"] is False
        assert "unknown service" in str(body["reasons"])
    gate(gated, GATE + "&version=real")
    gated.client.app.state.srekit.gate.recorder.flush()  # type: ignore[attr-defined]
    rows = gated.get("/api/v1/deployments?limit=1000", role="viewer").json()
    assert [(r["service"], r["version"]) for r in rows] == [("checkout", "real")]


def test_answers_never_show_the_database_file_path(tmp_path: Path) -> None:
    from srekit.store.database import create_store_engine

    not_a_file = tmp_path / "secret-place" / "srekit.db"
    not_a_file.mkdir(parents=True)  # SQLite cannot open a directory: the store is down
    engine = create_store_engine(f"sqlite:///{not_a_file}")
    app = create_app(Settings(home=tmp_path), engine=engine, evaluator=FakeEvaluator())
    with TestClient(app) as client:
        headers = {"Authorization": "Bearer srk_whatever"}
        answers = [
            client.get(GATE, headers=headers),
            client.get("/api/v1/services", headers=headers),
            client.get("/readyz"),
        ]
    engine.dispose()
    gate_body, services, ready = (answer.json() for answer in answers)
    assert "the state store failed: unable to open database file" in gate_body["reasons"][0]
    assert services == {"detail": "the state store failed: unable to open database file"}
    assert answers[1].status_code == 503
    assert ready["detail"] == "the state store failed: unable to open database file"
    for answer in answers:
        assert "secret-place" not in answer.text
        assert str(tmp_path) not in answer.text


def test_remembered_decisions_do_not_keep_replaced_catalogs_alive(gated: Api) -> None:
    """Under a stream of writes the catalog is replaced every few seconds: memory stays at
    one catalog, not one per remembered decision."""
    import gc
    import weakref

    keeper = gated.client.app.state.srekit.gate  # type: ignore[attr-defined]
    assert gate(gated)["allowed"] is True
    first = weakref.ref(keeper._catalog._value[2])
    for name in ("other-1", "other-2", "other-3"):
        assert gated.put(f"/api/v1/services/{name}").status_code == 201
        assert gate(gated)["allowed"] is True
        assert (
            gate(gated, "/api/v1/gate?change_type=feature&service=other-1")["service"] == "other-1"
        )
    gc.collect()
    assert first() is None
    assert len(keeper._decisions) <= 2
