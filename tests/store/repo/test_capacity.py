"""Recorded capacity plans on SQLite and PostgreSQL: the latest plan per resource before an
instant, newest first listings, and paths that JSON cannot hold refused before writing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from srekit.store.database import transaction
from srekit.store.repo.capacity import (
    capacity_plans,
    latest_capacity_plans,
    record_capacity_plan,
)

AT = datetime(2026, 3, 1, tzinfo=UTC)


def _record(engine: Engine, *, resource: str, made_at: datetime, **extra: Any) -> int:
    fields: dict[str, Any] = {
        "service": "checkout",
        "resource": resource,
        "plan": "checkout",
        "made_at": made_at,
        "unit": "cores",
        "model": "linear_trend",
        "step_s": 3600,
        "limit": 24.0,
        "forecast_at": [made_at.timestamp() + 3600, made_at.timestamp() + 7200],
        "median": [1.5, 2.25],
        "upper": [2.0, 3.0],
        "summary": {"resource": resource, "months_until_capacity": None},
    }
    fields.update(extra)
    with transaction(engine) as session:
        return record_capacity_plan(session, **fields)


def test_the_latest_plan_per_resource_before_an_instant(engine: Engine) -> None:
    first = _record(engine, resource="cpu", made_at=AT)
    second = _record(engine, resource="cpu", made_at=AT + timedelta(days=7), model="drift")
    memory = _record(engine, resource="memory", made_at=AT + timedelta(days=1))
    _record(engine, resource="cpu", made_at=AT, service="search")
    with transaction(engine, read_only=True) as session:
        latest = latest_capacity_plans(session, service="checkout")
        assert {name: plan.id for name, plan in latest.items()} == {
            "cpu": second,
            "memory": memory,
        }
        assert latest["cpu"].model == "drift"
        before = latest_capacity_plans(session, service="checkout", before=AT + timedelta(days=7))
        assert before["cpu"].id == first
        stored = before["cpu"]
        assert stored.made_at == AT
        assert stored.median == (1.5, 2.25)
        assert stored.upper == (2.0, 3.0)
        assert stored.forecast_at == (AT.timestamp() + 3600, AT.timestamp() + 7200)
        assert stored.limit == 24.0
        assert stored.summary == {"resource": "cpu", "months_until_capacity": None}
        assert latest_capacity_plans(session, service="checkout", before=AT) == {}


def test_plans_are_listed_newest_first(engine: Engine) -> None:
    ids = [_record(engine, resource="cpu", made_at=AT + timedelta(days=d)) for d in range(3)]
    _record(engine, resource="cpu", made_at=AT, service="search")
    with transaction(engine, read_only=True) as session:
        assert [p.id for p in capacity_plans(session, service="checkout")] == ids[::-1]
        assert [p.id for p in capacity_plans(session, service="checkout", limit=2)] == [
            ids[2],
            ids[1],
        ]
        assert len(capacity_plans(session)) == 4


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"median": [float("nan"), 1.0]}, "median: expected finite numbers"),
        ({"upper": [1.0, float("inf")]}, "upper: expected finite numbers"),
        ({"median": [1.0]}, "one median and one upper value"),
    ],
)
def test_paths_json_cannot_hold_are_refused_and_nothing_is_written(
    engine: Engine, extra: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        _record(engine, resource="cpu", made_at=AT, **extra)
    with transaction(engine, read_only=True) as session:
        assert capacity_plans(session) == []
