"""The SLO lines the Overview and the SLO list share, kept between requests.

Building a line for each of 1,000 SLOs (health, the gate of each service, open incidents)
takes tens of milliseconds; the inputs change far less often than pages are read. The lines
are reused while the statuses and the gate's catalog are the same objects (the API's caches
replace them when the evaluator writes or the specs change) and the open incidents read for
this request are the same. A gate also turns on the age of its statuses, so lines older than
`ttl_s` are rebuilt even when nothing else moved: off the request path, in a thread, while
requests keep getting the kept lines (at most one rebuild at a time). Only lines built from
other inputs are rebuilt on the request, since they would show other figures than the API's.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from srekit.core.incident import IncidentView
from srekit.core.status import SloStatus
from srekit.flows.dashboard import SloLine, slo_lines
from srekit.flows.gate import Catalog

if TYPE_CHECKING:
    from srekit.api.deps import ApiState

__all__ = ["LineCache"]

log = logging.getLogger(__name__)

_Signature = tuple[tuple[object, ...], ...]
_T = TypeVar("_T")


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
        self.refreshing: threading.Thread | None = None  # the rebuild under way, if any
        self._derived: dict[Hashable, Any] = {}  # figures of the kept lines (`derived`)

    def _keep(
        self, statuses: object, catalog: object, signature: _Signature, built: list[SloLine]
    ) -> None:
        with self._lock:
            if self._kept is None or self._kept[4] is not built:
                self._derived = {}
            self._kept = (statuses, catalog, signature, time.monotonic() + self.ttl_s, built)

    def derived(self, lines: list[SloLine], key: Hashable, compute: Callable[[], _T]) -> _T:
        """`compute()` of `lines`, kept under `key` while `lines` are the kept lines (an
        order of all 1,000, the labels they use): requests between two rebuilds pay once."""
        with self._lock:
            current = self._kept is not None and self._kept[4] is lines
            if current and key in self._derived:
                return self._derived[key]  # type: ignore[no-any-return]
        value = compute()
        with self._lock:
            if current and self._kept is not None and self._kept[4] is lines:
                self._derived[key] = value
        return value

    def _refresh_in_background(
        self,
        statuses: object,
        catalog: object,
        signature: _Signature,
        build: Callable[[], list[SloLine]],
    ) -> None:
        """Rebuild the kept lines in a thread unless one is already at it."""

        def rebuild() -> None:
            try:
                self._keep(statuses, catalog, signature, build())
            except Exception:  # the next request rebuilds on its own; this one was a bonus
                log.exception("the dashboard's SLO lines could not be rebuilt")

        with self._lock:
            if self.refreshing is not None and self.refreshing.is_alive():
                return
            self.refreshing = threading.Thread(
                target=rebuild, name="srekit-dashboard-lines", daemon=True
            )
            self.refreshing.start()

    def lines(
        self,
        *,
        statuses: Sequence[SloStatus],
        catalog: Catalog,
        open_incidents: Sequence[IncidentView],
        build: Callable[[], list[SloLine]],
    ) -> list[SloLine]:
        """The kept lines when built from the same inputs (rebuilt in the background when
        older than `ttl_s`), else `build()`'s, kept for the next request."""
        signature = _signature(open_incidents)
        with self._lock:
            kept = self._kept
        if kept is not None and kept[0] is statuses and kept[1] is catalog and kept[2] == signature:
            if time.monotonic() >= kept[3]:
                self._refresh_in_background(statuses, catalog, signature, build)
            return kept[4]
        built = build()
        self._keep(statuses, catalog, signature, built)
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
