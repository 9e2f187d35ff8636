"""The command line through Typer's CliRunner: outputs, exit codes, and no tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from srekit.cli.main import app
from tests.rules.promtool import promtool

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
runner = CliRunner()


def run(*args: str | Path, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args], env=env)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_validate_examples() -> None:
    code, out, _ = run("slo", "validate", "-f", EXAMPLES / "slos", "-f", EXAMPLES / "prometheus")
    assert code == 0
    assert "6 SLO(s) for 3 service(s) in 3 file(s), 1 policy" in " ".join(out.split())


def test_validate_bad_input_exits_2_naming_file_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "apiVersion: srekit/v1\nkind: SLO\nservice: a\nname: b\nobjective: 1.5\n"
        "indicator: {events: {good: 'true'}}\n"
    )
    code, _, err = run("slo", "validate", "-f", bad)
    assert code == 2
    assert f"{bad}: objective: expected a fraction" in err
    assert "Traceback" not in err
    code, _, err = run("slo", "validate")
    assert code == 2
    assert "--file" in err


def test_list_json() -> None:
    code, out, _ = run("slo", "list", "-f", EXAMPLES / "prometheus", "--format", "json")
    assert code == 0
    rows = json.loads(out)
    assert [(r["service"], r["slo"], r["objective"]) for r in rows] == [
        ("api", "availability", 0.999),
        ("api", "latency", 0.99),
    ]


def test_rules_generate_passes_promtool(tmp_path: Path) -> None:
    out = tmp_path / "rules" / "slos.yml"
    code, _, err = run("rules", "generate", "-f", EXAMPLES, "-o", out, "-l", "env=prod")
    assert code == 0
    assert "skipped checkout/availability: reads srekit's event store" in " ".join(err.split())
    document = yaml.safe_load(out.read_text())
    records = {r.get("record") for g in document["groups"] for r in g["rules"]}
    assert "srekit_slo:good_events:increase1h" in records
    assert all(r["labels"]["env"] == "prod" for g in document["groups"] for r in g["rules"])
    result = promtool("check", "rules", out)
    assert result.returncode == 0, result.stdout + result.stderr


def test_rules_generate_sloth_compat_and_mixing_flags() -> None:
    code, out, _ = run("rules", "generate", "-f", EXAMPLES / "sloth", "--compat", "sloth")
    assert code == 0
    assert "sloth_id: myservice-requests-availability" in out
    assert "(14.4 * 0.0009999999999999432)" in out  # Sloth's own float arithmetic, kept
    code, _, err = run("rules", "generate", "-f", EXAMPLES / "prometheus", "--disable-alerts")
    assert code == 2
    assert "--compat sloth" in err
    code, _, err = run("rules", "generate", "-f", EXAMPLES / "prometheus", "--compat", "sloth")
    assert code == 2
    assert "reads Sloth specs" in err
    code, _, err = run(
        "rules", "generate", "-f", EXAMPLES / "sloth", "--compat", "sloth", "--slo-period", "week"
    )
    assert code == 2
    assert "--slo-period" in err


@pytest.mark.parametrize("at", ["yesterday", "2026-11-20T00:00:00"])
def test_bad_at_is_bad_input(at: str) -> None:
    code, _, err = run("status", "-f", EXAMPLES / "prometheus", "--at", at)
    assert code == 2
    assert "--at" in err


def test_status_without_prometheus_reports_error_state() -> None:
    code, out, _ = run(
        "status",
        "-f",
        EXAMPLES / "prometheus",
        "--format",
        "json",
        "--at",
        "2026-11-20T00:00:00Z",
        env={"SREKIT_PROMETHEUS_URL": ""},
    )
    assert code == 0
    statuses = json.loads(out)
    assert {s["data"] for s in statuses} == {"error"}
    assert "no Prometheus URL" in statuses[0]["detail"]
    assert statuses[0]["at"] == "2026-11-20T00:00:00Z"


def test_gate_fails_closed_without_data_and_open_on_request() -> None:
    args = [
        "gate",
        "-f",
        EXAMPLES / "prometheus",
        "--service",
        "api",
        "--at",
        "2026-11-20T00:00:00Z",
    ]
    code, out, _ = run(*args, "--format", "json", env={"SREKIT_PROMETHEUS_URL": ""})
    assert code == 1
    answer = json.loads(out)
    assert answer["allowed"] is False
    assert any("fails closed" in r for r in answer["reasons"])
    code, _, _ = run(*args, "--fail-open", env={"SREKIT_PROMETHEUS_URL": ""})
    assert code == 0
    code, _, _ = run(*args, "--change-type", "rollback", env={"SREKIT_PROMETHEUS_URL": ""})
    assert code == 0
    code, _, err = run("gate", "-f", EXAMPLES / "prometheus", "--service", "nope")
    assert code == 2
    assert "services: api" in err


def test_a_bad_setting_is_named_with_exit_2() -> None:
    """Settings come from SREKIT_* variables; a wrong one names the variable, no traceback."""
    env = {**os.environ, "SREKIT_PROMETHEUS_ROLLUP_WINDOWS": "sometimes"}
    command = [sys.executable, "-c", "from srekit.cli.main import main; main()"]
    result = subprocess.run(
        [*command, "status", "-f", str(EXAMPLES / "slos")],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "SREKIT_PROMETHEUS_ROLLUP_WINDOWS: Input should be 'exact' or 'hourly'" in result.stderr
    assert "Traceback" not in result.stderr
