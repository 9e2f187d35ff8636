"""`srekit person`: add, update, list, show, remove, on SQLite and PostgreSQL; bad details exit
2 naming the option."""

from __future__ import annotations

import pytest

from tests.cli.conftest import Cli
from tests.hostile import HOSTILE_NAMES


def _words(text: str) -> str:
    """What an error panel says, its frame and line breaks taken out."""
    return " ".join(text.replace("│", " ").split())


@pytest.fixture(autouse=True)
def _upgraded(request: pytest.FixtureRequest) -> None:
    """The store of the `cli` fixture at the current schema, as `srekit db upgrade` leaves it."""
    if "cli" in request.fixturenames:
        cli: Cli = request.getfixturevalue("cli")
        code, _, err = cli("db", "upgrade")
        assert code == 0, err


ADD = (
    "person", "add", "alice", "--email", "alice@example.com", "--timezone", "Europe/Berlin",
    "--team", "payments", "--display-name", "Alice Liddell",
    "--contact", "slack=https://chat.example.com/hooks/payments-oncall",
    "--contact", "email=alice@example.com",
)  # fmt: skip


def test_add_show_update_list_remove(cli: Cli) -> None:
    code, out, err = cli(*ADD)
    assert code == 0, err
    assert "added alice" in out
    assert cli.json("person", "show", "alice") == {
        "name": "alice",
        "display_name": "Alice Liddell",
        "email": "alice@example.com",
        "timezone": "Europe/Berlin",
        "team": "payments",
        "contacts": [
            {"kind": "slack", "target": "https://chat.example.com/hooks/payments-oncall"},
            {"kind": "email", "target": "alice@example.com"},
        ],
    }
    code, _, err = cli(*ADD)
    assert code == 2
    assert "exists already" in err
    code, out, err = cli("person", "update", "alice", "--timezone", "Asia/Tokyo")
    assert code == 0, err
    shown = cli.json("person", "show", "alice")
    assert isinstance(shown, dict)
    assert (shown["timezone"], shown["email"], len(shown["contacts"])) == (
        "Asia/Tokyo",
        "alice@example.com",
        2,
    )
    cli("person", "update", "alice", "--contact", "pagerduty=R0UT1NG")
    shown = cli.json("person", "show", "alice")
    assert isinstance(shown, dict)
    assert shown["contacts"] == [{"kind": "pagerduty", "target": "R0UT1NG"}]
    assert cli("person", "add", "bob", "--team", "search")[0] == 0
    code, out, _ = cli("person", "list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["name", "display", "name", "team", "timezone", "contacts"]
    assert lines[1].split()[:4] == ["alice", "Alice", "Liddell", "payments"]
    assert lines[2].split() == ["bob", "-", "search", "-", "-"]
    listed = cli.json("person", "list", "--team", "search")
    assert [p["name"] for p in listed] == ["bob"]
    assert cli("person", "remove", "alice")[0] == 0
    code, _, err = cli("person", "show", "alice")
    assert (code, "no person 'alice'" in err) == (2, True)
    code, _, err = cli("person", "remove", "alice")
    assert code == 2
    code, out, _ = cli("audit", "--format", "json")
    assert code == 0
    assert '"person.delete"' in out


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("--email", "alice"), "--email"),
        (("--timezone", "Mars/Olympus"), "IANA time zone"),
        (("--team", "Pay Ments"), "--team"),
        (("--contact", "fax=123"), "expected KIND one of email, webhook, slack, pagerduty"),
        (("--contact", "slack"), "expected KIND=TARGET"),
        (("--contact", "webhook=ftp://x"), "http(s) URL"),
        (("--display-name", "a\x1b[31m"), "--display-name"),
    ],
)
def test_bad_details_exit_2_naming_the_option(cli: Cli, args: tuple[str, ...], said: str) -> None:
    code, _, err = cli("person", "add", "alice", *args)
    assert code == 2
    assert said in _words(err), err
    assert "Traceback" not in err
    assert cli.json("person", "list") == []


@pytest.mark.parametrize("name", list(HOSTILE_NAMES.values()), ids=list(HOSTILE_NAMES))
def test_hostile_handles_exit_2(cli: Cli, name: str) -> None:
    code, _, err = cli("person", "add", name)
    assert code == 2
    assert "expected a name" in _words(err), err
