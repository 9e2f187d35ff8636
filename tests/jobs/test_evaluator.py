"""The background evaluator: rounds, stale figures when a source fails, the loop, the lock."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from sqlalchemy import Engine, func, select

from srekit.config import Settings
from srekit.core.sli import EventCounts, SourceSet, WindowQuery
from srekit.core.slo import SLO, BudgetingMethod, EventsRatio, PromRatio
from srekit.core.status import DataState, SloStatus
from srekit.core.window import RollingWindow
from srekit.errors import SourceUnavailable
from srekit.jobs.evaluator import EVALUATION_LOCK_KEY, EvaluationReport, Evaluator
from srekit.store import repo
from srekit.store.database import create_store_engine, transaction, upgrade
from srekit.store.repo import SnapshotRow
from srekit.telemetry import SrekitMetrics
from tests.postgres_fixture import PostgresServer

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)

# Occurrences, 30 days, 99.9 %: 80 bad of 100 000 in the window, 10 bad of 1000 in the last hour.
AVAILABILITY = SLO(
    service="checkout",
    name="availability",
    objective=0.999,
    window=RollingWindow(30 * 86400),
    indicator=EventsRatio(good="status < 500"),
    labels={"tier": "1"},
)
OCCURRENCES = {
    "5m": EventCounts(good=99, total=100),
    "30m": EventCounts(good=999, total=1000),
    "1h": EventCounts(good=990, total=1000),
    "2h": EventCounts(good=1998, total=2000),
    "6h": EventCounts(good=5994, total=6000),
    "1d": EventCounts(good=23_976, total=24_000),
    "3d": EventCounts(good=71_964, total=72_000),
    "30d": EventCounts(good=99_920, total=100_000),
}
# Timeslices, 1 day of one-minute slices, 99 %: the last 6 slices are bad (50 % good).
SLICED = SLO(
    service="checkout",
    name="sliced",
    objective=0.99,
    window=RollingWindow(86400),
    indicator=EventsRatio(good="status < 500"),
    budgeting=BudgetingMethod.TIMESLICES,
    timeslice_s=60,
    timeslice_target=0.9,
)
# Read from Prometheus, which the tests' SourceSet does not have.
FROM_PROMETHEUS = SLO(
    service="search",
    name="availability",
    objective=0.99,
    window=RollingWindow(30 * 86400),
    indicator=PromRatio(total="http_requests_total", bad='http_requests_total{code=~"5.."}'),
)


class FakeSource:
    """An SLI source answering fixed counts, or failing like an unreachable one on demand."""

    def __init__(self) -> None:
        self.failure: str | None = None
        self.broken_slo: str | None = None  # raises a non-SourceUnavailable error for this SLO
        self.calls = 0

    def _check(self, slos: Sequence[SLO]) -> None:
        self.calls += 1
        if self.failure is not None:
            raise SourceUnavailable(self.failure)
        if any(slo.id == self.broken_slo for slo in slos):
            raise RuntimeError(f"cannot query {self.broken_slo}")

    def counts(
        self, slos: Sequence[SLO], windows: Sequence[WindowQuery]
    ) -> Mapping[tuple[str, str], EventCounts | None]:
        self._check(slos)
        return {(slo.id, w.label): OCCURRENCES.get(w.label) for slo in slos for w in windows}

    def slices(
        self, slo: SLO, *, start: datetime, end: datetime, slice_s: int
    ) -> Sequence[EventCounts | None]:
        self._check([slo])
        count = int((end - start).total_seconds()) // slice_s
        good, bad = EventCounts(good=100, total=100), EventCounts(good=50, total=100)
        return [good] * (count - 6) + [bad] * 6


@pytest.fixture
def source() -> FakeSource:
    return FakeSource()


@pytest.fixture
def stored(engine: Engine) -> Engine:
    with transaction(engine) as session:
        for slo in (AVAILABILITY, SLICED):
            repo.apply_slo(session, slo=slo, actor="alice", now=T0 - timedelta(days=1))
    return engine


Make = Callable[..., Evaluator]


@pytest.fixture
def make(stored: Engine) -> Iterator[Make]:
    """Evaluators on the stored SLOs, reading `source` (a fresh FakeSource by default); each is
    closed at the end, as a replica's holds a PostgreSQL connection until then."""
    made: list[Evaluator] = []

    def build(
        source: FakeSource | None = None,
        *,
        interval_s: float = 60.0,
        retention_s: float | None = None,
    ) -> Evaluator:
        fake = source or FakeSource()
        evaluator = Evaluator(
            stored,
            Settings(),
            lambda: SourceSet(events=fake),
            interval_s=interval_s,
            retention_s=retention_s,
        )
        made.append(evaluator)
        return evaluator

    yield build
    for evaluator in made:
        evaluator.close()


