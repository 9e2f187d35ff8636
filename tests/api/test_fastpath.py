"""The short road for gate and status GETs answers exactly what the FastAPI routes answer.

Each request is sent twice: once with the short road (`srekit.api.fastpath`) told to step
aside, so FastAPI answers, and once through it. Both answers are compared, with the metrics
label each leaves behind.
"""

from __future__ import annotations

from typing import Any

import pytest

from srekit.api.deps import ApiState
from srekit.api.fastpath import HotPaths
from tests.api.conftest import AVAILABILITY_SPEC, Api, status_for


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
