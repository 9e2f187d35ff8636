"""A value the hot endpoints read from memory, reloaded in the thread pool when it expires."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from starlette.concurrency import run_in_threadpool

__all__ = ["TtlCache"]

T = TypeVar("T")


class TtlCache(Generic[T]):
    """A value loaded in the thread pool and kept `ttl_s` seconds, so hot endpoints read
    memory. One caller refreshes an expired value while the others keep the previous one;
    a failed load forgets the value and raises to its callers.

    With `version` (a cheap query, e.g. the newest audit-log id), an expired value is only
    reloaded when the version moved or it is older than `max_age_s`: reloading 100 SLOs
    holds the GIL for milliseconds, and doing it every second shows in the gate's latency.

    `invalidate()` (after a change through the API) makes every later read wait for a value
    checked after it: read-your-writes. Those reads share one load rather than each starting
    its own, so a stream of writes cannot set a hundred callers reloading the same catalog.
    """

    def __init__(
        self,
        load: Callable[[], T],
        *,
        ttl_s: float,
        version: Callable[[], object] | None = None,
        max_age_s: float = 60.0,
    ) -> None:
        self._load = load
        self._version = version
        self.ttl_s = ttl_s
        self.max_age_s = max_age_s
        # (checked at, invalidations seen when the check started, value)
        self._value: tuple[float, int, T] | None = None
        self._loaded: tuple[float, object] = (0.0, None)
        self._invalidations = 0  # moved from worker threads: only ever compared for equality
        self._shared: tuple[asyncio.AbstractEventLoop, int, asyncio.Future[T]] | None = None
        self._refreshing = threading.Lock()

    def invalidate(self) -> None:
        self._invalidations += 1

    def _reload(self, invalidations: int) -> T:
        cached = self._value
        try:
            version = self._version() if self._version is not None else None
            loaded_at, loaded_version = self._loaded
            now = time.monotonic()
            if (
                cached is not None
                and self._version is not None
                and version == loaded_version
                and now - loaded_at < self.max_age_s
            ):
                self._value = (now, invalidations, cached[2])
                return cached[2]
            value = self._load()
        except BaseException:
            self._value = None
            raise
        self._value = (time.monotonic(), invalidations, value)
        self._loaded = (time.monotonic(), version)
        return value

    async def get(self) -> T:
        cached = self._value
        current = cached is not None and cached[1] == self._invalidations
        if cached is not None and current and time.monotonic() - cached[0] < self.ttl_s:
            return cached[2]
        if cached is not None and current:
            # merely expired: one caller refreshes it, the others keep the previous value
            if not self._refreshing.acquire(blocking=False):
                return cached[2]
            try:
                return await self._shared_load()
            finally:
                self._refreshing.release()
        return await self._shared_load()

    async def _shared_load(self) -> T:
        """Join the load in flight if it started after the last invalidation, else start one."""
        loop = asyncio.get_running_loop()
        needed = self._invalidations
        shared = self._shared
        if shared is None or shared[0] is not loop or shared[1] != needed or shared[2].done():
            future = asyncio.ensure_future(run_in_threadpool(self._reload, needed))
            self._shared = shared = (loop, needed, future)
        # shielded: a caller that goes away does not cancel the load the others wait for
        return await asyncio.shield(shared[2])
