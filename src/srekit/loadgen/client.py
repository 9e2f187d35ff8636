"""A small HTTP/1.1 client on an asyncio Protocol, with keep-alive connections.

A load generator spends its CPU in its client, and a worker that runs out of CPU sends late,
which an open model charges to the service. This client parses responses as bytes arrive, in an
asyncio Protocol, and keeps timeouts with one sweep rather than a timer per request: 30-50 µs
of CPU per request on a 2-core machine, where httpx's AsyncClient took milliseconds in the same
loop against the same server (the reason for not using httpx here). It speaks
just what a load test needs: one request at a time per connection, bodies delimited by
Content-Length, chunked encoding or the end of the connection. TLS is asyncio's own.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from srekit.core.load import Outcome

__all__ = ["Answer", "ConnectionPool", "Origin", "RequestFailedError", "encode_request"]

_MAX_HEADER_LINE = 65_536
_SWEEP_S = 0.05


class RequestFailedError(Exception):
    """A request that got no whole response; `outcome` says how (connect, timeout, protocol)."""

    def __init__(self, outcome: Outcome, detail: str) -> None:
        super().__init__(detail)
        self.outcome = outcome


@dataclass(frozen=True)
class Origin:
    """Where requests go: scheme, host, port, and the path every request's path follows."""

    scheme: str
    host: str
    port: int
    base_path: str

    @classmethod
    def parse(cls, url: str) -> Origin:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"expected an http:// or https:// URL with a host, got {url!r}")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        return cls(parts.scheme, parts.hostname, port, parts.path.rstrip("/"))

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        return self.host if self.port == default else f"{self.host}:{self.port}"


def encode_request(
    origin: Origin, method: str, path: str, headers: tuple[tuple[str, str], ...], body: bytes
) -> bytes:
    """The request's bytes, built once per request of the plan and sent as they are."""
    lines = [f"{method} {origin.base_path}{path} HTTP/1.1", f"Host: {origin.host_header}"]
    names = {name.lower() for name, _ in headers}
    lines.extend(f"{name}: {value}" for name, value in headers)
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    if "user-agent" not in names:
        lines.append("User-Agent: srekit-load")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def _header(head: bytes, name: bytes) -> bytes | None:
    """The value of header `name` in a lowercased response head (its first line the status
    line), or None: three searches, where splitting the head into lines cost a response
    several times more."""
    start = head.find(b"\r\n" + name + b":")
    if start < 0:
        return None
    start += len(name) + 3
    stop = head.find(b"\r\n", start)
    return head[start : stop if stop >= 0 else len(head)].strip()


#: (status, body bytes, monotonic s when the response was whole), or why there was none
Answer = tuple[int, int, float] | RequestFailedError


