"""A running fault proxy (its API on a free port, in a loop of its own thread) and local
upstreams: a TCP echo server and an HTTP server, all on 127.0.0.1."""

from __future__ import annotations

import asyncio
import random
import socket
import socketserver
import sys
import threading
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

import httpx
import pytest
import uvloop

from srekit.faultproxy import Registry, start_api

T = TypeVar("T")


@dataclass
class FaultProxy:
    registry: Registry
    loop: asyncio.AbstractEventLoop
    url: str
    port: int

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(10)

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=10)

    def proxy(self, name: str, upstream: int, **extra: Any) -> int:
        """Create a proxy to 127.0.0.1:`upstream`; the port it listens on."""
        with self.client() as http:
            answer = http.post(
                "/proxies", json={"name": name, "upstream": f"127.0.0.1:{upstream}"} | extra
            )
        assert answer.status_code == 201, answer.text
        return int(answer.json()["listen"].rpartition(":")[2])

    def toxic(self, proxy: str, **document: Any) -> dict[str, Any]:
        with self.client() as http:
            answer = http.post(f"/proxies/{proxy}/toxics", json=document)
        assert answer.status_code == 200, answer.text
        result: dict[str, Any] = answer.json()
        return result


@pytest.fixture(params=["asyncio", "uvloop"])
def fault_proxy(request: pytest.FixtureRequest) -> Iterator[FaultProxy]:
    """On asyncio's own loop and on uvloop (`srekit chaos proxy`'s): their transports differ
    in when they call back, which the data path must not depend on."""
    loop = asyncio.new_event_loop() if request.param == "asyncio" else uvloop.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    registry = Registry(rng=random.Random(7))

    async def start() -> tuple[Any, asyncio.Task[None]]:
        return await start_api(registry, "127.0.0.1:0")

    server, task = asyncio.run_coroutine_threadsafe(start(), loop).result(10)
    port = server.servers[0].sockets[0].getsockname()[1]
    proxy = FaultProxy(registry, loop, f"http://127.0.0.1:{port}", port)
    yield proxy

    async def stop() -> None:
        await registry.close()
        server.should_exit = True
        await task

    asyncio.run_coroutine_threadsafe(stop(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    loop.close()


class _Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while data := self.request.recv(65536):
            self.request.sendall(data)


class _ResetsExpected(socketserver.BaseServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet on a reset connection, which reset_peer and timeout toxics make on purpose;
        anything else is printed as socketserver prints it."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Server(_ResetsExpected, socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@pytest.fixture
def echo_port() -> Iterator[int]:
    server = _Server(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


class _Hello(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        body = f"hello {self.path}".encode()
        self.send_response(200)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return None


class _HttpServer(_ResetsExpected, ThreadingHTTPServer):
    pass


@pytest.fixture
def http_port() -> Iterator[int]:
    server = _HttpServer(("127.0.0.1", 0), _Hello)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()