def _by_name(statuses: Sequence[SloStatus]) -> dict[str, SloStatus]:
    return {status.slo: status for status in statuses}


def _sample(metrics: SrekitMetrics, name: str, **labels: str) -> float:
    return metrics.registry.get_sample_value(name, labels) or 0.0


def test_a_round_records_hand_computed_figures(source: FakeSource, make: Make) -> None:
    evaluator = make(source)
    report = evaluator.run_once(at=T0)
    assert (report.evaluated, report.recorded, report.source_failures) == (True, 2, {})
    statuses = _by_name(report.statuses)

    occurrences = statuses["availability"]
    assert occurrences.data is DataState.OK
    assert occurrences.sli == pytest.approx(0.9992)
    assert occurrences.error_budget is not None
    # error ratio 0.0008 over a budget of 0.001: 80 % spent; 0.1 % of 100 000 allowed bad
    assert occurrences.error_budget.consumed == pytest.approx(0.8)
    assert occurrences.error_budget.remaining == pytest.approx(0.2)
    assert occurrences.error_budget.allowed_bad_events == pytest.approx(100)
    assert occurrences.burn_rates["1h"] == pytest.approx(10)  # 1 % bad / 0.1 %
    assert occurrences.burn_rates["5m"] == pytest.approx(10)
    assert occurrences.burn_rates["6h"] == pytest.approx(1)
    # remaining × W / burn(1h) = 0.2 × 30 d / 10 = 0.6 d
    assert occurrences.time_to_exhaustion_s == pytest.approx(51_840)
    assert occurrences.policy_state == "feature_freeze"  # 10 % < 20 % ≤ 25 %
    assert [a.firing for a in occurrences.alerts] == [False, False, False, False]

    sliced = statuses["sliced"]
    # 6 bad slices of 1440: SLI 1434/1440; error 6/1440 over a budget of 1 %
    assert sliced.sli == pytest.approx(1434 / 1440)
    assert sliced.error_budget is not None
    assert sliced.error_budget.remaining == pytest.approx(1 - (6 / 1440) / 0.01)
    assert sliced.burn_rates["1h"] == pytest.approx((6 / 60) / 0.01)  # 10
    assert sliced.burn_rates["5m"] == pytest.approx((5 / 5) / 0.01)  # 100
    # page on 1h/5m at 2 % of a 1-day budget per hour: factor 0.02 × 24 = 0.48; both exceed it
    page = sliced.alerts[0]
    assert (page.long_window, page.short_window, page.firing) == ("1h", "5m", True)
    assert page.factor == pytest.approx(0.48)

    assert evaluator.latest_statuses(now=T0) == list(report.statuses)
    metrics = evaluator.metrics
    assert _sample(metrics, "srekit_evaluation_rounds_total", outcome="ok") == 1
    assert _sample(metrics, "srekit_evaluation_slos", data="ok") == 2
    assert _sample(metrics, "srekit_evaluation_round_duration_seconds_count") == 1
    assert _sample(metrics, "srekit_evaluation_last_success_timestamp_seconds") > 0


def test_stored_policies_decide_the_policy_state(stored: Engine, make: Make) -> None:
    from srekit.core.policy import BudgetPolicy, Decision, PolicyLevel

    strict = BudgetPolicy(
        name="default",
        levels=(
            PolicyLevel("comfortable", 0.9, Decision.ALLOW),
            PolicyLevel("tight", None, Decision.REVIEW),
        ),
    )
    with transaction(stored) as session:
        repo.apply_policy(session, policy=strict, actor="alice")
    report = make().run_once(at=T0)
    assert _by_name(report.statuses)["availability"].policy_state == "tight"


def test_a_failing_source_keeps_the_last_good_figures_as_stale(
    source: FakeSource, make: Make
) -> None:
    evaluator = make(source)
    good = _by_name(evaluator.run_once(at=T0).statuses)["availability"]

    source.failure = "event store down"
    later = T0 + timedelta(minutes=3, seconds=20)
    report = evaluator.run_once(at=later)
    assert report.source_failures == {"events": "event store down"}
    stale = _by_name(report.statuses)["availability"]
    assert stale.data is DataState.STALE
    assert stale.at == later
    assert stale.detail == (
        "source failed: event store down; last good evaluation 3m20s ago (2026-11-01T12:00:00Z)"
    )
    assert (stale.sli, stale.error_budget, stale.burn_rates, stale.alerts) == (
        good.sli,
        good.error_budget,
        good.burn_rates,
        good.alerts,
    )
    assert stale.policy_state == good.policy_state
    # the age counts from the last good round, not from the previous stale one
    again = evaluator.run_once(at=T0 + timedelta(hours=1, minutes=1))
    assert "last good evaluation 1h1m ago" in (_by_name(again.statuses)["sliced"].detail or "")
    assert _sample(evaluator.metrics, "srekit_sli_source_failures_total", source="events") == 2
    assert _sample(evaluator.metrics, "srekit_evaluation_slos", data="stale") == 2
    assert [s.data for s in evaluator.latest_statuses(now=T0 + timedelta(hours=1, minutes=1))] == [
        DataState.STALE,
        DataState.STALE,
    ]

    source.failure = None
    recovered = evaluator.run_once(at=T0 + timedelta(hours=2))
    assert [s.data for s in recovered.statuses] == [DataState.OK, DataState.OK]
    assert recovered.source_failures == {}


