"""What the dashboard reads: the daily history from the hourly rollups (the last rolled-up hour
of each UTC day), teams, gates and incidents per SLO, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, func, select

from srekit.core.dashboard import SloHealth
from srekit.core.history import day_floor
from srekit.core.incident import Severity
from srekit.core.load_gate import NO_LOAD_TEST
from srekit.core.ports import NoIncidents
from srekit.core.specs import canonical_json
from srekit.flows.dashboard import daily_history, overview, slo_lines, worst_budget_first
from srekit.flows.history import compact_history
from srekit.flows.incidents import declare_incident
from srekit.spec.loader import load_specs
from srekit.store.database import transaction
from srekit.store.repo import apply_specs, get_slo, record_snapshots, refresh_day_rollups
from srekit.store.tables import SloHourRow, SnapshotRow
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


def _insert_rollup(
    engine: Engine, *, slo: str, hour_start: datetime, remaining: float, burn_1d: float
) -> None:
    """One hourly rollup row as compaction writes it, with chosen last figures, and its day
    rolled up again, as compaction does in the same transaction."""
    with transaction(engine) as session:
        slo_id = get_slo(session, service="checkout", name=slo).id
        session.add(
            SloHourRow(
                slo_id=slo_id,
                hour_start=hour_start,
                samples=6,
                objective=0.999,
                window="30d",
                window_s=30 * 86400,
                sli_last=1 - 0.001 * (1 - remaining),
                remaining_first=remaining + 0.05,
                remaining_min=remaining,
                remaining_max=remaining + 0.05,
                remaining_last=remaining,
                burn_rates_json=canonical_json(
                    {"1d": [burn_1d - 1, burn_1d + 1, burn_1d - 1, burn_1d], "1h": None}
                ),
                worst_data="ok",
                worst_policy_state="normal",
            )
        )
        session.flush()
        refresh_day_rollups(session, day_start=day_floor(hour_start), slo_ids=[slo_id])


def test_history_is_each_days_last_rolled_up_hour(engine: Engine) -> None:
    _store(engine)
    day_before = NOW.replace(hour=0) - timedelta(days=1)
    rollups = [
        (day_before.replace(hour=1), 0.8, 0.5),
        (day_before.replace(hour=23), 0.7, 2.0),  # that day's last hour
        (NOW - timedelta(hours=2), 0.65, 6.0),
        (NOW - timedelta(hours=1), 0.6, 7.0),  # today's last hour that ended by NOW
    ]
    for hour_start, remaining, burn in rollups:
        _insert_rollup(
            engine, slo="availability", hour_start=hour_start, remaining=remaining, burn_1d=burn
        )
    current = [status_for("checkout", "availability", 0.6, at=NOW)]
    (line,) = slo_lines(
        engine,
        statuses=current,
        incidents=NoIncidents(),
        now=NOW,
        max_status_age_s=1e9,
        load_test=NO_LOAD_TEST,
    )
    history = daily_history(engine, [line], now=NOW, history_days=3)[line.key]
    assert [reading.day for reading in history] == [
        date(2026, 11, 28),
        date(2026, 11, 29),
        date(2026, 11, 30),
    ]
    assert [reading.recorded for reading in history] == [False, True, True]
    assert [(r.remaining, r.burn_1d) for r in history[1:]] == [(0.7, 2.0), (0.6, 7.0)]
    assert line.team == "team-payments"
    assert line.health is SloHealth.MET
    assert line.gate.service == "checkout"
    assert line.open_incidents == 0


def test_the_history_survives_compaction_of_the_raw_snapshots(engine: Engine) -> None:
    """30 days of snapshots, compacted with a 2-day raw horizon: the raw snapshots of 28 days
    are gone, and every day still shows the remaining budget and 1-day burn rate of its last
    snapshot (the last of its last hour)."""
    _store(engine)
    first_day = NOW.replace(hour=0) - timedelta(days=29)
    statuses = []
    expected: dict[date, tuple[float, float]] = {}
    for back in range(30):
        day = first_day + timedelta(days=back)
        for hour in (3, 22) if day < NOW.replace(hour=0) else (3, 10):
            moment = day.replace(hour=hour, minute=30)
            remaining, burn = round(0.9 - back / 100 - hour / 1000, 6), back + hour / 100
            statuses.append(_with_burn(remaining, burn, moment))
            expected[day.date()] = (remaining, burn)
    with transaction(engine) as session:
        record_snapshots(session, statuses=statuses)
    compact_history(engine, now=NOW, raw_s=2 * 86400, hourly_s=400 * 86400)
    with transaction(engine, read_only=True) as session:
        oldest_raw = session.scalar(select(func.min(SnapshotRow.evaluated_at)))
    assert oldest_raw is not None
    assert oldest_raw >= NOW - timedelta(days=2, hours=1)
    current = [status_for("checkout", "availability", 0.6, at=NOW)]
    (line,) = slo_lines(
        engine,
        statuses=current,
        incidents=NoIncidents(),
        now=NOW,
        max_status_age_s=1e9,
        load_test=NO_LOAD_TEST,
    )
    history = daily_history(engine, [line], now=NOW)[line.key]
    assert len(history) == 30
    assert all(reading.recorded for reading in history)
    assert {r.day: (r.remaining, r.burn_1d) for r in history} == expected


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
        engine,
        statuses=statuses,
        incidents=NoIncidents(),
        now=NOW,
        max_status_age_s=1e9,
        load_test=NO_LOAD_TEST,
    )
    counts = {line.key: line.open_incidents for line in found.lines}
    assert counts == {"checkout/availability": 1, "checkout/latency": 2, "catalog/availability": 0}
    assert len(found.incidents) == 2
    assert len(found.days) == 30
    assert found.on_call == ()
    # all three (fewer than the heatmap's rows); equal budgets: by service, then SLO
    assert [line.key for line in found.worst] == [
        "catalog/availability",
        "checkout/availability",
        "checkout/latency",
    ]
    assert set(found.history) == {line.key for line in found.worst}
    assert all(not day.recorded for days in found.history.values() for day in days)
    assert all(len(days) == 30 for days in found.history.values())


def test_the_overview_reads_the_history_of_its_worst_slos_only(engine: Engine) -> None:
    """With a heatmap of 2 rows, the 2 least budgets (−0.2 and 0.1) are its rows, worst
    first; the third SLO's line is there for the counts, without history. The SLO without a
    budget figure comes last in the order."""
    _store(engine)
    statuses = [
        status_for("catalog", "availability", 0.6, at=NOW),
        status_for("checkout", "latency", 0.1, at=NOW),
        status_for("checkout", "availability", -0.2, at=NOW),
    ]
    found = overview(
        engine,
        statuses=statuses,
        incidents=NoIncidents(),
        now=NOW,
        max_status_age_s=1e9,
        load_test=NO_LOAD_TEST,
        heatmap_slos=2,
    )
    assert len(found.lines) == 3
    assert [line.key for line in found.worst] == ["checkout/availability", "checkout/latency"]
    assert set(found.history) == {"checkout/availability", "checkout/latency"}
    no_budget = replace(statuses[0], error_budget=None)
    order = worst_budget_first(
        slo_lines(
            engine,
            statuses=[no_budget, *statuses[1:]],
            incidents=NoIncidents(),
            now=NOW,
            max_status_age_s=1e9,
            load_test=NO_LOAD_TEST,
        )
    )
    assert [line.key for line in order] == [
        "checkout/availability",
        "checkout/latency",
        "catalog/availability",
    ]


def test_a_line_s_team_is_its_services_and_the_gate_reads_its_own_slos(engine: Engine) -> None:
    """Teams come from the catalog; each service's gate is the same decision as the gate
    asked about that service alone, with every status given."""
    from srekit.core.policy import FailMode
    from srekit.flows.gate import GateQuestion, decide_stored, load_catalog

    _store(engine)
    statuses = [
        status_for("checkout", "availability", -0.2, at=NOW),
        status_for("checkout", "latency", 0.9, at=NOW),
        status_for("catalog", "availability", 0.9, at=NOW),
    ]
    catalog = load_catalog(engine)
    lines = slo_lines(
        engine,
        statuses=statuses,
        incidents=NoIncidents(),
        now=NOW,
        max_status_age_s=1e9,
        load_test=NO_LOAD_TEST,
        catalog=catalog,
    )
    for line in lines:
        alone, _ = decide_stored(
            GateQuestion(
                service=line.status.service,
                change_type="feature",
                fail_mode=FailMode.CLOSED,
                version=None,
                commit_time=None,
                requested_by=None,
                source="dashboard",
            ),
            catalog=catalog,
            statuses=statuses,
            open_severe_incidents=(),
            now=NOW,
            max_status_age_s=1e9,
        )
        assert line.gate == alone
        assert line.team == catalog.teams[line.status.service]
    assert {line.key: line.gate.decision.value for line in lines}["checkout/availability"] == "deny"


def test_stored_incidents_read_every_services_open_p0_p1_at_once(engine: Engine) -> None:
    """What each service's gate reads equals the per-service query's answer, from one read of
    them all; a new incident shows after `invalidate`, not before the cache expires."""
    from srekit.flows.incidents import StoredIncidents
    from srekit.store.repo import open_severe_incidents

    _store(engine)
    declare_incident(
        engine, title="down", severity=Severity.P1, actor="t", now=NOW, services=["checkout"]
    )
    declare_incident(
        engine,
        title="both",
        severity=Severity.P0,
        actor="t",
        now=NOW + timedelta(minutes=1),
        services=["checkout", "catalog"],
    )
    declare_incident(
        engine, title="minor", severity=Severity.P3, actor="t", now=NOW, services=["catalog"]
    )
    stored = StoredIncidents(engine, ttl_s=3600)
    for service in ("checkout", "catalog", "nowhere"):
        with transaction(engine, read_only=True) as session:
            expected = [row.id for row in open_severe_incidents(session, service=service)]
        shown = stored.open_severe_incidents(service)
        assert [int(text.split()[0].lstrip("#")) for text in shown] == expected
    assert len(stored.open_severe_incidents("checkout")) == 2
    assert [text.split()[1] for text in stored.open_severe_incidents("catalog")] == ["P0"]
    declare_incident(
        engine, title="later", severity=Severity.P1, actor="t", now=NOW, services=["catalog"]
    )
    assert len(stored.open_severe_incidents("catalog")) == 1  # cached
    stored.invalidate()
    assert len(stored.open_severe_incidents("catalog")) == 2


def test_the_gate_column_needs_the_load_test_the_gate_needs(engine: Engine) -> None:
    """With a policy needing a passed load test within 7 days for feature deploys, each
    service's line is denied as the gate is: without one (checkout), and with one 8 days old
    (catalog, stale); a pass 2 days old allows. The reason leads the gate's reasons."""
    from srekit.core.load_gate import LoadTestPolicy
    from srekit.flows.gate import load_catalog

    _store(engine)
    statuses = [
        status_for("checkout", "availability", 0.9, at=NOW),
        status_for("checkout", "latency", 0.9, at=NOW),
        status_for("catalog", "availability", 0.9, at=NOW),
        status_for("catalog", "good-minutes", 0.9, at=NOW),
    ]
    policy = LoadTestPolicy(required_for=("feature",), max_age_days=7)
    stale = NOW - timedelta(days=8)

    def gates(passed: dict[str, datetime]) -> dict[str, tuple[str, str]]:
        catalog = replace(load_catalog(engine), load_tests_passed=passed)
        lines = slo_lines(
            engine,
            statuses=statuses,
            incidents=NoIncidents(),
            now=NOW,
            max_status_age_s=1e9,
            load_test=policy,
            catalog=catalog,
        )
        return {line.key: (line.gate.decision.value, line.gate.reasons[0]) for line in lines}

    found = gates({"catalog": stale})
    missing = "feature deploys need a passed load test and checkout has none in the last 7 days"
    old = (
        "feature deploys need a passed load test within 7 days;"
        f" catalog's last passed {stale.isoformat()}"
    )
    assert found == {
        "checkout/availability": ("deny", missing),
        "checkout/latency": ("deny", missing),
        "catalog/availability": ("deny", old),
        "catalog/good-minutes": ("deny", old),
    }
    recent = NOW - timedelta(days=2)
    allowed = gates({"catalog": recent, "checkout": recent})
    assert {decision for decision, _ in allowed.values()} == {"allow"}
    assert not any("load test" in reason for _, reason in allowed.values())
