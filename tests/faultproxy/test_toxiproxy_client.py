"""toxiproxy-python, a Toxiproxy client from PyPI, drives the fault proxy unchanged."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.faultproxy.conftest import FaultProxy

toxiproxy = pytest.importorskip("toxiproxy")
from toxiproxy.api import APIConsumer  # type: ignore[import-untyped]  # noqa: E402
from toxiproxy.exceptions import (  # type: ignore[import-untyped]  # noqa: E402
    InvalidToxic,
    NotFound,
    ProxyExists,
)


@pytest.fixture
def client(fault_proxy: FaultProxy) -> Iterator[Any]:
    server = toxiproxy.Toxiproxy()
    server.update_api_consumer("127.0.0.1", fault_proxy.port)
    yield server
    server.update_api_consumer("127.0.0.1", 8474)


def _echo_time(port: int) -> float:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        started = time.perf_counter()
        sock.sendall(b"ping")
        assert sock.recv(10) == b"ping"
        return time.perf_counter() - started


def test_the_client_creates_poisons_and_destroys(client: Any, echo_port: int) -> None:
    assert client.running() is True
    assert b"srekit" in client.version()
    proxy = client.create(upstream=f"127.0.0.1:{echo_port}", name="echo")
    port = int(proxy.listen.rpartition(":")[2])
    assert port != 0
    assert proxy.enabled is True
    with pytest.raises(ProxyExists):
        APIConsumer.post("/proxies", json={"name": "echo", "upstream": proxy.upstream})
    proxy.add_toxic(type="latency", attributes={"latency": 80})
    assert set(proxy.toxics()) == {"latency_downstream"}
    assert proxy.get_toxic("latency_downstream").attributes["latency"] == 80
    assert _echo_time(port) >= 0.08
    with pytest.raises(InvalidToxic):
        proxy.add_toxic(type="earthquake")
    proxy.destroy_toxic("latency_downstream")
    assert _echo_time(port) < 0.05
    with proxy.down(), pytest.raises(ConnectionRefusedError):
        _echo_time(port)
    assert _echo_time(port) < 0.05
    proxy.add_toxic(type="timeout", attributes={"timeout": 0})
    assert client.reset() is True
    assert proxy.toxics() == {}
    assert set(client.proxies()) == {"echo"}
    populated = client.populate(
        [{"name": "other", "upstream": f"127.0.0.1:{echo_port}", "listen": "127.0.0.1:0"}]
    )
    assert [p.name for p in populated] == ["other"]
    client.destroy_all()
    assert client.proxies() == {}
    with pytest.raises(NotFound):
        APIConsumer.get("/proxies/echo")
