"""`srekit incident …` and `srekit task …` through CliRunner, on SQLite and PostgreSQL, and
`incident list|show --server` against a running srekit."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.cli.conftest import Cli, Served


@pytest.fixture(autouse=True)
def _upgraded(request: pytest.FixtureRequest) -> None:
    """The store of the `cli` fixture at the current schema, as `srekit db upgrade` leaves it."""
    if "cli" in request.fixturenames:
        cli: Cli = request.getfixturevalue("cli")
        code, _, err = cli("db", "upgrade")
        assert code == 0, err


def _declare(cli: Cli, *args: str) -> dict[str, Any]:
    document = cli.json("incident", "declare", *args)
    assert isinstance(document, dict)
    return document


def test_an_incident_from_declaration_to_closing(cli: Cli) -> None:
    declared = _declare(
        cli, "checkout errors", "--severity", "p1", "--service", "checkout",
        "--slo", "checkout/availability", "--commander", "ana",
    )  # fmt: skip
    number = str(declared["id"])
    assert (declared["severity"], declared["state"]) == ("P1", "triggered")
    assert declared["roles"] == {"commander": "ana"}
    assert declared["created_by"] == "ci"

    acked = cli.json("incident", "ack", number, "--note", "looking")
    assert acked["state"] == "acknowledged"
    code, _, err = cli("incident", "ack", number)
    assert code == 2
    assert "acknowledged already" in err
    cli.json("incident", "note", number, "rolled back v1.4.2")
    cli.json("incident", "assign", number, "--role", "Scribe", "--person", "bo")
    cli.json("incident", "mitigate", number)
    cli.json("incident", "resolve", number)
    code, _, err = cli("incident", "close", number)
    assert code == 2
    assert "--waive-postmortem" in err
    closed = cli.json("incident", "close", number, "--waive-postmortem", "no user impact")
    assert closed["state"] == "closed"
    texts = [entry["text"] for entry in closed["timeline"]]
    assert "rolled back v1.4.2" in texts
    assert any("post-mortem waived: no user impact" in text for text in texts)
    assert closed["roles"] == {"commander": "ana", "scribe": "bo"}

    code, out, _ = cli("incident", "list")
    assert (code, out.strip()) == (0, "no incidents match")
    code, out, _ = cli("incident", "list", "--state", "all")
    assert code == 0
    assert "checkout errors" in out
    assert "closed" in out
    code, out, _ = cli("incident", "show", number)
    assert code == 0
    for shown in ("#1 P1 checkout errors", "timeline", "rolled back v1.4.2", "scribe: bo"):
        assert shown in out
    audit = cli.json("audit", "--kind", "incident")
    actions = sorted(entry["action"] for entry in audit)
    assert actions == sorted(
        [
            "incident.open",
            "incident.assign",
            "incident.acknowledge",
            "incident.assign",
            "incident.mitigate",
            "incident.resolve",
            "incident.close",
        ]
    )


def test_tasks_and_the_overdue_exit_code(cli: Cli) -> None:
    number = str(_declare(cli, "slow search", "--severity", "P3")["id"])
    past = cli.json("incident", "task", number, "add a timeout", "--due", "2026-01-01T00:00:00Z")
    cli.json("incident", "task", number, "write the runbook", "--owner", "bo")
    code, out, _ = cli("task", "list", "--overdue")
    assert code == 1  # something is overdue: a check that fails
    assert "add a timeout" in out
    assert "write the runbook" not in out
    code, _, _ = cli("task", "done", str(past["id"]))
    assert code == 0
    code, out, _ = cli("task", "list", "--overdue")
    assert (code, out.strip()) == (0, "no tasks match")
    listed = cli.json("task", "list", "--incident", number)
    assert [t["state"] for t in listed] == ["done", "open"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("incident", "declare", "x", "--severity", "P7"), "expected one of P0, P1, P2, P3"),
        (("incident", "declare", "x", "--severity", "P1", "--service", "Bad Name"), "--service"),
        (("incident", "declare", "x", "--severity", "P1", "--slo", "nope"), "SERVICE/SLO"),
        (("incident", "declare", "a\x1bb", "--severity", "P1"), "printable line"),
        (("incident", "ack", "41"), "no incident 41"),
        (("incident", "list", "--state", "sleeping"), "--state: expected one of"),
        (("incident", "list", "--severity", "P9"), "expected one of P0, P1, P2, P3"),
        (("incident", "assign", "1", "--role", "chef", "--person", "x"), "commander, scribe"),
        (("incident", "task", "1", "x", "--due", "tomorrow"), "--due: expected an RFC 3339"),
        (("task", "done", "99"), "no task 99"),
    ],
)
def test_bad_input_exits_2_in_words(cli: Cli, args: tuple[str, ...], message: str) -> None:
    code, _, err = cli(*args)
    assert code == 2, err
    assert message in " ".join(err.split())
    assert "Traceback" not in err


def test_list_and_show_from_a_server(served: Served) -> None:
    code, out, err = served.run("incident", "list", "--state", "all", "--format", "json")
    assert code == 0, err
    assert json.loads(out) == []
    code, _, err = served.run("incident", "show", "5")
    assert code == 2
    assert "404" in err
    assert "no incident 5" in err


def test_stats_count_what_was_declared(cli: Cli) -> None:
    _declare(cli, "checkout errors", "--severity", "P0", "--service", "checkout")
    _declare(cli, "slow search", "--severity", "P3", "--service", "search")
    document = cli.json("incident", "stats")
    assert isinstance(document, dict)
    assert (document["overall"]["count"], document["overall"]["open"]) == (2, 2)
    assert document["by_severity"]["P0"]["count"] == 1
    assert sorted(document["by_service"]) == ["checkout", "search"]
    code, out, _ = cli("incident", "stats")
    assert code == 0
    assert "MTTR" in out
    assert "checkout" in out
    code, _, err = cli(
        "incident", "stats", "--from", "2026-12-01T00:00:00Z", "--to", "2026-11-01T00:00:00Z"
    )
    assert code == 2
    assert "--to" in err


def test_alert_list_from_a_server(served: Served) -> None:
    code, out, err = served.run("alert", "list", "--unrouted", "--format", "json")
    assert code == 0, err
    assert json.loads(out) == []
    code, out, err = served.run("alert", "list")
    assert code == 0, err
    assert out.strip() == "no alerts match"


def test_closing_as_noise_marks_the_incident_until_it_is_reopened(cli: Cli) -> None:
    number = str(_declare(cli, "probe flapped", "--severity", "P3")["id"])
    cli.json("incident", "resolve", number)
    code, _, err = cli("incident", "close", number, "--reason", "flaky")
    assert code == 2
    assert "--reason: give it with --noise" in err
    code, _, err = cli("incident", "close", number, "--noise", "--reason", "a\x1bb")
    assert code == 2
    assert "--reason: expected one printable line" in err
    closed = cli.json("incident", "close", number, "--noise", "--reason", "the probe flapped")
    assert (closed["state"], closed["noise"]) == ("closed", True)
    entry = closed["timeline"][-1]
    assert entry["text"] == "closed as noise (post-mortem waived: the probe flapped)"
    assert entry["data"] == {
        "state": "closed", "severity": "P3", "noise": True, "noise_reason": "the probe flapped",
    }  # fmt: skip
    reopened = cli.json("incident", "reopen", number)
    assert (reopened["state"], reopened["noise"]) == ("triggered", False)
    cli.json("incident", "resolve", number)
    plain = cli.json("incident", "close", number, "--noise")
    assert plain["noise"] is True
    assert plain["timeline"][-1]["text"] == ("closed as noise (post-mortem waived: a false alarm)")
