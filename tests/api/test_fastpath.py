"""The short road for gate and status GETs and Alertmanager's webhook answers exactly what the
FastAPI routes answer.

Each request is sent twice: once with the short road (`srekit.api.fastpath`) told to step
aside, so FastAPI answers, and once through it. Both answers are compared, with the metrics
label each leaves behind. Webhooks change the store, so each road has its own.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from srekit.api import fastpath, intake
from srekit.api.deps import ApiState
from srekit.api.fastpath import HotPaths
from srekit.store.database import create_store_engine, transaction, upgrade
from tests.api.conftest import (
    AVAILABILITY_SPEC,
    Api,
    FakeEvaluator,
    TestClient,
    make_app,
    make_tokens,
    status_for,
)
from tests.api.test_incidents import _alert, _webhook


@pytest.fixture
def gated(lite_api: Api) -> Api:
    response = lite_api.put("/api/v1/slos/checkout/availability", json={"spec": AVAILABILITY_SPEC})
    assert response.status_code == 201
    lite_api.evaluator.statuses = [status_for("checkout", "availability", 0.3)]
    return lite_api


def _state(api: Api) -> ApiState:
    state: ApiState = api.client.app.state.srekit  # type: ignore[attr-defined]
    return state


def _route_count(api: Api, route: str) -> float:
    metrics = api.get("/metrics", role="viewer").text
    total = 0.0
    for line in metrics.splitlines():
        if (
            line.startswith("srekit_http_request_duration_seconds_count")
            and f'route="{route}"' in line
        ):
            total += float(line.rsplit(" ", 1)[1])
    return total


@pytest.mark.parametrize(
    "query",
    [
        "/api/v1/gate?change_type=feature&service=checkout",
        "/api/v1/gate?service=checkout&change_type=rollback",
        "/api/v1/gate?service=checkout&change_type=config&fail_open=true&version=1.2.3",
        "/api/v1/gate?change_type=feature&service=checkout&commit_time=yesterday",
        "/api/v1/gate?change_type=feature&service=nope",
        "/api/v1/gate?change_type=feature&service=",
        "/api/v1/gate",
        "/api/v1/gate?service=checkout",
        "/api/v1/gate?service=checkout&change_type=yolo",
        "/api/v1/status",
        "/api/v1/status?service=checkout",
        "/api/v1/status?service=nope",
    ],
)
def test_short_road_answers_as_the_route_does(
    gated: Api, query: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    role = "deploy" if "gate" in query else "viewer"
    taken: list[str] = []
    for name in ("_gate", "_status"):
        original = getattr(HotPaths, name)

        async def spy(
            self: HotPaths, *args: object, _original: Any = original, _name: str = name
        ) -> Any:
            taken.append(_name)
            return await _original(self, *args)

        monkeypatch.setattr(HotPaths, name, spy)

    async def step_aside(self: HotPaths, token: str, role: object) -> bool:
        return False

    with monkeypatch.context() as patch:
        patch.setattr(HotPaths, "_allowed", step_aside)
        through_fastapi = gated.get(query, role=role)
    assert taken == []
    _state(gated).tokens.clear()  # a cold token cache: the short road looks the token up
    short_road = gated.get(query, role=role)
    assert taken == ["_gate" if "gate" in query else "_status"]
    assert short_road.status_code == through_fastapi.status_code == 200
    assert short_road.headers["content-type"] == through_fastapi.headers["content-type"]
    assert short_road.json() == through_fastapi.json()
    assert _route_count(gated, query.split("?", maxsplit=1)[0]) >= 2


def test_refusals_still_come_from_fastapi(gated: Api) -> None:
    wrong_role = gated.get("/api/v1/gate?change_type=feature&service=checkout", role="viewer")
    assert wrong_role.status_code == 403
    assert wrong_role.json()["allowed"] is False
    too_long = gated.get("/api/v1/status?service=" + "x" * 201, role="viewer")
    assert too_long.status_code == 422
    no_token = gated.get("/api/v1/status", role=None)
    assert no_token.status_code == 401


def test_decisions_are_recorded_on_both_roads_once_per_attempt(
    gated: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Polling the same question within a minute is one attempt; a new version is another."""

    async def step_aside(self: HotPaths, token: str, role: object) -> bool:
        return False

    with monkeypatch.context() as patch:
        patch.setattr(HotPaths, "_allowed", step_aside)
        assert (
            gated.get(
                "/api/v1/gate?change_type=feature&service=checkout&version=v9", role="deploy"
            ).status_code
            == 200
        )
    for _ in range(3):
        assert (
            gated.get(
                "/api/v1/gate?change_type=feature&service=checkout&version=v9", role="deploy"
            ).status_code
            == 200
        )
    assert (
        gated.get(
            "/api/v1/gate?change_type=feature&service=checkout&version=v10", role="deploy"
        ).status_code
        == 200
    )
    deployments = gated.get("/api/v1/deployments?service=checkout", role="viewer").json()
    assert sorted(d["version"] for d in deployments) == ["v10", "v9"]


