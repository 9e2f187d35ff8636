"""`srekit serve` running for real: migrated, serving, and saying where its API docs are."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from srekit.store.database import head_revision


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
