"""The fault proxy's data path: asyncio TCP proxies whose connections suffer toxics.

Each connection runs two pumps, one per direction. A pump's reader puts chunks, stamped
with their arrival, on a short queue; its writer applies the direction's toxics and writes.
While a direction has no toxic and nothing queued, the reader writes a chunk itself.
Delays count from a chunk's arrival, so a latency toxic delays a stream by its latency once,
not once per chunk (as Toxiproxy's does). Toxics act in a fixed order whatever the order
they were added in: timeout (drop), latency, packet_loss, http, limit_data, then the
output is cut by slicer and paced by bandwidth.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from srekit.core.faultproxy import (
    BandwidthClock,
    ToxicError,
    ToxicSpec,
    applies,
    expires_at,
    http_fault_response,
    http_matches,
    jittered_delay_s,
    limit_allowance,
    parse_address,
    parse_toxic,
    request_head,
    slice_sizes,
)

__all__ = ["CHUNK", "Proxy", "ProxyError", "Registry"]

CHUNK = 256 * 1024
_QUEUE = 8


class ProxyError(Exception):
    """A refused request on the registry, with the HTTP status Toxiproxy answers it with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(slots=True)
class _Toxic:
    spec: ToxicSpec
    expiry: asyncio.TimerHandle | None = None


class Registry:
    """Every proxy of one fault proxy process, by name (Toxiproxy's server state)."""

    def __init__(self, *, allow_remote: bool = False, rng: random.Random | None = None) -> None:
        self.proxies: dict[str, Proxy] = {}
        self.allow_remote = allow_remote
        self.rng = rng or random.Random()

    def parse_proxy(self, document: object) -> tuple[str, str, str, bool]:
        """(name, listen, upstream, enabled) from a proxy's JSON, or ProxyError 400."""
        if not isinstance(document, dict):
            raise ProxyError(400, "proxy: expected a JSON object")
        name = document.get("name")
        if not isinstance(name, str) or not name or len(name) > 200 or not name.isprintable():
            raise ProxyError(400, "missing required field: name (printable, ≤ 200 characters)")
        upstream = document.get("upstream")
        if not isinstance(upstream, str) or not upstream:
            raise ProxyError(400, "missing required field: upstream")
        listen = document.get("listen", "127.0.0.1:0") or "127.0.0.1:0"
        enabled = document.get("enabled", True)
        if not isinstance(enabled, bool):
            raise ProxyError(400, "enabled: expected true or false")
        try:
            parse_address(listen, "listen", allow_remote=self.allow_remote)
            parse_address(upstream, "upstream", allow_remote=True)
        except ToxicError as error:
            raise ProxyError(400, str(error)) from None
        return name, str(listen), upstream, enabled

    async def create(self, document: object) -> Proxy:
        name, listen, upstream, enabled = self.parse_proxy(document)
        if name in self.proxies:
            raise ProxyError(409, "proxy already exists")
        proxy = Proxy(self, name, listen, upstream)
        if enabled:
            await proxy.start()
        self.proxies[name] = proxy
        return proxy

    def get(self, name: str) -> Proxy:
        proxy = self.proxies.get(name)
        if proxy is None:
            raise ProxyError(404, "proxy not found")
        return proxy

    async def delete(self, name: str) -> None:
        proxy = self.get(name)
        del self.proxies[name]
        await proxy.stop()
        proxy.clear_toxics()

    async def populate(self, documents: object) -> list[Proxy]:
        """Toxiproxy's /populate: create each proxy, replacing one of the same name whose
        listen or upstream differ; checked whole before anything changes."""
        if not isinstance(documents, list):
            raise ProxyError(400, "populate: expected a JSON array of proxies")
        parsed = [self.parse_proxy(document) for document in documents]
        names = [entry[0] for entry in parsed]
        if len(set(names)) != len(names):
            raise ProxyError(400, "populate: two proxies share a name")
        created: list[Proxy] = []
        for document, (name, listen, upstream, _enabled) in zip(documents, parsed, strict=True):
            existing = self.proxies.get(name)
            if existing is not None and (existing.upstream, existing.listen_asked) == (
                upstream,
                listen,
            ):
                created.append(existing)
                continue
            if existing is not None:
                await self.delete(name)
            created.append(await self.create(document))
        return created

    async def reset(self) -> None:
        """Toxiproxy's /reset: every proxy enabled, every toxic removed."""
        for proxy in self.proxies.values():
            proxy.clear_toxics()
            if not proxy.enabled:
                await proxy.start()

    async def close(self) -> None:
        for name in list(self.proxies):
            await self.delete(name)


