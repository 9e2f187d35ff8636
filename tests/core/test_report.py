"""core.report: periods, daily samples, the figures and the summary, checked by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from srekit.core.incident import FollowUpTask, Severity, TaskState
from srekit.core.incident_stats import IncidentFigures, IncidentStats
from srekit.core.report import (
    DailySample,
    DeploymentRecord,
    SloInput,
    action_items,
    assemble_report,
    deployment_summary,
    executive_summary,
    format_percent,
    month_period,
    report_days,
    slo_change,
    slo_performance,
    week_period,
)

UTC0 = datetime(2026, 11, 1, tzinfo=UTC)
DAY = timedelta(days=1)


def test_a_month_is_its_calendar_days_in_utc() -> None:
    november = month_period("2026-11")
    assert (november.start, november.end) == (UTC0, datetime(2026, 12, 1, tzinfo=UTC))
    assert (november.kind, november.label, november.title) == (
        "monthly",
        "2026-11",
        "November 2026",
    )
    december = month_period(" 2026-12 ")
    assert december.end == datetime(2027, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize("label", ["2026-13", "2026-00", "2026/11", "Nov 2026", "2026-1"])
def test_a_month_that_is_not_one_is_refused(label: str) -> None:
    with pytest.raises(ValueError, match="YYYY-MM"):
        month_period(label)


def test_an_iso_week_runs_monday_to_monday() -> None:
    week = week_period("2026-W47")
    assert week.start == datetime(2026, 11, 16, tzinfo=UTC)  # a Monday
    assert week.end - week.start == 7 * DAY
    assert week.title == "week 47 of 2026 (16 Nov – 22 Nov 2026)"
    assert week_period("2026-W53").start == datetime(2026, 12, 28, tzinfo=UTC)  # 2026 has 53


def test_a_week_that_is_not_one_is_refused() -> None:
    with pytest.raises(ValueError, match="YYYY-Www"):
        week_period("2026-47")
    with pytest.raises(ValueError, match="no ISO week 54"):
        week_period("2026-W54")


def test_the_days_stop_at_the_reports_instant() -> None:
    november = month_period("2026-11")
    assert len(report_days(november, at=datetime(2027, 1, 1, tzinfo=UTC))) == 30
    days = report_days(november, at=UTC0 + 2 * DAY + timedelta(hours=5))
    assert days == [
        (UTC0, UTC0 + DAY), (UTC0 + DAY, UTC0 + 2 * DAY),
        (UTC0 + 2 * DAY, UTC0 + 2 * DAY + timedelta(hours=5)),
    ]  # fmt: skip
    assert report_days(november, at=UTC0) == []


def _sample(day: int, sli: float | None, remaining: float | None = None) -> DailySample:
    end = UTC0 + day * DAY
    if sli is None:
        return DailySample(end)
    return DailySample(end, at=end - timedelta(hours=1), sli=sli, remaining=remaining, consumed=0.1)


def test_an_slos_figures_come_from_its_newest_sample_and_its_days() -> None:
    samples = (
        _sample(1, 0.999, 0.8),
        _sample(2, None),
        _sample(3, 0.99, 0.2),
        DailySample(UTC0 + 4 * DAY, at=UTC0 + 4 * DAY, sli=0.996, remaining=0.5, consumed=0.5,
                    time_to_exhaustion_s=3 * 86_400),
        _sample(5, None),
    )  # fmt: skip
    figures = slo_performance(SloInput("checkout", "availability", 0.995, "30d", samples))
    assert (figures.sli, figures.met, figures.at) == (0.996, True, UTC0 + 4 * DAY)
    assert (figures.days_met, figures.days_with_data, figures.compliance) == (2, 3, 2 / 3)
    assert (figures.remaining, figures.consumed, figures.days_left) == (0.5, 0.5, 3.0)
    assert figures.burn_down == (
        (UTC0 + DAY, 0.8), (UTC0 + 2 * DAY, None), (UTC0 + 3 * DAY, 0.2),
        (UTC0 + 4 * DAY, 0.5), (UTC0 + 5 * DAY, None),
    )  # fmt: skip
    assert figures.key == "checkout/availability"


def test_an_slo_without_data_has_no_figures() -> None:
    figures = slo_performance(SloInput("a", "b", 0.99, "7d", (_sample(1, None),)))
    assert (figures.sli, figures.met, figures.compliance, figures.days_left) == (None,) * 4
    assert figures.days_with_data == 0


def test_deploys_are_counted_with_their_rollbacks() -> None:
    summary = deployment_summary(
        [
            DeploymentRecord("a", "feature", True),
            DeploymentRecord("a", "feature", False),
            DeploymentRecord("a", "rollback", True),
            DeploymentRecord("b", "rollback", False),
        ]
    )
    assert (summary.total, summary.allowed, summary.denied, summary.rollbacks) == (4, 2, 2, 2)


def test_audited_slo_changes_read_as_changes() -> None:
    update = slo_change(
        at=UTC0, target="checkout/latency", action="slo.update", actor="bob",
        before={"version": 1, "spec": {"objective": 0.95, "labels": {"tier": "1"}}},
        after={"version": 2, "spec": {"objective": 0.96, "description": "fast"}},
    )  # fmt: skip
    assert (update.service, update.slo, update.action, update.version) == (
        "checkout", "latency", "changed", 2,
    )  # fmt: skip
    assert update.changes == (
        'description: - → "fast"', 'labels: {"tier":"1"} → -', "objective: 0.95 → 0.96",
    )  # fmt: skip
    created = slo_change(
        at=UTC0, target="a/b", action="slo.create", actor="x", before=None, after={"version": 1}
    )
    assert (created.action, created.version, created.changes) == ("created", 1, ())
    deleted = slo_change(
        at=UTC0, target="a/b", action="slo.delete", actor="x", before={"version": 3}, after=None
    )
    assert (deleted.action, deleted.version) == ("deleted", 3)
    odd = slo_change(at=UTC0, target="a/b", action="slo.rename", actor="x", before=1, after=2)
    assert (odd.action, odd.version) == ("rename", None)


def _task(task_id: int, due: datetime | None, state: TaskState = TaskState.OPEN) -> FollowUpTask:
    return FollowUpTask(task_id, 1, f"task {task_id}", state, created_at=UTC0, due_at=due)


def test_open_tasks_come_overdue_first_then_by_due_date() -> None:
    now = UTC0 + 10 * DAY
    tasks = [
        _task(1, None),
        _task(2, UTC0 + 20 * DAY),
        _task(3, UTC0 + 5 * DAY),
        _task(4, UTC0 + 2 * DAY),
        _task(5, UTC0, TaskState.DONE),
        _task(6, UTC0, TaskState.CANCELLED),
    ]
    items = action_items(tasks, now=now)
    assert [(item.task.id, item.overdue) for item in items] == [
        (4, True), (3, True), (2, False), (1, False),
    ]  # fmt: skip


def test_percentages_drop_trailing_zeros() -> None:
    assert [format_percent(v) for v in (0.995, 1.0, 0.0, -0.2, 2 / 3, -0.0000001)] == [
        "99.5 %", "100 %", "0 %", "-20 %", "66.667 %", "0 %",
    ]  # fmt: skip


def _figures(count: int, mttr_s: float | None) -> IncidentFigures:
    return IncidentFigures(count, 0, count, count, None, mttr_s, None, 0, 0)


def _stats(count: int, mttr_s: float | None) -> IncidentStats:
    november = month_period("2026-11")
    return IncidentStats(
        start=november.start,
        end=november.end,
        at=november.end,
        overall=_figures(count, mttr_s),
        by_severity={Severity.P0: _figures(0, None), Severity.P1: _figures(count, mttr_s)},
        by_service={},
        by_service_severity={},
    )


def _slo(name: str, sli: float | None, remaining: float | None) -> SloInput:
    sample = (
        DailySample(UTC0 + DAY, at=UTC0 + DAY, sli=sli, remaining=remaining)
        if sli is not None
        else DailySample(UTC0 + DAY)
    )
    return SloInput("svc", name, 0.99, "30d", (sample,))


@pytest.mark.parametrize(
    ("slos", "stats", "deploys", "expected"),
    [
        (
            [],
            None,
            0,
            ["No SLO is defined in this scope.", "No incident was opened."],
        ),
        (
            [_slo("a", 0.995, 0.5), _slo("b", None, None)],
            _stats(3, 7_080.0),
            2,
            [
                "1 of 2 SLOs met their objective at the end of November 2026; 1 SLO had no data.",
                "The worst was svc/a: SLI 99.5 % against 99 %, 50 % of its error budget left.",
                "Every SLO with data kept at least 25 % of its error budget.",
                "3 incidents (3 P1) were opened, resolved in 118 minutes on average.",
                "The gate was asked about 2 deploys: 2 allowed, 0 denied.",
            ],
        ),
        (
            [_slo("a", 0.98, -1.0), _slo("b", 0.991, 0.1)],
            _stats(1, None),
            1,
            [
                "1 of 2 SLOs met their objective at the end of November 2026.",
                "The worst was svc/a: SLI 98 % against 99 %, -100 % of its error budget left.",
                "1 SLO spent the whole error budget and 1 had less than 25 % left.",
                "1 incident (1 P1) was opened.",
                "The gate was asked about 1 deploy: 1 allowed, 0 denied.",
            ],
        ),
        (
            [_slo("a", 0.995, 0.5)],
            _stats(2, 3 * 3600.0),
            0,
            [
                "1 of 1 SLO met their objective at the end of November 2026.",
                "The worst was svc/a: SLI 99.5 % against 99 %, 50 % of its error budget left.",
                "Every SLO with data kept at least 25 % of its error budget.",
                "2 incidents (2 P1) were opened, resolved in 3.0 hours on average.",
            ],
        ),
        (
            [_slo("a", 0.995, 0.5)],
            _stats(2, 3 * 86_400.0),
            0,
            [
                "1 of 1 SLO met their objective at the end of November 2026.",
                "The worst was svc/a: SLI 99.5 % against 99 %, 50 % of its error budget left.",
                "Every SLO with data kept at least 25 % of its error budget.",
                "2 incidents (2 P1) were opened, resolved in 3.0 days on average.",
            ],
        ),
    ],
)
def test_the_summary_says_what_the_numbers_say(
    slos: list[SloInput], stats: IncidentStats | None, deploys: int, expected: list[str]
) -> None:
    performance = [slo_performance(slo) for slo in slos]
    summary = deployment_summary([DeploymentRecord("svc", "feature", True)] * deploys)
    assert (
        list(
            executive_summary(
                period=month_period("2026-11"),
                slos=performance,
                incidents=stats,
                deployments=summary,
            )
        )
        == expected
    )


def test_a_report_is_assembled_in_order_and_knows_when_it_is_empty() -> None:
    november = month_period("2026-11")
    change = slo_change(
        at=UTC0 + DAY, target="svc/b", action="slo.create", actor="x", before=None, after=None
    )
    earlier = slo_change(
        at=UTC0, target="svc/a", action="slo.create", actor="x", before=None, after=None
    )
    report = assemble_report(
        november,
        at=november.end,
        scope="all services",
        slos=[_slo("b", 0.995, 0.5), _slo("a", None, None)],
        incidents=_stats(0, None),
        deployments=[],
        changes=[change, earlier],
        tasks=[_task(1, None)],
    )
    assert [slo.slo for slo in report.slos] == ["a", "b"]
    assert report.incidents is None  # a period without incidents has none to show
    assert [c.slo for c in report.changes] == ["a", "b"]
    assert [item.task.id for item in report.actions] == [1]
    assert report.has_data
    empty = assemble_report(
        november, at=november.end, scope="team x", slos=[_slo("a", None, None)],
        incidents=None, deployments=[], changes=[], tasks=[_task(1, None)],
    )  # fmt: skip
    assert not empty.has_data
    assert assemble_report(
        november, at=november.end, scope="x", slos=[], incidents=_stats(1, None),
        deployments=[DeploymentRecord("a", "b", True)], changes=[], tasks=[],
    ).has_data  # fmt: skip
