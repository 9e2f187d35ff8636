"""`srekit serve` running for real: migrated, serving, and saying where its API docs are."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from srekit.config import Settings
from srekit.store.database import head_revision
from tests.cli.conftest import EXAMPLES, run
from tests.ports import free_port


@contextmanager
def _serving(tmp_path: Path, **env_vars: str) -> Iterator[tuple[int, list[str]]]:
    """`srekit serve` on a free port; yields the port and, after it stops, its output."""
    port = free_port()
    env = {**os.environ, "SREKIT_HOME": str(tmp_path), **env_vars}
    env.pop("SREKIT_DATABASE_URL", None)
    script = "import typer; from srekit.cli.serve import serve; typer.run(serve)"
    process = subprocess.Popen(
        [sys.executable, "-c", script, "--port", str(port), "--interval", "5"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1)
                break
            except httpx.HTTPError:
                assert process.poll() is None, process.stdout.read() if process.stdout else ""
                assert time.monotonic() < deadline, "srekit serve did not start"
                time.sleep(0.1)
        yield port, output
    finally:
        process.send_signal(signal.SIGINT)
        output.append(process.communicate(timeout=30)[0])


def test_serve_migrates_serves_and_prints_the_docs_url(tmp_path: Path) -> None:
    with _serving(tmp_path) as (port, output):
        ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5)
        assert ready.status_code == 200
        assert ready.json()["revision"] == head_revision()
        assert httpx.get(f"http://127.0.0.1:{port}/api/v1/status").status_code == 401
    assert f"API docs: http://127.0.0.1:{port}/docs" in output[0]
    assert "evaluating every 5s" in output[0]


def test_serve_watches_silences_when_alertmanager_is_configured(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing holds silences: it is never asked
    with _serving(tmp_path / "ok", SREKIT_ALERTMANAGER_URL=url) as (port, output):
        assert httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5).status_code == 200
    assert f"watching silenced incidents in Alertmanager at {url} every 15s" in output[0]
    code, _, err = run(
        "serve",
        "--port",
        str(free_port()),
        env={"SREKIT_HOME": str(tmp_path / "bad"), "SREKIT_ALERTMANAGER_URL": "alertmanager:9093"},
    )
    assert code == 2
    assert "SREKIT_ALERTMANAGER_URL: expected an http:// or https:// URL" in err


def _ask(connection: socket.socket) -> bytes:
    """One keep-alive request on `connection`; b"" when the server had closed it."""
    connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: srekit\r\n\r\n")
    answer = b""
    try:
        while b"\r\n\r\n" not in answer:
            chunk = connection.recv(65536)
            if not chunk:
                return answer
            answer += chunk
        head, _, body = answer.partition(b"\r\n\r\n")
        length = int(re.search(rb"content-length: *(\d+)", head, re.IGNORECASE)[1])  # type: ignore[index]
        while len(body) < length:
            body += connection.recv(65536)
    except ConnectionResetError:
        return b""
    return answer


def test_idle_connections_stay_open_for_the_configured_keep_alive(tmp_path: Path) -> None:
    """A server that closes an idle connection just as a client reuses it resets that
    request: under load that was most of the soak's connection errors with uvicorn's 5 s."""
    assert Settings().keep_alive_s >= 60  # longer than the usual load balancer's idle timeout
    with (
        _serving(tmp_path, SREKIT_KEEP_ALIVE_S="2") as (port, _),
        socket.create_connection(("127.0.0.1", port), timeout=10) as connection,
    ):
        assert _ask(connection).startswith(b"HTTP/1.1 200")
        time.sleep(1.0)
        assert _ask(connection).startswith(b"HTTP/1.1 200")  # still open after 1 s idle
        time.sleep(3.0)
        assert _ask(connection) == b""  # closed after 2 s idle, as configured


def _srekit(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SREKIT_HOME": str(home)}
    env.pop("SREKIT_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-c", "from srekit.cli.main import main; main()", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_second_serve_or_demo_on_the_port_srekit_serves_changes_nothing(tmp_path: Path) -> None:
    """`make run` twice: before, the demo ran again and serve printed "serving on" before
    failing on the busy port; now both stop first, saying srekit runs there, exit 2."""
    with _serving(tmp_path / "running") as (port, _):
        other = tmp_path / "other"
        for command in (
            ("serve", "--port", str(port)),
            ("demo", "--examples", str(EXAMPLES), "--port", str(port)),
        ):
            done = _srekit(other, *command)
            assert done.returncode == 2, command
            assert f"srekit is already running on 127.0.0.1:{port}" in done.stderr
            assert "make run PORT=" in done.stderr
            assert done.stdout == "", command
            assert not other.exists(), command  # nothing created, nothing replayed
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200


def test_serve_refuses_a_port_another_program_holds(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        done = _srekit(tmp_path, "serve", "--port", str(port))
    assert done.returncode == 2
    assert f"port {port} on 127.0.0.1 is in use by another program" in done.stderr
    assert "srekit serving" not in done.stdout
    assert "Traceback" not in done.stderr


def test_a_stopped_server_prints_no_nanobind_line(tmp_path: Path) -> None:
    """The server froze its start-up objects out of the garbage collector and never thawed
    them: at exit DuckDB's binding found its objects alive and printed "nanobind: leaked"."""
    assert _srekit(tmp_path, "demo", "--examples", str(EXAMPLES)).returncode == 0
    with _serving(tmp_path) as (port, output):
        time.sleep(1.5)  # the evaluator's first round reads the event store
        assert httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5).status_code == 200
    assert "evaluating every 5s" in output[0]
    assert "nanobind" not in output[0]
