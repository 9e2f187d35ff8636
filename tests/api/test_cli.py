"""`srekit token create|list|revoke` through CliRunner (on a Typer app mounting them as
cli/main.py does), and `srekit serve` running for real."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import typer
from typer.testing import CliRunner

from srekit.cli import serve, token
from srekit.store.database import head_revision

app = typer.Typer()
app.add_typer(token.app, name="token")
app.command("serve")(serve.serve)
runner = CliRunner()


def test_token_create_list_revoke(tmp_path: Path) -> None:
    env = {"SREKIT_HOME": str(tmp_path), "SREKIT_ACTOR": "ci", "SREKIT_DATABASE_URL": ""}
    created = runner.invoke(
        app, ["token", "create", "--role", "deploy", "--name", "argo", "--format", "json"], env=env
    )
    assert created.exit_code == 0, created.output
    document = json.loads(created.stdout)
    assert document["token"].startswith("srk_")
    assert (document["name"], document["role"], document["created_by"]) == ("argo", "deploy", "ci")
    plain = runner.invoke(app, ["token", "create", "--role", "viewer"], env=env)
    assert plain.exit_code == 0
    assert plain.stdout.strip().splitlines()[-1].startswith("srk_")
    listed = json.loads(runner.invoke(app, ["token", "list", "--format", "json"], env=env).stdout)
    assert sorted(t["role"] for t in listed) == ["deploy", "viewer"]
    assert all("token" not in t for t in listed)
    assert runner.invoke(app, ["token", "revoke", "argo"], env=env).exit_code == 0
    again = runner.invoke(app, ["token", "revoke", "argo"], env=env)
    assert again.exit_code == 2
    assert "no active token 'argo'" in again.output
    bad = runner.invoke(app, ["token", "create", "--role", "root"], env=env)
    assert bad.exit_code == 2


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_migrates_serves_and_prints_the_docs_url(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "SREKIT_HOME": str(tmp_path)}
    env.pop("SREKIT_DATABASE_URL", None)
    script = "import typer; from srekit.cli.serve import serve; typer.run(serve)"
    process = subprocess.Popen(
        [sys.executable, "-c", script, "--port", str(port), "--interval", "5"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1)
                break
            except httpx.HTTPError:
                assert process.poll() is None, process.stdout.read() if process.stdout else ""
                assert time.monotonic() < deadline, "srekit serve did not start"
                time.sleep(0.1)
        assert ready.status_code == 200
        assert ready.json()["revision"] == head_revision()
        assert httpx.get(f"http://127.0.0.1:{port}/api/v1/status").status_code == 401
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    assert f"API docs: http://127.0.0.1:{port}/docs" in output
    assert "evaluating every 5s" in output
