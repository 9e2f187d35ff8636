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


def test_delete_a_services_events_all_or_before_a_time(tmp_path: Path) -> None:
    events = make_events(9, 60, timedelta(hours=6))
    cutoff = events[20].ts + timedelta(microseconds=1)
    older = sum(1 for event in events if event.ts < cutoff)
    api_log = write_nginx_text(tmp_path / "api.log", [nginx_line(e) for e in events])
    web_log = write_nginx_text(tmp_path / "web.log", [nginx_line(e) for e in events[:10]])
    store = tmp_path / "store"
    runner = CliRunner()
    for log, service in ((api_log, "api"), (web_log, "web")):
        ingested = runner.invoke(
            app, ["ingest", str(log), "--service", service, "--store", str(store)]
        )
        assert ingested.exit_code == 0, ingested.output

    def held() -> dict[str, int]:
        stats = runner.invoke(app, ["stats", "--store", str(store), "--format", "json"])
        return {row["service"]: row["events"] for row in json.loads(stats.output)}

    before = cutoff.isoformat().replace("+00:00", "Z")
    partly = runner.invoke(
        app, ["delete", "--service", "api", "--before", before, "--store", str(store)]
    )
    assert partly.exit_code == 0, partly.output
    assert f"{older} of 60 events of api before" in partly.output
    assert held() == {"api": 60 - older, "web": 10}
    # the ingest is still remembered: the same file is not stored twice
    again = runner.invoke(app, ["ingest", str(api_log), "--service", "api", "--store", str(store)])
    assert "already ingested" in again.output
    assert held()["api"] == 60 - older

    wholly = runner.invoke(app, ["delete", "--service", "api", "--store", str(store)])
    assert wholly.exit_code == 0, wholly.output
    assert held() == {"web": 10}
    # forgotten entirely: the file can be ingested again
    back = runner.invoke(app, ["ingest", str(api_log), "--service", "api", "--store", str(store)])
    assert "60 events ingested" in back.output
    assert held() == {"api": 60, "web": 10}


def test_deleting_what_is_not_there_is_bad_input(tmp_path: Path) -> None:
    runner = CliRunner()
    missing = runner.invoke(app, ["delete", "--service", "api", "--store", str(tmp_path / "none")])
    assert missing.exit_code == 2
    assert "no event store at" in missing.output
    log = write_nginx_text(
        tmp_path / "a.log", [nginx_line(e) for e in make_events(3, 5, timedelta(hours=1))]
    )
    store = str(tmp_path / "store")
    assert (
        runner.invoke(app, ["ingest", str(log), "--service", "api", "--store", store]).exit_code
        == 0
    )
    typo = runner.invoke(app, ["delete", "--service", "apj", "--store", store])
    assert typo.exit_code == 2
    assert "holds no events of 'apj' (services: api)" in " ".join(typo.output.split())
    bad_time = runner.invoke(
        app, ["delete", "--service", "api", "--before", "yesterday", "--store", store]
    )
    assert bad_time.exit_code == 2
    assert "--before: expected an RFC 3339 time" in bad_time.output
    bad_name = runner.invoke(app, ["delete", "--service", "Bad Name", "--store", store])
    assert bad_name.exit_code == 2


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
