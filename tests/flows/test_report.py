"""flows.report on the stored story (tests/report_story.py), SQLite and PostgreSQL: every
figure against the story's hand-worked numbers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from srekit.core.incident import Severity
from srekit.core.report import month_period, week_period
from srekit.core.sli import SourceSet
from srekit.errors import NotFound, SpecError
from srekit.flows.report import stored_report
from tests.report_story import AT, MONTH, store_story


@pytest.fixture
def story(engine: Engine) -> Engine:
    store_story(engine)
    return engine


def test_the_month_of_the_story(story: Engine) -> None:
    report = stored_report(story, period=month_period(MONTH), at=AT, sources=SourceSet())
    availability, latency = report.slos
    assert (availability.key, availability.sli, availability.met) == (
        "checkout/availability", 0.994, False,
    )  # fmt: skip
    assert (availability.days_met, availability.days_with_data) == (20, 30)
    assert availability.remaining == pytest.approx(-0.2)
    assert availability.consumed == pytest.approx(1.2)
    assert availability.days_left is None
    assert availability.burn_down[0][1] == pytest.approx(0.8)  # the 23:00 snapshot, not 12:00
    assert (latency.met, latency.days_met, latency.days_with_data) == (True, 5, 5)
    assert latency.days_left == pytest.approx(10.0)
    assert [point for _, point in latency.burn_down[5:]] == [None] * 25
    assert report.incidents is not None
    assert report.incidents.overall.count == 2
    assert report.incidents.overall.mttr_s == 5400.0
    assert report.incidents.overall.mtbf_s == 4 * 86_400.0
    assert report.incidents.by_severity[Severity.P1].count == 1
    assert [budget.slo for budget in report.incidents.budgets] == ["checkout/availability"]
    deploys = report.deployments
    assert (deploys.total, deploys.allowed, deploys.denied, deploys.rollbacks) == (4, 3, 1, 1)
    (change,) = report.changes
    assert (change.slo, change.action, change.actor, change.version) == (
        "latency", "changed", "bob", 2,
    )  # fmt: skip
    assert [item.task.title for item in report.actions] == [
        "rotate the pool", "add a canary", "write the runbook",
    ]  # fmt: skip
    assert [item.overdue for item in report.actions] == [True, False, False]


def test_a_service_sees_its_own(story: Engine) -> None:
    report = stored_report(
        story, period=month_period(MONTH), at=AT, sources=SourceSet(), service="checkout"
    )
    assert report.scope == "service checkout"
    assert report.incidents is not None
    assert report.incidents.overall.count == 1
    assert (report.deployments.total, report.deployments.denied) == (3, 1)
    catalog = stored_report(
        story, period=month_period(MONTH), at=AT, sources=SourceSet(), service="catalog"
    )
    assert catalog.slos == ()
    assert catalog.actions == ()
    assert catalog.deployments.total == 1


def test_a_team_sees_its_services(story: Engine) -> None:
    report = stored_report(
        story, period=month_period(MONTH), at=AT, sources=SourceSet(), team="team-payments"
    )
    assert [slo.key for slo in report.slos] == ["checkout/availability", "checkout/latency"]
    with pytest.raises(NotFound):
        stored_report(story, period=month_period(MONTH), at=AT, sources=SourceSet(), team="x")
    with pytest.raises(SpecError, match="not both"):
        stored_report(
            story, period=month_period(MONTH), at=AT, sources=SourceSet(), team="x", service="y"
        )


def test_a_report_sees_only_what_happened_by_its_instant(story: Engine) -> None:
    at = datetime(2026, 11, 21, 1, tzinfo=UTC)  # the P1 open, after 20 good days
    report = stored_report(story, period=month_period(MONTH), at=at, sources=SourceSet())
    availability = report.slos[0]
    assert (availability.met, availability.days_with_data, availability.days_met) == (
        True, 20, 20,
    )  # fmt: skip
    assert report.incidents is not None
    assert report.incidents.overall.open == 1
    assert report.deployments.total == 2  # the denial and the rollback came on the 22nd
    assert report.actions == ()  # the tasks were written at 03:00


def test_a_week_and_a_month_without_data(story: Engine) -> None:
    week = stored_report(story, period=week_period("2026-W46"), at=AT, sources=SourceSet())
    assert week.slos[0].days_with_data == 7  # 9 to 15 November
    assert week.incidents is None
    assert week.deployments.total == 1  # catalog's, on the 15th
    assert [change.slo for change in week.changes] == ["latency"]  # on the 10th
    september = stored_report(story, period=month_period("2026-09"), at=AT, sources=SourceSet())
    assert not september.has_data
