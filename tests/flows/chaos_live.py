"""Real parts for chaos runs end to end: `srekit chaos proxy` as a process of its own, a
dependency behind it, a front service whose health depends on the dependency through the
proxy, and a look at the proxy's toxics while a run goes on."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from tests.served import free_port

__all__ = [
    "DEPENDENCY_BYTES",
    "FRONT_TIMEOUT_S",
    "ROOT",
    "SREKIT",
    "ToxicWatch",
    "front_service",
    "http_service",
    "proxy_process",
    "wait_for_proxy",
]

ROOT = Path(__file__).resolve().parents[2]
SREKIT = str(Path(sys.executable).parent / "srekit")
DEPENDENCY_BYTES = 20_000  # what the dependency answers: 2 s at 10 KB/s, instant otherwise
FRONT_TIMEOUT_S = 1.0  # the front service gives up on its dependency after this


class _QuietServer(ThreadingHTTPServer):
    """Connections the proxy resets or cuts are the faults under test, not errors to print."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@contextmanager
def http_service(answer: Callable[[str], tuple[int, bytes]]) -> Iterator[str]:
    """A threaded HTTP server on 127.0.0.1 whose GETs `answer(path)` gives; yields its URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, body = answer(self.path)
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # http.server names it so
            return

    server = _QuietServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@contextmanager
def front_service(dependency_url: str) -> Iterator[str]:
    """A service whose `/health` answers 200 only when its dependency (`dependency_url`, the
    proxy's side) gives its whole answer within FRONT_TIMEOUT_S; 503 otherwise."""

    def answer(path: str) -> tuple[int, bytes]:
        started = time.monotonic()
        try:
            body = httpx.get(dependency_url, timeout=FRONT_TIMEOUT_S).content
        except httpx.HTTPError as error:
            return 503, type(error).__name__.encode()
        if time.monotonic() - started > FRONT_TIMEOUT_S:  # httpx's timeout is per read
            return 503, b"slow"
        return (200, b"ok") if len(body) == DEPENDENCY_BYTES else (503, b"short")

    with http_service(answer) as url:
        yield url


def wait_for_proxy(api: str, process: subprocess.Popen[bytes]) -> None:
    """Until the fault proxy's API at `api` answers; fails if `process` ends first."""
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"{api}/version", timeout=1)
            return
        except httpx.TransportError:
            assert process.poll() is None, "the fault proxy exited"
            assert time.monotonic() < deadline, "the fault proxy did not start"
            time.sleep(0.05)


@contextmanager
def proxy_process(proxies: list[dict[str, Any]], workdir: Path) -> Iterator[str]:
    """`srekit chaos proxy` with `proxies` (Toxiproxy's config file) until the block ends;
    yields its API's URL once it answers."""
    api = f"127.0.0.1:{free_port()}"
    config = workdir / "proxies.json"
    config.write_text(json.dumps(proxies))
    process = subprocess.Popen(
        [SREKIT, "chaos", "proxy", "--listen", api, "--config", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "COLUMNS": "200"},
    )
    try:
        wait_for_proxy(f"http://{api}", process)
        yield f"http://{api}"
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=10)


@dataclass
class ToxicWatch:
    """The toxics of one proxy, looked at every few milliseconds in a thread: every name seen,
    and each toxic's attributes as first seen."""

    toxics_url: str
    seen: dict[str, dict[str, Any]] = field(default_factory=dict)
    looks: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)

    def _look(self) -> None:
        while not self._stop.is_set():
            for toxic in httpx.get(self.toxics_url, timeout=5).json():
                self.seen.setdefault(toxic["name"], toxic)
            self.looks += 1
            self._stop.wait(0.02)

    @contextmanager
    def watching(self) -> Iterator[ToxicWatch]:
        thread = threading.Thread(target=self._look, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            thread.join()

    def now(self) -> list[str]:
        return [toxic["name"] for toxic in httpx.get(self.toxics_url, timeout=5).json()]
