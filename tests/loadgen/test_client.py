"""The generator's HTTP/1.1 client against raw responses: lengths, chunks, close-delimited
bodies, HTTP/1.0, garbage, timeouts and refused connections, each classified."""

from __future__ import annotations

import asyncio

import pytest

from srekit.core.load import Outcome
from srekit.loadgen.client import ConnectionPool, Origin, RequestFailedError, encode_request

RESPONSES = {
    "length": b"HTTP/1.1 201 Created\r\nContent-Length: 5\r\n\r\nhello",
    "chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"3\r\nabc\r\n4;x=1\r\ndefg\r\n0\r\n\r\n",
    "close": b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end",
    "http10": b"HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n",
    "empty": b"HTTP/1.1 204 No Content\r\n\r\n",
    "garbage": b"SSH-2.0-OpenSSH\r\n\r\n",
    "cut": b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
}


async def _exchange(kind: str, *, timeout_s: float = 2.0, delay_s: float = 0.0) -> tuple[int, int]:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            for _ in range(2):  # a second request on the same connection, when it is kept
                await reader.readuntil(b"\r\n\r\n")
                await asyncio.sleep(delay_s)
                writer.write(RESPONSES[kind])
                if kind in ("close", "cut", "http10", "garbage"):
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    origin = Origin.parse(f"http://127.0.0.1:{port}/base/")
    pool = ConnectionPool(origin, timeout_s=timeout_s)
    request = encode_request(origin, "GET", "/x", (("Accept", "*/*"),), b"")
    try:
        first = await pool.send(request)
        if kind in ("length", "chunked", "empty"):
            assert len(pool.idle) == 1  # kept alive, and reused
            assert await pool.send(request) == first
        else:
            assert pool.idle == []
        return first
    finally:
        pool.close()
        await asyncio.sleep(0.05)  # the server's handler sees the end and closes its side
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize(
    ("kind", "answer"),
    [
        ("length", (201, 5)),
        ("chunked", (200, 7)),
        ("close", (200, 13)),
        ("http10", (404, 0)),
        ("empty", (204, 0)),
    ],
)
def test_responses_are_read_whole(kind: str, answer: tuple[int, int]) -> None:
    assert asyncio.run(_exchange(kind)) == answer


@pytest.mark.parametrize("kind", ["garbage", "cut"])
def test_broken_responses_are_protocol_errors(kind: str) -> None:
    with pytest.raises(RequestFailedError) as failed:
        asyncio.run(_exchange(kind))
    assert failed.value.outcome is Outcome.PROTOCOL


def test_a_slow_response_is_a_timeout() -> None:
    with pytest.raises(RequestFailedError) as failed:
        asyncio.run(_exchange("length", timeout_s=0.2, delay_s=1.0))
    assert failed.value.outcome is Outcome.TIMEOUT


def test_a_refused_connection_is_a_connect_error() -> None:
    async def refused() -> None:
        pool = ConnectionPool(Origin.parse("http://127.0.0.1:9"), timeout_s=1)
        try:
            await pool.send(b"GET / HTTP/1.1\r\n\r\n")
        finally:
            pool.close()

    with pytest.raises(RequestFailedError) as failed:
        asyncio.run(refused())
    assert failed.value.outcome is Outcome.CONNECT


def test_requests_are_encoded_once_with_host_and_length() -> None:
    origin = Origin.parse("http://example.test:8080/api")
    assert encode_request(origin, "POST", "/cart", (), b"{}") == (
        b"POST /api/cart HTTP/1.1\r\nHost: example.test:8080\r\nContent-Length: 2\r\n"
        b"User-Agent: srekit-load\r\n\r\n{}"
    )
    with pytest.raises(ValueError, match="http"):
        Origin.parse("ftp://example.test")
