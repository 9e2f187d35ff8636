"""`srekit` presents itself as gh and kubectl do: `--version`, shell completion, help whose
placeholders are words (FILE, N, FORMAT), an Examples section in every command's help whose
command lines all work on the bundled examples, and format names in any case."""

from __future__ import annotations

import gc
import json
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from srekit import __version__
from srekit.cli.main import app
from tests.cli.conftest import EXAMPLES

runner = CliRunner()


def _commands() -> Iterator[tuple[list[str], typer.core.TyperCommand | typer.core.TyperGroup]]:
    """Every command and group of `srekit`, with the words that name it."""
    root = typer.main.get_command(app)
    pending: list[tuple[list[str], object]] = [([], root)]
    while pending:
        path, command = pending.pop(0)
        yield path, command  # type: ignore[misc]
        for name, child in sorted(getattr(command, "commands", {}).items()):
            pending.append(([*path, name], child))


COMMANDS = [path for path, _ in _commands()]


def _help(path: list[str]) -> str:
    result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "80", "TERMINAL_WIDTH": "80"})
    assert result.exit_code == 0, result.output
    return result.stdout


def test_every_command_is_walked() -> None:
    names = {" ".join(path) for path in COMMANDS}
    assert {"", "status", "gate", "slo", "slo apply", "events ingest", "token create"} <= names
    # srekit, 28 nouns and commands (alert and alerts are one noun), 74 commands and groups
    assert len(names) == 103
    assert "oncall handoff" in names
    assert {"alert report", "alerts report", "alert list", "alerts list"} <= names


@pytest.mark.parametrize("path", COMMANDS, ids=lambda path: " ".join(path) or "srekit")
def test_help_has_examples_and_placeholders_in_words(path: list[str]) -> None:
    text = _help(path)
    assert re.search(r"^\s*Examples\s*$", text, re.MULTILINE), text
    assert re.search(r"^\s*\$ srekit ", text, re.MULTILINE) or "$ TOKEN=$(srekit" in text
    for placeholder in ("<list[", "range>", "<bool>", "<str>", "<int>", "<float>", "<path>", "{"):
        assert placeholder not in text, (placeholder, text)
    for line in text.splitlines():
        # a placeholder is never split across lines (`<nginx|jsonl|csv|parque` / `t>`)
        assert line.count("<") == line.count(">"), line
        assert "|" not in line.strip("│").replace("||", ""), line


def test_help_shows_choices_and_value_names_in_words() -> None:
    ingest = _help(["events", "ingest"])
    assert "Usage: srekit events ingest [OPTIONS] FILE" in ingest
    assert re.search(r"--format\s+FORMAT\s+nginx, jsonl, csv,", ingest), ingest
    assert re.search(r"--max-rejected\s+FRACTION", ingest)
    assert re.search(r"--replace\s{3,}first drop", ingest), ingest
    generate = _help(["rules", "generate"])
    assert re.search(r"--file\s+-f\s+FILE\s", generate), generate
    assert re.search(r"--extra-labels\s+-l\s+KEY=VALUE", generate), generate
    assert re.search(r"--limit\s+N\b", _help(["audit"]))
    assert re.search(r"--at\s+TIME\s", _help(["status"]))
    assert re.search(r"--prometheus-url\s+URL\s", _help(["gate"]))


def _example_lines() -> list[str]:
    """Every example of every command, continuation lines joined, each once."""
    found: list[str] = []
    for _, command in _commands():
        epilog = command.epilog or ""
        text = epilog.replace("\\\n", " ").replace(" \\\n", " ")
        for shown in re.findall(r"^  \$ (.+)$", text, re.MULTILINE):
            line = re.sub(r"\s+", " ", shown.replace("\\[", "[").replace("\\", " "))
            if line not in found:
                found.append(line)
    return found


def test_examples_fit_80_columns_whole() -> None:
    for path, command in _commands():
        for line in (command.epilog or "").splitlines():
            assert len(line) <= 78, (path, line)
        text = _help(path)
        for line in (command.epilog or "").splitlines()[1:]:
            assert line.strip() in text, (path, line)  # shown on one line, unwrapped


# Run first, so the examples after them find events, stored SLOs and a token named alice.
_FIRST = (
    "srekit events ingest",
    "srekit db upgrade",
    "srekit slo apply",
    "srekit token create",
    "srekit incident declare",
    "srekit incident task",
    "srekit postmortem draft",
    "srekit postmortem export 1 --format yaml",  # then edited back unchanged,
    "srekit postmortem edit 1 -f pm.yaml",  # before the example's sections are
    "srekit postmortem edit 1 -f examples",
    "srekit postmortem review",
    "srekit chaos run",  # then `chaos show 1` shows its run
)
_LAST = (
    "srekit slo delete",
    "srekit token revoke",
    "srekit person remove",
    "srekit incident close",  # once incidents 1 and 2 are resolved, 1's post-mortem published
    "srekit incident reopen",
)


def _order(line: str) -> int:
    for rank, prefix in enumerate(_FIRST):
        if prefix in line:
            return rank
    return len(_FIRST) + 1 if any(prefix in line for prefix in _LAST) else len(_FIRST)


