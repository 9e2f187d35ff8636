"""A local HTTP/1.1 server with a known latency, for the generator's accuracy tests.

It answers every request after `latency_s`; with `stall_every_s`, it also freezes for
`stall_s` at the start of each period (as a stop-the-world pause would): a request arriving
during a stall is answered when the stall ends, plus its latency. `status` sets the answer's
status. It runs its own asyncio loop in a thread, on 127.0.0.1 and a free port, and keeps its
own request log: when each request was read whole (`arrived`, monotonic s, the clock every
process on the machine shares) and how long it took to answer (`answered_s`).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Target", "serve_target", "serve_target_process"]


@dataclass
class Target:
    latency_s: float = 0.0
    stall_every_s: float | None = None
    stall_s: float = 1.0
    status: int = 200
    port: int = 0
    started: float = field(default_factory=time.monotonic)
    requests: int = 0
    answered_s: list[float] = field(default_factory=list)
    arrived: list[float] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _stall_left(self) -> float:
        if self.stall_every_s is None:
            return 0.0
        into = (time.monotonic() - self.started) % self.stall_every_s
        return max(self.stall_s - into, 0.0)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                if length:
                    await reader.readexactly(length)
                received = time.monotonic()
                self.requests += 1
                self.arrived.append(received)
                wait = self._stall_left() + self.latency_s
                if wait > 0:
                    await asyncio.sleep(wait)
                self.answered_s.append(time.monotonic() - received)
                writer.write(f"HTTP/1.1 {self.status} X\r\nContent-Length: 2\r\n\r\nok".encode())
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@contextmanager
def serve_target(target: Target) -> Iterator[Target]:
    """`target` served until the block ends."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    stopped: asyncio.Future[None] | None = None

    async def main() -> None:
        nonlocal stopped
        server = await asyncio.start_server(target._serve, "127.0.0.1", 0)
        target.port = server.sockets[0].getsockname()[1]
        target.started = time.monotonic()
        stopped = loop.create_future()
        ready.set()
        async with server:
            await stopped

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    ready.wait(10)
    try:
        yield target
    finally:
        if stopped is not None:
            loop.call_soon_threadsafe(stopped.set_result, None)
        thread.join(10)
        loop.close()


def _serve_in_process(target: Target, connection: Any) -> None:
    with serve_target(target) as served:
        connection.send(served.port)
        connection.recv()  # until told to stop; the server's thread has the process alone
    connection.send((target.requests, target.answered_s, target.arrived))


@contextmanager
def serve_target_process(target: Target) -> Iterator[Target]:
    """`target` served from a process of its own until the block ends, so that nothing in the
    test's process (a generator's parent merging histograms, say) delays the server between a
    request's arrival and its timestamp; its request log is copied into `target` at the end."""
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    process = context.Process(target=_serve_in_process, args=(target, theirs), daemon=True)
    process.start()
    try:
        if not ours.poll(30):
            raise RuntimeError("the target server did not start")
        target.port = ours.recv()
        yield target
    finally:
        ours.send("stop")
        if ours.poll(10):
            target.requests, target.answered_s, target.arrived = ours.recv()
        process.join(10)
        if process.is_alive():
            process.kill()
