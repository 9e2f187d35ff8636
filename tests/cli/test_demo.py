"""`srekit demo` run for real, as `make run` runs it: it seeds only a store that never held
SLOs, replays the logs in place of their earlier replay, and does nothing at all when the port
`srekit serve` will take is already taken."""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import srekit
from tests.cli.conftest import EXAMPLES
from tests.ports import free_port

_SREKIT = [sys.executable, "-c", "from srekit.cli.main import main; main()"]
# run from another directory, the child must still import this srekit (PYTHONPATH=src)
_SOURCE = str(Path(srekit.__file__).resolve().parents[1])


def _srekit(home: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "SREKIT_HOME": str(home),
        "SREKIT_ACTOR": "someone",
        "PYTHONPATH": os.pathsep.join([_SOURCE, os.environ.get("PYTHONPATH", "")]),
    }
    env.pop("SREKIT_DATABASE_URL", None)
    return subprocess.run(
        [*_SREKIT, *map(str, args)],
        env=env,
        cwd=home.parent,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _json(home: Path, *args: str) -> list[dict[str, object]]:
    done = _srekit(home, *args, "--format", "json")
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout))


def _events(home: Path) -> dict[object, object]:
    return {row["service"]: row["events"] for row in _json(home, "events", "stats")}


def test_a_second_demo_keeps_user_changes_and_does_not_duplicate_events(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    first = _srekit(home, "demo", "--examples", EXAMPLES, "--port", str(free_port()))
    assert first.returncode == 0, first.stderr
    assert "stored 4 example SLOs" in first.stdout
    listed = _json(home, "slo", "list", "--stored")
    assert {row["source_format"] for row in listed} == {"srekit/v1"}  # as slo apply records it
    # the bundled logs' events, counted with DuckDB apart: 2 checkout lines are truncated
    assert _events(home) == {"catalog": 40498, "checkout": 34917}
    _check_the_example_incidents(home)
    deleted = _srekit(home, "slo", "delete", "checkout/latency")
    assert deleted.returncode == 0, deleted.stderr
    audit_before = _json(home, "audit")

    # the examples again, from another directory: the same bytes under another path
    copy = tmp_path / "elsewhere" / "examples"
    shutil.copytree(EXAMPLES, copy)
    again = _srekit(home, "demo", "--examples", copy, "--port", str(free_port()))

    assert again.returncode == 0, again.stderr
    assert "already holds 3 SLOs: the examples were not applied" in again.stdout
    assert "in place of the 34,917 events of its earlier replay" in again.stdout
    stored = {f"{row['service']}/{row['slo']}" for row in _json(home, "slo", "list", "--stored")}
    assert "checkout/latency" not in stored
    assert len(stored) == 3
    assert _json(home, "audit") == audit_before  # the demo changed nothing
    assert len(_json(home, "incident", "list", "--state", "all")) == 2  # none replayed again
    assert _events(home) == {"catalog": 40498, "checkout": 34917}
    assert "have no usable data" not in again.stdout  # the stored SLOs all read data
    rows = [
        line for line in again.stdout.splitlines() if line.startswith(("checkout/", "catalog/"))
    ]
    assert len(rows) == 3
    assert not [row for row in rows if "no_data" in row or "error" in row]


def _check_the_example_incidents(home: Path) -> None:
    """The example notifications made a resolved checkout P1 over the log's error burst and an
    acknowledged catalog P3; the P1's budget consumption is recounted from the raw log."""
    incidents = {row["severity"]: row for row in _json(home, "incident", "list", "--state", "all")}
    assert set(incidents) == {"P1", "P3"}
    page, ticket = incidents["P1"], incidents["P3"]
    assert (page["state"], page["services"], page["resolved_by"]) == (
        "resolved",
        ["checkout"],
        "alertmanager",
    )
    assert page["time_to_resolve_s"] == 41 * 60 + 30  # 14:02:30 → 14:44:00 in the example
    assert (ticket["state"], ticket["services"]) == ("acknowledged", ["catalog"])
    stats = _srekit(home, "incident", "stats", "--format", "json")
    assert stats.returncode == 0, stats.stderr
    (budget,) = [b for b in json.loads(stats.stdout)["budgets"] if b["incident_id"] == page["id"]]
    # the log as written: the incident spans 14:02:30–14:44:00 on 2026-11-18 (the example's
    # `now` is the log's last line), windows are (end − length, end], checkout/availability
    # is 99.5% over 7 days
    end = datetime(2026, 11, 18, 14, 44, tzinfo=UTC)
    bad = total = 0
    with gzip.open(EXAMPLES / "logs" / "checkout.access.log.gz", "rt") as log:
        for line in log:
            found = re.search(r'\[([^\]]+)\] "\S+ (\S+) [^"]*" (\d{3})', line)
            if found is None or found.group(2).startswith("/health"):
                continue  # total: path NOT LIKE '/health%'; good: status < 500
            at = datetime.strptime(found.group(1), "%d/%b/%Y:%H:%M:%S %z")
            if end - timedelta(days=7) < at <= end:
                total += 1
            if end - timedelta(minutes=41, seconds=30) < at <= end and found.group(3) >= "500":
                bad += 1
    assert budget["bad_events"] == bad
    assert budget["consumed"] == pytest.approx(bad / (0.005 * total), rel=1e-6)


def test_a_store_whose_slos_were_all_deleted_is_not_seeded_again(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert _srekit(home, "demo", "--examples", EXAMPLES).returncode == 0
    for key in ("catalog/availability", "catalog/good-minutes", "checkout/availability"):
        assert _srekit(home, "slo", "delete", key).returncode == 0
    assert _srekit(home, "slo", "delete", "checkout/latency").returncode == 0

    again = _srekit(home, "demo", "--examples", EXAMPLES)

    assert again.returncode == 0, again.stderr
    assert "holds no SLOs, but its audit log shows SLOs were stored and deleted" in again.stdout
    assert _json(home, "slo", "list", "--stored") == []


def test_the_demo_does_nothing_when_the_port_is_taken(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        done = _srekit(home, "demo", "--examples", EXAMPLES, "--port", str(port))
    assert done.returncode == 2
    assert f"port {port} on 127.0.0.1 is in use by another program" in done.stderr
    assert "--port" in done.stderr
    assert done.stdout == ""
    assert not home.exists()  # before anything else: nothing created