def test_every_example_works_on_the_bundled_examples(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    shutil.copytree(EXAMPLES, tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    base = {"SREKIT_HOME": str(tmp_path / "home"), "SREKIT_DATABASE_URL": ""}
    lines = sorted(_example_lines(), key=_order)
    assert len(lines) >= 40
    # what earlier tests left in memory is not the examples': keep each collection to theirs
    gc.freeze()
    request.addfinalizer(gc.unfreeze)
    ran = 0
    for line in lines:
        env = dict(base)
        captured = re.fullmatch(r"(\w+)=\$\((.+)\)", line)
        words = shlex.split(captured.group(2) if captured else line)
        while "=" in words[0]:
            key, _, value = words.pop(0).partition("=")
            env[key] = value
        assert words[0] == "srekit", line
        if words[1] == "serve":
            continue  # a server runs until stopped: tests/cli/test_serve.py starts one
        if words[1] == "canary":
            continue  # it reads a Prometheus: tests/integration/test_canary_prometheus.py
        if words[1:3] == ["chaos", "proxy"]:
            continue  # a proxy runs until stopped: tests/cli/test_chaos_proxy.py starts one
        gc.collect()  # each line is its own process in a shell: no connection outlives it
        result = runner.invoke(app, words[1:], env=env)
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        # the gate's 1 is its answer (denied), as is the alert report's for a home that
        # received no alerts (tests/cli/test_alert.py reports on some), and the SRE report's
        # for a month the home has no data of (tests/cli/test_report.py reports on a stored
        # story); the others exit 0
        reports = words[1] in ("alert", "alerts") and words[2] == "report"
        sre_report = words[1] == "report"
        expected = (0, 1) if words[1] == "gate" or reports or sre_report else (0,)
        assert result.exit_code in expected, (line, result.output)
        if reports:
            assert "nothing to judge" in result.output, (line, result.output)
        if sre_report and result.exit_code == 1:
            assert "no data for" in result.output, (line, result.output)
        if captured:
            assert re.fullmatch(r"srk_\S+\n", result.stdout), result.stdout
        ran += 1
    assert ran >= 37


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"srekit {__version__}\n"
    assert re.fullmatch(r"\d+\.\d+\.\d+", __version__)


def test_shell_completion_is_offered() -> None:
    text = _help([])
    assert "--install-completion" in text
    assert "--show-completion" in text
    # the installed command in its own process, as a shell would run it
    srekit = shutil.which("srekit", path=str(Path(sys.executable).parent))
    assert srekit is not None
    script = subprocess.run(
        [srekit, "--show-completion", "bash"],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert script.returncode == 0, script.stderr
    assert "_SREKIT_COMPLETE=complete_bash" in script.stdout
    assert "complete -o default -F _srekit_completion srekit" in script.stdout


def test_shell_completion_completes_format_names() -> None:
    result = runner.invoke(
        app,
        [],
        prog_name="srekit",
        env={
            "_SREKIT_COMPLETE": "complete_bash",
            "COMP_WORDS": "srekit status --format j",
            "COMP_CWORD": "3",
        },
    )
    assert result.stdout.split() == ["json"]


def test_token_create_prints_only_the_token_on_a_pipe(tmp_path: Path) -> None:
    env = {"SREKIT_HOME": str(tmp_path), "SREKIT_ACTOR": "ci", "SREKIT_DATABASE_URL": ""}
    result = runner.invoke(app, ["token", "create", "--role", "deploy", "--name", "ci"], env=env)
    assert result.exit_code == 0, result.output
    assert re.fullmatch(r"srk_[A-Za-z0-9_-]{20,}\n", result.stdout), result.stdout
    assert "created token ci (deploy); it is shown only now" in result.stderr
    listed = runner.invoke(app, ["token", "list", "--format", "json"], env=env)
    assert json.loads(listed.stdout)[0]["prefix"] in result.stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["slo", "list", "-f", str(EXAMPLES / "slos"), "--format", "JSON"], "json"),
        (["slo", "list", "-f", str(EXAMPLES / "slos"), "--format", "Yaml"], "yaml"),
        (
            ["rules", "generate", "-f", str(EXAMPLES / "prometheus"), "--output-format", "K8S"],
            "k8s",
        ),
    ],
)
def test_format_names_are_case_insensitive(args: list[str], expected: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    if expected == "json":
        assert json.loads(result.stdout)[0]["service"] == "catalog"
    elif expected == "yaml":
        assert result.stdout.startswith("- service: catalog\n")
    else:
        assert "kind: PrometheusRule" in result.stdout


def test_events_format_is_case_insensitive(tmp_path: Path) -> None:
    log = EXAMPLES / "logs" / "catalog.access.log.gz"
    args = ["events", "ingest", str(log), "-s", "catalog", "--format", "Nginx"]
    result = runner.invoke(app, [*args, "--store", str(tmp_path / "events")])
    assert result.exit_code == 0, result.output
    assert "events ingested for service catalog" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["status", "-f", "x", "--format", "xml"], "expected one of table, json, yaml, got 'xml'"),
        (
            ["token", "create", "--role", "root"],
            "expected one of viewer, editor, admin, deploy, ingest, got 'root'",
        ),
        (
            ["events", "ingest", "x.log", "-s", "a", "--format", "xls"],
            "expected one of nginx, jsonl, csv, parquet, got 'xls'",
        ),
    ],
)
def test_a_bad_choice_is_said_once_in_words(args: list[str], message: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    said = " ".join(result.output.replace("│", " ").split())  # the error box wraps lines
    assert message in said, result.output
    assert "Value error" not in result.output


def test_error_messages_are_shown_as_written(tmp_path: Path) -> None:
    """A message quoting a path or a query with brackets is not read as Rich markup."""
    missing = tmp_path / "[red]slo[/].yaml"
    result = runner.invoke(app, ["slo", "validate", "-f", str(missing)])
    assert result.exit_code == 2
    assert f"{missing}: no such file or directory" in " ".join(result.stderr.split())
