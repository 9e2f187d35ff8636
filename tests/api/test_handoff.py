"""`GET /api/v1/oncall/rotations/{name}/handoff` on the story of tests/handoff_story.py, on
SQLite and PostgreSQL: the JSON the CLI prints, the Markdown of the docs' sample, 404 for an
unknown rotation, and hostile instants refused naming `at`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from srekit.cli.main import app
from srekit.contracts import HandoffOut
from tests.api.conftest import Api, _api
from tests.cli.test_handoff import _docs_sample
from tests.handoff_story import store_rotation, write_story

PATH = "/api/v1/oncall/rotations/payments/handoff"
AT = "2026-03-30T07:00:00Z"


@pytest.fixture
def story_api(engine: Engine, tmp_path: Path) -> Iterator[Api]:
    write_story(engine)
    store_rotation(engine)
    yield from _api(engine, tmp_path)


@pytest.fixture
def lite_story_api(sqlite_engine: Engine, tmp_path: Path) -> Iterator[Api]:
    write_story(sqlite_engine)
    store_rotation(sqlite_engine)
    yield from _api(sqlite_engine, tmp_path)


def test_the_json_is_what_the_cli_prints(story_api: Api, tmp_path: Path) -> None:
    answer = story_api.get(f"{PATH}?at={AT}", role="viewer")
    assert answer.status_code == 200, answer.text
    document = answer.json()
    HandoffOut.model_validate(document)
    assert document["rotation"] == "payments"
    assert document["at"] == AT
    assert [
        (h["layer"], h["outgoing"]["member"], h["incoming"]["member"]) for h in document["layers"]
    ] == [
        ("primary", "bob", "alice"),
        ("secondary", "erin", "frank"),
        ("manager", "heidi", "grace"),
    ]
    assert document["alerts"]["from"] == "2026-03-28T17:00:00Z"  # "from", not the field's name
    assert [i["title"] for i in document["incidents"]] == [
        "Payments API down",
        "Checkout 5xx above budget",
    ]
    url = story_api.client.app.state.srekit.engine.url  # type: ignore[attr-defined]
    printed = CliRunner().invoke(
        app,
        ["oncall", "handoff", "-r", "payments", "--at", AT, "--format", "json"],
        env={
            "SREKIT_DATABASE_URL": url.render_as_string(hide_password=False),
            "SREKIT_HOME": str(tmp_path / "cli"),
        },
    )
    assert printed.exit_code == 0, printed.output
    assert json.loads(printed.stdout) == document


def test_the_markdown_is_the_sample_of_the_docs(lite_story_api: Api) -> None:
    answer = lite_story_api.get(f"{PATH}?at=2026-03-30T09:00:00%2B02:00&format=md", role="viewer")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "text/markdown; charset=utf-8"
    assert answer.text == _docs_sample()


def test_an_unknown_rotation_is_a_404_and_a_reader_needs_a_token(lite_story_api: Api) -> None:
    answer = lite_story_api.get("/api/v1/oncall/rotations/nope/handoff", role="viewer")
    assert answer.status_code == 404
    assert answer.json()["detail"] == "no rotation 'nope' in the store"
    assert lite_story_api.get(PATH, role=None).status_code == 401


@pytest.mark.parametrize(
    ("at", "said"),
    [
        ("NaN", "expected an RFC 3339 time"),
        ("1e309", "expected an RFC 3339 time"),
        ("-1", "expected an RFC 3339 time"),
        ("2026-03-30T07:00:00Z\x00", "expected an RFC 3339 time"),
        ("\x1b[31m2026-03-30T07:00:00Z", "expected an RFC 3339 time"),
        ("2026-03-30T07:00:00", "expected a time zone"),
        ("0001-01-01T00:00:00+01:00", "between the years 1 and 9999"),
        ("0001-01-02T00:00:00Z", "expected 1970-01-01T00:00:00Z or later"),
        ("9999-12-31T23:59:59Z", "is in the future"),
        ("9" * 10_000, "at most 64 characters"),
    ],
)
def test_a_bad_at_is_a_422_naming_it(lite_story_api: Api, at: str, said: str) -> None:
    answer = lite_story_api.get(PATH, params={"at": at}, role="viewer")
    assert answer.status_code == 422, answer.text
    [detail] = answer.json()["detail"]
    assert detail["loc"] == ["query", "at"]
    assert said in detail["msg"]
    assert len(answer.content) < 2000  # the input is not echoed whole


def test_an_unknown_format_is_a_422_naming_it(lite_story_api: Api) -> None:
    answer = lite_story_api.get(PATH, params={"format": "pdf"}, role="viewer")
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["query", "format"]


def test_the_openapi_document_describes_both_answers(lite_story_api: Api) -> None:
    schema = lite_story_api.client.get("/openapi.json").json()
    answers = schema["paths"]["/api/v1/oncall/rotations/{name}/handoff"]["get"]["responses"]
    assert answers["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/HandoffOut"
    }
    assert "text/markdown" in answers["200"]["content"]
    assert {"404", "422"} <= set(answers)
