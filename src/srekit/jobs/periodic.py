"""What every background job of `srekit serve` that runs rounds once per cluster shares: a
round now and then every `interval_s` in a daemon thread, led by one replica.

Several replicas on PostgreSQL: the one holding the job's advisory lock
(`store.locks.LeaderLock`, a key of the job's own) runs the rounds, the others skip theirs;
on SQLite it always leads. A round that fails is logged and the next one starts afresh:
one bad round never ends the loop.
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import TypeVar

from srekit.store import StoreEngine
from srekit.store.locks import LeaderLock

__all__ = ["PeriodicJob"]

logger = logging.getLogger(__name__)

Result = TypeVar("Result")


class PeriodicJob(ABC):
    """The loop, the leadership and the stop of a job; a job says what a round does
    (`_tick`) and runs its work under `_led`."""

    def __init__(self, engine: StoreEngine, *, lock_key: int, name: str, interval_s: float) -> None:
        if interval_s <= 0:
            raise ValueError(f"expected a positive interval, got {interval_s}s")
        self.engine = engine
        self.interval_s = interval_s
        self.name = name
        self._round = threading.Lock()
        self._lock = LeaderLock(engine, key=lock_key, name=name)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def _led(self, work: Callable[[], Result]) -> Result | None:
        """`work()` as this replica's round; None when another replica leads."""
        with self._round:
            if not self._lock.try_acquire():
                return None
            return work()

    @abstractmethod
    def _tick(self) -> None:
        """One round of the loop (the job's own `run_once` at the current time)."""

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Run rounds in a daemon thread until `stop()`."""
        if self.running:
            raise RuntimeError(f"the {self.name} is already running")
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._loop, name=f"srekit-{self.name.replace(' ', '-')}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop the loop, wait for a round in progress, and release the lock."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        with self._round:
            self._lock.release()

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                self._tick()
            except Exception:
                # never let one round end the loop: the next one starts afresh
                logger.exception("%s round failed; retrying in %gs", self.name, self.interval_s)
            self._stopping.wait(self.interval_s)
