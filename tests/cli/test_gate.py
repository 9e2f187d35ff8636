"""`srekit gate`: fail closed without data (open on request), and the payments policy followed
on the bundled logs."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from srekit.cli.main import app
from tests.cli.conftest import EXAMPLES, run, status_by_slo


def test_gate_fails_closed_without_data_and_open_on_request() -> None:
    args: list[str | Path] = [
        "gate",
        "-f",
        EXAMPLES / "prometheus",
        "--service",
        "api",
        "--at",
        "2026-11-20T00:00:00Z",
    ]
    feature = ("--change-type", "feature")
    code, out, _ = run(*args, *feature, "--format", "json", env={"SREKIT_PROMETHEUS_URL": ""})
    assert code == 1
    answer = json.loads(out)
    assert answer["allowed"] is False
    assert any("fails closed" in r for r in answer["reasons"])
    code, _, _ = run(*args, *feature, "--fail-open", env={"SREKIT_PROMETHEUS_URL": ""})
    assert code == 0
    code, _, _ = run(*args, "--change-type", "rollback", env={"SREKIT_PROMETHEUS_URL": ""})
    assert code == 0
    code, _, err = run("gate", "-f", EXAMPLES / "prometheus", "--service", "nope", *feature)
    assert code == 2
    assert "services: api" in err


def test_gate_follows_the_payments_policy(home: dict[str, str]) -> None:
    statuses = status_by_slo(home)
    remaining = min(
        statuses[f"checkout/{n}"]["error_budget"]["remaining"] for n in ("availability", "latency")
    )
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
            "--change-type",
            "feature",
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


def test_an_unknown_or_missing_change_type_is_bad_input(home: dict[str, str]) -> None:
    """A typo must not ship: exit 2, listing the change types the service's policy knows."""
    args: list[str | Path] = [
        "gate",
        "-f",
        EXAMPLES / "slos",
        "--service",
        "checkout",
        "--at",
        "2026-11-19T12:00:00Z",
    ]
    code, out, err = run(*args, "--change-type", "yolo", env=home)
    assert (code, out) == (2, "")
    assert "--change-type" in err
    assert (
        "unknown change type 'yolo': expected one of config, critical_bug, feature, rollback,"
        " security_fix"
    ) in " ".join(err.split())
    code, _, err = run(*args, env=home)
    assert code == 2
    assert "--change-type" in err


def test_silence_denies_a_deploy(home: dict[str, str]) -> None:
    """SLOs whose queries match nothing in the window look like a typo: denied, exit 1."""
    code, out, _ = run(
        "gate",
        "-f",
        EXAMPLES / "slos",
        "--service",
        "checkout",
        "--change-type",
        "feature",
        "--at",
        "2020-01-01T00:00:00Z",
        "--format",
        "json",
        env=home,
    )
    answer = json.loads(out)
    assert code == 1
    assert answer["allowed"] is False
    assert answer["reasons"][0].startswith("no SLI data in the window for ")