def _pair(tmp_path: Path) -> Iterator[tuple[Api, Api]]:
    """Two APIs on two new stores, with the same tokens: one for each road."""
    apis = []
    with ExitStack() as stack:
        for name in ("route", "short"):
            store = create_store_engine(f"sqlite:///{tmp_path / name / 'srekit.db'}")
            upgrade(store)
            stack.callback(store.dispose)
            evaluator = FakeEvaluator()
            tokens = make_tokens(store)
            client = stack.enter_context(TestClient(make_app(store, evaluator, tmp_path / name)))
            apis.append(Api(client, tokens, evaluator))
        yield apis[0], apis[1]


@pytest.fixture
def roads(tmp_path: Path) -> Iterator[tuple[Api, Api]]:
    yield from _pair(tmp_path)


T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
_FIRING = _webhook(_alert("a1"), _alert("b2", starts=T0 + timedelta(minutes=1)))
_BAD_SERVICE = _webhook(
    {**_alert("c3"), "labels": {**_alert("c3")["labels"], "srekit_service": "Not A Name"}}
)
# (body, content type, role, taken by the short road)
_WEBHOOKS: list[tuple[dict[str, Any], str, str, bool]] = [
    (_FIRING, "application/json", "ingest", True),  # opens an incident
    (_FIRING, "application/json", "ingest", True),  # the same body: a duplicate
    ({**_FIRING, "externalURL": "http://am-2.local"}, "application/json", "ingest", True),
    (_webhook(_alert("a1", ends=T0 + timedelta(minutes=5))), "application/json", "ingest", True),
    (_BAD_SERVICE, "application/json", "ingest", True),  # the app's handler: 422
    (_webhook({**_alert("d4"), "status": "pending"}), "application/json", "ingest", False),
    (_webhook(_alert("e5")), "text/plain", "ingest", False),
    (_webhook(_alert("f6")), "application/json", "viewer", False),
]


def test_the_webhook_is_answered_on_the_short_road_as_the_route_answers_it(
    roads: tuple[Api, Api], monkeypatch: pytest.MonkeyPatch
) -> None:
    route, short = roads
    taken: list[bool] = []
    received = intake.receive_webhook  # what the fast path calls, until the spy stands in

    async def spy(*args: Any) -> Any:
        taken.append(True)
        return await received(*args)

    monkeypatch.setattr(fastpath, "receive_webhook", spy)

    async def step_aside(self: HotPaths, token: str, role: object) -> bool:
        return False

    for body, content_type, role, short_road in _WEBHOOKS:
        content = json.dumps(body).encode()
        with monkeypatch.context() as patch:
            patch.setattr(HotPaths, "_allowed", step_aside)
            through_fastapi = _post(route, content, content_type, role)
        before = len(taken)
        answer = _post(short, content, content_type, role)
        assert len(taken) - before == short_road, body
        assert answer.status_code == through_fastapi.status_code, answer.text
        assert answer.headers["content-type"] == through_fastapi.headers["content-type"]
        assert answer.content == through_fastapi.content
    stored = [
        [(i["state"], i["alerts"]) for i in api.get("/api/v1/incidents?state=all").json()]
        for api in (route, short)
    ]
    assert stored[0] == stored[1] == [("triggered", ["a1", "b2"])]  # b2 still fires
    assert _route_count(short, "/api/v1/alertmanager") == len(_WEBHOOKS)


def test_a_busy_store_is_answered_503_on_the_short_road(
    roads: tuple[Api, Api], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("srekit.store.database.BUSY_TIMEOUT_S", 0.1)
    answers = []
    for api in roads:
        with transaction(_state(api).engine):  # another writer holds the write lock
            answers.append(_post(api, json.dumps(_FIRING).encode(), "application/json"))
    route, short = answers
    assert short.status_code == route.status_code == 503
    assert short.headers["retry-after"] == route.headers["retry-after"]
    assert short.json() == route.json()
    assert short.json()["detail"].startswith("the state store is busy: database is locked")
    assert "srekit.db" not in short.text  # never the database's file path


def _post(api: Api, content: bytes, content_type: str, role: str = "ingest") -> Any:
    return api.client.post(
        "/api/v1/alertmanager",
        content=content,
        headers={"Content-Type": content_type, **api.headers(role)},
    )
