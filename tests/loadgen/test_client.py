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


def test_a_connection_the_server_closed_while_idle_is_not_reused() -> None:
    """A server may end a keep-alive connection between requests without saying so. A
    write to it would vanish and its request wait out the timeout: the pool opens another."""

    async def run() -> tuple[tuple[int, int], tuple[int, int], float, int]:
        connections = 0

        async def answer_once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            nonlocal connections
            connections += 1
            try:
                await reader.readuntil(b"\r\n\r\n")
                writer.write(RESPONSES["length"])  # keep-alive by its headers...
                await writer.drain()
            except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
                pass
            finally:
                writer.close()  # ...and closed all the same

        server = await asyncio.start_server(answer_once, "127.0.0.1", 0)
        origin = Origin.parse(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}")
        pool = ConnectionPool(origin, timeout_s=2.0)
        request = encode_request(origin, "GET", "/", (), b"")
        try:
            first = await pool.send(request)
            await asyncio.sleep(0.1)  # the close reaches the idle connection
            started = asyncio.get_running_loop().time()
            second = await pool.send(request)
            took = asyncio.get_running_loop().time() - started
        finally:
            pool.close()
            await asyncio.sleep(0.05)  # the handlers see the end and close their side
            server.close()
            await server.wait_closed()
        return first, second, took, connections

    first, second, took, connections = asyncio.run(run())
    assert first == second == (201, 5)
    assert took < 1.0  # not the 2 s timeout
    assert connections == 2


def test_try_send_uses_an_idle_connection_and_calls_back_with_the_answer() -> None:
    """The generator's task-free way: False (nothing sent) with no idle connection, else the
    answer arrives through the callback, stamped when it was whole, and the connection is
    idle again for the next request."""

    async def run() -> tuple[bool, object, int, float, float]:
        async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                while True:
                    await reader.readuntil(b"\r\n\r\n")
                    writer.write(RESPONSES["chunked"])
            except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
                pass
            finally:
                writer.close()

        server = await asyncio.start_server(answer, "127.0.0.1", 0)
        origin = Origin.parse(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}")
        pool = ConnectionPool(origin, timeout_s=2.0)
        request = encode_request(origin, "GET", "/", (), b"")
        loop = asyncio.get_running_loop()
        answered: asyncio.Future[object] = loop.create_future()
        try:
            refused = pool.try_send(request, answered.set_result)
            await pool.send(request)  # opens the connection, then leaves it idle
            before = loop.time()
            assert pool.try_send(request, answered.set_result)
            got = await answered
            after = loop.time()
            idle = len(pool.idle)
        finally:
            pool.close()
            await asyncio.sleep(0.05)  # the handler sees the end and closes its side
            server.close()
            await server.wait_closed()
        return refused, got, idle, before, after

    refused, got, idle, before, after = asyncio.run(run())
    assert refused is False
    assert isinstance(got, tuple)
    assert got[:2] == (200, 7)
    assert before <= got[2] <= after
    assert idle == 1
