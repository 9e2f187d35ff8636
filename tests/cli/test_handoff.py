"""`srekit oncall handoff` through CliRunner and the real app, on a SQLite store holding the
story of tests/handoff_story.py (its rotation stored, and as a file), and the sample of
docs/handoff.md, which must be what it prints."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from srekit.cli.main import app
from srekit.core.people import ContactKind, ContactMethod, Person
from srekit.store.database import create_store_engine, transaction, upgrade
from srekit.store.repo import add_person
from tests.handoff_story import ROTATION_YAML, store_rotation, write_story
from tests.notifiers.conftest import Answer, HttpReceiver

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


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    server = HttpReceiver()
    yield server
    server.close()


def _person(env: dict[str, str], name: str, *contacts: tuple[str, str]) -> None:
    engine = create_store_engine(env["SREKIT_DATABASE_URL"])
    with transaction(engine) as session:
        add_person(
            session,
            person=Person(
                name=name,
                contacts=tuple(ContactMethod(ContactKind(k), target) for k, target in contacts),
            ),
            actor="ana",
        )
    engine.dispose()


def _sending(env: dict[str, str]) -> dict[str, str]:
    return {
        **env,
        "SREKIT_NOTIFY_RETRIES": "2",
        "SREKIT_NOTIFY_BACKOFF_S": "0",
        "SREKIT_PUBLIC_URL": "https://srekit.example.org",
    }


def test_send_tells_the_incoming_primary_through_each_contact(
    story: tuple[dict[str, str], Path], receiver: HttpReceiver
) -> None:
    env, _ = story
    _person(
        env,
        "alice",
        ("webhook", f"{receiver.url}/hooks/alice"),
        ("pagerduty", "R0UT1NGK3YALICE"),
        ("slack", f"{receiver.url}/services/T0/B0/alice"),
    )
    code, out, err = _run(_sending(env), "--rotation", "payments", "--at", AT, "--send")
    assert code == 0, err
    assert out == _docs_sample()  # the checklist on stdout, as without --send
    hook, slack = receiver.received  # nothing went to PagerDuty
    assert hook.path == "/hooks/alice"
    assert hook.json["kind"] == "handoff"
    assert hook.json["person"] == "alice"
    assert hook.json["subject"] == (
        "On-call handoff: payments, primary bob (override) → alice at Mon 2026-03-30 09:00 CEST"
    )
    assert hook.json["markdown"] == _docs_sample()
    assert hook.json["link"] == (
        f"https://srekit.example.org/api/v1/oncall/rotations/payments/handoff?at={AT}&format=md"
    )
    assert hook.json["at"] == AT
    assert slack.path == "/services/T0/B0/alice"
    assert slack.json["blocks"][0]["text"]["text"] == hook.json["subject"]
    host = receiver.url.removeprefix("http://")
    assert err.splitlines() == [
        f"delivered to alice by webhook (http://{host}/…), 1 attempt: webhook: HTTP 200",
        "not delivered to alice by pagerduty (R0UT…), 0 attempts: not sent: a handoff is not"
        " an incident, and PagerDuty events are for incidents",
        f"delivered to alice by slack (http://{host}/…), 1 attempt: slack: HTTP 200",
    ]


def test_send_exits_1_when_no_contact_received_it(
    story: tuple[dict[str, str], Path], receiver: HttpReceiver
) -> None:
    env, rotation = story
    receiver.default = Answer(503, b"down")
    _person(env, "alice", ("webhook", f"{receiver.url}/hooks/alice"))
    code, out, err = _run(_sending(env), "-f", rotation, "--at", AT, "--send")
    assert code == 1
    assert out == _docs_sample()
    assert len(receiver.received) == 2  # SREKIT_NOTIFY_RETRIES
    assert receiver.received[0].json["link"] is None  # a file's rotation is not served
    said = " ".join(err.split())
    assert "not delivered to alice by webhook" in said
    assert "HTTP 503 down (2 attempts; out of attempts)" in said
    assert "--send: none of alice's contact methods received the handoff" in said


def test_send_exits_1_without_anyone_to_send_to(
    story: tuple[dict[str, str], Path], receiver: HttpReceiver
) -> None:
    env, _ = story
    code, out, err = _run(_sending(env), "-r", "payments", "--at", AT, "--send")
    assert code == 1
    assert out == _docs_sample()
    assert "--send: not sent: alice is not a stored person, so has no contact methods" in err
    _person(env, "alice")
    code, _, err = _run(_sending(env), "-r", "payments", "--at", AT, "--send")
    assert code == 1
    assert "--send: not sent: alice has no contact methods" in " ".join(err.split())
    # before the rotation's first shift every layer is a gap: nobody takes over
    code, _, err = _run(_sending(env), "-r", "payments", "--at", "2026-01-02T00:00:00Z", "--send")
    assert code == 1
    assert "nobody takes over the first layer at this handoff" in " ".join(err.split())
    assert receiver.received == []
