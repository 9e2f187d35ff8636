"""What the dashboard reads: the daily history from stored snapshots (newest of each UTC day),
teams, gates and incidents per SLO, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from srekit.core.dashboard import SloHealth
from srekit.core.incident import Severity
from srekit.core.ports import NoIncidents
from srekit.flows.dashboard import overview, slo_lines
from srekit.flows.incidents import declare_incident
from srekit.spec.loader import load_specs
from srekit.store.database import transaction
from srekit.store.repo import apply_specs, record_snapshots
from tests.api.conftest import status_for

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def _store(engine: Engine) -> None:
    specs = load_specs([EXAMPLES / "slos"])
    with transaction(engine) as session:
        apply_specs(session, specs=specs, actor="test", source_formats=specs.formats)


def _with_burn(remaining: float, burn_1d: float, at: datetime):  # type: ignore[no-untyped-def]
    status = status_for("checkout", "availability", remaining, at=at)
    return replace(status, burn_rates={**status.burn_rates, "1d": burn_1d})


def test_history_is_each_days_newest_snapshot(engine: Engine) -> None:
    _store(engine)
    day_before = NOW - timedelta(days=1)
    snapshots = [
        _with_burn(0.8, 0.5, day_before.replace(hour=1)),
        _with_burn(0.7, 2.0, day_before.replace(hour=23, minute=59)),  # that day's newest
        _with_burn(0.6, 7.0, NOW - timedelta(hours=1)),  # today's
        _with_burn(0.1, 9.0, NOW + timedelta(hours=1)),  # after now: not shown
    ]
    with transaction(engine) as session:
        record_snapshots(session, statuses=snapshots)
    current = [status_for("checkout", "availability", 0.6, at=NOW)]
    (line,) = slo_lines(
        engine,
        statuses=current,
        incidents=NoIncidents(),
        now=NOW,
        max_status_age_s=1e9,
        history_days=3,
    )
    assert [reading.day for reading in line.history] == [
        date(2026, 11, 28),
        date(2026, 11, 29),
        date(2026, 11, 30),
    ]
    assert [reading.recorded for reading in line.history] == [False, True, True]
    assert [(r.remaining, r.burn_1d) for r in line.history[1:]] == [(0.7, 2.0), (0.6, 7.0)]
    assert line.team == "team-payments"
    assert line.health is SloHealth.MET
    assert line.gate.service == "checkout"
    assert line.open_incidents == 0


def test_incidents_count_against_their_slo_or_their_whole_service(engine: Engine) -> None:
    _store(engine)
    declare_incident(
        engine, title="slow", severity=Severity.P3, actor="t", now=NOW, slos=["checkout/latency"]
    )
    declare_incident(
        engine, title="down", severity=Severity.P3, actor="t", now=NOW, services=["checkout"]
    )
    statuses = [
        status_for("checkout", "availability", 0.9, at=NOW),
        status_for("checkout", "latency", 0.9, at=NOW),
        status_for("catalog", "availability", 0.9, at=NOW),
    ]
    found = overview(
        engine, statuses=statuses, incidents=NoIncidents(), now=NOW, max_status_age_s=1e9
    )
    counts = {line.key: line.open_incidents for line in found.lines}
    assert counts == {"checkout/availability": 1, "checkout/latency": 2, "catalog/availability": 0}
    assert len(found.incidents) == 2
    assert len(found.days) == 30
    assert found.on_call == ()
    assert all(not day.recorded for line in found.lines for day in line.history)
