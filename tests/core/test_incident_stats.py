"""Incident figures against hand-computed numbers, and against a plain re-count of random
incidents (every group filtered from the list and averaged on its own).

The hand-checked month, November 2026 (T0 = Nov 1 00:00 UTC, period [T0, T0 + 30d), seen at
its end), default response targets P0 300 s, P1 900 s, P2 3600 s, P3 14400 s:

  id  sev  services            opened         acknowledged  resolved    response
  1   P1   checkout            T0 + 1d        + 600 s       + 3600 s    600 ≤ 900: met
  2   P1   checkout, catalog   T0 + 3d        + 1200 s      + 7200 s    1200 > 900: missed
  3   P0   checkout            T0 + 4d        -             + 240 s     240 ≤ 300: met (by itself)
  4   P2   catalog             T0 + 10d       + 1800 s      -           1800 ≤ 3600: met; open
  5   P3   -                   T0 + 30d - 1h  -             -           3600 < 14400: unjudged; open
  6   P0   catalog             T0 + 20d       -             -           10 days > 300: missed; open
  7   P1   checkout            T0 - 1d        (before the period: left out)
  8   P2   catalog             T0 + 30d       (at the period's end, which is excluded: left out)
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from srekit.core.incident import (
    DEFAULT_SEVERITIES,
    Incident,
    IncidentState,
    Severity,
    severity_definitions,
)
from srekit.core.incident_stats import (
    IncidentBudget,
    IncidentFigures,
    IncidentStats,
    incident_budget,
    incident_interval,
    incident_stats,
    incidents_in_period,
)
from srekit.core.sli import EventCounts

T0 = datetime(2026, 11, 1, tzinfo=UTC)
END = T0 + timedelta(days=30)
DAY = 86400
S = IncidentState
P0, P1, P2, P3 = Severity.P0, Severity.P1, Severity.P2, Severity.P3


def _incident(
    id: int,
    severity: Severity,
    services: tuple[str, ...],
    opened: datetime,
    *,
    acked_s: float | None = None,
    resolved_s: float | None = None,
) -> Incident:
    def after(seconds: float | None) -> datetime | None:
        return None if seconds is None else opened + timedelta(seconds=seconds)

    state = (
        S.RESOLVED
        if resolved_s is not None
        else S.ACKNOWLEDGED
        if acked_s is not None
        else S.TRIGGERED
    )
    return Incident(
        id=id,
        title=f"incident {id}",
        severity=severity,
        state=state,
        opened_at=opened,
        services=services,
        acknowledged_at=after(acked_s),
        resolved_at=after(resolved_s),
    )


MONTH = [
    _incident(1, P1, ("checkout",), T0 + timedelta(days=1), acked_s=600, resolved_s=3600),
    _incident(
        2, P1, ("checkout", "catalog"), T0 + timedelta(days=3), acked_s=1200, resolved_s=7200
    ),
    _incident(3, P0, ("checkout",), T0 + timedelta(days=4), resolved_s=240),
    _incident(4, P2, ("catalog",), T0 + timedelta(days=10), acked_s=1800),
    _incident(5, P3, (), END - timedelta(hours=1)),
    _incident(6, P0, ("catalog",), T0 + timedelta(days=20)),
    _incident(7, P1, ("checkout",), T0 - timedelta(days=1), acked_s=60, resolved_s=120),
    _incident(8, P2, ("catalog",), END, acked_s=60),
]


def _figures(
    count: int,
    open: int,
    acknowledged: int,
    resolved: int,
    mtta_s: float | None,
    mttr_s: float | None,
    mtbf_s: float | None,
    met: int,
    missed: int,
) -> IncidentFigures:
    return IncidentFigures(count, open, acknowledged, resolved, mtta_s, mttr_s, mtbf_s, met, missed)


def _month() -> IncidentStats:
    return incident_stats(MONTH, start=T0, end=END, now=END)


# (which group, its figures, its response share), each worked out from the table above
GROUPS: list[
    tuple[str, Callable[[IncidentStats], IncidentFigures], IncidentFigures, float | None]
] = [
    (
        # 1-6; open 4, 5, 6; MTTA (600 + 1200 + 1800) / 3; MTTR (3600 + 7200 + 240) / 3;
        # MTBF from T0 + 1d to T0 + 30d - 1h over 5 gaps: (29 × 86400 - 3600) / 5;
        # met 1, 3, 4; missed 2, 6; share 3 / 5
        "overall",
        lambda s: s.overall,
        _figures(6, 3, 3, 3, 1200.0, 3680.0, 500_400.0, 3, 2),
        0.6,
    ),
    (
        # 3 and 6: only 3 resolved (240 s), neither acknowledged; 16 days apart
        "P0",
        lambda s: s.by_severity[P0],
        _figures(2, 1, 0, 1, None, 240.0, 16 * DAY, 1, 1),
        0.5,
    ),
    (
        # 1 and 2: MTTA (600 + 1200) / 2, MTTR (3600 + 7200) / 2, 2 days apart
        "P1",
        lambda s: s.by_severity[P1],
        _figures(2, 0, 2, 2, 900.0, 5400.0, 2 * DAY, 1, 1),
        0.5,
    ),
    ("P2", lambda s: s.by_severity[P2], _figures(1, 1, 1, 0, 1800.0, None, None, 1, 0), 1.0),
    # 5 is still within its 4-hour target: not judged, no share
    ("P3", lambda s: s.by_severity[P3], _figures(1, 1, 0, 0, None, None, None, 0, 0), None),
    (
        # 1, 2, 3: MTTA (600 + 1200) / 2; MTTR (3600 + 7200 + 240) / 3; (4d - 1d) / 2 gaps
        "checkout",
        lambda s: s.by_service["checkout"],
        _figures(3, 0, 2, 3, 900.0, 3680.0, 1.5 * DAY, 2, 1),
        2 / 3,
    ),
    (
        # 2, 4, 6: MTTA (1200 + 1800) / 2; MTTR 7200 (2 only); (20d - 3d) / 2 gaps;
        # met 4; missed 2 and 6
        "catalog",
        lambda s: s.by_service["catalog"],
        _figures(3, 2, 2, 1, 1500.0, 7200.0, 8.5 * DAY, 1, 2),
        1 / 3,
    ),
    (
        "checkout P1",
        lambda s: s.by_service_severity["checkout", P1],
        _figures(2, 0, 2, 2, 900.0, 5400.0, 2 * DAY, 1, 1),
        0.5,
    ),
    (
        "checkout P0",
        lambda s: s.by_service_severity["checkout", P0],
        _figures(1, 0, 0, 1, None, 240.0, None, 1, 0),
        1.0,
    ),
    (
        "catalog P0",
        lambda s: s.by_service_severity["catalog", P0],
        _figures(1, 1, 0, 0, None, None, None, 0, 1),
        0.0,
    ),
    (
        "catalog P1",
        lambda s: s.by_service_severity["catalog", P1],
        _figures(1, 0, 1, 1, 1200.0, 7200.0, None, 0, 1),
        0.0,
    ),
    (
        "catalog P2",
        lambda s: s.by_service_severity["catalog", P2],
        _figures(1, 1, 1, 0, 1800.0, None, None, 1, 0),
        1.0,
    ),
]


@pytest.mark.parametrize(
    ("group", "expected", "share"),
    [(g[1], g[2], g[3]) for g in GROUPS],
    ids=[g[0] for g in GROUPS],
)
def test_figures_of_the_hand_checked_month(
    group: Callable[[IncidentStats], IncidentFigures],
    expected: IncidentFigures,
    share: float | None,
) -> None:
    figures = group(_month())
    assert figures == expected
    assert figures.response_share == pytest.approx(share)


def test_groups_and_their_order() -> None:
    stats = _month()
    assert (stats.start, stats.end, stats.at) == (T0, END, END)
    assert list(stats.by_severity) == [P0, P1, P2, P3]
    assert list(stats.by_service) == ["catalog", "checkout"]  # 5 names no service
    assert list(stats.by_service_severity) == [
        ("catalog", P0),
        ("catalog", P1),
        ("catalog", P2),
        ("checkout", P0),
        ("checkout", P1),
    ]
    assert stats.budgets == ()


def test_a_quiet_period_has_every_severity_at_zero() -> None:
    stats = incident_stats([], start=T0, end=END, now=END)
    nothing = _figures(0, 0, 0, 0, None, None, None, 0, 0)
    assert stats.overall == nothing
    assert stats.overall.response_share is None
    assert stats.by_severity == dict.fromkeys((P0, P1, P2, P3), nothing)
    assert stats.by_service == {}
    assert stats.by_service_severity == {}


def test_a_service_named_twice_counts_once() -> None:
    twice = _incident(1, P2, ("api", "api"), T0, acked_s=60, resolved_s=120)
    stats = incident_stats([twice], start=T0, end=END, now=END)
    assert stats.by_service["api"] == _figures(1, 0, 1, 1, 60.0, 120.0, None, 1, 0)
    assert stats.overall.count == 1


def test_a_past_now_sees_only_what_had_happened() -> None:
    # at T0 + 3d + 900 s: incident 2 opened 900 s ago, its acknowledgement (at + 1200 s) and
    # resolution are still to come, so it is open and not yet judged (900 s is its target,
    # not past it); 3 to 6 have not opened. 1 alone was acknowledged and resolved.
    now = T0 + timedelta(days=3, seconds=900)
    stats = incident_stats(MONTH, start=T0, end=END, now=now)
    assert stats.overall == _figures(2, 1, 1, 1, 600.0, 3600.0, 2 * DAY, 1, 0)
    # a second later incident 2 has missed its target
    later = incident_stats(MONTH, start=T0, end=END, now=now + timedelta(seconds=1))
    assert (later.overall.response_met, later.overall.response_missed) == (1, 1)


@pytest.mark.parametrize(
    ("responded_s", "met", "missed"),
    [
        (899, 1, 0),
        (900, 1, 0),  # exactly at the 15-minute target: within it
        (901, 0, 1),
    ],
)
def test_the_response_target_includes_its_last_second(
    responded_s: int, met: int, missed: int
) -> None:
    incident = _incident(1, P1, ("api",), T0, acked_s=responded_s)
    figures = incident_stats([incident], start=T0, end=END, now=END).overall
    assert (figures.response_met, figures.response_missed) == (met, missed)


def test_a_mitigation_or_resolution_is_a_response_too() -> None:
    mitigated = replace(
        _incident(1, P0, ("api",), T0, acked_s=1000),
        mitigated_at=T0 + timedelta(seconds=200),
    )
    figures = incident_stats([mitigated], start=T0, end=END, now=END).overall
    assert (figures.response_met, figures.response_missed) == (1, 0)  # 200 s ≤ 300 s
    assert figures.mtta_s == 1000.0


def test_response_targets_come_from_the_definitions_given() -> None:
    # 1200 s misses P1's default 900 s, meets an 1800 s target
    relaxed = severity_definitions({P1: {"response_target_s": 1800}})
    incident = _incident(1, P1, ("api",), T0, acked_s=1200)
    figures = incident_stats([incident], start=T0, end=END, now=END, severities=relaxed)
    assert (figures.overall.response_met, figures.overall.response_missed) == (1, 0)


def test_an_undefined_severity_and_an_empty_period_are_refused() -> None:
    only_p1 = {P1: DEFAULT_SEVERITIES[P1]}
    with pytest.raises(
        ValueError, match=r"incident 3: severity P0 has no definition \(defined: P1\)"
    ):
        incident_stats(MONTH, start=T0, end=END, now=END, severities=only_p1)
    assert list(incident_stats([], start=T0, end=END, now=END, severities=only_p1).by_severity) == [
        P1
    ]
    with pytest.raises(ValueError, match="the period must end after it starts"):
        incident_stats(MONTH, start=END, end=END, now=END)


def test_incidents_in_the_period() -> None:
    # opened at the start: in; at the end: out (half-open); after now: not yet
    assert [i.id for i in incidents_in_period(MONTH, start=T0, end=END, now=END)] == [
        1,
        2,
        3,
        4,
        5,
        6,
    ]
    at_start = _incident(9, P3, (), T0)
    assert incidents_in_period([at_start], start=T0, end=END, now=END) == [at_start]
    now = T0 + timedelta(days=4)
    assert [i.id for i in incidents_in_period(MONTH, start=T0, end=END, now=now)] == [1, 2, 3]


@pytest.mark.parametrize(
    ("resolved_s", "now", "expected_end"),
    [
        (3600, END, T0 + timedelta(hours=1)),  # resolved: up to its resolution
        (3600, T0 + timedelta(minutes=30), T0 + timedelta(minutes=30)),  # not yet, at now
        (None, T0 + timedelta(hours=5), T0 + timedelta(hours=5)),  # open: up to now
        (None, T0 - timedelta(hours=1), T0),  # a now before it opened: an empty interval
    ],
)
def test_incident_interval(resolved_s: int | None, now: datetime, expected_end: datetime) -> None:
    incident = _incident(1, P1, ("api",), T0, resolved_s=resolved_s)
    assert incident_interval(incident, now=now) == (T0, expected_end)


@pytest.mark.parametrize(
    ("objective", "interval", "window", "consumed", "bad", "allowed"),
    [
        # 99.9 % of 1,000,000 events allows 1,000 bad; the incident saw 250 of them
        (0.999, EventCounts(9_750, 10_000), EventCounts(999_000, 1_000_000), 0.25, 250, 1000),
        # 2,500 bad: two and a half budgets, overspent and said so
        (0.999, EventCounts(7_500, 10_000), EventCounts(997_000, 1_000_000), 2.5, 2500, 1000),
        # no events during the incident: nothing spent
        (0.999, None, EventCounts(999_000, 1_000_000), 0.0, 0, 1000),
        # 99 % of 20,000 allows 200 bad; 50 of them is a quarter
        (0.99, EventCounts(950, 1_000), EventCounts(19_900, 20_000), 0.25, 50, 200),
        # good > total (counters scraped apart): no bad events, not negative ones
        (0.99, EventCounts(101, 100), EventCounts(19_900, 20_000), 0.0, 0, 200),
    ],
)
def test_budget_consumed_by_an_incident(
    objective: float,
    interval: EventCounts | None,
    window: EventCounts,
    consumed: float,
    bad: float,
    allowed: float,
) -> None:
    budget = incident_budget(
        7, slo="checkout/availability", objective=objective, interval=interval, window=window
    )
    assert (budget.incident_id, budget.slo, budget.reason) == (7, "checkout/availability", None)
    assert budget.consumed == pytest.approx(consumed)
    assert budget.bad_events == pytest.approx(bad)
    assert budget.allowed_bad_events == pytest.approx(allowed)


@pytest.mark.parametrize(
    ("interval", "window", "reason"),
    [
        (None, None, "no events in the SLO window"),
        (EventCounts(5, 10), EventCounts(0, 0), "no events in the SLO window"),
        (EventCounts(0.9, 1, counted=False), EventCounts(90, 100), "an error ratio, not event"),
        (EventCounts(9, 10), EventCounts(0.9, 1, counted=False), "an error ratio, not event"),
    ],
)
def test_budget_consumption_unknown(
    interval: EventCounts | None, window: EventCounts | None, reason: str
) -> None:
    budget = incident_budget(7, slo="api/latency", objective=0.99, interval=interval, window=window)
    assert (budget.consumed, budget.bad_events, budget.allowed_bad_events) == (None, None, None)
    assert budget.reason is not None
    assert reason in budget.reason


def test_budgets_kept_are_the_periods_in_order() -> None:
    budgets = [
        IncidentBudget(2, "catalog/availability", consumed=0.1),
        IncidentBudget(1, "checkout/latency", consumed=0.2),
        IncidentBudget(7, "checkout/availability", consumed=0.3),  # before the period
        IncidentBudget(1, "checkout/availability", reason="the source failed"),
    ]
    stats = incident_stats(MONTH, start=T0, end=END, now=END, budgets=budgets)
    assert [(b.incident_id, b.slo) for b in stats.budgets] == [
        (1, "checkout/availability"),
        (1, "checkout/latency"),
        (2, "catalog/availability"),
    ]


# -- against a plain re-count ------------------------------------------------------------

_SERVICES = ("a", "b", "c")


@st.composite
def _incidents(draw: st.DrawFn) -> list[Incident]:
    count = draw(st.integers(0, 25))
    made = []
    for index in range(count):
        opened = T0 + timedelta(seconds=draw(st.integers(-DAY, 31 * DAY)))
        acked = draw(st.none() | st.integers(0, 20_000))
        resolved = draw(st.none() | st.integers(0, 200_000))
        services = tuple(draw(st.lists(st.sampled_from(_SERVICES), max_size=3)))
        severity = draw(st.sampled_from(list(Severity)))
        made.append(
            _incident(index, severity, services, opened, acked_s=acked, resolved_s=resolved)
        )
    return made


def _recount(incidents: list[Incident], now: datetime) -> IncidentFigures:
    """A group's figures the long way, from its own incidents."""
    period = [i for i in incidents if T0 <= i.opened_at < END and i.opened_at <= now]
    acks = [
        (i.acknowledged_at - i.opened_at).total_seconds()
        for i in period
        if i.acknowledged_at and i.acknowledged_at <= now
    ]
    fixes = [
        (i.resolved_at - i.opened_at).total_seconds()
        for i in period
        if i.resolved_at and i.resolved_at <= now
    ]
    starts = sorted(i.opened_at for i in period)
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(starts)]
    met = missed = 0
    for i in period:
        target = timedelta(seconds=DEFAULT_SEVERITIES[i.severity].response_target_s)
        responded = i.responded_at()
        if responded is not None and responded <= now:
            met += responded - i.opened_at <= target
            missed += responded - i.opened_at > target
        else:
            missed += now - i.opened_at > target
    return IncidentFigures(
        count=len(period),
        open=sum(1 for i in period if not (i.resolved_at and i.resolved_at <= now)),
        acknowledged=len(acks),
        resolved=len(fixes),
        mtta_s=statistics.fmean(acks) if acks else None,
        mttr_s=statistics.fmean(fixes) if fixes else None,
        mtbf_s=statistics.fmean(gaps) if gaps else None,
        response_met=met,
        response_missed=missed,
    )


