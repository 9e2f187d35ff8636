"""`srekit postmortem …` through CliRunner, on SQLite and PostgreSQL: the loop from the draft to
the published document and the closed incident, bad input exiting 2 in words, and `show
--server` against a running srekit."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import EXAMPLES, Cli, Served

EXAMPLE = EXAMPLES / "postmortems" / "checkout-errors.yaml"


@pytest.fixture(autouse=True)
def _upgraded(request: pytest.FixtureRequest) -> None:
    """The store of the `cli` fixture at the current schema, as `srekit db upgrade` leaves it."""
    if "cli" in request.fixturenames:
        cli: Cli = request.getfixturevalue("cli")
        code, _, err = cli("db", "upgrade")
        assert code == 0, err


def _incident(cli: Cli) -> str:
    declared = cli.json(
        "incident", "declare", "checkout errors", "--severity", "P1",
        "--service", "checkout", "--slo", "checkout/availability",
    )  # fmt: skip
    assert isinstance(declared, dict)
    return str(declared["id"])


def _document(cli: Cli, *args: str | Path) -> dict[str, Any]:
    document = cli.json("postmortem", *args)
    assert isinstance(document, dict)
    return document


def test_from_the_draft_to_the_closed_incident(cli: Cli, tmp_path: Path) -> None:
    number = _incident(cli)
    cli.json("incident", "task", number, "page the payment provider")
    drafted = _document(cli, "draft", number, "--consumed", "checkout/availability=0.4")
    assert (drafted["state"], drafted["version"], drafted["created_by"]) == ("draft", 1, "ci")
    assert drafted["sections"]["impact"]["budget_consumed"] == {"checkout/availability": 0.4}
    assert [i["title"] for i in drafted["sections"]["action_items"]] == [
        "page the payment provider"
    ]
    code, _, err = cli("postmortem", "draft", number)
    assert code == 2
    assert f"incident {number} has a post-mortem already (draft, version 1)" in err

    code, out, err = cli("postmortem", "show", number)
    assert code == 0, err
    assert f"post-mortem of incident #{number} checkout errors" in out
    assert "before it can be published" in out
    assert "root_cause: the root cause is not written yet" in out

    # the exported file, unchanged, edits nothing; the example's sections then replace ...
    exported = tmp_path / "pm.yaml"
    code, out, err = cli("postmortem", "export", number, "--format", "yaml", "-o", exported)
    assert (code, out.strip()) == (0, f"wrote the post-mortem of incident #{number} to {exported}")
    assert _document(cli, "edit", number, "-f", exported)["version"] == 1
    edited = _document(cli, "edit", number, "-f", EXAMPLE)
    assert edited["version"] == 2
    assert edited["sections"]["root_cause"].startswith("Release v1.4.2 lowered")
    # ... the action items too: the incident's task is no longer one of them
    assert [i["owner"] for i in edited["sections"]["action_items"]] == [
        "payments-team",
        "payments-team",
        None,
    ]
    code, _, err = cli("postmortem", "edit", number, "-f", exported)  # made from version 1
    assert code == 2
    assert "but version 2 is stored" in err

    assert _document(cli, "review", number)["state"] == "in_review"
    code, _, err = cli("postmortem", "publish", number)
    assert code == 2
    assert f"incident {number} is triggered: resolve it first" in " ".join(err.split())
    cli.json("incident", "resolve", number)
    published = _document(cli, "publish", number)
    assert published["state"] == "published"
    tasks = cli.json("task", "list", "--incident", number)
    assert isinstance(tasks, list)
    assert sorted((t["source"], t["title"]) for t in tasks) == [
        ("incident", "page the payment provider"),
        ("postmortem", "Add the provider's latency to the checkout dashboard"),
        ("postmortem", "Give the payment client a retry budget (at most 10 % extra calls)"),
        ("postmortem", "Move the payment client's timeouts into the reviewed configuration"),
    ]

    code, markdown, err = cli("postmortem", "export", number)
    assert code == 0, err
    assert markdown.startswith("# Post-mortem: checkout errors\n")
    assert "| 1 | Move the payment client's timeouts into the reviewed configuration" in markdown
    page = tmp_path / "pm.html"
    code, _, err = cli("postmortem", "export", number, "--format", "HTML", "-o", page)
    assert code == 0, err
    assert "<h2>Root cause</h2>" in page.read_text()

    closed = cli.json("incident", "close", number)
    assert isinstance(closed, dict)
    assert closed["state"] == "closed"
    assert closed["timeline"][-1]["text"] == "closed (post-mortem published)"


def test_sending_back_and_tables(cli: Cli) -> None:
    number = _incident(cli)
    code, out, err = cli("postmortem", "draft", number, "--affected-share", "0.25")
    assert code == 0, err
    assert re.search(r"^state\s+draft\s*$", out, re.MULTILINE), out
    code, out, err = cli("postmortem", "review", number)
    assert re.search(r"^state\s+in_review\s*$", out, re.MULTILINE), out
    code, out, err = cli("postmortem", "return", number)
    assert code == 0, err
    assert re.search(r"^state\s+draft\s*$", out, re.MULTILINE), out
    shown = _document(cli, "show", number)
    assert shown["sections"]["impact"]["affected_share"] == 0.25
    code, out, _ = cli("postmortem", "show", number, "--format", "yaml")
    assert f"incident: {number}\n" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("show", "1"), "incident 1 has no post-mortem yet"),
        (("show", "41"), "no incident 41"),
        (("draft", "1", "--consumed", "checkout"), "--consumed: expected SERVICE/SLO=FRACTION"),
        (("draft", "1", "--consumed", "a/b=nan"), "--consumed: expected SERVICE/SLO=FRACTION"),
        (("draft", "1", "--consumed", "a/b=-1"), "--consumed: a fraction of the error budget"),
        (("draft", "1", "--affected-share", "2"), "--affected-share"),
        (("export", "1", "--format", "pdf"), "expected one of md, html, yaml, got 'pdf'"),
        (("edit", "1", "-f", "missing.yaml"), "missing.yaml: no such file"),
        (("edit", "1", "-f", "BAD"), "bad.yaml: action_items[0].title: expected one line"),
        (("edit", "1", "-f", "WORSE"), "worse.yaml: invalid YAML at line 2, column 1"),
        (("edit", "1"), "Missing option '--file'"),
    ],
)
def test_bad_input_exits_2_in_words(
    cli: Cli, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    _incident(cli)
    if "BAD" in args or "WORSE" in args:
        cli("postmortem", "draft", "1")
    bad = tmp_path / "bad.yaml"
    bad.write_text('action_items: [{title: "two\\nlines"}]\n')
    worse = tmp_path / "worse.yaml"
    worse.write_text("summary: [\n")
    files = {"BAD": str(bad), "WORSE": str(worse)}
    code, _, err = cli("postmortem", *(files.get(a, a) for a in args))
    assert code == 2, err
    assert message in " ".join(err.replace("│", " ").split()), err
    assert "Traceback" not in err


def test_show_from_a_server(served: Served) -> None:
    code, _, err = served.run("postmortem", "show", "5")
    assert code == 2
    assert "404" in err
    assert "no incident 5" in err


def test_an_unwritable_output_exits_2(cli: Cli, tmp_path: Path) -> None:
    number = _incident(cli)
    cli("postmortem", "draft", number)
    target = tmp_path / "missing-dir" / "pm.md"
    code, _, err = cli("postmortem", "export", number, "-o", target)
    assert code == 2
    assert f"{target}: cannot write" in " ".join(err.split())
    assert json.loads(cli("postmortem", "show", number, "--format", "json")[1])["version"] == 1
