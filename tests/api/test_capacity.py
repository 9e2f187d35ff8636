"""`/api/v1/capacity`: a plan forecast from inline series, recorded by editors and listed
per service; hostile bodies are 4xx and store nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.api.conftest import Api

AT = "2026-03-31T00:00:00Z"
END = 1_774_915_200  # 2026-03-31T00:00:00Z
HOUR = 3_600


def _plan(limit: Any = 24) -> dict[str, Any]:
    return {
        "apiVersion": "srekit/v1",
        "kind": "CapacityPlan",
        "metadata": {"name": "checkout"},
        "spec": {
            "service": "checkout",
            "horizon": "30d",
            "history": "30d",
            "step": "1h",
            "resources": [{"name": "cpu", "usage": "sum(cpu)", "unit": "cores", "limit": limit}],
        },
    }


def _series(hours: int = 240) -> list[list[float]]:
    # 4 cores + 0.05 an hour: 24 cores 400 hours after the first sample
    start = END - hours * HOUR
    return [[start + k * HOUR, 4 + 0.05 * k] for k in range(hours)]


def _body(**extra: Any) -> dict[str, Any]:
    return {"plan": _plan(), "series": {"cpu": _series()}, "at": AT, **extra}


def test_a_plan_is_forecast_from_inline_series(lite_api: Api) -> None:
    answer = lite_api.post("/api/v1/capacity/forecast", role="viewer", json=_body())
    assert answer.status_code == 200, answer.text
    document = answer.json()
    assert document["problems"] == []
    (cpu,) = document["resources"]
    assert cpu["source"] == "request"
    # by hand: 4 + 0.05·k = 24 at k = 400, 400 hours after the first sample
    expected = END - 240 * HOUR + 400 * HOUR
    limit_at = cpu["crossings"]["limit"]["median"]["at"]
    from datetime import datetime

    got = datetime.fromisoformat(limit_at.replace("Z", "+00:00")).timestamp()
    assert abs(got - expected) <= 60
    assert "past_forecasts" not in document or document["past_forecasts"] is None


def test_recording_takes_an_editor_and_plans_are_listed_per_service(api: Api) -> None:
    refused = api.post("/api/v1/capacity/forecast", role="viewer", json=_body(record=True))
    assert refused.status_code == 403
    assert api.get("/api/v1/capacity/plans", role="viewer").json() == []
    first = api.post(
        "/api/v1/capacity/forecast",
        role="editor",
        json=_body(record=True, at="2026-03-30T00:00:00Z"),
    )
    assert first.status_code == 200, first.text
    assert first.json()["past_forecasts"] == []
    second = api.post("/api/v1/capacity/forecast", role="editor", json=_body(record=True))
    (past,) = second.json()["past_forecasts"]
    # a straight line is forecast exactly: no error on the 23 hours observed since
    assert past["points"] == 23
    assert past["mae"] == pytest.approx(0, abs=1e-9)
    plans = api.get("/api/v1/capacity/plans?service=checkout", role="viewer").json()
    assert [p["made_at"] for p in plans] == [AT, "2026-03-30T00:00:00Z"]
    assert plans[0]["summary"]["resource"] == "cpu"
    assert api.get("/api/v1/capacity/plans?service=search", role="viewer").json() == []


def test_no_data_for_a_resource_is_a_problem_not_an_error(lite_api: Api) -> None:
    body = _body(series={})
    answer = lite_api.post("/api/v1/capacity/forecast", role="viewer", json=body)
    assert answer.status_code == 200
    (problem,) = answer.json()["problems"]
    assert "no Prometheus to query" in problem["message"]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (json.dumps(_body()).replace("24}", "NaN}", 1), 422),
        (json.dumps(_body()).replace("24}", "1e309}", 1), 422),
        (json.dumps(_body(series={"cpu": [[END - HOUR, 1.0]] * 5})).replace("1.0", "NaN"), 422),
        (json.dumps(_body(series={"cpu": [[END - HOUR, 1.0]] * 5})).replace("1.0", "1e309"), 422),
        (json.dumps(_body(series={"memory": _series()})), 422),
        (json.dumps(_body(at="2999-01-01T00:00:00Z")), 422),
        (json.dumps(_body(at="yesterday")), 422),
        (json.dumps(_body(extra=1)), 422),
        ('{"plan": ' + "[" * 500 + "]" * 500 + "}", 422),
        (json.dumps(_body(series={"cpu": [[1.0, 1.0]] * 50_001})), 422),
        (
            json.dumps(_body(series={"cpu": [[1.0, 1.0]] * 40_000, "x": [[2.0, 1.0]] * 400_000})),
            413,
        ),
    ],
    ids=[
        "nan limit",
        "1e309 limit",
        "nan sample",
        "1e309 sample",
        "unknown resource",
        "future",
        "bad instant",
        "unknown field",
        "deep",
        "50,001 points",
        "huge",
    ],
)
def test_hostile_bodies_are_refused_and_store_nothing(
    lite_api: Api, body: str, status: int
) -> None:
    answer = lite_api.client.post(
        "/api/v1/capacity/forecast",
        content=body.encode(),
        headers={**lite_api.headers("editor"), "Content-Type": "application/json"},
    )
    assert answer.status_code == status, answer.text[:500]
    assert answer.headers["content-type"] == "application/json"
    assert lite_api.get("/api/v1/capacity/plans", role="viewer").json() == []


def test_a_service_too_long_is_refused_and_reading_takes_a_token(lite_api: Api) -> None:
    answer = lite_api.get("/api/v1/capacity/plans?service=" + "x" * 201, role="viewer")
    assert answer.status_code == 422
    answer = lite_api.get("/api/v1/capacity/plans", role=None)
    assert answer.status_code == 401
