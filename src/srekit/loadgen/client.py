"""A small HTTP/1.1 client on asyncio streams, with keep-alive connections.

A load generator spends its CPU in its client: httpx's AsyncClient costs ~10x more per request
than this (benchmarks/bench_load.py measures both), which would cap the rate a worker can hold
before its own lateness shows up as the server's latency. It speaks just what a load test needs:
one request at a time per connection, bodies delimited by Content-Length, chunked encoding or
the end of the connection. TLS is asyncio's own.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from srekit.core.load import Outcome

__all__ = ["Connection", "ConnectionPool", "Origin", "RequestFailedError", "encode_request"]

_MAX_HEADER_LINE = 65_536


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


class Connection:
    """One keep-alive connection; `exchange` sends a request and reads its whole response."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.reusable = True

    async def exchange(self, request: bytes) -> tuple[int, int]:
        """(status, body bytes) of the response to `request`."""
        self.writer.write(request)
        reader = self.reader
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.LimitOverrunError:
            raise RequestFailedError(Outcome.PROTOCOL, "response headers too long") from None
        except asyncio.IncompleteReadError:
            raise RequestFailedError(
                Outcome.PROTOCOL, "the connection closed before a whole response"
            ) from None
        if not head.startswith(b"HTTP/1."):
            raise RequestFailedError(Outcome.PROTOCOL, "a response that is not HTTP/1.x")
        try:
            status = int(head[9:12])
        except ValueError:
            raise RequestFailedError(Outcome.PROTOCOL, "a status line without a status") from None
        length = -1
        chunked = False
        if head.startswith(b"HTTP/1.0"):
            self.reusable = False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            lowered = name.strip().lower()
            if lowered == b"content-length":
                length = int(value.strip())
            elif lowered == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
            elif lowered == b"connection" and b"close" in value.lower():
                self.reusable = False
        if status in (204, 304) or 100 <= status < 200:
            return status, 0
        if chunked:
            return status, await self._chunks()
        if length >= 0:
            if length:
                await reader.readexactly(length)
            return status, length
        self.reusable = False
        return status, len(await reader.read())

    async def _chunks(self) -> int:
        received = 0
        while True:
            size_line = await self.reader.readline()
            try:
                size = int(size_line.split(b";")[0].strip(), 16)
            except ValueError:
                raise RequestFailedError(Outcome.PROTOCOL, "a malformed chunk size") from None
            if size == 0:
                while (await self.reader.readline()) not in (b"\r\n", b"\n", b""):
                    pass
                return received
            await self.reader.readexactly(size + 2)
            received += size

    def close(self) -> None:
        self.writer.close()


class ConnectionPool:
    """Idle keep-alive connections to one origin, opened as the requests in flight need."""

    def __init__(self, origin: Origin, *, timeout_s: float) -> None:
        self.origin = origin
        self.timeout_s = timeout_s
        self.idle: list[Connection] = []
        self._tls = ssl.create_default_context() if origin.scheme == "https" else None

    async def _open(self) -> Connection:
        try:
            reader, writer = await asyncio.open_connection(
                self.origin.host, self.origin.port, ssl=self._tls, limit=_MAX_HEADER_LINE
            )
        except OSError as error:
            raise RequestFailedError(Outcome.CONNECT, str(error) or type(error).__name__) from None
        return Connection(reader, writer)

    async def send(self, request: bytes) -> tuple[int, int]:
        """(status, body bytes); a RequestFailedError when no whole response came in time."""
        try:
            async with asyncio.timeout(self.timeout_s):
                connection = self.idle.pop() if self.idle else await self._open()
                try:
                    status, size = await connection.exchange(request)
                except RequestFailedError:
                    connection.close()
                    raise
                except (OSError, asyncio.IncompleteReadError, ValueError) as error:
                    connection.close()
                    raise RequestFailedError(Outcome.PROTOCOL, str(error)) from None
                except BaseException:
                    connection.close()
                    raise
        except TimeoutError:
            raise RequestFailedError(
                Outcome.TIMEOUT, f"no response in {self.timeout_s:g} s"
            ) from None
        if connection.reusable:
            self.idle.append(connection)
        else:
            connection.close()
        return status, size

    def close(self) -> None:
        for connection in self.idle:
            connection.close()
        self.idle.clear()
