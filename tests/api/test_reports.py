"""`GET /api/v1/reports/monthly|weekly` on the stored story: the JSON holds to ReportOut and
to the story's figures, every format is the CLI's bytes, no data is a 404, bad input a 422."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from srekit.contracts import ReportOut
from srekit.core.report import month_period
from srekit.core.sli import SourceSet
from srekit.flows.report import stored_report
from srekit.report import ReportFormat, render_report
from tests.api.conftest import Api
from tests.report_story import AT, store_story

AT_TEXT = "2026-12-01T00:00:00Z"


@pytest.fixture
def story(api: Api, engine: Engine) -> Api:
    store_story(engine)
    return api


def test_the_monthly_report_in_json(story: Api) -> None:
    answer = story.get(f"/api/v1/reports/monthly?month=2026-11&at={AT_TEXT}", role="viewer")
    assert answer.status_code == 200, answer.text
    document = ReportOut.model_validate(answer.json())
    assert document.deployments.total == 4
    assert [slo.met for slo in document.slos] == [False, True]
    assert document.incidents is not None
    assert document.incidents.overall.count == 2


@pytest.mark.parametrize("output", ["md", "html", "pdf"])
def test_every_format_is_what_the_renderer_prints(story: Api, engine: Engine, output: str) -> None:
    answer = story.get(
        f"/api/v1/reports/monthly?month=2026-11&at={AT_TEXT}&format={output}&service=checkout"
    )
    assert answer.status_code == 200, answer.text
    from srekit.contracts import report_document

    # the server has no event store: its incident budgets say so, as the sources say it
    sources = SourceSet(
        missing_events="no event store yet: ingest events first (srekit events ingest)"
    )
    report = stored_report(
        engine, period=month_period("2026-11"), at=AT, sources=sources, service="checkout"
    )
    assert answer.content == render_report(report_document(report), ReportFormat(output))
    assert answer.headers["content-type"].startswith(
        {"md": "text/markdown", "html": "text/html", "pdf": "application/pdf"}[output]
    )


def test_the_weekly_review_and_a_period_without_data(story: Api) -> None:
    week = story.get(f"/api/v1/reports/weekly?week=2026-W46&at={AT_TEXT}&team=team-payments")
    assert week.status_code == 200, week.text
    assert week.json()["scope"] == "team team-payments"
    empty = story.get(f"/api/v1/reports/monthly?month=2026-09&at={AT_TEXT}")
    assert empty.status_code == 404
    assert "no data for all services in September 2026" in empty.text


@pytest.mark.parametrize(
    "query",
    [
        "monthly?month=2026-13",
        "weekly?week=2026-W99",
        "monthly?month=2026-11&format=doc",
        "monthly?month=2026-11&at=2026-12-01T00:00:00",
        "monthly?month=2026-11&team=a&service=b",
        "monthly?month=2026-11&service=%00",
        "monthly",
    ],
)
def test_bad_input_is_a_422(story: Api, query: str) -> None:
    answer = story.get(f"/api/v1/reports/{query}")
    assert answer.status_code == 422, answer.text


def test_a_report_needs_a_token(story: Api) -> None:
    assert story.get("/api/v1/reports/monthly?month=2026-11", role=None).status_code == 401
