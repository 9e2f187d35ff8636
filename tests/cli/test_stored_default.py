"""Given neither --file nor --server, `srekit status|gate|slo list|slo show|audit` read the
state store, and say so; when it holds nothing, they say where they looked and how to reach
the server `make run` starts, and exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from srekit.cli.main import app
from tests.cli.conftest import EXAMPLES, run
from tests.served import free_port

AT = "2026-11-20T00:00:00Z"
_HINTS = (
    "--server http://127.0.0.1:8000",
    "export SREKIT_SERVER=http://127.0.0.1:8000",
    "SREKIT_TOKEN",
    "run srekit in the project directory",
)


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A state directory as `make run` leaves one: the logs ingested, the examples stored."""
    home = tmp_path_factory.mktemp("stored-home")
    env = {"SREKIT_HOME": str(home), "SREKIT_PROMETHEUS_URL": ""}
    runner = CliRunner()
    for service in ("checkout", "catalog"):
        log = EXAMPLES / "logs" / f"{service}.access.log.gz"
        done = runner.invoke(app, ["events", "ingest", str(log), "-s", service], env=env)
        assert done.exit_code == 0, done.output
    done = runner.invoke(app, ["slo", "apply", "-f", str(EXAMPLES / "slos")], env=env)
    assert done.exit_code == 0, done.output
    return env


def _from_store(env: dict[str, str]) -> str:
    return f"from the store at {env['SREKIT_HOME']}/srekit.db"


def test_status_reads_the_stored_slos_as_the_files_give_them(stored: dict[str, str]) -> None:
    code, out, err = run("status", "--at", AT, "--format", "json", env=stored)
    assert code == 0, err
    assert err.strip() == _from_store(stored)
    code, from_files, _ = run(
        "status", "-f", EXAMPLES / "slos", "--at", AT, "--format", "json", env=stored
    )
    assert code == 0
    assert json.loads(out) == json.loads(from_files)
    code, table, _ = run("status", "--at", AT, env=stored)
    assert code == 0
    assert "checkout/latency          95%  7d      98.129%   62.6%" in table


def test_the_gate_decides_from_the_stored_slos_and_policies(stored: dict[str, str]) -> None:
    args = ("gate", "--service", "checkout", "--change-type", "feature", "--at", AT)
    code, out, err = run(*args, "--format", "json", env=stored)
    assert code == 0, err
    assert _from_store(stored) in err
    code, from_files, _ = run(*args, "-f", EXAMPLES / "slos", "--format", "json", env=stored)
    assert json.loads(out) == json.loads(from_files)
    code, out, _ = run(*args, env=stored)
    assert out.startswith("ALLOWED feature deploy of checkout: state normal, decision allow")
    assert "(policy payments)" in out  # the stored policy, as the specs name it
    code, _, err = run("gate", "--service", "nosuch", "--change-type", "feature", env=stored)
    assert code == 2
    assert "no SLO in the specs belongs to 'nosuch'" in err


def test_slo_list_show_and_audit_say_they_read_the_store(stored: dict[str, str]) -> None:
    code, listed, err = run("slo", "list", "--format", "json", env=stored)
    assert code == 0, err
    assert err.strip() == _from_store(stored)
    assert listed == run("slo", "list", "--stored", "--format", "json", env=stored)[1]
    assert [row["slo"] for row in json.loads(listed)] == [
        "availability",
        "good-minutes",
        "availability",
        "latency",
    ]
    code, out, _ = run("slo", "list", "--service", "checkout", "--format", "json", env=stored)
    assert [row["slo"] for row in json.loads(out)] == ["availability", "latency"]
    code, out, _ = run("slo", "list", "--service", "nosuch", "--format", "json", env=stored)
    assert (code, json.loads(out)) == (0, [])  # the store holds SLOs, none of this service
    code, out, err = run("slo", "show", "checkout/latency", env=stored)
    assert (code, err.strip()) == (0, _from_store(stored))
    assert "checkout/latency version 1" in out
    code, _, err = run("slo", "show", "checkout/nosuch", env=stored)
    assert code == 2
    assert err.strip() == "error: no SLO checkout/nosuch in the store"
    code, out, err = run("audit", "--format", "json", env=stored)
    assert (code, err.strip()) == (0, _from_store(stored))
    assert {entry["action"] for entry in json.loads(out)} >= {"slo.create", "policy.create"}
    code, out, err = run("audit", "--entity", "nosuch/slo", "--format", "json", env=stored)
    assert (code, json.loads(out)) == (0, [])  # a filter that matches nothing is an answer


@pytest.mark.parametrize(
    "command",
    [
        ["status"],
        ["gate", "--service", "checkout", "--change-type", "feature"],
        ["slo", "list"],
        ["slo", "show", "checkout/latency"],
        ["audit"],
    ],
    ids=lambda command: " ".join(command[:2]),
)
def test_an_empty_store_says_where_to_look(command: list[str], tmp_path: Path) -> None:
    home = tmp_path / "home"
    code, out, err = run(*command, env={"SREKIT_HOME": str(home)})
    assert (code, out) == (2, "")
    first = err.splitlines()[0]
    assert f"the state store at {home}/srekit.db (from SREKIT_HOME) holds no " in first
    if command[0] in ("status", "gate") or command[:2] == ["slo", "list"]:
        assert first.startswith("error: no spec given, and the state store")
        assert "--file PATH" in err
    else:  # slo show and audit take no spec files
        assert "--file" not in err
    for hint in _HINTS:
        assert hint in err
    assert not home.exists()  # looking created nothing


def test_outside_a_project_the_message_says_which_directory_was_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A newcomer in another directory than the project's reads the user's data directory."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SREKIT_HOME", raising=False)
    env = {"XDG_DATA_HOME": str(tmp_path / "data")}
    code, _, err = run("status", env=env)
    assert code == 2
    assert (
        f"the state store at {tmp_path}/data/srekit/srekit.db ($XDG_DATA_HOME/srekit, as"
        " SREKIT_HOME is not set and the current directory has no .srekit) holds no SLO"
    ) in err


def test_a_file_beats_a_server_set_in_the_environment(stored: dict[str, str]) -> None:
    """SREKIT_SERVER exported (as the message advises) is a default: -f still reads files."""
    server = f"http://127.0.0.1:{free_port()}"  # nobody there
    env = {**stored, "SREKIT_SERVER": server, "SREKIT_TOKEN": "x"}
    code, out, err = run("status", "-f", EXAMPLES / "slos", "--at", AT, env=env)
    assert code == 0, err
    assert "checkout/latency" in out
    code, out, _ = run("slo", "list", "-f", EXAMPLES / "slos", "--format", "json", env=env)
    assert code == 0
    assert {row["file"] for row in json.loads(out)} == {
        str(EXAMPLES / "slos" / "catalog.yaml"),
        str(EXAMPLES / "slos" / "checkout.yaml"),
    }
    code, _, err = run("status", env=env)  # without -f, the server it names
    assert code == 3
    assert f"from the server at {server}" in err
    assert f"cannot reach srekit at {server}" in err