def test_a_failure_without_history_is_an_error(source: FakeSource, make: Make) -> None:
    source.failure = "event store down"
    report = make(source).run_once(at=T0)
    assert [(s.data, s.detail) for s in report.statuses] == [
        (DataState.ERROR, "event store down"),
        (DataState.ERROR, "event store down"),
    ]
    assert report.recorded == 2


def test_a_missing_source_fails_only_its_own_slos(stored: Engine, make: Make) -> None:
    with transaction(stored) as session:
        repo.apply_slo(session, slo=FROM_PROMETHEUS, actor="alice")
    report = make().run_once(at=T0)
    data = {(s.service, s.slo): s.data for s in report.statuses}
    assert data == {
        ("checkout", "availability"): DataState.OK,
        ("checkout", "sliced"): DataState.OK,
        ("search", "availability"): DataState.ERROR,
    }
    assert list(report.source_failures) == ["prometheus"]
    assert "Prometheus" in report.source_failures["prometheus"]


def test_an_unexpected_error_is_confined_to_the_slo_causing_it(
    source: FakeSource, make: Make
) -> None:
    source.broken_slo = SLICED.id
    report = make(source).run_once(at=T0)
    statuses = _by_name(report.statuses)
    assert statuses["availability"].data is DataState.OK
    assert statuses["sliced"].data is DataState.ERROR
    assert statuses["sliced"].detail == "events source failed: cannot query checkout-sliced"


def test_latest_statuses_mark_old_snapshots_and_unevaluated_slos(
    stored: Engine, make: Make
) -> None:
    evaluator = make(interval_s=60)
    evaluator.run_once(at=T0)
    with transaction(stored) as session:
        repo.apply_slo(session, slo=FROM_PROMETHEUS, actor="alice")

    fresh = evaluator.latest_statuses(now=T0 + timedelta(minutes=3))
    assert [(s.service, s.slo, s.data) for s in fresh] == [
        ("checkout", "availability", DataState.OK),
        ("checkout", "sliced", DataState.OK),
        ("search", "availability", DataState.ERROR),
    ]
    assert fresh[2].detail is not None
    assert fresh[2].detail.startswith("not evaluated yet")

    old = evaluator.latest_statuses("checkout", now=T0 + timedelta(minutes=3, seconds=1))
    assert [s.data for s in old] == [DataState.STALE, DataState.STALE]
    assert old[0].detail == "last evaluated 3m1s ago: the evaluator is behind or stopped"
    assert old[0].sli == pytest.approx(0.9992)  # the figures are kept


def test_old_snapshots_are_pruned(stored: Engine, make: Make) -> None:
    evaluator = make(retention_s=86400)
    assert evaluator.run_once(at=T0).pruned == 0
    evaluator.run_once(at=T0 + timedelta(minutes=30))  # within the hour: no pruning
    report = evaluator.run_once(at=T0 + timedelta(days=2))
    assert report.pruned == 4
    with transaction(stored) as session:
        assert session.scalar(select(func.count()).select_from(SnapshotRow)) == 2


