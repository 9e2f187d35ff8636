"""The precise loop: timers never fire early, I/O still arrives, and a descriptor select()
cannot take falls back to epoll's own wait."""

from __future__ import annotations

import asyncio
import selectors
import socket
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest

from srekit.loadgen import timer
from srekit.loadgen.timer import PreciseEpollSelector, new_event_loop

T = TypeVar("T")


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        return runner.run(coroutine)


def test_sleeps_end_at_or_after_their_instant() -> None:
    async def sleeps() -> list[float]:
        early = []
        for step in range(50):
            instant = time.monotonic() + 0.0003 * (step % 7)
            await asyncio.sleep(max(instant - time.monotonic(), 0))
            early.append(instant - time.monotonic())
        return early

    early = _run(sleeps())
    assert max(early) <= 0  # never woken before its instant


def test_io_is_delivered_while_waiting() -> None:
    async def echo_once() -> bytes:
        left, right = socket.socketpair()
        left.setblocking(False)
        right.setblocking(False)
        loop = asyncio.get_running_loop()
        loop.call_later(0.01, right.send, b"ping")
        try:
            return await asyncio.wait_for(loop.sock_recv(left, 4), timeout=2)
        finally:
            left.close()
            right.close()

    assert _run(echo_once()) == b"ping"


def test_a_descriptor_select_cannot_take_waits_in_epoll(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(timer, "_FD_SETSIZE", 0)  # every descriptor is then out of reach
    selector = PreciseEpollSelector()
    left, right = socket.socketpair()
    try:
        selector.register(left, selectors.EVENT_READ)
        began = time.monotonic()
        assert selector.select(0.005) == []
        assert time.monotonic() - began >= 0.004  # waited, in epoll's whole milliseconds
        right.send(b"x")
        ready = selector.select(1.0)
        assert [key.fileobj for key, _ in ready] == [left]
    finally:
        selector.close()
        left.close()
        right.close()
