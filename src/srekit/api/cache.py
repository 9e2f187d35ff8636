"""A value the hot endpoints read from memory, reloaded in the thread pool when it expires."""

from __future__ import annotations

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
    a failed load forgets the value and raises to the caller.

    With `version` (a cheap query, e.g. the newest audit-log id), an expired value is only
    reloaded when the version moved or it is older than `max_age_s`: reloading 100 SLOs
    holds the GIL for milliseconds, and doing it every second shows in the gate's latency.
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
        self._value: tuple[float, T] | None = None
        self._loaded: tuple[float, object] = (0.0, None)
        self._refreshing = threading.Lock()

    def invalidate(self) -> None:
        self._value = None

    def _reload(self) -> T:
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
                self._value = (now, cached[1])
                return cached[1]
            value = self._load()
        except BaseException:
            self._value = None
            raise
        self._value = (time.monotonic(), value)
        self._loaded = (time.monotonic(), version)
        return value

    async def get(self) -> T:
        cached = self._value
        if cached is not None and time.monotonic() - cached[0] < self.ttl_s:
            return cached[1]
        if not self._refreshing.acquire(blocking=False):
            if cached is not None:
                return cached[1]  # another request is refreshing it
            return await run_in_threadpool(self._reload)
        try:
            return await run_in_threadpool(self._reload)
        finally:
            self._refreshing.release()
