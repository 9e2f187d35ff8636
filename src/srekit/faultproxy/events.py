"""What happened to a fault proxy's proxies and toxics, and when: a bounded log in memory.

A chaos run reads it (`GET /events`) to line its own steps up with the faults that were in
place, including those no request caused: a toxic that expired by its `ttl`. Only the last
`capacity` events are kept, so a proxy left running for weeks does not grow; ids keep
counting, so a reader polling with `since` sees how many it missed.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

__all__ = ["EVENT_CAPACITY", "EVENT_TYPES", "Event", "EventLog"]

EVENT_CAPACITY = 1000
EVENT_TYPES = (
    "proxy_created",
    "proxy_updated",
    "proxy_deleted",
    "toxic_added",
    "toxic_updated",
    "toxic_removed",
    "toxic_expired",
    "reset",
    "populate",
)


@dataclass(frozen=True, slots=True)
class Event:
    id: int
    at: float  # seconds since the epoch
    type: str
    proxy: str | None
    toxic: str | None
    detail: dict[str, Any]

    def document(self) -> dict[str, Any]:
        stamp = datetime.fromtimestamp(self.at, UTC).isoformat(timespec="milliseconds")
        return {
            "id": self.id,
            "time": stamp.replace("+00:00", "Z"),
            "type": self.type,
            "proxy": self.proxy,
            "toxic": self.toxic,
            "detail": self.detail,
        }


class EventLog:
    """The last `capacity` events, oldest first, numbered from 1."""

    def __init__(
        self, capacity: int = EVENT_CAPACITY, clock: Callable[[], float] = time.time
    ) -> None:
        if capacity < 1:
            raise ValueError("capacity: expected at least 1")
        self._events: deque[Event] = deque(maxlen=capacity)
        self._clock = clock
        self.last_id = 0

    def record(
        self,
        kind: str,
        proxy: str | None = None,
        toxic: str | None = None,
        /,
        **detail: Any,
    ) -> Event:
        """Log one event of type `kind` (one of EVENT_TYPES), now."""
        if kind not in EVENT_TYPES:
            raise ValueError(f"unknown event type {kind!r}")
        self.last_id += 1
        event = Event(self.last_id, self._clock(), kind, proxy, toxic, detail)
        self._events.append(event)
        return event

    def since(self, after: int = 0) -> list[Event]:
        """The events kept whose id is above `after`, oldest first."""
        return [event for event in self._events if event.id > after]

    @property
    def dropped(self) -> int:
        """How many events have been pushed out of the log since it started."""
        return self.last_id - len(self._events)
