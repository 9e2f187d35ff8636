"""`srekit events`: ingest a log, then read its stats back."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from typer.testing import CliRunner

from srekit.cli.events import app
from tests.sources.events.conftest import make_events, nginx_line, write_nginx_text


def test_cli_ingest_and_stats(tmp_path: Path) -> None:
    events = make_events(7, 50, timedelta(hours=1))
    log = write_nginx_text(tmp_path / "a.log", [nginx_line(e) for e in events] + ["junk"])
    store = tmp_path / "store"
    runner = CliRunner()

    ingested = runner.invoke(
        app,
        ["ingest", str(log), "--service", "api", "--store", str(store), "--max-rejected", "0.1"],
    )
    stats = runner.invoke(app, ["stats", "--store", str(store), "--format", "json"])
    bad = runner.invoke(
        app, ["ingest", str(log), "--service", "web", "--format", "csv", "--store", str(store)]
    )

    assert ingested.exit_code == 0, ingested.output
    assert "50 events ingested" in ingested.output
    assert "1 records rejected" in ingested.output
    assert json.loads(stats.output)[0]["events"] == 50
    assert bad.exit_code == 2
    assert "a.log" in bad.output


def test_cli_ingest_names_the_event_store_and_what_replace_replaced(tmp_path: Path) -> None:
    events = make_events(7, 20, timedelta(hours=1))
    log = write_nginx_text(tmp_path / "a.log", [nginx_line(e) for e in events])
    store = tmp_path / "store"
    runner = CliRunner()
    command = ["ingest", str(log), "--service", "api", "--store", str(store)]

    first = runner.invoke(app, command)
    again = runner.invoke(app, command)
    replaced = runner.invoke(app, [*command, "--replace"])

    database = store / "events.duckdb"
    assert first.exit_code == 0, first.output
    assert f"20 events ingested for service api into {database}" in first.output
    assert f"already ingested for service api in {database}" in again.output
    assert "replaced 20 earlier events" in replaced.output
