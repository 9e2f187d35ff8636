"""Each toxic on real sockets: a client → the fault proxy → a local echo or HTTP server."""

from __future__ import annotations

import socket
import statistics
import time

import pytest

from tests.faultproxy.conftest import FaultProxy


def _connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _round_trip(sock: socket.socket, payload: bytes = b"ping") -> float:
    started = time.perf_counter()
    sock.sendall(payload)
    received = b""
    while len(received) < len(payload):
        chunk = sock.recv(65536)
        assert chunk, "closed before the echo"
        received += chunk
    assert received == payload
    return time.perf_counter() - started


def _read_all(sock: socket.socket) -> bytes:
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def test_passes_bytes_through_unchanged(fault_proxy: FaultProxy, echo_port: int) -> None:
    port = fault_proxy.proxy("echo", echo_port)
    payload = bytes(range(256)) * 4096  # 1 MiB
    with _connect(port) as sock:
        assert _round_trip(sock, payload) < 5


def test_latency_is_added_once_per_round_trip_at_p50(
    fault_proxy: FaultProxy, echo_port: int
) -> None:
    port = fault_proxy.proxy("echo", echo_port)
    with _connect(port) as sock:
        base = statistics.median(_round_trip(sock) for _ in range(20))
        fault_proxy.toxic("echo", type="latency", attributes={"latency": 30})
        delayed = statistics.median(_round_trip(sock) for _ in range(20))
    # downstream only: each echo comes back 30 ms late, and only once
    assert abs((delayed - base) * 1000 - 30) <= 2, (base, delayed)


def test_latency_both_ways_and_jitter_stay_in_range(
    fault_proxy: FaultProxy, echo_port: int
) -> None:
    port = fault_proxy.proxy("echo", echo_port)
    fault_proxy.toxic("echo", type="latency", stream="upstream", attributes={"latency": 10})
    fault_proxy.toxic("echo", type="latency", name="back", attributes={"latency": 20, "jitter": 5})
    with _connect(port) as sock:
        times = [_round_trip(sock) * 1000 for _ in range(30)]
    assert min(times) >= 10 + 15 - 0.5
    assert max(times) <= 10 + 25 + 15  # scheduling slack on a busy machine
    assert abs(statistics.median(times) - 30) <= 4  # the median of 30 uniform draws: ±1.5 ms


def test_bandwidth_limits_the_rate(fault_proxy: FaultProxy, echo_port: int) -> None:
    port = fault_proxy.proxy("echo", echo_port)
    fault_proxy.toxic("echo", type="bandwidth", attributes={"rate": 100})  # 100,000 B/s
    payload = b"x" * 50_000
    with _connect(port) as sock:
        elapsed = _round_trip(sock, payload)
    # 50,000 bytes at 100,000 B/s: 0.5 s, less the first 100 ms piece that leaves at once
    assert 0.38 <= elapsed <= 0.9, elapsed


def test_timeout_stops_data_then_closes(fault_proxy: FaultProxy, echo_port: int) -> None:
    port = fault_proxy.proxy("echo", echo_port)
    with _connect(port) as sock:
        _round_trip(sock)
        fault_proxy.toxic("echo", type="timeout", attributes={"timeout": 200})
        started = time.perf_counter()
        sock.sendall(b"lost")
        assert _read_all(sock) == b""  # nothing came back, then the close
        assert 0.18 <= time.perf_counter() - started <= 1.0


def test_timeout_zero_holds_until_removed(fault_proxy: FaultProxy, echo_port: int) -> None:
    port = fault_proxy.proxy("echo", echo_port)
    fault_proxy.toxic("echo", type="timeout", name="hold", attributes={"timeout": 0})
    with _connect(port) as sock:
        sock.settimeout(0.3)
        sock.sendall(b"dropped")
        with pytest.raises(TimeoutError):
            sock.recv(10)
        with fault_proxy.client() as http:
            assert http.delete("/proxies/echo/toxics/hold").status_code == 204
        sock.settimeout(5)
        assert _round_trip(sock, b"again") > 0


def test_reset_peer_resets_the_connection(fault_proxy: FaultProxy, echo_port: int) -> None:
    port = fault_proxy.proxy("echo", echo_port)
    fault_proxy.toxic("echo", type="reset_peer", attributes={"timeout": 100})
    with _connect(port) as sock:
        time.sleep(0.3)  # the reset has arrived: the next read reports it
        with pytest.raises(ConnectionResetError):
            sock.recv(10)


def test_slow_close_delays_the_close(fault_proxy: FaultProxy, http_port: int) -> None:
    port = fault_proxy.proxy("web", http_port)
    fault_proxy.toxic("web", type="slow_close", attributes={"delay": 300})
    with _connect(port) as sock:
        sock.sendall(b"GET /x HTTP/1.0\r\n\r\n")
        started = time.perf_counter()
        received = _read_all(sock)
        elapsed = time.perf_counter() - started
    assert received.endswith(b"hello /x")
    assert 0.28 <= elapsed <= 1.5, elapsed


def test_slicer_cuts_the_stream(fault_proxy: FaultProxy, echo_port: int) -> None:
    port = fault_proxy.proxy("echo", echo_port)
    fault_proxy.toxic(
        "echo", type="slicer", attributes={"average_size": 10, "size_variation": 0, "delay": 20_000}
    )
    with _connect(port) as sock:
        sock.sendall(b"a" * 50)
        pieces: list[bytes] = []
        while sum(len(piece) for piece in pieces) < 50:
            pieces.append(sock.recv(1000))
    # 5 slices of 10 bytes, 20 ms apart: each arrives alone
    assert [len(piece) for piece in pieces] == [10] * 5


