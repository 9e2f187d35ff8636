"""The commands in the README and docs/ run as written (```console blocks, `$ srekit ...`).

They run in order per file, against an event store holding the bundled logs, in a scratch
`SREKIT_HOME`; paths under `.srekit/` are redirected there. A command is expected to exit 0, or
the code its line states in a trailing `# exit N` comment.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from srekit.cli.main import app

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_BLOCK = re.compile(r"```console\n(.*?)```", re.DOTALL)


def _commands(page: Path) -> list[tuple[list[str], int]]:
    commands = []
    for block in _BLOCK.findall(page.read_text()):
        for line in block.splitlines():
            if not line.startswith("$ srekit "):
                continue
            command, _, comment = line[2:].partition(" # ")
            expected = int(comment.split()[1]) if comment.startswith("exit ") else 0
            commands.append((shlex.split(command)[1:], expected))
    return commands


def test_every_page_with_commands_is_covered() -> None:
    assert {p.name for p in DOCS if _commands(p)} >= {
        "README.md",
        "specs.md",
        "status.md",
        "rules.md",
        "gate.md",
    }


@pytest.mark.parametrize("page", [p for p in DOCS if _commands(p)], ids=lambda p: p.name)
def test_documented_commands_run(
    page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    env = {"SREKIT_HOME": str(tmp_path), "SREKIT_PROMETHEUS_URL": ""}
    runner = CliRunner()
    for service in ("checkout", "catalog"):
        log = f"examples/logs/{service}.access.log.gz"
        assert (
            runner.invoke(app, ["events", "ingest", log, "--service", service], env=env).exit_code
            == 0
        )
    for written, expected in _commands(page):
        args = [a.replace(".srekit/", f"{tmp_path}/") for a in written]
        result = runner.invoke(app, args, env=env)
        assert result.exit_code == expected, f"srekit {' '.join(args)}\n{result.output}"
        assert "Traceback" not in result.output


_SHOWN_OUTPUT = re.compile(r"<!-- output of: (srekit [^\n]*?) -->\n```json\n(.*?)```", re.DOTALL)


def _shown_outputs() -> list[tuple[str, str, str]]:
    return [
        (page.name, command, shown)
        for page in DOCS
        for command, shown in _SHOWN_OUTPUT.findall(page.read_text())
    ]


def test_pages_show_json_outputs() -> None:
    assert {page for page, _, _ in _shown_outputs()} >= {"status.md"}


@pytest.mark.parametrize(
    ("page", "command", "shown"), _shown_outputs(), ids=lambda value: str(value)[:40]
)
def test_shown_json_is_what_the_command_prints(
    page: str, command: str, shown: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page's JSON example is the real output of the command named above it, figure for
    figure (an object stands for the list item with its service and SLO)."""
    monkeypatch.chdir(ROOT)
    env = {"SREKIT_HOME": str(tmp_path), "SREKIT_PROMETHEUS_URL": ""}
    runner = CliRunner()
    for service in ("checkout", "catalog"):
        log = f"examples/logs/{service}.access.log.gz"
        assert (
            runner.invoke(app, ["events", "ingest", log, "--service", service], env=env).exit_code
            == 0
        )
    result = runner.invoke(app, shlex.split(command)[1:], env=env)
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    expected = json.loads(shown)
    if isinstance(printed, list) and isinstance(expected, dict):
        printed = next(
            item
            for item in printed
            if (item.get("service"), item.get("slo"))
            == (expected.get("service"), expected.get("slo"))
        )
    assert printed == expected, f"{page}: {command}"
