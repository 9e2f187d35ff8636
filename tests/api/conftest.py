"""API tests: an app on a migrated store (SQLite, and PostgreSQL where marked by `engine`),
a token per role, and a fake evaluator whose statuses the tests set."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine

from srekit.api import create_app
from srekit.config import Settings
from srekit.core.budget import ErrorBudget
from srekit.core.slo import SLO, EventsRatio
from srekit.core.status import DataState, SloStatus, unavailable_status
from srekit.core.window import RollingWindow
from srekit.store.database import transaction
from srekit.store.repo import create_token
from tests.alertmanager_fixture import alertmanager, start_alertmanager, webhook_recorder

# Starlette 1.x warns that its test client wants httpx2 rather than httpx; the lock pins httpx.
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

__all__ = [
    "ROLES",
    "Api",
    "FakeEvaluator",
    "TestClient",
    "alertmanager",
    "make_app",
    "make_tokens",
    "start_alertmanager",
    "webhook_recorder",
]

ROLES = ("viewer", "editor", "admin", "deploy", "ingest")


class FakeEvaluator:
    """Statuses set by the test, served as the evaluator serves its latest ones."""

    def __init__(self) -> None:
        self.statuses: list[SloStatus] = []
        self.fail: Exception | None = None

    def latest_statuses(self, service: str | None = None) -> list[SloStatus]:
        if self.fail is not None:
            raise self.fail
        return [s for s in self.statuses if service is None or s.service == service]


def make_tokens(store: Engine) -> dict[str, str]:
    with transaction(store) as session:
        return {
            role: create_token(session, role=role, name=f"{role}-bot", actor="test")[1]
            for role in ROLES
        }


def make_app(store: Engine, evaluator: FakeEvaluator, tmp_path: Path, **settings: Any) -> FastAPI:
    return create_app(
        Settings(home=tmp_path, **settings),
        engine=store,
        evaluator=evaluator,
        catalog_ttl_s=0,
        status_ttl_s=0,
    )


class Api:
    """A TestClient with a bearer token per role: `api.get(path, role="viewer")`."""

    def __init__(self, client: TestClient, tokens: dict[str, str], evaluator: FakeEvaluator):
        self.client = client
        self.tokens = tokens
        self.evaluator = evaluator

    def headers(self, role: str | None) -> dict[str, str]:
        return {} if role is None else {"Authorization": f"Bearer {self.tokens[role]}"}

    def request(
        self, method: str, path: str, *, role: str | None = "admin", **kwargs: Any
    ) -> httpx.Response:
        """`kwargs` are TestClient.request's (json=, content=, params=, ...)."""
        response: httpx.Response = self.client.request(
            method, path, headers=self.headers(role), **kwargs
        )
        return response

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", path, **kwargs)


def _api(store: Engine, tmp_path: Path) -> Iterator[Api]:
    evaluator = FakeEvaluator()
    tokens = make_tokens(store)
    with TestClient(make_app(store, evaluator, tmp_path)) as client:
        yield Api(client, tokens, evaluator)


@pytest.fixture
def api(engine: Engine, tmp_path: Path) -> Iterator[Api]:
    """The API on SQLite and on PostgreSQL."""
    yield from _api(engine, tmp_path)


@pytest.fixture
def lite_api(sqlite_engine: Engine, tmp_path: Path) -> Iterator[Api]:
    """The API on SQLite only (auth, gate and error-shape tests)."""
    yield from _api(sqlite_engine, tmp_path)


NOW = datetime(2026, 11, 1, tzinfo=UTC)


AVAILABILITY_SPEC: dict[str, Any] = {
    "objective": 0.999,
    "window": {"kind": "rolling", "duration_s": 2592000},
    "indicator": {"kind": "events_ratio", "good": "status < 500"},
    "owner": "payments",
}


def slo_object(service: str, name: str) -> SLO:
    return SLO(
        service=service,
        name=name,
        objective=0.999,
        window=RollingWindow(2592000),
        indicator=EventsRatio(good="status < 500"),
    )


def status_for(
    service: str,
    name: str,
    remaining: float | None,
    *,
    at: datetime | None = None,
    data: DataState = DataState.OK,
) -> SloStatus:
    """A status with `remaining` of the budget left (None: unreadable), evaluated at `at`."""
    when = at if at is not None else datetime.now(UTC)
    base = unavailable_status(slo_object(service, name), at=when, detail="not read")
    if remaining is None:
        return replace(base, data=data if data is not DataState.OK else DataState.ERROR)
    return replace(
        base,
        sli=1 - 0.001 * (1 - remaining),
        error_budget=ErrorBudget(
            remaining=remaining, consumed=1 - remaining, allowed_bad_events=None
        ),
        policy_state="normal",
        data=data,
        detail=None,
    )
