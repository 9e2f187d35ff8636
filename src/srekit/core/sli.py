"""SLI readings and the protocol every SLI source (Prometheus, the event store) implements."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from srekit.core.slo import SLO, EventsRatio

__all__ = [
    "EventCounts",
    "SliSource",
    "SourceSet",
    "WindowQuery",
    "error_ratio_counts",
    "ratio_of_sums",
]


@dataclass(frozen=True)
class EventCounts:
    """Good and total events in one window.

    A source that only knows the error ratio (Sloth `raw`) reports `total=1`, `good=1-ratio`
    and `counted=False`, so that no event counts are shown for it.
    """

    good: float
    total: float
    counted: bool = True

    @property
    def bad(self) -> float:
        return self.total - self.good

    @property
    def sli(self) -> float | None:
        """good / total, or None for a window without events (no data: neither pass nor breach).

        Clamped to [0, 1]: counters scraped at slightly different instants can give good > total.
        """
        if self.total <= 0:
            return None
        return min(1.0, max(0.0, self.good / self.total))

    @property
    def error_ratio(self) -> float | None:
        """bad / total, clamped to [0, 1]; None without events.

        Computed from the bad events, not as 1 − SLI: with a billion events and a handful
        bad, 1 − good/total keeps only a few significant digits of the ratio.
        """
        if self.total <= 0:
            return None
        return min(1.0, max(0.0, self.bad / self.total))


def error_ratio_counts(ratio: float) -> EventCounts | None:
    """A reading from an error ratio alone: `good = 1 − ratio` of `total = 1`, not counted.

    A ratio that is not finite (NaN is 0/0: no events in the window) means no data: None.
    """
    if not math.isfinite(ratio):
        return None
    return EventCounts(good=1.0 - ratio, total=1.0, counted=False)


def ratio_of_sums(parts: Sequence[EventCounts]) -> EventCounts:
    """Add windows together: the SLI of the union is Σgood / Σtotal, not the mean of ratios."""
    return EventCounts(
        good=sum(part.good for part in parts),
        total=sum(part.total for part in parts),
        counted=all(part.counted for part in parts),
    )


@dataclass(frozen=True)
class WindowQuery:
    """A named window ending at `end` (`5m`, `1h`, `30d`, or a calendar period so far)."""

    label: str
    start: datetime
    end: datetime

    @property
    def duration_s(self) -> int:
        return int((self.end - self.start).total_seconds())


class SliSource(Protocol):
    """Where SLI events come from. Implementations batch: many SLOs, many windows, few queries."""

    def counts(
        self, slos: Sequence[SLO], windows: Sequence[WindowQuery]
    ) -> Mapping[tuple[str, str], EventCounts | None]:
        """Good/total per (slo.id, window label); None where the window holds no events.

        Raises SourceUnavailable when the source cannot answer at all.
        """

    def slices(
        self, slo: SLO, *, start: datetime, end: datetime, slice_s: int
    ) -> Sequence[EventCounts | None]:
        """Per-slice good/total for timeslice budgeting, oldest first; None for empty slices."""


class SourceSet:
    """The SLI sources at hand, and which one serves an SLO: the event store for `EventsRatio`
    indicators, Prometheus for the rest. A missing source explains itself when an SLO needs it."""

    def __init__(
        self,
        *,
        prometheus: SliSource | None = None,
        events: SliSource | None = None,
        missing_prometheus: str = "no Prometheus URL is configured (--prometheus-url)",
        missing_events: str = "the event store is not available",
    ) -> None:
        self.prometheus = prometheus
        self.events = events
        self.missing_prometheus = missing_prometheus
        self.missing_events = missing_events

    def for_slo(self, slo: SLO) -> tuple[str, SliSource | None, str]:
        """(source name, the source or None, why it is missing)."""
        if isinstance(slo.indicator, EventsRatio):
            return "events", self.events, self.missing_events
        return "prometheus", self.prometheus, self.missing_prometheus
