"""SLO snapshots: recorded, read back newest or as history, pruned; on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select

from srekit.contracts import status_document
from srekit.core.sli import EventCounts
from srekit.core.slo import SLO, EventsRatio
from srekit.core.status import DataState, SloStatus, evaluate_slo, unavailable_status
from srekit.core.window import RollingWindow
from srekit.errors import NotFound
from srekit.store import repo
from srekit.store.database import transaction
from srekit.store.tables import SnapshotRow

T0 = datetime(2026, 11, 1, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def _slo(service: str, name: str) -> SLO:
    return SLO(
        service=service,
        name=name,
        objective=0.999,
        window=RollingWindow(30 * 86400),
        indicator=EventsRatio(good="status < 500"),
        labels={"tier": "1"},
    )


CHECKOUT = _slo("checkout", "availability")
LATENCY = _slo("checkout", "latency")
SEARCH = _slo("search", "availability")


def _status(slo: SLO, at: datetime, bad: float = 10.0) -> SloStatus:
    """A status from counts: 100 000 events over 30 days, `bad` of them bad, 1 in the last hour."""
    readings = {
        label: EventCounts(good=1000 - 1, total=1000)
        for label in ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
    }
    readings["30d"] = EventCounts(good=100_000 - bad, total=100_000)
    return evaluate_slo(slo, readings=readings, at=at)


@pytest.fixture
def stored(engine: Engine) -> Engine:
    with transaction(engine) as session:
        for slo in (CHECKOUT, LATENCY, SEARCH):
            repo.apply_slo(session, slo=slo, actor="alice", now=T0)
    return engine


def test_a_snapshot_gives_back_the_status_it_recorded(stored: Engine) -> None:
    status = _status(CHECKOUT, T0)
    assert status.error_budget is not None
    assert status.error_budget.remaining == pytest.approx(0.9)  # 10 of 100 allowed bad events
    with transaction(stored) as session:
        assert repo.record_snapshots(session, statuses=[status]) == 1
    with transaction(stored) as session:
        row = repo.latest_snapshots(session)["checkout", "availability"]
    # read after the session closed: the SLO and its service came with the snapshot
    assert row.to_status() == status
    assert status_document(row.to_status()) == status_document(status)
    assert (row.slo_version, row.evaluated_at, row.window_s) == (1, T0, 30 * 86400)


def test_an_error_status_round_trips_without_figures(stored: Engine) -> None:
    failed = unavailable_status(CHECKOUT, at=T0, detail="Prometheus at http://x: refused")
    with transaction(stored) as session:
        repo.record_snapshots(session, statuses=[failed])
    with transaction(stored) as session:
        row = repo.latest_snapshots(session)["checkout", "availability"]
        assert (row.sli, row.remaining, row.data) == (None, None, "error")
        assert row.to_status() == failed


def test_uncounted_readings_keep_their_sli_but_no_events(stored: Engine) -> None:
    """An error-ratio source reports counted=False: the snapshot keeps its SLI but no events."""
    ratio_only = {"30d": EventCounts(good=0.9995, total=1.0, counted=False)}
    status = evaluate_slo(CHECKOUT, readings=ratio_only, at=T0)
    with transaction(stored) as session:
        repo.record_snapshots(session, statuses=[status])
    with transaction(stored) as session:
        back = repo.latest_snapshots(session)["checkout", "availability"].to_status()
    assert back.sli == pytest.approx(0.9995)
    assert back.counts is None
    assert status_document(back) == status_document(status)  # "events" is null either way


def test_statuses_of_unknown_slos_are_skipped(stored: Engine) -> None:
    ghost = _status(_slo("checkout", "deleted"), T0)
    with transaction(stored) as session:
        assert repo.record_snapshots(session, statuses=[ghost, _status(SEARCH, T0)]) == 1
        assert repo.record_snapshots(session, statuses=[]) == 0


def test_now_stamps_every_snapshot(stored: Engine) -> None:
    with transaction(stored) as session:
        repo.record_snapshots(session, statuses=[_status(SEARCH, T0)], now=T0 + MINUTE)
    with transaction(stored) as session:
        assert repo.latest_snapshots(session)["search", "availability"].evaluated_at == T0 + MINUTE


def test_latest_is_the_newest_per_slo_whatever_the_insertion_order(stored: Engine) -> None:
    with transaction(stored) as session:
        for minutes, bad in ((0, 10.0), (2, 30.0), (1, 20.0)):  # the newest is not the last row
            at = T0 + minutes * MINUTE
            repo.record_snapshots(
                session, statuses=[_status(CHECKOUT, at, bad), _status(SEARCH, at, bad + 1)]
            )
        repo.record_snapshots(session, statuses=[_status(LATENCY, T0, 5.0)])
    with transaction(stored) as session:
        latest = repo.latest_snapshots(session)
        assert sorted(latest) == [
            ("checkout", "availability"),
            ("checkout", "latency"),
            ("search", "availability"),
        ]
        figures: dict[tuple[str, str], tuple[datetime, object]] = {
            key: (row.evaluated_at, row.consumed) for key, row in latest.items()
        }
        assert figures == {
            ("checkout", "availability"): (T0 + 2 * MINUTE, pytest.approx(0.3)),
            ("checkout", "latency"): (T0, pytest.approx(0.05)),
            ("search", "availability"): (T0 + 2 * MINUTE, pytest.approx(0.31)),
        }
        assert sorted(repo.latest_snapshots(session, service="checkout")) == [
            ("checkout", "availability"),
            ("checkout", "latency"),
        ]
        assert repo.latest_snapshots(session, service="nobody") == {}
        # as of a past instant: the newest at or before it; SLOs with none then are absent
        then = repo.latest_snapshots(session, at=T0 + MINUTE)
        assert {key: row.evaluated_at for key, row in then.items()} == {
            ("checkout", "availability"): T0 + MINUTE,
            ("checkout", "latency"): T0,
            ("search", "availability"): T0 + MINUTE,
        }
        assert then["checkout", "availability"].consumed == pytest.approx(0.2)
        assert repo.latest_snapshots(session, at=T0 - MINUTE) == {}


def test_the_last_good_snapshot_skips_failed_and_stale_ones(stored: Engine) -> None:
    good = _status(CHECKOUT, T0)
    failed = unavailable_status(CHECKOUT, at=T0 + MINUTE, detail="down")
    stale = replace(good, at=T0 + 2 * MINUTE, data=DataState.STALE, detail="old")
    with transaction(stored) as session:
        slo_id = repo.get_slo(session, service="checkout", name="availability").id
        assert repo.last_good_snapshot(session, slo_id=slo_id) is None
        repo.record_snapshots(session, statuses=[good, failed, stale])
    with transaction(stored) as session:
        last = repo.last_good_snapshot(session, slo_id=slo_id)
        assert last is not None
        assert (last.evaluated_at, last.data) == (T0, "ok")
        assert repo.latest_snapshots(session)["checkout", "availability"].data == "stale"


def test_history_is_oldest_first_within_bounds(stored: Engine) -> None:
    with transaction(stored) as session:
        for offset in range(10):
            at = T0 + offset * MINUTE
            repo.record_snapshots(session, statuses=[_status(CHECKOUT, at), _status(SEARCH, at)])
    with transaction(stored) as session:

        def minutes(
            since: datetime | None = None, until: datetime | None = None, limit: int = 1000
        ) -> list[int]:
            rows = repo.slo_history(
                session,
                service="checkout",
                name="availability",
                since=since,
                until=until,
                limit=limit,
            )
            assert all(row.slo.name == "availability" for row in rows)
            return [int((row.evaluated_at - T0) / MINUTE) for row in rows]

        assert minutes() == list(range(10))
        assert minutes(since=T0 + 3 * MINUTE, until=T0 + 5 * MINUTE) == [3, 4, 5]
        assert minutes(limit=3) == [7, 8, 9]  # the newest three
        with pytest.raises(NotFound):
            repo.slo_history(session, service="checkout", name="nothing")


def test_pruning_keeps_each_slos_newest_snapshot(stored: Engine) -> None:
    with transaction(stored) as session:
        for minutes in range(5):
            repo.record_snapshots(session, statuses=[_status(CHECKOUT, T0 + minutes * MINUTE)])
        repo.record_snapshots(session, statuses=[_status(SEARCH, T0)])
    with transaction(stored) as session:
        assert repo.prune_snapshots(session, older_than=T0 + 3 * MINUTE) == 3
    with transaction(stored) as session:
        left = {
            (row.slo.service.name, row.slo.name, row.evaluated_at)
            for row in session.scalars(select(SnapshotRow).join(SnapshotRow.slo))
        }
        assert left == {
            ("checkout", "availability", T0 + 3 * MINUTE),
            ("checkout", "availability", T0 + 4 * MINUTE),
            ("search", "availability", T0),  # old, but the only one it has
        }


def test_deleting_an_slo_deletes_its_snapshots(stored: Engine) -> None:
    with transaction(stored) as session:
        repo.record_snapshots(session, statuses=[_status(CHECKOUT, T0), _status(SEARCH, T0)])
    with transaction(stored) as session:
        repo.delete_slo(session, service="checkout", name="availability", actor="alice")
    with transaction(stored) as session:
        assert session.scalar(select(func.count()).select_from(SnapshotRow)) == 1


def test_the_newest_snapshot_id_moves_with_each_round(stored: Engine) -> None:
    with transaction(stored) as session:
        assert repo.newest_snapshot_id(session) is None
        repo.record_snapshots(session, statuses=[_status(CHECKOUT, T0), _status(SEARCH, T0)])
    with transaction(stored) as session:
        first = repo.newest_snapshot_id(session)
        assert first == max(row.id for row in repo.latest_snapshots(session).values())
        repo.record_snapshots(session, statuses=[_status(CHECKOUT, T0 + MINUTE)])
        newest = repo.newest_snapshot_id(session)
        assert first is not None
        assert newest is not None
        assert newest > first
