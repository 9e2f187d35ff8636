"""srekit's app served for real by uvicorn on 127.0.0.1, in a thread, for tests whose client
is another program (Prometheus scraping, the CLI's --server); and `srekit serve` itself, in a
process of its own, for tests that need the whole server as `make run` starts it (a browser)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI

from tests.ports import free_port

__all__ = ["free_port", "serving", "srekit_serve"]


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """`app` under uvicorn until the block ends; yields its `127.0.0.1:PORT`."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive(), "uvicorn stopped before it started"
        assert time.monotonic() < deadline, "uvicorn did not start within 30 s"
        time.sleep(0.05)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@contextmanager
def srekit_serve(
    home: Path,
    *args: str,
    port: int | None = None,
    log: Path | None = None,
    settings: Mapping[str, str] | None = None,
) -> Iterator[str]:
    """`srekit serve` on 127.0.0.1 and `port` (default: a free one) with `args`, its state in
    `home` and SREKIT_* `settings`, its output in `log` (default: serve.log in `home`), until
    the block ends (Ctrl-C, as a person stops it; killed if it has not stopped 30 s later);
    yields its base URL once it answers /readyz, and fails showing the log when it exits or is
    not ready within 60 s."""
    port = free_port() if port is None else port
    log = home / "serve.log" if log is None else log
    env = {**os.environ, "SREKIT_HOME": str(home), **(settings or {})}
    env.pop("SREKIT_DATABASE_URL", None)
    script = "import sys; from srekit.cli.main import main; sys.argv[0] = 'srekit'; main()"
    command = [sys.executable, "-c", script, "serve", "--host", "127.0.0.1", "--port", str(port)]
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as output:
        process = subprocess.Popen(
            [*command, *args], env=env, stdout=output, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None, f"srekit serve exited:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"srekit serve not ready:\n{log.read_text()}"
            time.sleep(0.1)
        yield url
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
