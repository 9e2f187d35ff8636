"""The SLO lines the Overview and the SLO list share, kept between requests.

Building a line for each of 1,000 SLOs (health, the gate of each service, open incidents)
takes tens of milliseconds; the inputs change far less often than pages are read. The lines
are reused while the statuses and the gate's catalog are the same objects (the API's caches
replace them when the evaluator writes or the specs change) and the open incidents read for
this request are the same, for at most `ttl_s`: a gate also turns on the age of its
statuses, so the lines are rebuilt that often even when nothing else moved.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from srekit.core.incident import IncidentView
from srekit.core.status import SloStatus
from srekit.flows.dashboard import SloLine, slo_lines
from srekit.flows.gate import Catalog

if TYPE_CHECKING:
    from srekit.api.deps import ApiState

__all__ = ["LineCache"]

_Signature = tuple[tuple[object, ...], ...]


def _signature(views: Sequence[IncidentView]) -> _Signature:
    """What of the open incidents the lines depend on (counts and the gates' P0/P1)."""
    return tuple(
        (
            view.incident.id,
            view.incident.state,
            view.incident.severity,
            view.incident.services,
            view.incident.slos,
        )
        for view in views
    )


class LineCache:
    """The last lines built, with what they were built from."""

    def __init__(self, *, ttl_s: float = 5.0) -> None:
        self.ttl_s = ttl_s
        self._lock = threading.Lock()
        self._kept: tuple[object, object, _Signature, float, list[SloLine]] | None = None

    def lines(
        self,
        *,
        statuses: Sequence[SloStatus],
        catalog: Catalog,
        open_incidents: Sequence[IncidentView],
        build: Callable[[], list[SloLine]],
    ) -> list[SloLine]:
        """The kept lines when built from the same inputs less than `ttl_s` ago, else
        `build()`'s, kept for the next request."""
        signature = _signature(open_incidents)
        now = time.monotonic()
        with self._lock:
            kept = self._kept
        if (
            kept is not None
            and kept[0] is statuses
            and kept[1] is catalog
            and kept[2] == signature
            and now < kept[3]
        ):
            return kept[4]
        built = build()
        with self._lock:
            self._kept = (statuses, catalog, signature, now + self.ttl_s, built)
        return built

    def of(
        self,
        api: ApiState,
        *,
        statuses: Sequence[SloStatus],
        catalog: Catalog,
        open_incidents: Sequence[IncidentView],
        now: datetime,
    ) -> list[SloLine]:
        """`flows.dashboard.slo_lines` of the API's statuses at `now`, kept as `lines` says."""
        return self.lines(
            statuses=statuses,
            catalog=catalog,
            open_incidents=open_incidents,
            build=lambda: slo_lines(
                api.engine,
                statuses=statuses,
                incidents=api.gate.incidents,
                now=now,
                max_status_age_s=api.settings.gate_max_status_age_s,
                load_test=api.gate.load_test,
                catalog=catalog,
                open_incidents=open_incidents,
            ),
        )
