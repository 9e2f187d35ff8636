"""Incident budgets read from the real event store (DuckDB), against the same events counted
in plain Python, and what a missing or failing source leaves."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from srekit.core.incident import Incident, IncidentState, Severity
from srekit.core.incident_stats import IncidentBudget
from srekit.core.sli import EventCounts, SourceSet, WindowQuery
from srekit.core.slo import SLO, BudgetingMethod, PromRatio
from srekit.core.window import CalendarWindow
from srekit.flows.incident_stats import compute_incident_stats, read_incident_budgets, slo_key
from srekit.sources.events import EventStore
from tests.sources.events.conftest import (
    END,
    Event,
    expected_counts,
    make_events,
    make_slo,
    write_nginx,
)

NOW = END
CHECKOUT = make_events(11, 12_000, timedelta(days=40))
CATALOG = make_events(12, 8_000, timedelta(days=40))
AVAILABILITY = make_slo("checkout", "availability", "status < 500")
LATENCY = make_slo("checkout", "latency", "duration_s < 0.5", total="method = 'GET'")
# the calendar month so far: November 2026 from the 1st
CATALOG_MONTHLY = replace(
    make_slo("catalog", "availability", "status < 500"), window=CalendarWindow("month")
)
RULES = {  # per SLO: its events, and the good and total predicates as Python
    "checkout/availability": (CHECKOUT, lambda e: e.status < 500, lambda e: True),
    "checkout/latency": (CHECKOUT, lambda e: e.duration_s < 0.5, lambda e: e.method == "GET"),
    "catalog/availability": (CATALOG, lambda e: e.status < 500, lambda e: True),
}


def _incident(
    id: int,
    opened: datetime,
    slos: tuple[str, ...],
    *,
    resolved: datetime | None = None,
    severity: Severity = Severity.P1,
) -> Incident:
    return Incident(
        id=id,
        title=f"incident {id}",
        severity=severity,
        state=IncidentState.RESOLVED if resolved else IncidentState.TRIGGERED,
        opened_at=opened,
        services=tuple(dict.fromkeys(key.split("/")[0] for key in slos)),
        slos=slos,
        acknowledged_at=opened + timedelta(minutes=5),
        resolved_at=resolved,
    )


INCIDENTS = [
    # resolved: measured over [opened, resolved)
    _incident(
        1,
        END - timedelta(days=6, hours=3),
        ("checkout/availability", "checkout/latency"),
        resolved=END - timedelta(days=6),
    ),
    # still open: up to now
    _incident(2, END - timedelta(hours=5), ("checkout/availability", "catalog/availability")),
    # resolved after now: open as seen at now
    _incident(
        3,
        END - timedelta(days=2),
        ("catalog/availability",),
        resolved=END + timedelta(hours=1),
        severity=Severity.P0,
    ),
    # the same SLO twice, and one no spec defines
    _incident(4, END - timedelta(days=15), ("checkout/latency", "checkout/latency", "web/gone")),
]


def _expected(key: str, start: datetime, end: datetime, window_start: datetime) -> float:
    """bad(I) / ((1 - 0.99) × total(W)), from the events themselves."""
    events, good, total = RULES[key]
    during = expected_counts(events, start, end, good, total)
    over_window = expected_counts(events, window_start, end, good, total)
    assert over_window is not None
    bad = 0 if during is None else during[1] - during[0]
    return bad / (0.01 * over_window[1])


class CountingStore:
    """The real store, counting the calls made to it."""

    def __init__(self, store: EventStore) -> None:
        self.store = store
        self.calls: list[tuple[list[str], int]] = []

    def counts(
        self, slos: Sequence[SLO], windows: Sequence[WindowQuery]
    ) -> Mapping[tuple[str, str], EventCounts | None]:
        self.calls.append(([slo.id for slo in slos], len(windows)))
        return self.store.counts(slos, windows)

    def slices(
        self, slo: SLO, *, start: datetime, end: datetime, slice_s: int
    ) -> Sequence[EventCounts | None]:
        raise AssertionError("incident budgets read no slices")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EventStore]:
    home = tmp_path_factory.mktemp("events")
    with EventStore(home / "store") as event_store:
        event_store.ingest(
            write_nginx(home / "c.log", CHECKOUT), service="checkout", format="nginx"
        )
        event_store.ingest(write_nginx(home / "k.log", CATALOG), service="catalog", format="nginx")
        yield event_store


def test_budgets_match_the_events_counted_in_python(store: EventStore) -> None:
    counting = CountingStore(store)
    budgets = read_incident_budgets(
        INCIDENTS,
        slos=[AVAILABILITY, LATENCY, CATALOG_MONTHLY],
        sources=SourceSet(events=counting),
        now=NOW,
    )
    month = datetime(2026, 11, 1, tzinfo=END.tzinfo)
    thirty = timedelta(days=30)
    one = (END - timedelta(days=6, hours=3), END - timedelta(days=6))
    two = (END - timedelta(hours=5), NOW)
    three = (END - timedelta(days=2), NOW)
    four = (END - timedelta(days=15), NOW)
    expected = {
        (1, "checkout/availability"): _expected("checkout/availability", *one, one[1] - thirty),
        (1, "checkout/latency"): _expected("checkout/latency", *one, one[1] - thirty),
        (2, "checkout/availability"): _expected("checkout/availability", *two, two[1] - thirty),
        (2, "catalog/availability"): _expected("catalog/availability", *two, month),
        (3, "catalog/availability"): _expected("catalog/availability", *three, month),
        (4, "checkout/latency"): _expected("checkout/latency", *four, four[1] - thirty),
    }
    assert [(b.incident_id, b.slo) for b in budgets] == [
        (1, "checkout/availability"),
        (1, "checkout/latency"),
        (2, "checkout/availability"),
        (2, "catalog/availability"),
        (3, "catalog/availability"),
        (4, "checkout/latency"),
        (4, "web/gone"),
    ]
    for budget in budgets[:-1]:
        assert budget.reason is None, budget
        assert budget.consumed == pytest.approx(expected[budget.incident_id, budget.slo])
        assert budget.consumed is not None
        assert budget.consumed > 0  # the logs hold 5xx and slow requests everywhere
    assert budgets[-1] == IncidentBudget(4, "web/gone", reason="no SLO web/gone is defined")
    # one call per SLO (three SLOs, each named by its own incidents), each with its two
    # windows per incident; none per incident
    assert sorted(counting.calls) == [
        (["catalog-availability"], 4),
        (["checkout-availability"], 4),
        (["checkout-latency"], 4),
    ]


def test_slos_named_by_the_same_incidents_share_a_call(store: EventStore) -> None:
    counting = CountingStore(store)
    both = ("checkout/availability", "checkout/latency")
    incidents = [
        _incident(1, END - timedelta(days=3), both, resolved=END - timedelta(days=2)),
        _incident(2, END - timedelta(hours=2), both),
    ]
    budgets = read_incident_budgets(
        incidents, slos=[AVAILABILITY, LATENCY], sources=SourceSet(events=counting), now=NOW
    )
    assert counting.calls == [(["checkout-availability", "checkout-latency"], 4)]
    thirty = timedelta(days=30)
    day_two = END - timedelta(days=2)
    assert [b.consumed for b in budgets] == pytest.approx(
        [
            _expected("checkout/availability", END - timedelta(days=3), day_two, day_two - thirty),
            _expected("checkout/latency", END - timedelta(days=3), day_two, day_two - thirty),
            _expected("checkout/availability", END - timedelta(hours=2), NOW, NOW - thirty),
            _expected("checkout/latency", END - timedelta(hours=2), NOW, NOW - thirty),
        ]
    )


def test_an_incident_without_events_consumed_nothing(store: EventStore) -> None:
    # after the last event: nothing bad during the incident, the window still has events
    quiet = _incident(9, END + timedelta(hours=1), ("checkout/availability",))
    [budget] = read_incident_budgets(
        [quiet],
        slos=[AVAILABILITY],
        sources=SourceSet(events=store),
        now=END + timedelta(hours=2),
    )
    assert (budget.consumed, budget.bad_events, budget.reason) == (0.0, 0.0, None)
    assert budget.allowed_bad_events is not None
    assert budget.allowed_bad_events > 0


def test_missing_and_failing_sources_leave_the_budget_unknown(tmp_path: Path) -> None:
    prometheus_slo = SLO(
        service="checkout",
        name="errors",
        objective=0.999,
        window=AVAILABILITY.window,
        indicator=PromRatio(total="http_requests_total", bad='http_requests_total{code="500"}'),
    )
    sliced = replace(
        AVAILABILITY, name="slices", budgeting=BudgetingMethod.TIMESLICES, timeslice_s=60
    )
    incident = _incident(
        1,
        END - timedelta(hours=1),
        ("checkout/availability", "checkout/errors", "checkout/slices"),
    )
    # a store that was never created: the event store cannot answer
    with EventStore(tmp_path / "none", read_only=True) as absent:
        budgets = read_incident_budgets(
            [incident],
            slos=[AVAILABILITY, prometheus_slo, sliced],
            sources=SourceSet(events=absent),
            now=NOW,
        )
    reasons = {b.slo: b.reason for b in budgets}
    assert all(b.consumed is None for b in budgets)
    assert "no event store" in (reasons["checkout/availability"] or "")
    assert reasons["checkout/errors"] == "no Prometheus URL is configured (--prometheus-url)"
    assert "budgeted by time slices" in (reasons["checkout/slices"] or "")
    only_events = replace(incident, slos=("checkout/availability",))
    [missing] = read_incident_budgets(
        [only_events], slos=[AVAILABILITY], sources=SourceSet(), now=NOW
    )
    assert missing.reason == "the event store is not available"


class BrokenStore(CountingStore):
    """A store whose reads raise what a buggy adapter might: not a srekit error."""

    def counts(
        self, slos: Sequence[SLO], windows: Sequence[WindowQuery]
    ) -> Mapping[tuple[str, str], EventCounts | None]:
        raise RuntimeError("cursor closed")


def test_a_misbehaving_source_costs_the_budgets_not_the_figures(store: EventStore) -> None:
    stats = compute_incident_stats(
        INCIDENTS,
        slos=[AVAILABILITY, LATENCY, CATALOG_MONTHLY],
        sources=SourceSet(events=BrokenStore(store)),
        start=END - timedelta(days=10),
        end=END + timedelta(days=1),
        now=NOW,
    )
    assert stats.overall.count == 3  # 4 opened 15 days ago, before the period
    assert {b.reason for b in stats.budgets} == {"the events source failed: cursor closed"}
    assert [(b.incident_id, b.slo) for b in stats.budgets] == [
        (1, "checkout/availability"),
        (1, "checkout/latency"),
        (2, "catalog/availability"),
        (2, "checkout/availability"),
        (3, "catalog/availability"),
    ]


def test_costly_slos_time_out_alone(tmp_path: Path) -> None:
    events = make_events(7, 20_000, timedelta(hours=6))
    costly = make_slo("api", "costly", "levenshtein(repeat(path, 30), repeat(method, 100)) > 0")
    cheap = make_slo("api", "availability", "status < 500")
    incident = _incident(1, END - timedelta(hours=3), ("api/costly", "api/availability"))
    with EventStore(tmp_path / "store", query_timeout_s=0.2) as timed:
        timed.ingest(write_nginx(tmp_path / "a.log", events), service="api", format="nginx")
        budgets = read_incident_budgets(
            [incident], slos=[costly, cheap], sources=SourceSet(events=timed), now=NOW
        )
    by_slo = {b.slo: b for b in budgets}
    assert "ran past 0.2 s" in (by_slo["api/costly"].reason or "")
    during = expected_counts(events, END - timedelta(hours=3), NOW, _good, lambda e: True)
    window = expected_counts(events, NOW - timedelta(days=30), NOW, _good, lambda e: True)
    assert during is not None
    assert window is not None
    assert by_slo["api/availability"].consumed == pytest.approx(
        (during[1] - during[0]) / (0.01 * window[1])
    )


def _good(event: Event) -> bool:
    return event.status < 500


def test_the_stats_carry_the_periods_budgets(store: EventStore) -> None:
    stats = compute_incident_stats(
        INCIDENTS,
        slos=[AVAILABILITY, LATENCY, CATALOG_MONTHLY],
        sources=SourceSet(events=store),
        start=END - timedelta(days=7),
        end=END,
        now=NOW,
    )
    # 1, 2, 3 opened in the last 7 days; 2 and 3 are open at now (3 resolves after it)
    assert (stats.overall.count, stats.overall.open) == (3, 2)
    assert stats.overall.mtta_s == 300.0
    assert stats.overall.mttr_s == 3 * 3600.0
    assert {b.incident_id for b in stats.budgets} == {1, 2, 3}
    assert all(b.consumed is not None for b in stats.budgets)
    assert stats.by_service["catalog"].count == 2
    assert slo_key(CATALOG_MONTHLY) == "catalog/availability"
