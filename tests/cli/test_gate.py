"""`srekit gate`: fail closed without data (open on request), and the payments policy followed
on the bundled logs."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from srekit.cli.main import app
from tests.cli.conftest import EXAMPLES, run, status_by_slo


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


def test_gate_follows_the_payments_policy(home: dict[str, str]) -> None:
    statuses = status_by_slo(home)
    remaining = min(
        statuses[f"checkout/{n}"]["error_budget"]["remaining"] for n in ("availability", "latency")
    )  # type: ignore[index]
    result = CliRunner().invoke(
        app,
        [
            "gate",
            "-f",
            str(EXAMPLES / "slos"),
            "--service",
            "checkout",
            "--at",
            "2026-11-19T12:00:00Z",
            "--format",
            "json",
        ],
        env=home,
    )
    answer = json.loads(result.stdout)
    expected_state = "normal" if remaining > 0.40 else "careful" if remaining > 0.20 else "frozen"
    assert answer["state"] == expected_state
    assert answer["allowed"] is (expected_state == "normal")
    assert result.exit_code == (0 if answer["allowed"] else 1)
    assert {s["slo"] for s in answer["slos"]} == {"availability", "latency"}
