"""`srekit oncall handoff` through CliRunner and the real app, on a SQLite store holding the
story of tests/handoff_story.py (its rotation stored, and as a file), and the sample of
docs/handoff.md, which must be what it prints."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from srekit.cli.main import app
from srekit.store.database import create_store_engine, upgrade
from tests.handoff_story import ROTATION_YAML, store_rotation, write_story

ROOT = Path(__file__).resolve().parents[2]
AT = "2026-03-30T07:00:00Z"

runner = CliRunner()


@pytest.fixture
def story(tmp_path: Path) -> tuple[dict[str, str], Path]:
    url = f"sqlite:///{tmp_path / 'srekit.db'}"
    engine = create_store_engine(url)
    upgrade(engine)
    write_story(engine)
    store_rotation(engine)
    engine.dispose()
    rotation = tmp_path / "payments.yaml"
    rotation.write_text(ROTATION_YAML, encoding="utf-8")
    env = {"SREKIT_DATABASE_URL": url, "SREKIT_HOME": str(tmp_path / "home")}
    return env, rotation


def _run(env: dict[str, str], *args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, ["oncall", "handoff", *(str(a) for a in args)], env=env)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def _docs_sample() -> str:
    page = (ROOT / "docs" / "handoff.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- sample -->\n````markdown\n(.*?)````\n", page, re.S)
    assert found, "docs/handoff.md lost its sample"
    return found.group(1)


def test_the_markdown_is_the_sample_of_the_docs(story: tuple[dict[str, str], Path]) -> None:
    env, rotation = story
    code, out, err = _run(env, "--file", rotation, "--at", AT)
    assert code == 0, err
    assert out == _docs_sample()


def test_the_stored_rotation_hands_over_as_its_file_does(
    story: tuple[dict[str, str], Path],
) -> None:
    env, rotation = story
    code, out, err = _run(env, "--rotation", "payments", "--at", AT)
    assert code == 0, err
    assert out == _docs_sample()
    code, stored, err = _run(env, "-r", "payments", "--at", AT, "--format", "json")
    assert code == 0, err
    code, filed, err = _run(env, "-f", rotation, "--at", AT, "--format", "json")
    assert code == 0, err
    assert json.loads(stored) == json.loads(filed)


def test_an_unknown_stored_rotation_exits_2(story: tuple[dict[str, str], Path]) -> None:
    env, _ = story
    code, out, err = _run(env, "--rotation", "nope", "--at", AT)
    assert code == 2
    assert "no rotation 'nope' in the store" in err
    assert out == ""


def test_json_for_tools(story: tuple[dict[str, str], Path]) -> None:
    env, rotation = story
    code, out, err = _run(
        env, "-f", rotation, "--at", "2026-03-30T09:00:00+02:00", "--format", "JSON"
    )
    assert code == 0, err
    document = json.loads(out)
    assert document["at"] == AT
    assert [
        (h["layer"], h["outgoing"]["member"], h["incoming"]["member"]) for h in document["layers"]
    ] == [
        ("primary", "bob", "alice"),
        ("secondary", "erin", "frank"),
        ("manager", "heidi", "grace"),
    ]
    assert [i["title"] for i in document["incidents"]] == [
        "Payments API down",
        "Checkout 5xx above budget",
    ]
    assert document["maintenance"] == {"configured": False, "problem": None, "silences": []}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--at", "yesterday"), "expected an RFC 3339 time"),
        (("--at", "2026-03-30T07:00:00"), "expected a time zone"),
        (("--at", "2999-01-01T00:00:00Z"), "is in the future"),
        (("--format", "pdf"), "expected one of md, json"),
    ],
)
def test_bad_input_exits_2_saying_why(
    story: tuple[dict[str, str], Path], args: tuple[str, ...], message: str
) -> None:
    env, rotation = story
    code, out, err = _run(env, "--file", rotation, *args)
    assert code == 2
    assert message in err
    assert out == ""


def test_a_bad_rotation_document_exits_2_naming_the_file(
    story: tuple[dict[str, str], Path], tmp_path: Path
) -> None:
    env, _ = story
    bad = tmp_path / "bad.yaml"
    bad.write_text(ROTATION_YAML.replace("Europe/Berlin", "Europe/Nowhere"), encoding="utf-8")
    code, _, err = _run(env, "--file", bad)
    assert code == 2
    assert "bad.yaml" in err
    assert "timezone" in err
    code, _, err = _run(env, "--file", tmp_path / "missing.yaml")
    assert code == 2
    assert "missing.yaml" in err
    code, _, err = _run(env)
    assert code == 2
    assert "expected one of --rotation NAME (a stored rotation) or -f FILE" in err
    code, _, err = _run(env, "--rotation", "payments", "--file", bad)
    assert code == 2
    assert "expected one of --rotation NAME" in err
