"""The fault proxy's data path: asyncio TCP proxies whose connections suffer toxics.

A connection is two asyncio Protocols, the client's socket and the upstream's, and a pipe
per direction. While a direction has no toxic and nothing is queued behind one, what a
socket reads is written to the other socket's transport in the same callback (no task, no
queue, no clock), and reading pauses while the other side's buffer is full. Otherwise the
pipe stamps each chunk with its arrival and queues it for a task that applies the toxics.
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
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, cast

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
from srekit.faultproxy.events import EventLog
from srekit.faultproxy.metrics import Flow, ProxyStats

__all__ = ["CHUNK", "Proxy", "ProxyError", "Registry"]

CHUNK = 256 * 1024
_QUEUE = 8  # chunks queued behind a toxic before the source stops being read
_WRITE_BUFFER = 4 * CHUNK


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

    def __init__(
        self,
        *,
        allow_remote: bool = False,
        rng: random.Random | None = None,
        events: EventLog | None = None,
    ) -> None:
        self.proxies: dict[str, Proxy] = {}
        self.allow_remote = allow_remote
        self.rng = rng or random.Random()
        self.events = events or EventLog()

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
        self.events.record(
            "proxy_created", name, listen=proxy.listen, upstream=upstream, enabled=enabled
        )
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
        self.events.record("proxy_deleted", name)

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
        kept: list[str] = []
        for document, (name, listen, upstream, _enabled) in zip(documents, parsed, strict=True):
            existing = self.proxies.get(name)
            if existing is not None and (existing.upstream, existing.listen_asked) == (
                upstream,
                listen,
            ):
                created.append(existing)
                kept.append(name)
                continue
            if existing is not None:
                await self.delete(name)
            created.append(await self.create(document))
        self.events.record("populate", proxies=names, kept=kept)
        return created

    async def reset(self) -> None:
        """Toxiproxy's /reset: every proxy enabled, every toxic removed."""
        removed: dict[str, list[str]] = {}
        enabled: list[str] = []
        for proxy in self.proxies.values():
            if proxy.toxics:
                removed[proxy.name] = list(proxy.toxics)
            proxy.clear_toxics()
            if not proxy.enabled:
                await proxy.start()
                enabled.append(proxy.name)
        self.events.record("reset", toxics_removed=removed, proxies_enabled=enabled)

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
        self.stats = ProxyStats()
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
        loop = asyncio.get_running_loop()
        try:
            self._server = await loop.create_server(
                lambda: Connection(self).client, host, port, reuse_address=True
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
        self.registry.events.record(
            "proxy_updated", self.name, listen=self.listen, upstream=upstream, enabled=enabled
        )

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
        self._record("toxic_added", spec)
        return spec

    def update_toxic(self, name: str, document: object) -> ToxicSpec:
        previous = self.toxic(name)
        if isinstance(document, dict) and document.get("name", name) != name:
            raise ProxyError(400, "name: a toxic cannot be renamed")
        spec = _parsed(document, previous)
        self._drop_expiry(name)
        self._install(_Toxic(spec))
        self._record("toxic_updated", spec)
        return spec

    def remove_toxic(self, name: str) -> None:
        spec = self._remove(name)
        self._record("toxic_removed", spec)

    def clear_toxics(self) -> None:
        """Remove every toxic (a reset or a deletion: one event for all, not one each)."""
        for name in list(self.toxics):
            self._remove(name)

    def _remove(self, name: str) -> ToxicSpec:
        spec = self.toxic(name)
        self._drop_expiry(name)
        del self.toxics[name]
        self._changed()
        return spec

    def _record(self, kind: str, spec: ToxicSpec) -> None:
        document = spec.document()
        self.registry.events.record(
            kind,
            self.name,
            spec.name,
            type=spec.type,
            stream=spec.stream,
            toxicity=document["toxicity"],
            attributes=document["attributes"],
        )

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
            self._record("toxic_expired", toxic.spec)

    def _drop_expiry(self, name: str) -> None:
        expiry = self.toxics[name].expiry
        if expiry is not None:
            expiry.cancel()

    def _changed(self) -> None:
        for connection in list(self.connections):
            connection.refresh()


def _parsed(document: object, previous: ToxicSpec | None = None) -> ToxicSpec:
    try:
        return parse_toxic(document, previous=previous)
    except ToxicError as error:
        raise ProxyError(400, str(error)) from None


class _Side(asyncio.Protocol):
    """One socket of a connection, the client's or the upstream's: what it reads goes into
    `pipe` (towards the other side); what the other side's pipe sends is written here."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.transport: asyncio.Transport | None = None
        self.pipe: _Pipe  # the direction this side reads, set by the connection
        self.feeding: _Pipe  # the direction this side is written by
        self.write_paused = False
        self._drained: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, only alike
        self.transport = transport = cast(asyncio.Transport, transport)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        transport.set_write_buffer_limits(high=_WRITE_BUFFER)
        self.connection.side_made(self)

    def data_received(self, data: bytes) -> None:
        pipe = self.pipe
        if pipe.clear:  # no toxic, nothing queued: straight to the other side
            size = len(data)
            flow = pipe.flow
            flow.received += size
            flow.sent += size
            pipe.sink_transport.write(data)
        else:
            pipe.push(data)

    def eof_received(self) -> bool:
        self.pipe.push(b"")
        return True  # keep the other direction open: a half-close, as TCP does

    def connection_lost(self, exc: Exception | None) -> None:
        self.write_paused = False
        self._wake()
        self.connection.close()

    def pause_writing(self) -> None:
        self.write_paused = True
        self.feeding.update_reading()

    def resume_writing(self) -> None:
        self.write_paused = False
        self._wake()
        self.feeding.update_reading()

    async def drain(self) -> None:
        """Wait while this side's transport holds more than its buffer limit."""
        if self.write_paused and not self.connection.closed:
            loop = asyncio.get_running_loop()
            self._drained = loop.create_future()
            await self._drained

    def _wake(self) -> None:
        waiter, self._drained = self._drained, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


class _Pipe:
    """One direction of a connection: from `source`'s reads to `sink`'s writes."""

    def __init__(self, connection: Connection, stream: str, source: _Side, sink: _Side) -> None:
        self.connection = connection
        self.stream = stream
        self.source = source
        self.sink = sink
        self.flow: Flow = connection.proxy.stats.flows[stream]
        self.toxics: list[ToxicSpec] = []
        self.queue: deque[tuple[float, bytes]] = deque()
        self.pump: asyncio.Task[None] | None = None
        self.reading_paused = False
        self.sink_ready = stream == "downstream"  # the upstream is connected to later
        self.clear = self.sink_ready  # no toxic, nothing queued, a sink: the short way
        self.sent = 0  # bytes this connection sent this way (limit_data counts them)
        self.bandwidth: BandwidthClock | None = None
        self.ended = False

    @property
    def sink_transport(self) -> asyncio.Transport:
        transport = self.sink.transport
        assert transport is not None  # written to only once sink_ready
        return transport

    def set_toxics(self, toxics: list[ToxicSpec]) -> None:
        self.toxics = toxics
        self.clear = self.sink_ready and not toxics and self.pump is None

    def push(self, data: bytes) -> None:
        """Queue a chunk (b"" the end of the stream) for the toxics' task."""
        if self.connection.closed:
            return
        loop = asyncio.get_running_loop()
        self.flow.received += len(data)
        self.queue.append((loop.time(), data))
        self.clear = False
        if self.pump is None:
            self.pump = loop.create_task(self._run())
        self.update_reading()

    def write(self, data: bytes) -> None:
        if data and not self.connection.closed and not self.ended:
            self.flow.sent += len(data)
            self.sink_transport.write(data)

    async def drain(self) -> None:
        await self.sink.drain()

    def update_reading(self) -> None:
        """Read the source unless the sink is full or enough waits behind a toxic."""
        transport = self.source.transport
        if transport is None or self.connection.closed:
            return
        pause = self.sink.write_paused or len(self.queue) >= _QUEUE
        if pause != self.reading_paused:
            self.reading_paused = pause
            if pause:
                transport.pause_reading()
            else:
                transport.resume_reading()

    async def _run(self) -> None:
        connection = self.connection
        try:
            if not self.sink_ready:  # the client spoke first: wait for the upstream
                await connection.upstream_ready
            while self.queue and not connection.closed:
                arrived, data = self.queue.popleft()
                self.update_reading()
                toxics = self.toxics
                if not data:
                    await connection.finish(self, toxics)
                    return
                if toxics:
                    if not await connection.toxic_write(self, data, arrived, toxics):
                        return
                else:
                    self.write(data)
                await self.drain()
        except OSError:
            connection.close()
        finally:
            self.pump = None
            self.clear = self.sink_ready and not self.toxics and not self.queue


@dataclass(slots=True)
class _HttpState:
    buffer: bytes = b""
    body_left: int = 0
    passthrough: bool = False


@dataclass(slots=True)
class _Draws:
    active: dict[str, bool] = field(default_factory=dict)
    timers: dict[str, asyncio.TimerHandle] = field(default_factory=dict)


class Connection:
    """One client's connection and its upstream's, joined both ways through the toxics."""

    def __init__(self, proxy: Proxy) -> None:
        self.proxy = proxy
        self.rng = proxy.registry.rng
        self.draws = _Draws()
        self.http = _HttpState()
        self.client = _Side(self)
        self.upstream = _Side(self)
        self.pipes = {
            "upstream": _Pipe(self, "upstream", self.client, self.upstream),
            "downstream": _Pipe(self, "downstream", self.upstream, self.client),
        }
        self.client.pipe = self.upstream.feeding = self.pipes["upstream"]
        self.upstream.pipe = self.client.feeding = self.pipes["downstream"]
        self.connecting: asyncio.Task[None] | None = None
        self.upstream_ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closed = False

    def side_made(self, side: _Side) -> None:
        assert side.transport is not None
        if side is self.upstream:  # (uvloop may call this after create_connection returned)
            if self.closed:
                side.transport.close()
                return
            pipe = self.pipes["upstream"]
            pipe.sink_ready = True
            pipe.set_toxics(pipe.toxics)
            self.upstream_ready.set_result(None)
            return
        # what the client sends before the upstream is open waits in the upstream pipe
        self.proxy.connections.add(self)
        self.proxy.stats.opened += 1
        self.refresh()
        self.connecting = asyncio.get_running_loop().create_task(self._connect())

    async def _connect(self) -> None:
        host, port = parse_address(self.proxy.upstream, "upstream", allow_remote=True)
        loop = asyncio.get_running_loop()
        try:
            await loop.create_connection(lambda: self.upstream, host, port)
        except OSError:
            self.proxy.stats.upstream_failures += 1
            self.close()
            return
        finally:
            self.connecting = None

    def refresh(self) -> None:
        """Draw toxicity for new toxics; start the timers of timeout and reset_peer; tell
        each pipe the toxics it now applies."""
        if self.closed:
            return
        loop = asyncio.get_running_loop()
        present = {name: toxic.spec for name, toxic in self.proxy.toxics.items()}
        for name in list(self.draws.active):
            if name not in present:
                del self.draws.active[name]
                timer = self.draws.timers.pop(name, None)
                if timer is not None:
                    timer.cancel()
        applied = self.proxy.stats.toxics_applied
        for name, spec in present.items():
            if name in self.draws.active:
                continue
            per_request = spec.type == "http"  # drawn per request instead
            self.draws.active[name] = per_request or applies(spec.toxicity, self.rng.random())
            if per_request or not self.draws.active[name]:
                continue
            applied[(spec.type, spec.stream)] += 1
            if spec.type == "timeout" and spec.number("timeout") > 0:
                self.draws.timers[name] = loop.call_later(
                    spec.number("timeout") / 1000, self._fault, "timeout"
                )
            elif spec.type == "reset_peer":
                self.draws.timers[name] = loop.call_later(
                    spec.number("timeout") / 1000, self._fault, "reset_peer", True
                )
        for stream, pipe in self.pipes.items():
            pipe.set_toxics(self._active(stream))

    def _fault(self, fault: str, reset: bool = False) -> None:
        self.proxy.stats.faults[fault] += 1
        self.close(reset=reset)

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

    async def finish(self, pipe: _Pipe, toxics: list[ToxicSpec]) -> None:
        """The source ended: pass the end on (late, with slow_close); both ended, close."""
        for toxic in toxics:
            if toxic.type == "slow_close":
                await asyncio.sleep(toxic.number("delay") / 1000)
        transport = pipe.sink.transport
        if transport is not None and not self.closed:
            with contextlib.suppress(OSError, RuntimeError):
                if transport.can_write_eof():
                    transport.write_eof()
        pipe.ended = True
        if all(other.ended for other in self.pipes.values()):
            self.close()

    async def toxic_write(
        self, pipe: _Pipe, data: bytes, arrived: float, toxics: Iterable[ToxicSpec]
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
            self.proxy.stats.faults["packet_loss"] += 1
            await asyncio.sleep(loss.number("retransmit") / 1000)
        if pipe.stream == "upstream" and any(t.type == "http" for t in toxics):
            http = [t for t in toxics if t.type == "http"]
            data = await self._http(pipe, data, http)
            if self.closed:
                return False
        close_after = False
        if limit := by_type.get("limit_data"):
            allowed, close_after = limit_allowance(int(limit.number("bytes")), pipe.sent, len(data))
            data = data[:allowed]
        pipe.sent += len(data)
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
                await self._paced(pipe, piece, bandwidth.number("rate"))
            else:
                pipe.write(piece)
            if slicer and index < len(pieces) - 1:
                await pipe.drain()
                await asyncio.sleep(slicer.number("delay") / 1_000_000)
        if close_after:
            await pipe.drain()
            self.proxy.stats.faults["limit_data"] += 1
            self.close()
            return False
        return True

    async def _paced(self, pipe: _Pipe, data: bytes, rate: float) -> None:
        loop = asyncio.get_running_loop()
        if pipe.bandwidth is None or pipe.bandwidth.rate_kbps != rate:
            pipe.bandwidth = BandwidthClock(rate)
        step = pipe.bandwidth.piece_size()
        for start in range(0, len(data), step):
            piece = data[start : start + step]
            leaves, pipe.bandwidth = pipe.bandwidth.send(len(piece), now=loop.time())
            await _sleep_until(loop, leaves)
            pipe.write(piece)
            await pipe.drain()

    async def _http(self, pipe: _Pipe, data: bytes, toxics: list[ToxicSpec]) -> bytes:
        """Requests through the `http` toxics: what to forward now, faults injected."""
        state = self.http
        stats = self.proxy.stats
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
                stats.toxics_applied[("http", toxic.stream)] += 1
                if toxic.number("latency") > 0:
                    pipe.write(bytes(out))
                    out.clear()
                    await asyncio.sleep(toxic.number("latency") / 1000)
                if toxic.number("abort") > 0:
                    stats.faults["http_abort"] += 1
                    self.close(reset=True)
                    return b""
                if toxic.number("status") > 0:
                    stats.faults["http_status"] += 1
                    pipe.write(bytes(out))
                    reply = self.pipes["downstream"]
                    reply.write(http_fault_response(int(toxic.number("status"))))
                    with contextlib.suppress(OSError):
                        await reply.drain()
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
        if self in self.proxy.connections:
            self.proxy.connections.discard(self)
            self.proxy.stats.closed += 1
        for timer in self.draws.timers.values():
            timer.cancel()
        current = asyncio.current_task()
        tasks = [self.connecting] + [pipe.pump for pipe in self.pipes.values()]
        for task in tasks:
            if task is not None and task is not current:
                task.cancel()
        for side in (self.client, self.upstream):
            transport = side.transport
            if transport is None:
                continue
            if reset:
                sock = transport.get_extra_info("socket")
                if sock is not None:
                    with contextlib.suppress(OSError):
                        sock.setsockopt(
                            socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                        )
                transport.abort()
            else:
                transport.close()
            side._wake()


async def _sleep_until(loop: asyncio.AbstractEventLoop, when: float) -> None:
    wait = when - loop.time()
    if wait > 0:
        await asyncio.sleep(wait)
