"""A small service for chaos tests: its latency is set through an endpoint (the fault an
experiment injects), and a probe that times a request to it (allow-listed in the tests)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

PROBES_MODULE = "tests.flows.chaos_service"


def response_time_s(url: str) -> float:
    """Seconds one GET of `url` took (a steady-state probe)."""
    started = time.perf_counter()
    httpx.get(url, timeout=10).raise_for_status()
    return time.perf_counter() - started


class LatencyService:
    """What the service saw, and the latency it adds to `GET /work` (seconds)."""

    def __init__(self) -> None:
        self.latency_s = 0.0
        self.calls: list[str] = []
        self.lock = threading.Lock()

    def seen(self, call: str) -> None:
        with self.lock:
            self.calls.append(call)


@contextmanager
def latency_service() -> Iterator[tuple[str, LatencyService]]:
    state = LatencyService()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            state.seen(f"GET {self.path}")
            time.sleep(state.latency_s)
            self._answer(200, {"latency_s": state.latency_s})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            body = json.loads(self.rfile.read(length) or b"{}")
            state.seen(f"POST {self.path} {body.get('ms', '')}".rstrip())
            if self.path == "/latency":
                state.latency_s = float(body["ms"]) / 1000
                self._answer(200, {"latency_s": state.latency_s})
            else:
                self._answer(500, {"error": "no such fault"})

        def log_message(self, format: str, *args: Any) -> None:  # http.server names it so
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def latency_experiment(
    base: str,
    *,
    latency_ms: int,
    tolerance_s: float,
    pause_after_s: float = 0.0,
    **fields: Any,
) -> dict[str, Any]:
    """Add `latency_ms` to the service; the steady state: GET /work within `tolerance_s`."""
    experiment: dict[str, Any] = {
        "title": "the service stays fast under added latency",
        "description": "a settable delay, and a probe that times a request",
        "configuration": {"base": base},
        "steady-state-hypothesis": {
            "title": "fast",
            "probes": [
                {
                    "type": "probe",
                    "name": "work-is-fast",
                    "tolerance": {"type": "range", "range": [0, tolerance_s]},
                    "provider": {
                        "type": "python",
                        "module": PROBES_MODULE,
                        "func": "response_time_s",
                        "arguments": {"url": "${base}/work"},
                    },
                }
            ],
        },
        "method": [
            {
                "type": "action",
                "name": "add-latency",
                "provider": {
                    "type": "http",
                    "method": "POST",
                    "url": "${base}/latency",
                    "headers": {"Content-Type": "application/json"},
                    "arguments": {"ms": latency_ms},
                    "expected_status": 200,
                },
                "pauses": {"after": pause_after_s},
            }
        ],
        "rollbacks": [
            {
                "type": "action",
                "name": "remove-latency",
                "provider": {
                    "type": "http",
                    "method": "POST",
                    "url": "${base}/latency",
                    "headers": {"Content-Type": "application/json"},
                    "arguments": {"ms": 0},
                },
            }
        ],
    }
    experiment.update(fields)
    return experiment
