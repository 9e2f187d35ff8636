"""SLO history by day on SQLite and PostgreSQL: each SLO's day row equals what its raw
snapshots say (computed here from the snapshots themselves), through compaction, a spec
change, the hourly horizon and the migration that fills the rows from stored hours."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, delete, insert, select

from srekit.core.history import day_of_number
from srekit.core.sli import EventCounts
from srekit.core.slo import SLO, EventsRatio
from srekit.core.status import SloStatus, evaluate_slo
from srekit.core.window import RollingWindow
from srekit.flows.history import compact_history
from srekit.store import repo
from srekit.store.database import create_store_engine, transaction, upgrade
from srekit.store.tables import SloDayRow, SloHourRow

T0 = datetime(2026, 11, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
WINDOW_S = 30 * 86400
SLO_ = SLO(
    service="checkout",
    name="availability",
    objective=0.99,
    window=RollingWindow(WINDOW_S),
    indicator=EventsRatio(good="status < 500"),
)


def _status(slo: SLO, moment: datetime, index: int) -> SloStatus:
    """Figures that move with every snapshot: bad events in the 1 h, 1 d and 30 d windows."""
    bad_1h, bad_1d, bad_30d = index % 7, (index * 3) % 11, 1 + index % 9
    readings = {
        "1h": EventCounts(good=1000 - bad_1h, total=1000),
        "1d": EventCounts(good=1000 - bad_1d, total=1000),
        "30d": EventCounts(good=1000 - bad_30d, total=1000),
    }
    return evaluate_slo(slo, readings=readings, at=moment)


def _snapshots(start: datetime, end: datetime, *, every_min: int, slo: SLO) -> list[SloStatus]:
    statuses = []
    moment, index = start, 0
    while moment < end:
        statuses.append(_status(slo, moment, index))
        moment += timedelta(minutes=every_min)
        index += 1
    return statuses


def _expected(statuses: Sequence[SloStatus]) -> dict[datetime, dict[str, Any]]:
    """Each day of `statuses` (one SLO's), from the snapshots alone: its last snapshot's SLI,
    remaining budget and 1 d burn rate, the hours holding snapshots, and the budget spent:
    for each hour its last snapshot's 1 h burn rate × 1 h over the 30-day window."""
    last_of_hour: dict[datetime, SloStatus] = {}
    for status in sorted(statuses, key=lambda status: status.at):
        last_of_hour[status.at.replace(minute=0, second=0, microsecond=0)] = status
    days: dict[datetime, dict[str, Any]] = {}
    for hour, status in sorted(last_of_hour.items()):
        day = days.setdefault(hour.replace(hour=0), {"hours": 0, "budget_burned": 0.0})
        burn_1h = status.burn_rates["1h"]
        assert status.error_budget is not None
        assert burn_1h is not None
        day.update(
            hours=day["hours"] + 1,
            close_hour_start=hour,
            sli_last=status.sli,
            remaining_last=status.error_budget.remaining,
            burn_1d_last=status.burn_rates["1d"],
            budget_burned=day["budget_burned"] + burn_1h * 3600 / WINDOW_S,
        )
    return days


def _stored_days(engine: Engine) -> dict[datetime, dict[str, Any]]:
    with transaction(engine, read_only=True) as session:
        rows = session.scalars(select(SloDayRow).order_by(SloDayRow.day)).all()
        return {
            day_of_number(row.day): {
                "hours": row.hours,
                "close_hour_start": row.close_hour_start,
                "sli_last": row.sli_last,
                "remaining_last": row.remaining_last,
                "burn_1d_last": row.burn_1d_last,
                "budget_burned": row.budget_burned,
            }
            for row in rows
        }


def _assert_days_equal(found: dict[datetime, Any], expected: dict[datetime, Any]) -> None:
    assert list(found) == list(expected)
    for day, figures in expected.items():
        assert found[day] == {
            name: pytest.approx(value) if isinstance(value, float) else value
            for name, value in figures.items()
        }, day


@pytest.fixture
def stored(engine: Engine) -> Engine:
    with transaction(engine) as session:
        repo.apply_slo(session, slo=SLO_, actor="alice", now=T0)
    return engine


def test_days_equal_the_raw_snapshots_through_compaction_and_a_spec_change(
    stored: Engine,
) -> None:
    """Two and a half days at one snapshot every 20 minutes, the objective tightened on the
    second day (its snapshots then burn four times as fast), compacted as the job does: hour
    by hour, the raw snapshots deleted past a 1-day horizon."""
    changed_at = T0 + DAY + 7 * HOUR
    stricter = replace(SLO_, objective=0.9975)
    before = _snapshots(T0, changed_at, every_min=20, slo=SLO_)
    after = _snapshots(changed_at, T0 + 2 * DAY + 12 * HOUR, every_min=20, slo=stricter)
    with transaction(stored) as session:
        repo.record_snapshots(session, statuses=before)
    compact_history(stored, now=changed_at, raw_s=86400, hourly_s=396 * 86400)
    with transaction(stored) as session:
        repo.apply_slo(session, slo=stricter, actor="alice", now=changed_at)
        repo.record_snapshots(session, statuses=after)
    for hours in range(1, 31):  # the job's rounds, an hour apart
        compact_history(stored, now=changed_at + hours * HOUR, raw_s=86400, hourly_s=396 * 86400)
    expected = _expected(before + after)
    assert expected[T0 + DAY]["hours"] == 24
    assert expected[T0 + 2 * DAY]["hours"] == 12  # today: the hours rolled up so far
    _assert_days_equal(_stored_days(stored), expected)
    with transaction(stored, read_only=True) as session:
        slo_id = repo.get_slo(session, service="checkout", name="availability").id
        # the day between T0 and T0 + 2 d is read by the range, and not one of `days`
        read = repo.day_rollups(session, days=[T0 - DAY, T0, T0 + 2 * DAY], slo_ids=[slo_id])
        burned = repo.budget_burned_by_day(session, days=[T0 + DAY, T0 + 3 * DAY])
    missing, first, today = read[slo_id]
    assert missing is None
    assert first is not None
    assert today is not None
    assert first.sli == pytest.approx(expected[T0]["sli_last"])
    assert first.remaining == pytest.approx(expected[T0]["remaining_last"])
    assert first.budget_burned == pytest.approx(expected[T0]["budget_burned"])
    assert today.burn_1d == pytest.approx(expected[T0 + 2 * DAY]["burn_1d_last"])
    assert burned == {slo_id: [pytest.approx(expected[T0 + DAY]["budget_burned"]), None]}


def test_days_follow_the_hourly_horizon(stored: Engine) -> None:
    statuses = _snapshots(T0, T0 + DAY + 6 * HOUR, every_min=30, slo=SLO_)
    with transaction(stored) as session:
        repo.record_snapshots(session, statuses=statuses)
    compact_history(stored, now=T0 + DAY + 7 * HOUR, raw_s=86400, hourly_s=396 * 86400)
    assert _stored_days(stored)[T0]["hours"] == 24
    # a horizon at T0 + 1 d 2 h: the first day goes, the second keeps its last 4 hours
    compact_history(stored, now=T0 + 2 * DAY + 2 * HOUR, raw_s=86400, hourly_s=86400)
    kept = [status for status in statuses if status.at >= T0 + DAY + 2 * HOUR]
    _assert_days_equal(_stored_days(stored), _expected(kept))
    assert _stored_days(stored)[T0 + DAY]["hours"] == 4


def test_a_day_left_without_hours_loses_its_row(stored: Engine) -> None:
    with transaction(stored) as session:
        repo.record_snapshots(session, statuses=_snapshots(T0, T0 + HOUR, every_min=30, slo=SLO_))
    compact_history(stored, now=T0 + 2 * HOUR, raw_s=86400, hourly_s=396 * 86400)
    assert list(_stored_days(stored)) == [T0]
    with transaction(stored) as session:
        session.execute(delete(SloHourRow))
        assert repo.refresh_day_rollups(session, day_start=T0) == 0
    assert _stored_days(stored) == {}


def test_an_slo_deleted_takes_its_days_along(stored: Engine) -> None:
    with transaction(stored) as session:
        repo.record_snapshots(session, statuses=_snapshots(T0, T0 + HOUR, every_min=30, slo=SLO_))
    compact_history(stored, now=T0 + 2 * HOUR, raw_s=86400, hourly_s=396 * 86400)
    with transaction(stored) as session:
        repo.delete_slo(session, service="checkout", name="availability", actor="alice")
    assert _stored_days(stored) == {}


def _hour_row(slo_id: int, hour_start: datetime, index: int) -> dict[str, Any]:
    remaining = 0.9 - index / 1000
    burn_1d: float | None = None if index % 5 == 0 else 1.0 + index / 10
    burned = None if index % 4 == 0 else index / 10_000
    return {
        "slo_id": slo_id,
        "hour_start": hour_start,
        "samples": 60,
        "objective": 0.999,
        "window": "30d",
        "window_s": WINDOW_S,
        "sli_last": 1 - index / 100_000,
        "remaining_last": remaining,
        "burn_rates_json": "{}"
        if burn_1d is None
        else f'{{"1d":[0.0,9.0,0.5,{burn_1d!r}],"1h":[0.0,1.0,0.5,0.7]}}',
        "budget_burned": burned,
        "worst_data": "ok",
        "worst_policy_state": "normal",
    }


def test_the_migration_fills_the_days_from_the_stored_hours(empty_url: str) -> None:
    """Hours stored before the day rows existed (0014), two SLOs over three days with gaps:
    after the upgrade each day row says what its hours do, computed here from the rows."""
    engine = create_store_engine(empty_url)
    try:
        upgrade(engine, "0014_load_runs")
        with transaction(engine) as session:
            for slo in (SLO_, replace(SLO_, service="search")):
                repo.apply_slo(session, slo=slo, actor="alice", now=T0)
            ids = [row.id for row in repo.list_slos(session)]
        rows = [
            _hour_row(slo_id, T0 + hour * HOUR, index)
            for position, slo_id in enumerate(ids)
            for index, hour in enumerate(range(position, 72, 5))  # every 5th hour, shifted
        ]
        with engine.begin() as connection:
            connection.execute(insert(SloHourRow), rows)
        upgrade(engine)
        with transaction(engine, read_only=True) as session:
            found = {
                (row.slo_id, day_of_number(row.day)): row
                for row in session.scalars(select(SloDayRow)).all()
            }
        expected: dict[tuple[int, datetime], list[dict[str, Any]]] = {}
        for row in rows:
            day = row["hour_start"].replace(hour=0)
            expected.setdefault((row["slo_id"], day), []).append(row)
        assert set(found) == set(expected)
        for key, hours in expected.items():
            close = hours[-1]  # inserted in hour order
            day_row = found[key]
            spent = [hour["budget_burned"] for hour in hours if hour["budget_burned"] is not None]
            assert day_row.hours == len(hours)
            assert day_row.close_hour_start == close["hour_start"]
            assert day_row.remaining_last == pytest.approx(close["remaining_last"])
            assert day_row.sli_last == pytest.approx(close["sli_last"])
            burn = close["burn_rates_json"]
            assert (day_row.burn_1d_last is None) == (burn == "{}")
            if day_row.burn_1d_last is not None:
                assert math.isclose(day_row.burn_1d_last, float(burn.split(",")[3][:-1]))
            assert day_row.budget_burned == (pytest.approx(sum(spent)) if spent else None)
    finally:
        engine.dispose()