class Proxy:
    """One listening address forwarding to one upstream, with its toxics in order."""

    def __init__(self, registry: Registry, name: str, listen: str, upstream: str) -> None:
        self.registry = registry
        self.name = name
        self.listen_asked = listen
        self.listen = listen
        self.upstream = upstream
        self.toxics: dict[str, _Toxic] = {}
        self.connections: set[Connection] = set()
        self._server: asyncio.Server | None = None

    @property
    def enabled(self) -> bool:
        return self._server is not None

    def document(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "listen": self.listen,
            "upstream": self.upstream,
            "enabled": self.enabled,
            "toxics": [toxic.spec.document() for toxic in self.toxics.values()],
        }

    async def start(self) -> None:
        host, port = parse_address(self.listen, "listen", allow_remote=True)
        try:
            self._server = await asyncio.start_server(
                self._accept, host, port, limit=CHUNK, reuse_address=True
            )
        except OSError as error:
            raise ProxyError(500, f"listen {self.listen}: {error.strerror or error}") from None
        bound = self._server.sockets[0].getsockname()
        self.listen = (
            f"{bound[0]}:{bound[1]}" if ":" not in bound[0] else f"[{bound[0]}]:{bound[1]}"
        )

    async def stop(self) -> None:
        """Stop listening and close every connection (Toxiproxy's disable)."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for connection in list(self.connections):
            connection.close()
        if server is not None:
            await server.wait_closed()

    async def update(self, document: object) -> None:
        """Toxiproxy's POST /proxies/{name}: change listen, upstream or enabled."""
        if not isinstance(document, dict):
            raise ProxyError(400, "proxy: expected a JSON object")
        merged = self.document() | {"listen": self.listen_asked} | document | {"name": self.name}
        _name, listen, upstream, enabled = self.registry.parse_proxy(merged)
        moved = listen != self.listen_asked
        self.upstream = upstream
        if (moved or not enabled) and self.enabled:
            await self.stop()
        if moved:  # else a disabled proxy comes back on the port it had
            self.listen_asked = self.listen = listen
        if enabled and not self.enabled:
            await self.start()

    # toxics

    def toxic(self, name: str) -> ToxicSpec:
        toxic = self.toxics.get(name)
        if toxic is None:
            raise ProxyError(404, "toxic not found")
        return toxic.spec

    def add_toxic(self, document: object) -> ToxicSpec:
        spec = _parsed(document)
        if spec.name in self.toxics:
            raise ProxyError(409, "toxic already exists")
        self._install(_Toxic(spec))
        return spec

    def update_toxic(self, name: str, document: object) -> ToxicSpec:
        previous = self.toxic(name)
        if isinstance(document, dict) and document.get("name", name) != name:
            raise ProxyError(400, "name: a toxic cannot be renamed")
        spec = _parsed(document, previous)
        self._drop_expiry(name)
        self._install(_Toxic(spec))
        return spec

    def remove_toxic(self, name: str) -> None:
        self.toxic(name)
        self._drop_expiry(name)
        del self.toxics[name]
        self._changed()

    def clear_toxics(self) -> None:
        for name in list(self.toxics):
            self.remove_toxic(name)

    def _install(self, toxic: _Toxic) -> None:
        loop = asyncio.get_running_loop()
        ends = expires_at(toxic.spec, added_at=loop.time())
        if ends is not None:
            toxic.expiry = loop.call_at(ends, self._expire, toxic)
        self.toxics[toxic.spec.name] = toxic
        self._changed()

    def _expire(self, toxic: _Toxic) -> None:
        if self.toxics.get(toxic.spec.name) is toxic:
            toxic.expiry = None
            del self.toxics[toxic.spec.name]
            self._changed()

    def _drop_expiry(self, name: str) -> None:
        expiry = self.toxics[name].expiry
        if expiry is not None:
            expiry.cancel()

    def _changed(self) -> None:
        for connection in list(self.connections):
            connection.refresh()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        _tune(writer)
        host, port = parse_address(self.upstream, "upstream", allow_remote=True)
        try:
            up_reader, up_writer = await asyncio.open_connection(host, port, limit=CHUNK)
        except OSError:
            writer.close()
            return
        _tune(up_writer)
        connection = Connection(self, (reader, writer), (up_reader, up_writer))
        self.connections.add(connection)
        try:
            await connection.run()
        finally:
            self.connections.discard(connection)


def _parsed(document: object, previous: ToxicSpec | None = None) -> ToxicSpec:
    try:
        return parse_toxic(document, previous=previous)
    except ToxicError as error:
        raise ProxyError(400, str(error)) from None