def _wait_for(condition: Callable[[], bool], what: str, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def test_the_loop_survives_failing_rounds_and_resumes(
    stored: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    """Round 2 raises (building the sources fails), rounds 3 and 4 find the source down, and
    from round 5 on it answers again: the loop carries on through all of it by itself."""
    fake = FakeSource()
    built = 0

    def sources() -> SourceSet:
        nonlocal built
        built += 1
        if built == 2:
            raise RuntimeError("cannot build the sources")
        fake.failure = "event store down" if built in (3, 4) else None
        return SourceSet(events=fake)

    evaluator = Evaluator(stored, Settings(), sources)
    metrics = evaluator.metrics
    with caplog.at_level(logging.WARNING, logger="srekit.jobs.evaluator"):
        evaluator.start(interval_s=0.02)
        assert evaluator.running
        try:
            _wait_for(
                lambda: _sample(metrics, "srekit_evaluation_rounds_total", outcome="ok") >= 5,
                "five good rounds",
            )
        finally:
            evaluator.stop()
    assert not evaluator.running
    assert _sample(metrics, "srekit_evaluation_rounds_total", outcome="failed") == 1
    assert _sample(metrics, "srekit_sli_source_failures_total", source="events") == 2
    assert "evaluation round failed" in caplog.text
    assert "cannot build the sources" in caplog.text
    assert "SLI source events could not be read: event store down" in caplog.text
    with transaction(stored) as session:
        history = repo.slo_history(session, service="checkout", name="availability")
        data = [row.data for row in history]
        last_round = history[-1].evaluated_at
    assert data[:3] == ["ok", "stale", "stale"]
    assert set(data[3:]) == {"ok"}
    # as of the last round: with a 0.02 s interval, a loaded machine takes longer than the three
    # intervals that make a snapshot stale just to stop the loop and read the history
    statuses = evaluator.latest_statuses(now=last_round)
    assert [s.data for s in statuses] == [DataState.OK, DataState.OK]
    with pytest.raises(ValueError, match="positive"):
        evaluator.start(interval_s=0)


def test_starting_twice_is_refused(make: Make) -> None:
    evaluator = make()
    evaluator.start(interval_s=60)
    try:
        with pytest.raises(RuntimeError, match="already running"):
            evaluator.start()
    finally:
        evaluator.stop()


def test_naive_times_are_refused(make: Make) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        make().run_once(at=datetime(2026, 11, 1))


def test_a_second_evaluator_runs_only_on_sqlite(stored: Engine, make: Make) -> None:
    """SQLite serves one process, so there is no lock to take; on PostgreSQL the first
    evaluator leads (test_one_replica_evaluates has the details)."""
    first, second = make(), make()
    assert first.run_once(at=T0).evaluated
    assert second.run_once(at=T0 + timedelta(minutes=1)).evaluated is (
        stored.dialect.name == "sqlite"
    )


@pytest.fixture
def pg_engine(postgres: PostgresServer) -> Engine:
    engine = create_store_engine(postgres.create_database("evaluator"))
    upgrade(engine)
    with transaction(engine) as session:
        repo.apply_slo(session, slo=AVAILABILITY, actor="alice")
    return engine


def test_one_replica_evaluates(pg_engine: Engine) -> None:
    """Two replicas' rounds start together: one evaluates, the other skips; when the first
    lets go (stops, or its connection dies), the other takes over."""
    replicas = [
        Evaluator(pg_engine, Settings(), lambda: SourceSet(events=FakeSource())),
        Evaluator(pg_engine, Settings(), lambda: SourceSet(events=FakeSource())),
    ]
    barrier = threading.Barrier(2)
    reports: dict[int, EvaluationReport] = {}

    def round_of(index: int) -> None:
        barrier.wait()
        reports[index] = replicas[index].run_once(at=T0)

    threads = [threading.Thread(target=round_of, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert sorted(r.evaluated for r in reports.values()) == [False, True]
        leader = next(i for i, r in reports.items() if r.evaluated)
        follower = 1 - leader
        skipped = reports[follower]
        assert skipped.skipped_reason == "another replica holds the evaluation lock"
        assert (skipped.statuses, skipped.recorded) == ((), 0)
        with transaction(pg_engine) as session:
            assert session.scalar(select(func.count()).select_from(SnapshotRow)) == 1
        assert _sample(replicas[leader].metrics, "srekit_evaluation_leader") == 1
        assert _sample(replicas[follower].metrics, "srekit_evaluation_leader") == 0
        assert (
            _sample(replicas[follower].metrics, "srekit_evaluation_rounds_total", outcome="skipped")
            == 1
        )
        # the leader keeps the lock from round to round
        assert replicas[leader].run_once(at=T0 + timedelta(minutes=1)).evaluated
        assert replicas[follower].run_once(at=T0 + timedelta(minutes=1)).skipped

        replicas[leader].close()  # as stop() does
        assert replicas[follower].run_once(at=T0 + timedelta(minutes=2)).evaluated
        assert replicas[leader].run_once(at=T0 + timedelta(minutes=2)).skipped

        # the new leader's session dies (a restart, a network cut): PostgreSQL frees the lock
        url = pg_engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(url, autocommit=True) as admin:
            killed = admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_locks"
                " WHERE locktype = 'advisory' AND objid = %s",
                (EVALUATION_LOCK_KEY,),
            ).fetchall()
            assert killed == [(True,)]
            # pg_terminate_backend only signals: the lock goes when the backend has exited.
            deadline = time.monotonic() + 10
            while admin.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = %s",
                (EVALUATION_LOCK_KEY,),
            ).fetchone() != (0,):
                assert time.monotonic() < deadline, "the killed session kept the lock"
                time.sleep(0.02)
        assert replicas[leader].run_once(at=T0 + timedelta(minutes=3)).evaluated
        assert replicas[follower].run_once(at=T0 + timedelta(minutes=3)).skipped  # lost it
    finally:
        for replica in replicas:
            replica.close()
        pg_engine.dispose()
