"""The status table people read: 100 columns, nothing cut, notes below, COLUMNS and NO_COLOR
honoured. Run as a subprocess, as a terminal or CI log would see it."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.conftest import EXAMPLES, run

AT = "2026-11-19T12:00:00Z"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _srekit(home: dict[str, str], *args: str, **env: str) -> tuple[int, str]:
    environment = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "NO_COLOR")}
    done = subprocess.run(
        [str(Path(sys.executable).with_name("srekit")), *args],
        env={**environment, **home, "SREKIT_PROMETHEUS_URL": "", **env},
        capture_output=True,
        text=True,
        check=False,
    )
    return done.returncode, done.stdout


def _table(home: dict[str, str], *extra: str, **env: str) -> tuple[int, str]:
    return _srekit(
        home,
        "status",
        "-f",
        str(EXAMPLES / "slos"),
        "-f",
        str(EXAMPLES / "prometheus"),
        "--at",
        AT,
        *extra,
        **env,
    )


def test_the_table_fits_100_columns_and_cuts_no_figure(home: dict[str, str]) -> None:
    code, out = _table(home)  # off a terminal, without COLUMNS: designed for 100
    assert code == 3  # the Prometheus SLOs could not be read
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 100, out
    assert "…" not in out
    statuses = {
        f"{s['service']}/{s['slo']}": s for s in json.loads(_table(home, "--format", "json")[1])
    }
    rows = {line.split()[0]: line for line in lines if "/" in line.split(" ")[0]}
    assert set(rows) == set(statuses)  # one line per SLO, its name whole
    for name, status in statuses.items():
        if status["sli"] is not None:
            assert f"{status['sli']:.3%}" in rows[name]
            assert f"{status['error_budget']['remaining']:.1%}" in rows[name]
    # why the Prometheus SLOs have no figures is a numbered note below, not a 7-line cell
    assert re.search(r"api/availability .* error \[\d\]", out)
    notes = [line for line in lines if line.startswith("[")]
    assert any("api/availability: error: no Prometheus URL" in note for note in notes)


def test_columns_is_honoured_off_a_terminal(home: dict[str, str]) -> None:
    with socket.socket() as sock:  # a port bound then released: nothing listens there
        sock.bind(("127.0.0.1", 0))
        down = f"--prometheus-url=http://127.0.0.1:{sock.getsockname()[1]}"
    _, narrow = _table(home, down, COLUMNS="100")
    _, wide = _table(home, down, COLUMNS="200")
    assert max(len(line) for line in narrow.splitlines()) <= 100
    note = next(line for line in wide.splitlines() if "cannot be reached" in line)
    assert len(note) > 100  # a note wraps at the width it is given, not at a fixed one


def test_wide_shows_every_figure(home: dict[str, str]) -> None:
    code, out = _table(home, "--wide")
    assert code == 3
    header = out.splitlines()[1]
    for column in (
        "service",
        "slo",
        "burn 5m",
        "burn 30m",
        "burn 2h",
        "burn 1d",
        "burn window",
        "data",
        "notes",
    ):
        assert column in header
    assert "week (Europe/Paris)" in out
    assert "…" not in out


@pytest.mark.parametrize(("no_color", "coloured"), [("", True), ("1", False)])
def test_budget_and_sli_are_coloured_unless_no_color(
    home: dict[str, str], no_color: str, coloured: bool
) -> None:
    _, out = _table(home, FORCE_COLOR="1", NO_COLOR=no_color)
    green = re.search(r"\x1b\[32m\s*\d+\.\d+%", out)
    assert bool(green) is coloured
    if not coloured:
        assert not re.search(r"\x1b\[3\dm", out)
    assert "checkout/availability" in ANSI.sub("", out)


def test_status_json_counts_are_integers(home: dict[str, str], tmp_path: Path) -> None:
    code, out, _ = run("status", "-f", EXAMPLES / "slos", "--at", AT, "--format", "json", env=home)
    assert code == 0
    for status in json.loads(out):
        assert all(type(count) is int for count in status["events"].values())
        assert list(status["burn_rates"])[:7] == ["5m", "30m", "1h", "2h", "6h", "1d", "3d"]
        assert " " not in "".join(status["burn_rates"])