class _ResponseReader(asyncio.Protocol):
    """One keep-alive connection as an asyncio Protocol: bytes are parsed as they arrive, and
    the waiting request's callback is called when its response is whole. No stream objects,
    no coroutine per line, no task: a request costs a write and one call back."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiting: Callable[[Answer], None] | None = None
        self.reusable = True
        self.closed = False
        self._reset()

    def _reset(self) -> None:
        self.status = -1
        self.length = -1  # body bytes still expected; -1: until the connection closes
        self.chunked = False
        self.received = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def _answer(self, answer: Answer) -> None:
        """Hand `answer` to the waiting request, once."""
        waiting, self.waiting = self.waiting, None
        if waiting is not None:
            waiting(answer)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.reusable = False
        if self.waiting is None:
            return
        if self.status >= 0 and self.length == -1 and not self.chunked:
            self._answer((self.status, self.received + len(self.buffer), time.monotonic()))
        else:
            self._answer(
                RequestFailedError(
                    Outcome.PROTOCOL, "the connection closed before a whole response"
                )
            )

    def _fail(self, detail: str) -> None:
        self._answer(RequestFailedError(Outcome.PROTOCOL, detail))
        self.reusable = False
        if self.transport is not None:
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        try:
            self._parse()
        except (ValueError, IndexError):
            self._fail("a malformed response")

    def _parse(self) -> None:
        buffer = self.buffer
        if self.status < 0:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(buffer) > _MAX_HEADER_LINE:
                    self._fail("response headers too long")
                return
            head = bytes(buffer[:end])
            del buffer[: end + 4]
            if not head.startswith(b"HTTP/1."):
                self._fail("a response that is not HTTP/1.x")
                return
            self.status = int(head[9:12])
            if head.startswith(b"HTTP/1.0"):
                self.reusable = False
            lowered = head.lower()
            length = _header(lowered, b"content-length")
            if length is not None:
                self.length = int(length)
            if b"chunked" in (_header(lowered, b"transfer-encoding") or b""):
                self.chunked = True
            if b"close" in (_header(lowered, b"connection") or b""):
                self.reusable = False
            if self.status in (204, 304) or 100 <= self.status < 200:
                self.length = 0
            if self.length == -1 and not self.chunked:
                self.reusable = False
        if self.chunked:
            self._parse_chunks()
        elif self.length >= 0 and len(buffer) >= self.length:
            del buffer[: self.length]
            self._done(self.length)
        elif self.length == -1:
            self.received += len(buffer)
            buffer.clear()

    def _parse_chunks(self) -> None:
        buffer = self.buffer
        while True:
            end = buffer.find(b"\r\n")
            if end < 0:
                return
            size = int(bytes(buffer[:end]).split(b";")[0].strip(), 16)
            if size == 0:
                trailer_end = buffer.find(b"\r\n\r\n", end)
                if trailer_end < 0 and buffer[end : end + 4] != b"\r\n\r\n":
                    return
                del buffer[: (trailer_end if trailer_end >= 0 else end) + 4]
                self._done(self.received)
                return
            if len(buffer) < end + 2 + size + 2:
                return
            del buffer[: end + 2 + size + 2]
            self.received += size

    def time_out(self, detail: str) -> None:
        """Fail the waiting request as a timeout and drop the connection."""
        self._answer(RequestFailedError(Outcome.TIMEOUT, detail))
        self.reusable = False
        if self.transport is not None:
            self.transport.close()

    def _done(self, size: int) -> None:
        status = self.status
        self._reset()
        # stamped as the last byte is parsed, not when a waiting task next runs: with many
        # responses in one wake-up, tasks would resume one after another
        self._answer((status, size, time.monotonic()))

    def begin(self, request: bytes, on_answer: Callable[[Answer], None]) -> None:
        """Send `request`; `on_answer` gets its response (or why there is none), once."""
        assert self.transport is not None
        self.waiting = on_answer
        self.transport.write(request)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


class ConnectionPool:
    """Idle keep-alive connections to one origin, opened as the requests in flight need.

    Timeouts are kept by one sweep every `_SWEEP_S` over the requests waiting, rather than a
    timer per request (two heap operations each): a request times out between its timeout
    and its timeout plus one sweep."""

    def __init__(self, origin: Origin, *, timeout_s: float) -> None:
        self.origin = origin
        self.timeout_s = timeout_s
        self.idle: list[_ResponseReader] = []
        self.busy: dict[_ResponseReader, float] = {}
        self._tls = ssl.create_default_context() if origin.scheme == "https" else None
        self._sweeper: asyncio.Task[None] | None = None

    async def _open(self) -> _ResponseReader:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.timeout_s):
                _, protocol = await loop.create_connection(
                    _ResponseReader, self.origin.host, self.origin.port, ssl=self._tls
                )
        except TimeoutError:
            raise RequestFailedError(
                Outcome.TIMEOUT, f"no connection in {self.timeout_s:g} s"
            ) from None
        except OSError as error:
            raise RequestFailedError(Outcome.CONNECT, str(error) or type(error).__name__) from None
        return protocol

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(_SWEEP_S)
            now = time.monotonic()
            overdue = [c for c, deadline in self.busy.items() if deadline <= now]
            for connection in overdue:
                del self.busy[connection]
                connection.time_out(f"no response in {self.timeout_s:g} s")

    async def send(self, request: bytes) -> tuple[int, int]:
        """(status, body bytes); a RequestFailedError when no whole response came in time."""
        status, size, _ = await self.send_timed(request)
        return status, size

    def try_send(self, request: bytes, on_answer: Callable[[Answer], None]) -> bool:
        """Send `request` on an idle connection, `on_answer` called with its answer; False,
        sending nothing, when no connection is idle (then `send_timed` opens one). The way
        a load generator sends most requests: no task, no future, no coroutine."""
        connection = self._idle()
        if connection is None:
            return False
        self._begin(connection, request, on_answer)
        return True

    async def send_timed(self, request: bytes) -> tuple[int, int, float]:
        """(status, body bytes, monotonic s when the response was whole)."""
        connection = self._idle() or await self._open()
        answered: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()

        def settle(answer: Answer) -> None:
            if not answered.done():
                answered.set_result(answer)

        try:
            self._begin(connection, request, settle)
            answer = await answered
        except BaseException:
            self.busy.pop(connection, None)
            connection.close()
            raise
        if isinstance(answer, RequestFailedError):
            raise answer
        return answer

    def _begin(
        self, connection: _ResponseReader, request: bytes, on_answer: Callable[[Answer], None]
    ) -> None:
        if self._sweeper is None:
            self._sweeper = asyncio.get_running_loop().create_task(self._sweep())
        self.busy[connection] = time.monotonic() + self.timeout_s

        def answered(answer: Answer) -> None:
            self.busy.pop(connection, None)
            if connection.reusable and not connection.closed and not isinstance(answer, Exception):
                self.idle.append(connection)
            else:
                connection.close()
            on_answer(answer)

        connection.begin(request, answered)

    def _idle(self) -> _ResponseReader | None:
        """An idle connection still open: one the server closed while idle is dropped (a
        write to it would vanish, and its request wait for the timeout)."""
        while self.idle:
            connection = self.idle.pop()
            if not connection.closed:
                return connection
        return None

    def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
        for connection in [*self.idle, *self.busy]:
            connection.close()
        self.idle.clear()
        self.busy.clear()
