"""`srekit` as a whole: the settings, read from SREKIT_* variables once per invocation, a bad
one named with exit 2, and help that needs none of them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from srekit import config
from tests.cli.conftest import EXAMPLES, Cli, run


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


@pytest.mark.parametrize("command", [[], ["slo"], ["status"], ["slo", "apply"], ["db"]])
def test_help_needs_no_valid_settings(command: list[str]) -> None:
    bad = {"SREKIT_PROMETHEUS_ROLLUP_WINDOWS": "sometimes"}
    code, out, _ = run(*command, "--help", env=bad)
    assert code == 0
    assert "Usage:" in out


def test_settings_are_built_once_per_invocation(
    cli: Cli, specs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The main callback hands the commands one CliContext: whatever a command reads (the store,
    the event store, Prometheus), the settings are built once per invocation, from the
    environment it was started with; help never builds them."""
    real = config.Settings
    built: list[config.Settings] = []

    def counted() -> config.Settings:
        built.append(real())
        return built[-1]

    monkeypatch.setattr(config, "Settings", counted)
    for command in (
        ["db", "upgrade"],
        ["slo", "apply", "-f", specs],
        ["slo", "list", "--stored"],
        ["status", "-f", specs, "--at", "2026-11-19T12:00:00Z"],
        [
            "gate",
            "-f",
            specs,
            "--service",
            "checkout",
            "--change-type",
            "feature",
            "--at",
            "2026-11-19T12:00:00Z",
        ],
        ["audit"],
    ):
        built.clear()
        code, _, err = cli(*command)
        # status exits 3 here: the events of this home's store were never ingested
        assert code in (0, 1, 3), err
        assert len(built) == 1, command
        assert built[0].database_url == cli.env["SREKIT_DATABASE_URL"]
        assert str(built[0].home) == cli.env["SREKIT_HOME"]
    built.clear()
    assert cli("slo", "apply", "--help")[0] == 0
    assert built == []


def test_the_cli_imports_no_api_route() -> None:
    """The CLI renders through `srekit.contracts`, as the API does; it only starts the API."""
    import ast

    import srekit.cli

    for module in Path(srekit.cli.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                assert not (node.module or "").startswith("srekit.api."), module
            elif isinstance(node, ast.Import):
                assert not any(a.name.startswith("srekit.api.") for a in node.names), module
