"""`srekit config`: where everything is and where each value came from, as a table and JSON;
secrets masked; and `srekit status` run from an unrelated directory names the path it read."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from srekit.config import Settings
from tests.cli.conftest import EXAMPLES, run


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cwd = tmp_path / "work"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    for variable in [v for v in os.environ if v.startswith("SREKIT_")] + ["XDG_DATA_HOME"]:
        monkeypatch.delenv(variable, raising=False)
    return cwd


def test_config_json_names_every_place_and_setting_with_its_origin(elsewhere: Path) -> None:
    xdg = elsewhere.parent / "xdg"
    code, out, err = run(
        "config",
        "--format",
        "json",
        env={
            "XDG_DATA_HOME": str(xdg),
            "SREKIT_DATABASE_URL": "postgresql://srekit:s3cret@db.example:5432/srekit",
            "SREKIT_PROMETHEUS_URL": "http://scraper:hunter2@prometheus:9090",
            "SREKIT_PROMETHEUS_TOKEN": "tok-123",
            "SREKIT_KEEP_ALIVE_S": "90",
        },
    )
    assert code == 0, err
    shown = json.loads(out)
    home = xdg / "srekit"
    assert shown["home"] == {
        "variable": "SREKIT_HOME",
        "value": str(home),
        "source": "$XDG_DATA_HOME/srekit, as SREKIT_HOME is not set and the current directory"
        " has no .srekit",
        "exists": False,
    }
    assert shown["database_url"]["value"] == "postgresql://srekit:***@db.example:5432/srekit"
    assert shown["database_url"]["source"] == "SREKIT_DATABASE_URL"
    assert shown["event_store"]["value"] == str(home / "events" / "events.duckdb")
    assert shown["rules"]["value"] == str(home / "rules")
    assert shown["prometheus_url"]["value"] == "http://scraper:***@prometheus:9090"
    assert shown["prometheus_token"]["value"] == "***"
    assert "s3cret" not in out
    assert "hunter2" not in out
    assert "tok-123" not in out
    assert shown["keep_alive_s"] == {
        "variable": "SREKIT_KEEP_ALIVE_S",
        "value": 90,
        "source": "SREKIT_KEEP_ALIVE_S",
    }
    assert shown["max_body_bytes"]["source"] == "default"
    # every setting is there under its variable
    for name in Settings.model_fields:
        assert shown[name]["variable"] == f"SREKIT_{name.upper()}", name
    assert not home.exists()  # showing creates nothing
    assert not (elsewhere / ".srekit").exists()


def test_config_table_shows_the_project_directory(elsewhere: Path) -> None:
    (elsewhere / ".srekit").mkdir()
    code, out, _ = run("config")
    assert code == 0
    assert str(elsewhere / ".srekit") in out
    assert ".srekit in the current directory" in out
    assert "SREKIT_EVENTS_QUERY_TIMEOUT_S" in out
    assert "sqlite:///" in out


def test_config_refuses_a_database_url_it_cannot_read(elsewhere: Path) -> None:
    code, _, err = run("config", env={"SREKIT_DATABASE_URL": "::not a url"})
    assert code == 2
    assert "SREKIT_DATABASE_URL: not a valid database URL" in err
    assert "Traceback" not in err


def test_status_from_an_unrelated_directory_names_the_event_store_it_looked_for(
    elsewhere: Path,
) -> None:
    """Before, it created ./.srekit in whatever directory it ran and said "the event store is
    not available"; it now reads the user's data directory and names the file."""
    code, out, err = run("status", "-f", EXAMPLES / "slos", "--format", "json")
    assert code == 3, err  # no SLO could be read
    expected = elsewhere.parent / "user" / ".local" / "share" / "srekit" / "events"
    for status in json.loads(out):
        assert status["data"] == "error"
        assert f"no event store at {expected / 'events.duckdb'}" in status["detail"]
        assert "SREKIT_HOME" in status["detail"]
    assert list(elsewhere.iterdir()) == []


def test_status_on_the_events_example_prints_no_nanobind_line(tmp_path: Path) -> None:
    """DuckDB's binding reports objects still alive at interpreter exit ("nanobind: leaked")."""
    env = {**os.environ, "SREKIT_HOME": str(tmp_path / "home")}
    env.pop("SREKIT_DATABASE_URL", None)
    srekit = [sys.executable, "-c", "from srekit.cli.main import main; main()"]
    log = EXAMPLES / "logs" / "checkout.access.log.gz"
    subprocess.run(
        [*srekit, "events", "ingest", str(log), "--service", "checkout", "--format", "nginx"],
        env=env,
        check=True,
        capture_output=True,
    )
    done = subprocess.run(
        [
            *srekit,
            "status",
            "-f",
            str(EXAMPLES / "slos" / "checkout.yaml"),
            "--at",
            "2026-11-19T12:00:00Z",
        ],
        env=env,
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "checkout" in done.stdout
    assert "nanobind" not in done.stdout + done.stderr
