"""What an SLO spec must pass beyond its schema, checked where specs are written
(`srekit slo validate|apply`, `PUT`/`POST /api/v1/slos`), so a spec that could never be
evaluated is refused then, naming its field, instead of stored to fail every round.

Today that is the event store's predicate sandbox: an events SLO's `good` and `total` must
each be one boolean SQL expression over event columns (`sources.events.predicates`).
"""

from __future__ import annotations

from collections.abc import Iterable

from srekit.core.slo import SLO, EventsRatio

__all__ = ["check_slos"]


def check_slos(slos: Iterable[SLO]) -> None:
    """Raise SpecError (naming the SLO's file and field) at the first SLO that cannot be
    evaluated. Needs no event store; DuckDB is loaded only when an events SLO is present."""
    for slo in slos:
        if isinstance(slo.indicator, EventsRatio):
            from srekit.sources.events.predicates import check_events_slo

            check_events_slo(slo)
