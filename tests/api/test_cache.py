"""The API's read caches: reload only when the version moved, or when too old."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

from srekit.api.cache import TtlCache


def test_reloads_only_when_the_version_moves_or_the_value_is_too_old() -> None:
    loads: list[int] = []
    version = {"value": 1}

    def load() -> int:
        loads.append(version["value"])
        return version["value"]

    cache = TtlCache(load, ttl_s=0.0, version=lambda: version["value"], max_age_s=3600.0)

    async def scenario() -> list[int]:
        seen = [await cache.get(), await cache.get(), await cache.get()]
        version["value"] = 2
        seen.append(await cache.get())
        cache.max_age_s = 0.0  # too old now: reload even with the same version
        seen.append(await cache.get())
        return seen

    assert asyncio.run(scenario()) == [1, 1, 1, 2, 2]
    assert loads == [1, 2, 2]


def test_without_a_version_it_is_a_plain_ttl_cache() -> None:
    loads: list[int] = []

    def load() -> int:
        loads.append(1)
        return len(loads)

    cache = TtlCache(load, ttl_s=0.0)

    async def scenario() -> list[int]:
        return [await cache.get(), await cache.get()]

    assert asyncio.run(scenario()) == [1, 2]


def test_reads_after_an_invalidation_share_one_load() -> None:
    """A burst of gate calls after a write waits for one reload, not one reload each."""
    loads: list[int] = []
    version = {"value": 1}

    def load() -> int:
        time.sleep(0.05)
        loads.append(version["value"])
        return version["value"]

    cache = TtlCache(load, ttl_s=60.0, version=lambda: version["value"])

    async def scenario() -> list[int]:
        await cache.get()
        version["value"] = 2
        cache.invalidate()
        return list(await asyncio.gather(*(cache.get() for _ in range(50))))

    assert asyncio.run(scenario()) == [2] * 50
    assert loads == [1, 2]


def test_a_read_after_an_invalidation_never_gets_a_load_that_started_before_it() -> None:
    """Read-your-writes: a load in flight when the write landed may have missed it."""
    version = {"value": 1}
    started = threading.Event()
    release = threading.Event()

    def load() -> int:
        seen = version["value"]
        started.set()
        release.wait(5)
        return seen

    cache = TtlCache(load, ttl_s=60.0, version=lambda: version["value"])

    async def scenario() -> tuple[int, int]:
        early = asyncio.ensure_future(cache.get())
        await asyncio.to_thread(started.wait, 5)
        version["value"] = 2  # the write commits while the first load is in flight...
        cache.invalidate()  # ...and says so
        late = asyncio.ensure_future(cache.get())
        await asyncio.sleep(0.01)
        release.set()
        return await early, await late

    assert asyncio.run(scenario()) == (1, 2)


def test_a_failed_load_reaches_every_waiting_caller_and_the_next_read_retries() -> None:
    outcomes: Iterator[Exception | int] = iter([RuntimeError("store down"), 7])

    def load() -> int:
        time.sleep(0.02)
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    cache = TtlCache(load, ttl_s=60.0)

    async def scenario() -> tuple[list[object], int]:
        first = await asyncio.gather(*(cache.get() for _ in range(5)), return_exceptions=True)
        return list(first), await cache.get()

    failed, recovered = asyncio.run(scenario())
    assert all(isinstance(item, RuntimeError) for item in failed)
    assert recovered == 7