def _close(got: IncidentFigures, expected: IncidentFigures) -> bool:
    def near(x: float | None, y: float | None) -> bool:
        return (x is None and y is None) or (
            x is not None and y is not None and x == pytest.approx(y, rel=1e-9, abs=1e-6)
        )

    return (
        replace(got, mtta_s=None, mttr_s=None, mtbf_s=None)
        == replace(expected, mtta_s=None, mttr_s=None, mtbf_s=None)
        and near(got.mtta_s, expected.mtta_s)
        and near(got.mttr_s, expected.mttr_s)
        and near(got.mtbf_s, expected.mtbf_s)
    )


@settings(max_examples=200, deadline=None)
@given(_incidents(), st.integers(0, 32 * DAY))
def test_every_group_matches_a_plain_recount(incidents: list[Incident], now_s: int) -> None:
    now = T0 + timedelta(seconds=now_s)
    stats = incident_stats(incidents, start=T0, end=END, now=now)
    assert _close(stats.overall, _recount(incidents, now))
    for severity, figures in stats.by_severity.items():
        assert _close(figures, _recount([i for i in incidents if i.severity is severity], now))
    for service in _SERVICES:
        mine = [i for i in incidents if service in i.services]
        if not _recount(mine, now).count:
            assert service not in stats.by_service
            continue
        assert _close(stats.by_service[service], _recount(mine, now))
        for severity in Severity:
            pair = [i for i in mine if i.severity is severity]
            if _recount(pair, now).count:
                assert _close(stats.by_service_severity[service, severity], _recount(pair, now))
            else:
                assert (service, severity) not in stats.by_service_severity
