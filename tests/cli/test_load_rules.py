"""The load gate's rule options, defined once (`cli.load_rules`): `load gate` and `load run`
offer the same ones, and refuse bad values the same way, naming the option."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer

from srekit.cli.load_rules import RULE_OPTIONS
from srekit.cli.main import app
from tests.cli.conftest import EXAMPLES, run
from tests.cli.test_load import _spec


def _options(*path: str) -> dict[str, typer.core.TyperOption]:
    command = typer.main.get_command(app)
    for name in path:
        command = command.commands[name]  # type: ignore[attr-defined]
    return {p.name: p for p in command.params if isinstance(p, typer.core.TyperOption)}


def test_gate_and_run_offer_the_same_rule_options() -> None:
    gate, run_options = _options("load", "gate"), _options("load", "run")
    assert len(RULE_OPTIONS) == 10
    for name in RULE_OPTIONS:
        ours, theirs = gate[name], run_options[name]
        assert (ours.opts, ours.secondary_opts, ours.help, ours.metavar, ours.default) == (
            theirs.opts, theirs.secondary_opts, theirs.help, theirs.metavar, theirs.default,
        )  # fmt: skip
    assert run_options["latency_increase"].opts == ["--latency-increase"]
    assert run_options["latency_increase"].default == 0.2


BAD = [
    (("--latency-increase", "-1"), "--latency-increase"),
    (("--noise-floor-ms", "nan"), "--noise-floor-ms"),
    (("--noise-floor-ms", "inf"), "--noise-floor-ms: expected a finite number >= 0, got inf"),
    (("--throughput-noise-floor", "inf"), "--throughput-noise-floor: expected a finite number"),
    (("--max-p95-ms", "fast"), "--max-p95-ms"),
    (("--error-rate-increase", "2"), "--error-rate-increase"),
    (("--min-samples", "1.5"), "--min-samples"),
]


@pytest.mark.parametrize(("option", "named"), BAD, ids=[" ".join(option) for option, _ in BAD])
def test_bad_rule_values_exit_2_naming_the_option(
    tmp_path: Path, option: tuple[str, str], named: str
) -> None:
    spec = _spec(tmp_path, url="http://127.0.0.1:9")
    for command in (
        ["load", "run", str(spec), "--service", "api", "--gate", "--dry-run"],
        ["load", "gate", "--service", "api", str(EXAMPLES / "load" / "k6-summary.json")],
    ):
        code, out, err = run(*command, *option)
        assert code == 2, (command, out, err)
        assert named in " ".join((out + err).replace("│", " ").split()), err


def test_rule_options_without_gate_exit_2(tmp_path: Path) -> None:
    spec = _spec(tmp_path, url="http://127.0.0.1:9")
    code, _, err = run("load", "run", spec, "--dry-run", "--latency-increase", "0.5")
    assert code == 2
    assert "--latency-increase set the gate's rules: add --gate" in err
    code, _, err = run(
        "load", "run", spec, "--dry-run", "--service", "api", "--record", "--allow-inconclusive"
    )
    assert code == 2
    assert "--allow-inconclusive set the gate's rules: add --gate" in err
    # the defaults written out are no choice: nothing to refuse
    code, _, err = run("load", "run", spec, "--dry-run")
    assert code == 0, err
