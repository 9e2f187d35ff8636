"""srekit's app served for real by uvicorn on 127.0.0.1, in a thread, for tests whose client
is another program (Prometheus scraping, the CLI's --server); and `srekit serve` itself, in a
process of its own, for tests that need the whole server as `make run` starts it (a browser)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI

__all__ = ["free_port", "serving", "srekit_serve"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


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
def srekit_serve(home: Path) -> Iterator[str]:
    """`srekit serve` on 127.0.0.1 and a free port, its state in `home`, until the block ends
    (Ctrl-C, as a person stops it); yields its base URL once it answers /readyz."""
    port = free_port()
    env = {**os.environ, "SREKIT_HOME": str(home)}
    env.pop("SREKIT_DATABASE_URL", None)
    script = "import sys; from srekit.cli.main import main; sys.argv[0] = 'srekit'; main()"
    process = subprocess.Popen(
        [sys.executable, "-c", script, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
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
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            assert time.monotonic() < deadline, "srekit serve did not start within 60 s"
            time.sleep(0.1)
        yield url
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)
