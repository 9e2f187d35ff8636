"""Property-based tests of every operation from the OpenAPI document (schemathesis): with an
admin token, no input gives a 5xx, and every answer matches the documented status codes,
content types and schemas."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from srekit.store.database import create_store_engine, upgrade
from tests.api.conftest import (
    AVAILABILITY_SPEC,
    FakeEvaluator,
    TestClient,
    make_app,
    make_tokens,
    status_for,
)


def _app_and_headers() -> tuple[Any, dict[str, str]]:
    """The app on a SQLite store holding one SLO with an evaluated status, and admin headers.

    Built at import: schemathesis reads the OpenAPI document to generate the tests.
    """
    home = Path(tempfile.mkdtemp(prefix="srekit-schemathesis-"))
    engine = create_store_engine(f"sqlite:///{home / 'srekit.db'}")
    upgrade(engine)
    evaluator = FakeEvaluator()
    evaluator.statuses = [status_for("checkout", "availability", 0.8)]
    tokens = make_tokens(engine)
    app = make_app(engine, evaluator, home)
    headers = {"Authorization": f"Bearer {tokens['admin']}"}
    with TestClient(app) as client:
        created = client.put(
            "/api/v1/slos/checkout/availability", json={"spec": AVAILABILITY_SPEC}, headers=headers
        )
        assert created.status_code == 201
    return app, headers


APP, HEADERS = _app_and_headers()
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


def _no_server_error(ctx: Any, response: Any, case: Any) -> bool:
    assert response.status_code < 500, f"{response.status_code}: {response.text[:500]}"
    return True


@schema.parametrize()
@settings(max_examples=15, suppress_health_check=list(HealthCheck), deadline=None)
def test_every_operation(case: Any) -> None:
    case.call_and_validate(
        headers=HEADERS,
        checks=[
            _no_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )
