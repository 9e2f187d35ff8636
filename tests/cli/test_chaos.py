"""`srekit chaos` against a real service whose latency the experiment sets: exit codes as
Chaos Toolkit's, runs stored and shown, bad input as exit 2, the SLO guard reading a real
event store, and SIGTERM to a real `srekit chaos run` process that still rolls back."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.cli.conftest import EXAMPLES, Cli
from tests.flows.chaos_service import (
    PROBES_MODULE,
    LatencyService,
    latency_experiment,
    latency_service,
)


@pytest.fixture
def cli(cli: Cli) -> Cli:
    """The CLI on a store at the current schema (PostgreSQL is not migrated by itself)."""
    code, _, err = cli("db", "upgrade")
    assert code == 0, err
    return cli


@pytest.fixture
def service() -> Iterator[tuple[str, LatencyService]]:
    with latency_service() as running:
        yield running


def _write(path: Path, experiment: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(experiment))
    return path


def test_a_deviating_run_exits_1_and_is_stored_listed_and_shown(
    cli: Cli, service: tuple[str, LatencyService], tmp_path: Path
) -> None:
    base, state = service
    data = latency_experiment(
        base, latency_ms=800, tolerance_s=0.5, extensions=[{"name": "srekit", "service": "shop"}]
    )
    file = _write(tmp_path / "e.yaml", data)
    journal = tmp_path / "journal.json"
    code, out, err = cli(
        "chaos", "run", file, "--allow-python", PROBES_MODULE, "--journal", journal
    )
    assert code == 1, err
    assert "completed · deviated (run 1)" in out
    assert "deviated: after: work-is-fast" in out
    assert "warning: no blast radius declared" in err
    written = json.loads(journal.read_text())
    assert (written["status"], written["deviated"]) == ("completed", True)
    assert state.latency_s == 0  # rolled back

    listed = cli.json("chaos", "list")
    assert isinstance(listed, list)
    assert [(run["id"], run["service"], run["passed"]) for run in listed] == [(1, "shop", False)]
    assert listed[0]["deviations"] == ["after: work-is-fast"]
    shown = cli.json("chaos", "show", "1")
    assert isinstance(shown, dict)
    assert shown["journal"] == written
    code, out, _ = cli("chaos", "show", "1")
    assert code == 0
    assert "service shop" in out
    code, _, err = cli("chaos", "show", "7")
    assert (code, "no chaos run 7" in err) == (2, True)


def test_a_run_that_holds_exits_0_and_the_strategy_can_be_overridden(
    cli: Cli, service: tuple[str, LatencyService], tmp_path: Path
) -> None:
    base, state = service
    file = _write(tmp_path / "e.yaml", latency_experiment(base, latency_ms=0, tolerance_s=1))
    code, _, err = cli(
        "chaos",
        "run",
        file,
        "--allow-python",
        PROBES_MODULE,
        "--var",
        f"base={base}",
        "--rollback-strategy",
        "never",
        "--no-store",
        "--format",
        "json",
    )
    assert code == 0, err
    assert "POST /latency 0" in state.calls  # the method set 0 ms
    assert state.calls.count("POST /latency 0") == 1  # and no rollback ran
    assert cli.json("chaos", "list") == []


def test_the_allow_list_refuses_an_unknown_module_and_names_trust(
    cli: Cli, service: tuple[str, LatencyService], tmp_path: Path
) -> None:
    base, state = service
    file = _write(tmp_path / "e.yaml", latency_experiment(base, latency_ms=10, tolerance_s=1))
    code, out, _ = cli("chaos", "run", file, "--no-store", "--format", "json")
    assert code == 1
    probe = json.loads(out)["steady_states"]["before"]["probes"][0]
    assert "--trust" in probe["exception"][0]
    code, _, err = cli("chaos", "run", file, "--no-store", "--trust")
    assert code == 0, err
    assert "POST /latency 10" in state.calls


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("title: t\ndescription: d\n", "method: required field is missing"),
        ("[[[[" * 40, "expected"),
        ('title: "\\x00"\ndescription: d\nmethod: []\n', "title"),
    ],
)
def test_bad_experiments_exit_2_with_the_file_and_field(
    cli: Cli, tmp_path: Path, content: str, message: str
) -> None:
    file = tmp_path / "bad.yaml"
    file.write_text(content)
    for command in ("validate", "run"):
        code, _, err = cli("chaos", command, file)
        assert code == 2, err
        assert str(file) in err.replace("\n", "")
        assert message in err.replace("\n", "")
        assert "Traceback" not in err


def test_the_blast_radius_and_bad_variables_are_refused_before_anything_runs(
    cli: Cli, service: tuple[str, LatencyService], tmp_path: Path
) -> None:
    base, state = service
    data = latency_experiment(
        base,
        latency_ms=10,
        tolerance_s=1,
        extensions=[{"name": "srekit", "blast_radius": {"allowed_targets": ["127.0.0.1:9"]}}],
    )
    file = _write(tmp_path / "e.yaml", data)
    for command in ("validate", "run"):
        code, _, err = cli("chaos", command, file)
        assert code == 2
        assert "outside the blast radius" in err
    assert state.calls == []
    code, _, err = cli("chaos", "validate", file, "--var", "no-equals-sign")
    assert (code, "expected NAME=VALUE" in err) == (2, True)
    varfile = tmp_path / "vars.yaml"
    for bad in ("[1, 2]", "configuration: 3", "other: {}", "a: [[[" * 3, "\x00"):
        varfile.write_text(bad)
        code, _, err = cli("chaos", "validate", file, "--var-file", varfile)
        assert code == 2, bad
        assert str(varfile) in err.replace("\n", "")
    varfile.write_text(f"configuration: {{base: '{base}'}}\nsecrets: {{s: {{k: v}}}}\n")
    code, _, err = cli("chaos", "validate", file, "--var-file", varfile, "--var", "x=1e309")
    assert code == 2  # still outside the radius: the variables were read, then refused
    assert "outside the blast radius" in err


def _nginx_log(path: Path, *, statuses: list[int], now: datetime) -> Path:
    lines = []
    for index, status in enumerate(statuses):
        at = now - timedelta(seconds=60 * (len(statuses) - index))
        stamp = at.strftime("%d/%b/%Y:%H:%M:%S +0000")
        lines.append(f'10.0.0.1 - - [{stamp}] "GET /api/cart HTTP/1.1" {status} 10 "-" "t" 0.010')
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("failing", [False, True])
def test_the_slo_guard_reads_the_slos_own_source_and_refuses_a_freeze(
    cli: Cli, service: tuple[str, LatencyService], tmp_path: Path, failing: bool
) -> None:
    base, state = service
    # 100 requests in the last 100 minutes; failing: 10 % errors against a 99.5 % objective,
    # 20x the budget: the payments policy's bottom state, where chaos is refused
    statuses = [500 if failing and index % 10 == 0 else 200 for index in range(100)]
    log = _nginx_log(tmp_path / "access.log", statuses=statuses, now=datetime.now(UTC))
    code, _, err = cli("events", "ingest", log, "--service", "checkout", "--format", "nginx")
    assert code == 0, err
    data = latency_experiment(
        base,
        latency_ms=10,
        tolerance_s=1,
        extensions=[
            {
                "name": "srekit",
                "slo_guard": {"slos": ["checkout/availability"], "min_remaining": 0.5},
            }
        ],
    )
    file = _write(tmp_path / "e.yaml", data)
    specs = EXAMPLES / "slos" / "checkout.yaml"
    run = ("chaos", "run", file, "-f", specs, "--allow-python", PROBES_MODULE)
    code, out, err = cli(*run)
    if not failing:
        assert code == 0, err
        listed = cli.json("chaos", "list", "--service", "checkout")
        assert isinstance(listed, list)
        assert listed[0]["budget_consumed"] == 0.0  # no new errors during the run
        return
    assert code == 1
    assert "refused: checkout/availability is in " in err
    assert state.calls == []  # nothing ran
    code, out, err = cli(*run, "--force", "--format", "json")
    assert code == 1
    journal = json.loads(out)
    # forced past the start, the guard still stops the method: 0 % left is under 50 %
    assert journal["status"] == "aborted"
    assert "of its error budget left" in journal["extensions"][0]["stopped_because"]
    assert state.latency_s == 0


def test_sigterm_interrupts_a_real_run_and_the_rollbacks_still_run(
    service: tuple[str, LatencyService], tmp_path: Path
) -> None:
    base, state = service
    data = latency_experiment(base, latency_ms=200, tolerance_s=1, pause_after_s=60)
    file = _write(tmp_path / "e.yaml", data)
    journal = tmp_path / "journal.json"
    env = {**os.environ, "SREKIT_HOME": str(tmp_path / "home"), "SREKIT_DATABASE_URL": ""}
    root = Path(__file__).resolve().parents[2]
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "srekit"),
            "chaos",
            "run",
            str(file),
            "--journal",
            str(journal),
            "--allow-python",
            PROBES_MODULE,
        ],
        env={**env, "PYTHONPATH": str(root)},
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while "POST /latency 200" not in state.calls:  # the fault is in place
            assert time.monotonic() < deadline, process.stderr
            assert process.poll() is None
            time.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 1, stderr
    assert "Traceback" not in stderr
    written = json.loads(journal.read_text())
    assert written["status"] == "interrupted"
    assert written["rollbacks"][0]["status"] == "succeeded"
    assert state.calls[-1] == "POST /latency 0"
    assert state.latency_s == 0
    assert "interrupted" in stdout


def test_scenarios_are_listed_and_new_writes_experiments_that_validate(
    cli: Cli, tmp_path: Path
) -> None:
    code, out, _ = cli("chaos", "scenarios")
    assert code == 0
    for name in ("network:", "dependency:", "process:", "resource:"):
        assert name in out
    assert "--param loss_percent=...: share of connections reset (default 0)" in out
    for scenario, target in (
        ("network", "payments"),
        ("dependency", "db"),
        ("process", "x"),
        ("resource", "memory"),
    ):
        file = tmp_path / f"{scenario}.yaml"
        code, _, err = cli("chaos", "new", "--scenario", scenario, "--target", target, "-o", file)
        assert code == 0, err
        code, out, err = cli("chaos", "validate", file)
        assert code == 0, err
        assert "blast radius: 127.0.0.1:8080" in out
    code, out, _ = cli(
        "chaos", "new", "--scenario", "dependency", "--target", "db", "--param", "mode=slow"
    )
    assert code == 0
    assert yaml.safe_load(out)["method"][0]["provider"]["arguments"]["type"] == "bandwidth"
    for bad, message in (
        (["--param", "mode"], "expected NAME=VALUE"),
        (["--param", "mode=flaky"], "mode: expected one of timeout, error, slow"),
        (["-o", str(tmp_path / "no" / "dir.yaml")], "cannot write"),
    ):
        code, _, err = cli("chaos", "new", "--scenario", "dependency", "--target", "db", *bad)
        assert code == 2
        assert message in err


def test_a_dry_run_calls_no_action_and_is_never_stored(
    cli: Cli, service: tuple[str, LatencyService], tmp_path: Path
) -> None:
    """`--dry actions` walks the experiment that would deviate without injecting anything:
    it holds (exit 0), its pauses are skipped, the journal and the output say it was dry,
    and nothing is stored, so it cannot pass a readiness check. Asking to store one is bad
    input, as is a mode Chaos Toolkit does not have."""
    base, state = service
    data = latency_experiment(
        base,
        latency_ms=800,
        tolerance_s=0.5,
        pause_after_s=3.0,
        extensions=[{"name": "srekit", "service": "shop"}],
    )
    file = _write(tmp_path / "e.yaml", data)
    journal = tmp_path / "journal.json"
    started = time.monotonic()
    code, out, err = cli(
        "chaos", "run", file, "--allow-python", PROBES_MODULE, "--dry", "actions",
        "--journal", journal,
    )  # fmt: skip
    took = time.monotonic() - started
    assert code == 0, err
    assert "dry run (--dry actions): not stored" in out
    assert not any(call.startswith("POST /latency") for call in state.calls)
    assert took < 3.0  # the action's 3 s pause was skipped with it
    written = json.loads(journal.read_text())
    assert (written["status"], written["deviated"]) == ("completed", False)
    assert written["extensions"] == [{"name": "srekit", "dry": "actions"}]
    assert [(run["status"], run["output"]) for run in written["run"]] == [("succeeded", None)]
    assert cli.json("chaos", "list") == []

    code, _, err = cli("chaos", "run", file, "--dry", "actions", "--store")
    assert code == 2
    assert "a dry run is never stored" in err
    code, _, err = cli("chaos", "run", file, "--dry", "everything", "--no-store")
    assert code == 2
    assert "--dry" in err
    assert cli.json("chaos", "list") == []
