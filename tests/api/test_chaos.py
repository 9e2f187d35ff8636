"""`/api/v1/chaos`: stored runs listed and shown, an experiment validated without running,
and hostile bodies refused with a 4xx naming what is wrong."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine

from srekit.store.database import transaction
from srekit.store.repo.chaos import record_chaos_run
from tests.api.conftest import Api

SMOKE = Path(__file__).resolve().parents[2] / "examples" / "chaos" / "smoke.yaml"
AT = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def _smoke() -> dict[str, Any]:
    return dict(yaml.safe_load(SMOKE.read_text()))


def _journal(start: datetime, *, deviated: bool) -> dict[str, Any]:
    return {
        "experiment": {"title": "latency"},
        "start": start.isoformat(),
        "end": (start + timedelta(minutes=2)).isoformat(),
        "status": "completed",
        "deviated": deviated,
        "steady_states": {
            "before": None,
            "during": [],
            "after": {"probes": [{"activity": {"name": "fast"}, "tolerance_met": not deviated}]},
        },
        "run": [],
        "rollbacks": [],
    }


def test_runs_are_listed_per_service_and_shown_with_their_journal(api: Api, engine: Engine) -> None:
    assert api.get("/api/v1/chaos/runs", role="viewer").json() == []
    with transaction(engine) as session:
        first = record_chaos_run(
            session, journal=_journal(AT, deviated=False), service="checkout", budget_consumed=0.02
        ).id
        record_chaos_run(
            session, journal=_journal(AT + timedelta(hours=1), deviated=True), service="search"
        )
    runs = api.get("/api/v1/chaos/runs", role="viewer").json()
    assert [(run["service"], run["passed"], run["deviations"]) for run in runs] == [
        ("search", False, ["after: fast"]),
        ("checkout", True, []),
    ]
    only = api.get("/api/v1/chaos/runs?service=checkout&limit=5", role="viewer").json()
    assert [run["id"] for run in only] == [first]
    assert only[0]["budget_consumed"] == 0.02
    assert only[0]["started_at"] == "2026-11-20T09:00:00Z"
    shown = api.get(f"/api/v1/chaos/runs/{first}", role="viewer").json()
    assert shown["journal"] == _journal(AT, deviated=False)
    assert api.get("/api/v1/chaos/runs/999", role="viewer").status_code == 404
    for bad in ("0", "x", str(2**63), "1e309"):
        assert api.get(f"/api/v1/chaos/runs/{bad}", role="viewer").status_code == 422, bad
    for query in ("limit=0", "limit=100000", "service=" + "s" * 201):
        assert api.get(f"/api/v1/chaos/runs?{query}", role="viewer").status_code == 422, query
    assert api.get("/api/v1/chaos/runs", role=None).status_code == 401


def test_validate_answers_what_the_experiment_holds(api: Api) -> None:
    answer = api.post("/api/v1/chaos/validate", role="viewer", json=_smoke())
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "title": "The chaos runner runs",
        "probes": 1,
        "method": 1,
        "rollbacks": 1,
        "hypothesis_strategy": "default",
        "rollback_strategy": "always",
        "service": "demo",
        "blast_radius": ["127.0.0.1"],
        "ttl_s": 60,
    }
    assert api.post("/api/v1/chaos/validate", role=None, json=_smoke()).status_code == 401


def _post_raw(api: Api, body: bytes) -> Any:
    headers = {"Content-Type": "application/json", **api.headers("viewer")}
    return api.client.post("/api/v1/chaos/validate", content=body, headers=headers)


def _nested(depth: int) -> str:
    return '{"title": "t", "description": "d", "method": ' + "[" * depth + "]" * depth + "}"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('{"title": NaN, "description": "d", "method": []}', "finite number"),
        ('{"title": "t", "description": "d", "method": [], "x": 1e309}', "x"),
        (_nested(5000), ""),
        ('{"title": "a\\u0000b", "description": "d", "method": []}', "title"),
        ('{"title": "t", "description": "d", "method": [], "dry": true}', "dry"),
        ("not json", "expected a JSON document"),
        ("[1, 2]", ""),
    ],
)
def test_hostile_experiments_are_refused_naming_the_problem(
    api: Api, body: str, expected: str
) -> None:
    answer = _post_raw(api, body.encode())
    assert answer.status_code == 422, answer.text
    assert expected in json.dumps(answer.json())


def test_a_radius_breach_and_a_huge_body_are_refused(api: Api) -> None:
    experiment = _smoke()
    experiment["method"][0]["provider"] = {"type": "http", "url": "http://10.0.0.1:80/"}
    answer = api.post("/api/v1/chaos/validate", role="viewer", json=experiment)
    assert answer.status_code == 422
    assert "outside the blast radius" in answer.text
    huge = _post_raw(api, b'{"title": "' + b"x" * (2 * 1024 * 1024) + b'"}')
    assert huge.status_code in (413, 422)