def _tune(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    transport = writer.transport
    transport.set_write_buffer_limits(high=4 * CHUNK)


Pair = tuple[asyncio.StreamReader, asyncio.StreamWriter]


@dataclass(slots=True)
class _HttpState:
    buffer: bytes = b""
    body_left: int = 0
    passthrough: bool = False


@dataclass(slots=True)
class _LinkState:
    sent: int = 0
    bandwidth: BandwidthClock | None = None


@dataclass(slots=True)
class _Draws:
    active: dict[str, bool] = field(default_factory=dict)
    timers: dict[str, asyncio.TimerHandle] = field(default_factory=dict)


class Connection:
    """One client's connection and its upstream's, pumped both ways through the toxics."""

    def __init__(self, proxy: Proxy, client: Pair, upstream: Pair) -> None:
        self.proxy = proxy
        self.client = client
        self.upstream = upstream
        self.rng = proxy.registry.rng
        self.draws = _Draws()
        self.http = _HttpState()
        self.links = {"upstream": _LinkState(), "downstream": _LinkState()}
        self.tasks: list[asyncio.Task[None]] = []
        self.closed = False

    async def run(self) -> None:
        self.refresh()
        self.tasks = [
            asyncio.ensure_future(self._pump(self.client[0], self.upstream[1], "upstream")),
            asyncio.ensure_future(self._pump(self.upstream[0], self.client[1], "downstream")),
        ]
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*self.tasks)
        self.close()

    def refresh(self) -> None:
        """Draw toxicity for new toxics; start the timers of timeout and reset_peer."""
        loop = asyncio.get_running_loop()
        present = {name: toxic.spec for name, toxic in self.proxy.toxics.items()}
        for name in list(self.draws.active):
            if name not in present:
                del self.draws.active[name]
                timer = self.draws.timers.pop(name, None)
                if timer is not None:
                    timer.cancel()
        for name, spec in present.items():
            if name not in self.draws.active:
                per_request = spec.type == "http"  # drawn per request instead
                self.draws.active[name] = per_request or applies(spec.toxicity, self.rng.random())
                if not self.draws.active[name]:
                    continue
                if spec.type == "timeout" and spec.number("timeout") > 0:
                    self.draws.timers[name] = loop.call_later(
                        spec.number("timeout") / 1000, self.close
                    )
                elif spec.type == "reset_peer":
                    self.draws.timers[name] = loop.call_later(
                        spec.number("timeout") / 1000, self.close, True
                    )

    def _active(self, stream: str) -> list[ToxicSpec]:
        return [
            toxic.spec
            for name, toxic in self.proxy.toxics.items()
            if self.draws.active.get(name)
            and (
                toxic.spec.stream == stream or (toxic.spec.type == "http" and stream == "upstream")
            )
            and not (toxic.spec.type == "http" and stream == "downstream")
        ]

    async def _pump(
        self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, stream: str
    ) -> None:
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue(_QUEUE)
        loop = asyncio.get_running_loop()

        busy = False

        async def read() -> None:
            while True:
                try:
                    data = await source.read(CHUNK)
                    if data and not busy and queue.empty() and not self._active(stream):
                        sink.write(data)  # no toxic and nothing queued: the short way
                        await sink.drain()
                        continue
                except OSError:
                    data = b""
                await queue.put((loop.time(), data))
                if not data:
                    return

        reading = asyncio.ensure_future(read())
        try:
            while True:
                busy = False
                arrived, data = await queue.get()
                busy = True
                toxics = self._active(stream)
                if not data:
                    await self._finish(sink, toxics)
                    return
                if toxics:
                    if not await self._toxic_write(sink, data, arrived, toxics, stream):
                        return
                else:
                    sink.write(data)
                await sink.drain()
        except (OSError, asyncio.CancelledError):
            self.close()
        finally:
            reading.cancel()

    async def _finish(self, sink: asyncio.StreamWriter, toxics: list[ToxicSpec]) -> None:
        for toxic in toxics:
            if toxic.type == "slow_close":
                await asyncio.sleep(toxic.number("delay") / 1000)
        with contextlib.suppress(OSError, RuntimeError):
            if sink.can_write_eof():
                sink.write_eof()

    async def _toxic_write(
        self,
        sink: asyncio.StreamWriter,
        data: bytes,
        arrived: float,
        toxics: Iterable[ToxicSpec],
        stream: str,
    ) -> bool:
        """Apply the toxics to one chunk and write it; False once the connection is done."""
        by_type: dict[str, ToxicSpec] = {}
        for toxic in toxics:
            by_type.setdefault(toxic.type, toxic)
        loop = asyncio.get_running_loop()
        if "timeout" in by_type:
            return True  # swallowed: Toxiproxy's timeout lets nothing through
        if latency := by_type.get("latency"):
            delay = jittered_delay_s(
                latency.number("latency"), latency.number("jitter"), self.rng.random()
            )
            await _sleep_until(loop, arrived + delay)
        if (loss := by_type.get("packet_loss")) and self.rng.random() < loss.number("loss"):
            await asyncio.sleep(loss.number("retransmit") / 1000)
        if stream == "upstream" and any(t.type == "http" for t in toxics):
            http = [t for t in toxics if t.type == "http"]
            data = await self._http(sink, data, http)
            if self.closed:
                return False
        link = self.links[stream]
        close_after = False
        if limit := by_type.get("limit_data"):
            allowed, close_after = limit_allowance(int(limit.number("bytes")), link.sent, len(data))
            data = data[:allowed]
        link.sent += len(data)
        pieces = [data]
        slicer = by_type.get("slicer")
        if slicer and slicer.number("average_size") > 0:
            sizes = slice_sizes(
                len(data),
                int(slicer.number("average_size")),
                int(slicer.number("size_variation")),
                [self.rng.random() for _ in range(8)],
            )
            offsets = [sum(sizes[:i]) for i in range(len(sizes))]
            pieces = [data[o : o + s] for o, s in zip(offsets, sizes, strict=True)]
        bandwidth = by_type.get("bandwidth")
        for index, piece in enumerate(pieces):
            if bandwidth and bandwidth.number("rate") > 0:
                await self._paced(sink, piece, link, bandwidth.number("rate"))
            else:
                sink.write(piece)
            if slicer and index < len(pieces) - 1:
                await sink.drain()
                await asyncio.sleep(slicer.number("delay") / 1_000_000)
        if close_after:
            await sink.drain()
            self.close()
            return False
        return True

    async def _paced(
        self, sink: asyncio.StreamWriter, data: bytes, link: _LinkState, rate: float
    ) -> None:
        loop = asyncio.get_running_loop()
        if link.bandwidth is None or link.bandwidth.rate_kbps != rate:
            link.bandwidth = BandwidthClock(rate)
        step = link.bandwidth.piece_size()
        for start in range(0, len(data), step):
            piece = data[start : start + step]
            leaves, link.bandwidth = link.bandwidth.send(len(piece), now=loop.time())
            await _sleep_until(loop, leaves)
            sink.write(piece)
            await sink.drain()

    async def _http(
        self, sink: asyncio.StreamWriter, data: bytes, toxics: list[ToxicSpec]
    ) -> bytes:
        """Requests through the `http` toxics: what to forward now, faults injected."""
        state = self.http
        state.buffer += data
        out = bytearray()
        while state.buffer:
            if state.passthrough:
                out += state.buffer
                state.buffer = b""
                break
            if state.body_left:
                taken = state.buffer[: state.body_left]
                out += taken
                state.body_left -= len(taken)
                state.buffer = state.buffer[len(taken) :]
                continue
            try:
                head = request_head(state.buffer)
            except ToxicError:
                state.passthrough = True
                continue
            if head is None:
                break
            for toxic in toxics:
                if not http_matches(toxic, head) or not applies(toxic.toxicity, self.rng.random()):
                    continue
                if toxic.number("latency") > 0:
                    sink.write(bytes(out))
                    out.clear()
                    await asyncio.sleep(toxic.number("latency") / 1000)
                if toxic.number("abort") > 0:
                    self.close(reset=True)
                    return b""
                if toxic.number("status") > 0:
                    sink.write(bytes(out))
                    client = self.client[1]
                    client.write(http_fault_response(int(toxic.number("status"))))
                    with contextlib.suppress(OSError):
                        await client.drain()
                    self.close()
                    return b""
            out += state.buffer[: head.length]
            state.buffer = state.buffer[head.length :]
            if head.body is None:
                state.passthrough = True
            else:
                state.body_left = head.body
        return bytes(out)

    def close(self, reset: bool = False) -> None:
        """Close both sides; with `reset`, as TCP RST (SO_LINGER 0), as reset_peer does."""
        if self.closed:
            return
        self.closed = True
        for timer in self.draws.timers.values():
            timer.cancel()
        current = asyncio.current_task()
        for task in self.tasks:
            if task is not current:
                task.cancel()
        for _reader, writer in (self.client, self.upstream):
            if reset:
                sock = writer.get_extra_info("socket")
                if sock is not None:
                    with contextlib.suppress(OSError):
                        sock.setsockopt(
                            socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                        )
                writer.transport.abort()
            else:
                writer.close()


async def _sleep_until(loop: asyncio.AbstractEventLoop, when: float) -> None:
    wait = when - loop.time()
    if wait > 0:
        await asyncio.sleep(wait)
