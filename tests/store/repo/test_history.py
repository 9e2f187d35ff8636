"""SLO history compaction on SQLite and PostgreSQL: hours rolled up once, raw snapshots
deleted past the raw horizon (each SLO's newest kept), rollups past the hourly horizon, and
a crash half-way leaving nothing doubled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select

from srekit.core.history import Buckets, SnapshotPoint, downsample, hour_floor, raw_horizon
from srekit.core.sli import EventCounts
from srekit.core.slo import SLO, EventsRatio
from srekit.core.status import evaluate_slo
from srekit.core.window import RollingWindow
from srekit.flows.history import compact_history, slo_history_chart
from srekit.store import repo
from srekit.store.database import transaction
from srekit.store.repo import history as history_repo
from srekit.store.tables import SloHourRow, SnapshotRow

T0 = datetime(2026, 11, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
SLO_ = SLO(
    service="checkout",
    name="availability",
    objective=0.99,
    window=RollingWindow(30 * 86400),
    indicator=EventsRatio(good="status < 500"),
)
OTHER = SLO(
    service="search",
    name="availability",
    objective=0.99,
    window=RollingWindow(30 * 86400),
    indicator=EventsRatio(good="status < 500"),
)


def _record(engine: Engine, *, start: datetime, hours: int, every_min: int = 10) -> None:
    """A snapshot every `every_min` minutes for `hours` from `start`, both SLOs: the 1 h
    burn rate is the minute of the hour / 10 (0 at :00, 5 at :50), the SLI 1 − bad/1000."""
    statuses = []
    moment = start
    while moment < start + hours * HOUR:
        bad = moment.minute
        readings = {
            "1h": EventCounts(good=1000 - moment.minute / 10, total=1000),
            "30d": EventCounts(good=1000 - bad, total=1000),
        }
        statuses += [evaluate_slo(slo, readings=readings, at=moment) for slo in (SLO_, OTHER)]
        moment += timedelta(minutes=every_min)
    with transaction(engine) as session:
        repo.record_snapshots(session, statuses=statuses)


@pytest.fixture
def stored(engine: Engine) -> Engine:
    with transaction(engine) as session:
        for slo in (SLO_, OTHER):
            repo.apply_slo(session, slo=slo, actor="alice", now=T0)
    return engine


def _count(engine: Engine, table: type[SnapshotRow] | type[SloHourRow]) -> int:
    with transaction(engine, read_only=True) as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def test_compaction_rolls_up_complete_hours_once(stored: Engine) -> None:
    _record(stored, start=T0, hours=3)  # 18 snapshots an SLO, 10:00..02:50
    now = T0 + 2 * HOUR + timedelta(minutes=10)  # the 01:00 hour ended 10 minutes ago
    first = compact_history(stored, now=now, raw_s=2 * 86400, hourly_s=396 * 86400)
    assert first.rolled_hours == (T0, T0 + HOUR)
    assert _count(stored, SloHourRow) == 4
    assert first.deleted_snapshots == 0  # nothing is past the raw horizon
    assert _count(stored, SnapshotRow) == 36
    again = compact_history(stored, now=now, raw_s=2 * 86400, hourly_s=396 * 86400)
    assert again.rollups == 0
    assert _count(stored, SloHourRow) == 4
    with transaction(stored, read_only=True) as session:
        slo_id = repo.get_slo(session, service="checkout", name="availability").id
        [rollup, _] = history_repo.hour_rollups(session, slo_id=slo_id, start=T0, end=now)
    assert rollup.samples == 6
    # minutes 0, 10, …, 50: bad events 0..50 of 1000, the SLI from 1.0 down to 0.95
    assert rollup.sli is not None
    assert (rollup.sli.low, rollup.sli.high, rollup.sli.last) == pytest.approx((0.95, 1.0, 0.95))
    assert rollup.bad_events is not None
    assert (rollup.bad_events.first, rollup.bad_events.last) == (0, 50)
    burn = rollup.burn_rates["1h"]
    # 1 h error ratio minute/10/1000, burn = that / 0.01: 0 at :00, 0.5 at :50
    assert burn is not None
    assert (burn.low, burn.high, burn.last) == pytest.approx((0.0, 0.5, 0.5))


def test_raw_snapshots_go_past_the_raw_horizon_keeping_each_newest(stored: Engine) -> None:
    _record(stored, start=T0, hours=2)
    now = T0 + 3 * HOUR  # raw horizon 1 h: hours ending by 02:00 lose their raw snapshots
    report = compact_history(stored, now=now, raw_s=3600, hourly_s=396 * 86400)
    assert report.rolled_hours == (T0, T0 + HOUR)
    # 24 raw snapshots; each SLO's newest (01:50) stays
    assert report.deleted_snapshots == 22
    assert _count(stored, SnapshotRow) == 2
    with transaction(stored, read_only=True) as session:
        latest = repo.latest_snapshots(session)
    assert {row.evaluated_at for row in latest.values()} == {T0 + HOUR + timedelta(minutes=50)}
    # the chart reads the rollups where the raw snapshots went: both hours, no double
    chart = slo_history_chart(
        stored,
        service="checkout",
        name="availability",
        start=T0,
        end=T0 + 2 * HOUR,
        width=2,
        now=now,
        raw_s=3600,
    )
    assert chart.series["sli"].low == pytest.approx([0.95, 0.95])
    assert chart.series["burn_rate:1h"].high == pytest.approx([0.5, 0.5])


def test_rollups_go_past_the_hourly_horizon(stored: Engine) -> None:
    _record(stored, start=T0, hours=2)
    compact_history(stored, now=T0 + 3 * HOUR, raw_s=86400, hourly_s=86400)
    assert _count(stored, SloHourRow) == 4
    later = compact_history(
        stored, now=T0 + DAY + 90 * timedelta(minutes=1), raw_s=86400, hourly_s=86400
    )
    # the hourly horizon is 00:00 + 1 d 1:30 − 1 d, to the hour: 01:00; 00:00 goes
    assert later.deleted_rollups == 2
    assert _count(stored, SloHourRow) == 2
    assert later.rollups == 0  # the newest snapshots left in an expired hour are not rolled again


def test_a_crash_half_way_leaves_no_double(stored: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    _record(stored, start=T0, hours=3)
    now = T0 + 3 * HOUR + timedelta(minutes=10)
    real = history_repo.delete_rolled_snapshots
    calls = 0

    def crash_on_the_second_hour(session: object, *, hour_start: datetime) -> int:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("the process died")
        return real(session, hour_start=hour_start)  # type: ignore[arg-type]

    monkeypatch.setattr("srekit.flows.history.delete_rolled_snapshots", crash_on_the_second_hour)
    with pytest.raises(RuntimeError, match="died"):
        compact_history(stored, now=now, raw_s=3600, hourly_s=396 * 86400)
    # the first hour is done; the second's rollups went with its transaction
    with transaction(stored, read_only=True) as session:
        hours = sorted(session.scalars(select(SloHourRow.hour_start).distinct()))
    assert hours == [T0]
    monkeypatch.setattr("srekit.flows.history.delete_rolled_snapshots", real)
    compact_history(stored, now=now, raw_s=3600, hourly_s=396 * 86400)
    compact_history(stored, now=now, raw_s=3600, hourly_s=396 * 86400)
    assert _count(stored, SloHourRow) == 6
    with transaction(stored, read_only=True) as session:
        samples = list(session.scalars(select(SloHourRow.samples)))
    assert samples == [6] * 6
    # raw: hours 00 and 01 past the 1 h horizon (02:00 + … ) go, 02:00's stay
    assert _count(stored, SnapshotRow) == 12


def test_the_heatmap_sums_each_days_hours(stored: Engine) -> None:
    _record(stored, start=T0, hours=3)
    compact_history(stored, now=T0 + 4 * HOUR, raw_s=86400, hourly_s=396 * 86400)
    with transaction(stored, read_only=True) as session:
        burned = history_repo.budget_burned_by_day(session, days=[T0 - DAY, T0])
    # each hour's last 1 h burn is 0.5: 0.5 × 3600 / 30 d spends 1/1440; three hours 1/480
    assert sorted(burned.values(), key=str) == [
        [None, pytest.approx(1 / 480)],
        [None, pytest.approx(1 / 480)],
    ]


def test_compaction_refuses_no_horizon(stored: Engine) -> None:
    with pytest.raises(ValueError, match="positive horizons"):
        compact_history(stored, now=T0, raw_s=0, hourly_s=3600)


def test_a_calendar_windows_lines_follow_its_period(engine: Engine) -> None:
    from srekit.core.window import CalendarWindow

    monthly = SLO(
        service="billing",
        name="availability",
        objective=0.99,
        window=CalendarWindow("month"),
        indicator=EventsRatio(good="status < 500"),
    )
    with transaction(engine) as session:
        repo.apply_slo(session, slo=monthly, actor="alice", now=T0)
    # the last hour of October and the first of November: two periods
    statuses = [
        evaluate_slo(
            monthly,
            readings={"month": EventCounts(good=1000 - bad, total=1000)},
            at=T0 - HOUR + timedelta(minutes=minute),
        )
        for minute, bad in ((0, 1), (30, 2), (60, 3), (90, 4))
    ]
    with transaction(engine) as session:
        repo.record_snapshots(session, statuses=statuses)
    chart = slo_history_chart(
        engine,
        service="billing",
        name="availability",
        start=T0 - HOUR,
        end=T0 + HOUR,
        width=2,
        now=T0 + 2 * HOUR,
        raw_s=86400,
    )
    # November's period: the ideal line runs over its 30 days
    assert chart.ideal == ((T0, 1.0), (T0 + 30 * DAY, 0.0))
    assert chart.window_s == 30 * 86400
    # the burn-down is November's remaining budget: 1 − 4/1000/0.01 at 01:00
    ((burned_at, remaining),) = chart.burndown
    assert burned_at == T0 + HOUR
    assert remaining == pytest.approx(0.6)
    assert chart.series["remaining"].last == pytest.approx([0.8, 0.6])


def test_day_closes_are_each_days_last_rolled_up_hour(stored: Engine) -> None:
    """Two days of snapshots every 10 minutes, rolled up: each day's close is its 23:00 hour's
    last snapshot (:50: bad 50 of 1000, and 5 of 1000 over 1 h, burn rate 0.5); a day without
    rollups is None, and `slo_ids` limits the SLOs read."""
    _record(stored, start=T0, hours=48)
    compact_history(stored, now=T0 + 3 * DAY, raw_s=86400, hourly_s=400 * 86400)
    days = [(T0 + back * DAY, T0 + (back + 1) * DAY) for back in range(3)]
    with transaction(stored, read_only=True) as session:
        checkout = repo.get_slo(session, service="checkout", name="availability").id
        closes = history_repo.day_closes(session, days=days)
        only = history_repo.day_closes(session, days=days[:1], slo_ids=[checkout])
    assert len(closes) == 2
    first, second, third = closes[checkout]
    assert third is None
    for close, day in ((first, T0), (second, T0 + DAY)):
        assert close is not None
        assert close.hour_start == day + 23 * HOUR
        assert close.sli == pytest.approx(1 - 50 / 1000)
        assert close.burn_rates["1h"] == pytest.approx((5 / 1000) / 0.01)
    assert list(only) == [checkout]


def test_day_closes_fall_back_to_the_last_hour_a_day_has(stored: Engine) -> None:
    """A day that stops before 23:00 closes with its last rolled-up hour (found by the
    fallback query, not the one that reads each day's last hour); a day range ending inside
    an hour closes with the last hour starting before that end."""
    _record(stored, start=T0, hours=15)  # 00:00 to 14:50, both SLOs
    _record(stored, start=T0 + DAY, hours=24)
    compact_history(stored, now=T0 + 3 * DAY, raw_s=86400, hourly_s=400 * 86400)
    days = [(T0, T0 + DAY), (T0 + DAY, T0 + DAY + 10 * HOUR + timedelta(minutes=30))]
    with transaction(stored, read_only=True) as session:
        checkout = repo.get_slo(session, service="checkout", name="availability").id
        search = repo.get_slo(session, service="search", name="availability").id
        closes = history_repo.day_closes(session, days=days)
        only = history_repo.day_closes(session, days=days, slo_ids=[search])
    assert set(closes) == {checkout, search}
    for slo_id in (checkout, search):
        first, second = closes[slo_id]
        assert first is not None
        assert first.hour_start == T0 + 14 * HOUR  # the day's last hour with snapshots
        assert second is not None
        assert second.hour_start == T0 + DAY + 10 * HOUR  # starts before 10:30
        assert second.burn_rates["1h"] == pytest.approx((5 / 1000) / 0.01)
    assert only == {search: closes[search]}


def _chart_by_points(
    engine: Engine, *, start: datetime, end: datetime, width: int, now: datetime, raw_s: float
) -> dict[str, Buckets]:
    """The chart's series worked out another way: every rollup and raw snapshot read as
    objects (`hour_rollups`, `snapshot_points`), hour by hour from one source (raw past the
    raw horizon or where no rollup exists; with buckets of an hour or more, raw only past
    the newest rollup), each figure's points downsampled on its own."""
    seam = raw_horizon(now, raw_s=raw_s)
    coarse = (end - start).total_seconds() / width >= 3600
    with transaction(engine, read_only=True) as session:
        slo_id = repo.get_slo(session, service="checkout", name="availability").id
        rollups = {
            rollup.hour_start: rollup
            for rollup in history_repo.hour_rollups(
                session, slo_id=slo_id, start=start - 40 * DAY, end=end
            )
        }
        raw: dict[datetime, list[SnapshotPoint]] = {}
        for point in history_repo.snapshot_points(
            session, slo_id=slo_id, start=start - 40 * DAY, end=end
        ):
            raw.setdefault(hour_floor(point.at), []).append(point)
    if coarse and rollups:
        raw = {hour: kept for hour, kept in raw.items() if hour > max(rollups)}
    points: dict[str, list[tuple[float, float, float, float, float]]] = {}
    for hour in sorted({*rollups, *raw}):
        if hour in raw and (hour >= seam or hour not in rollups):
            for point in raw[hour]:
                t = point.at.timestamp()
                figures = {
                    "sli": point.sli,
                    "remaining": point.remaining,
                    "total_events": point.total_events,
                    "bad_events": None
                    if point.total_events is None or point.good_events is None
                    else point.total_events - point.good_events,
                    **{f"burn_rate:{w}": rate for w, rate in point.burn_rates.items()},
                }
                for name, value in figures.items():
                    if value is not None:
                        points.setdefault(name, []).append((t, value, value, value, value))
        else:
            rollup = rollups[hour]
            extents = {
                "sli": rollup.sli,
                "remaining": rollup.remaining,
                "bad_events": rollup.bad_events,
                "total_events": rollup.total_events,
                **{f"burn_rate:{w}": extent for w, extent in rollup.burn_rates.items()},
            }
            for name, extent in extents.items():
                if extent is not None:
                    points.setdefault(name, []).append((hour.timestamp(), *extent))
    found = {
        name: downsample(series, start=start.timestamp(), end=end.timestamp(), width=width)
        for name, series in points.items()
    }
    return {name: buckets for name, buckets in found.items() if buckets.t}


@pytest.mark.parametrize(
    ("back", "width"),
    [(timedelta(hours=5), 600), (DAY, 600), (3 * DAY, 600), (3 * DAY, 7), (5 * DAY, 600)],
)
def test_the_chart_equals_downsampling_each_figures_points(
    stored: Engine, back: timedelta, width: int
) -> None:
    """Four days of snapshots every 10 minutes, compacted with a one-day raw horizon (older
    hours are rollups only, the last day raw and rolled up, the hour in progress raw only):
    every series of the chart
    equals downsampling each figure's points, over short and long ranges, fine and coarse
    buckets, on SQLite and PostgreSQL."""
    now = T0 + 4 * DAY + 25 * timedelta(minutes=1)
    _record(stored, start=T0, hours=4 * 24 + 1)
    compact_history(stored, now=now, raw_s=86400, hourly_s=400 * 86400)
    with transaction(stored, read_only=True) as session:
        kept = session.scalar(select(func.count()).select_from(SnapshotRow))
    assert kept is not None
    assert kept > 2 * 24 * 6  # the last day of both SLOs, raw
    start, end = now - back, now
    chart = slo_history_chart(
        stored,
        service="checkout",
        name="availability",
        start=start,
        end=end,
        width=width,
        now=now,
        raw_s=86400,
    )
    expected = _chart_by_points(stored, start=start, end=end, width=width, now=now, raw_s=86400)
    assert set(chart.series) == set(expected)
    assert {"sli", "remaining", "bad_events", "total_events", "burn_rate:1h"} <= set(expected)
    for name, buckets in expected.items():
        assert chart.series[name] == buckets, name
    # the SLO page's two series alone: the same buckets, the same burn-down
    two = slo_history_chart(
        stored,
        service="checkout",
        name="availability",
        start=start,
        end=end,
        width=width,
        now=now,
        raw_s=86400,
        figures=("sli", "remaining"),
    )
    assert two.series == {name: expected[name] for name in ("sli", "remaining")}
    assert two.burndown == chart.burndown
    assert len(chart.burndown) >= 4 * 24
