"""EscalationPolicy documents through `srekit apply -f` and `srekit get escalationpolicies`
(the store on both engines, and a running server), and `srekit oncall escalation list|show`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from sqlalchemy import Engine

from srekit.core.incident import DEFAULT_SEVERITIES, Severity
from srekit.flows.escalation import Paging, escalate
from srekit.flows.incidents import declare_incident
from srekit.store.database import create_store_engine, upgrade
from tests.api.conftest import FakeEvaluator, make_app, make_tokens
from tests.cli.conftest import EXAMPLES, Cli, run
from tests.escalation_fakes import FakeDirectory, FakeLinks, RecordingSender
from tests.served import serving

POLICY = EXAMPLES / "oncall" / "escalation.yaml"


@pytest.fixture
def stored(tmp_path: Path) -> Iterator[tuple[Engine, str]]:
    url = f"sqlite:///{tmp_path / 'state' / 'srekit.db'}"
    engine = create_store_engine(url)
    upgrade(engine)
    yield engine, url
    engine.dispose()


def test_apply_stores_the_policy_and_get_shows_what_apply_takes_back(
    cli: Cli, tmp_path: Path
) -> None:
    cli("db", "upgrade")
    code, out, err = cli("apply", "-f", POLICY)
    assert (code, out.strip()) == (0, "created escalation policy payments (version 1)"), err
    again = cli.json("apply", "-f", POLICY)
    assert again["escalation_policies"] == [
        {"escalation_policy": "payments", "result": "unchanged", "version": 1, "changes": []}
    ]
    code, out, err = cli("get", "escalationpolicies")
    assert code == 0, err
    header, row = out.splitlines()
    assert header.split() == ["name", "version", "services", "severities", "steps", "updated"]
    assert row.split()[:6] == ["payments", "1", "checkout,", "payments-api", "P0,", "P1,"]
    code, shown, err = cli("get", "escalationpolicy", "payments", "-o", "yaml")
    assert code == 0, err
    document = yaml.safe_load(shown)
    assert document == yaml.safe_load(POLICY.read_text())
    # what get printed, apply takes back unchanged; changed, it is a new version
    written = tmp_path / "policy.yaml"
    written.write_text(shown.replace("after: 15m", "after: 20m"))
    changed = cli.json("apply", "-f", written)
    assert changed["escalation_policies"] == [
        {
            "escalation_policy": "payments",
            "result": "updated",
            "version": 2,
            "changes": ['steps[2].after: "15m" → "20m"'],
        }
    ]
    code, _, err = cli("get", "escalationpolicy", "search")
    assert code == 2
    assert "no escalation policy 'search' in the store" in err


def test_a_bad_policy_is_exit_2_naming_file_and_field(cli: Cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(POLICY.read_text().replace("after: 10m", "after: soon"))
    code, out, err = cli("apply", "-f", bad)
    said = " ".join(err.replace("│", " ").split())
    assert (code, out) == (2, "")
    assert str(bad) in said
    assert "spec.steps[1].after" in said
    assert "expected a duration like 5m" in said


def test_get_from_a_server_prints_what_the_store_holds(
    stored: tuple[Engine, str], tmp_path: Path
) -> None:
    engine, url = stored
    local = {"SREKIT_DATABASE_URL": url, "SREKIT_HOME": str(tmp_path / "home")}
    assert run("apply", "-f", POLICY, env=local)[0] == 0
    tokens = make_tokens(engine)
    with serving(make_app(engine, FakeEvaluator(), tmp_path)) as address:
        remote = {"SREKIT_TOKEN": tokens["viewer"], "SREKIT_SERVER": f"http://{address}"}
        for args in (("escalationpolicies",), ("escalationpolicy", "payments")):
            for output in ("json", "yaml", "table"):
                here = run("get", *args, "-o", output, env=local)
                there = run("get", *args, "-o", output, env=remote)
                assert here[0] == there[0] == 0, (args, there[2])
                assert there[1] == here[1], (args, output)


def test_oncall_escalation_list_and_show_read_the_store(cli: Cli, tmp_path: Path) -> None:
    cli("db", "upgrade")
    assert cli("apply", "-f", POLICY)[0] == 0
    assert cli("oncall", "escalation", "list")[1].strip() == (
        "no escalations: apply an EscalationPolicy (srekit apply -f FILE)"
    )
    code, _, err = cli("oncall", "escalation", "show", "1")
    assert code == 2
    assert "no incident 1" in err
    engine = create_store_engine(cli.env["SREKIT_DATABASE_URL"])
    try:
        number = declare_incident(
            engine,
            title="checkout is down",
            severity=Severity.P1,
            actor="ci",
            now=datetime(2026, 3, 2, 10, 0, tzinfo=UTC),
            services=["checkout"],
        ).incident.id
        sender = RecordingSender()
        paging = Paging(FakeDirectory(), sender, FakeLinks(), DEFAULT_SEVERITIES)
        escalate(engine, paging, now=datetime(2026, 3, 2, 10, 0, 5, tzinfo=UTC))
        uncovered = declare_incident(
            engine,
            title="search is slow",
            severity=Severity.P1,
            actor="ci",
            now=datetime(2026, 3, 2, 10, 0, tzinfo=UTC),
            services=["search"],
        ).incident.id
    finally:
        engine.dispose()
    assert sender.people() == [("alice", 1)]
    assert cli.json("oncall", "escalation", "show", str(uncovered)) is None
    code, said, _ = cli("oncall", "escalation", "show", str(uncovered))
    assert code == 0
    assert f"incident {uncovered} has no escalation" in " ".join(said.split())
    (listed,) = cli.json("oncall", "escalation", "list", "--state", "active")
    assert listed == {
        "incident_id": number,
        "policy": "payments",
        "policy_version": 1,
        "state": "active",
        "next_step": 2,
        "next_at": "2026-03-02T10:10:05Z",
        "steps_paged": 1,
        "reason": None,
        "started_at": "2026-03-02T10:00:05Z",
        "updated_at": "2026-03-02T10:00:05Z",
    }
    assert cli.json("oncall", "escalation", "list", "--state", "stopped") == []
    shown = cli.json("oncall", "escalation", "show", str(number))
    # by hand: from 10:00:05, secondary +10m, manager +15m, grace +15m (P1's window)
    assert shown["plan"] == [
        {
            "step": 1,
            "cycle": 0,
            "notify": "rotation payments, layer primary",
            "due_at": "2026-03-02T10:00:05Z",
            "handled": True,
        },
        {
            "step": 2,
            "cycle": 0,
            "notify": "rotation payments, layer secondary",
            "due_at": "2026-03-02T10:10:05Z",
            "handled": False,
        },
        {
            "step": 3,
            "cycle": 0,
            "notify": "rotation payments, layer manager",
            "due_at": "2026-03-02T10:25:05Z",
            "handled": False,
        },
        {
            "step": 4,
            "cycle": 0,
            "notify": "person grace",
            "due_at": "2026-03-02T10:40:05Z",
            "handled": False,
        },
    ]
    code, table, err = cli("oncall", "escalation", "show", str(number))
    assert code == 0, err
    lines = [line.split() for line in table.splitlines()]
    assert ["next", "step", "2"] in lines
    assert ["4", "1", "person", "grace", "2026-03-02T10:40:05Z"] in lines
    assert [
        "1",
        "1",
        "rotation",
        "payments,",
        "layer",
        "primary",
        "2026-03-02T10:00:05Z",
        "handled",
    ] in lines
    code, _, err = cli("oncall", "escalation", "list", "--state", "paused")
    assert code == 2
    said = " ".join(err.replace("│", " ").split())  # the error box wraps lines
    assert "expected one of active, stopped, exhausted, got 'paused'" in said