def test_limit_data_closes_after_the_limit(fault_proxy: FaultProxy, echo_port: int) -> None:
    port = fault_proxy.proxy("echo", echo_port)
    fault_proxy.toxic("echo", type="limit_data", attributes={"bytes": 25})
    with _connect(port) as sock:
        sock.sendall(b"y" * 40)
        assert _read_all(sock) == b"y" * 25


@pytest.mark.parametrize(("toxicity", "delayed"), [(0.0, False), (1.0, True)])
def test_toxicity_zero_never_one_always(
    fault_proxy: FaultProxy, echo_port: int, toxicity: float, delayed: bool
) -> None:
    port = fault_proxy.proxy("echo", echo_port)
    fault_proxy.toxic("echo", type="latency", toxicity=toxicity, attributes={"latency": 100})
    for _ in range(5):
        with _connect(port) as sock:
            assert (_round_trip(sock) >= 0.1) is delayed


def test_disabling_closes_connections_and_stops_listening(
    fault_proxy: FaultProxy, echo_port: int
) -> None:
    port = fault_proxy.proxy("echo", echo_port)
    with _connect(port) as sock:
        _round_trip(sock)
        with fault_proxy.client() as http:
            answer = http.post("/proxies/echo", json={"enabled": False})
        assert answer.json()["enabled"] is False
        assert _read_all(sock) == b""
    with pytest.raises(ConnectionRefusedError):
        _connect(port)
    with fault_proxy.client() as http:
        http.post("/proxies/echo", json={"enabled": True})
    with _connect(port) as sock:
        assert _round_trip(sock) < 1


def test_a_toxic_with_a_ttl_removes_itself(fault_proxy: FaultProxy, echo_port: int) -> None:
    port = fault_proxy.proxy("echo", echo_port)
    fault_proxy.toxic("echo", type="latency", attributes={"latency": 100, "ttl": 300})
    with _connect(port) as sock:
        assert _round_trip(sock) >= 0.1
        time.sleep(0.35)
        assert _round_trip(sock) < 0.05
    with fault_proxy.client() as http:
        assert http.get("/proxies/echo/toxics").json() == []


def test_packet_loss_delays_a_share_by_the_retransmit(
    fault_proxy: FaultProxy, echo_port: int
) -> None:
    port = fault_proxy.proxy("echo", echo_port)
    fault_proxy.toxic("echo", type="packet_loss", attributes={"loss": 0.5, "retransmit": 50})
    with _connect(port) as sock:
        times = [_round_trip(sock) for _ in range(40)]
    late = sum(t >= 0.05 for t in times)
    assert 8 <= late <= 32, late  # binomial(40, 0.5): outside 8..32 has odds below 1e-4
    assert all(t < 0.05 or t >= 0.05 for t in times)


def _get(port: int, path: str) -> bytes:
    with _connect(port) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n".encode())
        return _read_all(sock)


def test_http_status_is_injected_for_matching_routes(
    fault_proxy: FaultProxy, http_port: int
) -> None:
    port = fault_proxy.proxy("web", http_port)
    fault_proxy.toxic("web", type="http", attributes={"status": 503, "path_prefix": "/api"})
    assert _get(port, "/api/orders").startswith(b"HTTP/1.1 503 Service Unavailable\r\n")
    healthy = _get(port, "/health")
    assert healthy.startswith(b"HTTP/1.0 200") or healthy.startswith(b"HTTP/1.1 200")
    assert healthy.endswith(b"hello /health")


def test_http_keep_alive_requests_are_judged_one_by_one(
    fault_proxy: FaultProxy, http_port: int
) -> None:
    port = fault_proxy.proxy("web", http_port)
    # 400 ms against a request that takes a few: the margins survive a busy machine
    fault_proxy.toxic("web", type="http", attributes={"latency": 400, "path_prefix": "/slow"})
    with _connect(port) as sock:
        timings = []
        for path in ("/fast", "/slow", "/fast"):
            started = time.perf_counter()
            sock.sendall(f"GET {path} HTTP/1.1\r\nhost: x\r\n\r\n".encode())
            received = b""
            while not received.endswith(f"hello {path}".encode()):
                received += sock.recv(4096)
            timings.append(time.perf_counter() - started)
    assert timings[0] < 0.2
    assert timings[2] < 0.2
    assert timings[1] >= 0.4


def test_http_abort_resets(fault_proxy: FaultProxy, http_port: int) -> None:
    port = fault_proxy.proxy("web", http_port)
    fault_proxy.toxic("web", type="http", attributes={"abort": 1})
    with pytest.raises(ConnectionResetError):
        _get(port, "/")


def test_a_stalled_reader_stops_the_proxy_reading(fault_proxy: FaultProxy) -> None:
    """Backpressure: the proxy holds about its write buffer, not whatever the client sends."""
    with socket.create_server(("127.0.0.1", 0)) as stalled:  # accepts, never reads
        port = fault_proxy.proxy("stalled", stalled.getsockname()[1])
        with _connect(port) as sock:
            upstream, _ = stalled.accept()
            sock.setblocking(False)
            block, offered, pushed = b"\0" * (1 << 20), 128 << 20, 0
            progress = time.monotonic()
            while pushed < offered and time.monotonic() - progress < 0.5:  # until stuck
                try:
                    pushed += sock.send(block)
                    progress = time.monotonic()
                except BlockingIOError:
                    time.sleep(0.02)
            upstream.close()
    # the four socket buffers (a few MB each on loopback) and the proxy's 1 MiB write buffer
    assert pushed < 48 << 20, pushed
