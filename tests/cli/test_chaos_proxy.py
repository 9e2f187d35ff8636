"""`srekit chaos proxy`: through a Typer app built here, and as a process of its own."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import typer
from typer.testing import CliRunner

from srekit.cli.chaos_proxy import add_proxy_command
from tests.served import free_port

runner = CliRunner()


def _app() -> typer.Typer:
    app = typer.Typer()
    app.callback()(lambda: None)  # a group, as the chaos CLI is
    add_proxy_command(app)
    return app


@pytest.mark.parametrize(
    ("args", "config", "message"),
    [
        (["--listen", "0.0.0.0:8474"], None, "0.0.0.0 is not a loopback address"),
        (["--listen", "8474"], None, "--listen: expected host:port"),
        ([], '[{"name": "a"}]', "missing required field: upstream"),
        ([], '{"name": "a"}', "expected a JSON array of proxies"),
        ([], "[NaN]", "not JSON"),
        ([], "[" * 100_000, "not JSON"),
        (
            [],
            '[{"name": "a", "upstream": "127.0.0.1:1", "listen": "10.0.0.1:1"}]',
            "10.0.0.1 is not a loopback address",
        ),
    ],
)
def test_bad_input_exits_2_with_the_field(
    tmp_path: Path, args: list[str], config: str | None, message: str
) -> None:
    if config is not None:
        path = tmp_path / "proxies.json"
        path.write_text(config)
        args = [*args, "--listen", f"127.0.0.1:{free_port()}", "--config", str(path)]
    result = runner.invoke(_app(), ["proxy", *args])
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())


def test_a_missing_config_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(_app(), ["proxy", "--config", str(tmp_path / "none.json")])
    assert result.exit_code == 2
    assert "cannot be read" in result.output


def test_the_proxy_runs_as_a_process_until_terminated(tmp_path: Path) -> None:
    api, listen = free_port(), free_port()
    config = tmp_path / "proxies.json"
    config.write_text(
        json.dumps(
            [{"name": "self", "listen": f"127.0.0.1:{listen}", "upstream": f"127.0.0.1:{api}"}]
        )
    )
    script = (
        "import typer, sys\n"
        "from srekit.cli.chaos_proxy import add_proxy_command\n"
        "app = typer.Typer()\n"
        "app.callback()(lambda: None)\n"
        "add_proxy_command(app)\n"
        "app(sys.argv[1:])\n"
    )
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            script,
            "proxy",
            "--listen",
            f"127.0.0.1:{api}",
            "--config",
            str(config),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=os.environ | {"COLUMNS": "200"},
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                version = httpx.get(f"http://127.0.0.1:{api}/version", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.communicate()
                assert time.monotonic() < deadline
                time.sleep(0.1)
        assert version.json() == {"version": "2.12.0-srekit"}
        # the configured proxy forwards to the API itself: the API answers through it
        through = httpx.get(f"http://127.0.0.1:{listen}/proxies", timeout=5).json()
        assert through["self"]["listen"] == f"127.0.0.1:{listen}"
    finally:
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=10)
    assert process.returncode == 0, err
    assert f"fault proxy API listening on 127.0.0.1:{api}" in err.decode()
