"""Chaos runs on SQLite and PostgreSQL: recorded from their journal, listed per service
newest first, read back whole, and the readiness question "did one pass since then?"."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from srekit.errors import NotFound, SpecError
from srekit.store.database import transaction
from srekit.store.repo.chaos import (
    chaos_run,
    chaos_runs,
    latest_passed_chaos_run,
    record_chaos_run,
)

AT = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def _journal(
    *, start: datetime, status: str = "completed", deviated: bool = False, title: str = "t"
) -> dict[str, Any]:
    missed = {"activity": {"name": "latency-ok"}, "tolerance_met": False}
    held = {"activity": {"name": "up"}, "tolerance_met": True}
    return {
        "srekit-version": "0",
        "experiment": {"title": title},
        "start": start.isoformat(),
        "end": (start + timedelta(seconds=90)).isoformat(),
        "status": status,
        "deviated": deviated,
        "steady_states": {
            "before": {"steady_state_met": True, "probes": [held]},
            "after": {
                "steady_state_met": not deviated,
                "probes": [held, missed] if deviated else [held],
            },
            "during": [],
        },
        "run": [],
        "rollbacks": [],
    }


def test_runs_are_recorded_listed_and_read_back(engine: Engine) -> None:
    with transaction(engine) as session:
        first = record_chaos_run(
            session,
            journal=_journal(start=AT, title="slow payments"),
            service="checkout",
            budget_consumed=0.012,
        ).id
        second = record_chaos_run(
            session,
            journal=_journal(start=AT + timedelta(hours=1), deviated=True),
            service="checkout",
        ).id
        record_chaos_run(session, journal=_journal(start=AT + timedelta(hours=2)), service="search")
        record_chaos_run(session, journal=_journal(start=AT - timedelta(days=1)), service=None)
    with transaction(engine, read_only=True) as session:
        rows = chaos_runs(session, service="checkout")
        assert [row.id for row in rows] == [second, first]  # newest first
        assert [len(chaos_runs(session)), len(chaos_runs(session, limit=2))] == [4, 2]
        read = chaos_run(session, run_id=first)
        assert (read.title, read.status, read.deviated, read.budget_consumed) == (
            "slow payments",
            "completed",
            False,
            0.012,
        )
        assert (read.started_at, read.ended_at) == (AT, AT + timedelta(seconds=90))
        assert read.journal == _journal(start=AT, title="slow payments")
        assert read.deviations == []
        assert chaos_run(session, run_id=second).deviations == ["after: latency-ok"]
        with pytest.raises(NotFound, match="no chaos run 999"):
            chaos_run(session, run_id=999)


def test_the_latest_passed_run_since_an_instant(engine: Engine) -> None:
    with transaction(engine) as session:
        passed = record_chaos_run(session, journal=_journal(start=AT), service="checkout").id
        record_chaos_run(
            session,
            journal=_journal(start=AT + timedelta(days=2), deviated=True),
            service="checkout",
        )
        record_chaos_run(
            session,
            journal=_journal(start=AT + timedelta(days=3), status="interrupted"),
            service="checkout",
        )
        record_chaos_run(session, journal=_journal(start=AT + timedelta(days=4)), service="search")
    with transaction(engine, read_only=True) as session:
        found = latest_passed_chaos_run(session, service="checkout", since=AT - timedelta(days=7))
        assert found is not None
        assert found.id == passed
        assert (
            latest_passed_chaos_run(session, service="checkout", since=AT) is not None
        )  # inclusive
        # deviated and interrupted runs after it do not count
        assert (
            latest_passed_chaos_run(session, service="checkout", since=AT + timedelta(seconds=1))
            is None
        )
        assert (
            latest_passed_chaos_run(session, service="billing", since=AT - timedelta(days=7))
            is None
        )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"status": "exploded"}, "status"),
        ({"start": "yesterday"}, "start"),
        ({"end": "2026-11-20T09:00:00"}, "end"),  # no offset
        ({"output": math.nan}, "journal"),
    ],
)
def test_a_bad_journal_is_refused_and_nothing_is_stored(
    engine: Engine, change: dict[str, Any], field: str
) -> None:
    journal = {**_journal(start=AT), **change}
    with pytest.raises(SpecError) as refused, transaction(engine) as session:
        record_chaos_run(session, journal=journal, service="checkout")
    assert refused.value.field == field
    with pytest.raises(SpecError, match="finite"), transaction(engine) as session:
        record_chaos_run(session, journal=_journal(start=AT), service="x", budget_consumed=math.inf)
    with transaction(engine, read_only=True) as session:
        assert chaos_runs(session) == []
