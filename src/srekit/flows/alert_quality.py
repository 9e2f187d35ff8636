"""The alert quality report of a period, read from the store: the alert instances that started
in it, the instances of their fingerprints that ended from an hour before the period to its end
(a refire may follow one, even one that started before the period), the incidents they joined,
and the pages sent for those incidents (their timeline's `page_sent` entries). Every figure is
`core.alert_quality`'s.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from srekit.core.alert_quality import (
    DEFAULT_AUTO_RESOLVE_S,
    DEFAULT_SHIFT_S,
    DEFAULT_TARGETS,
    REFIRE_WINDOW_S,
    AlertQualityReport,
    QualityTargets,
    alert_quality,
)
from srekit.core.incident import IncidentAlert
from srekit.core.instant import format_instant
from srekit.errors import SpecError
from srekit.store import StoreEngine

__all__ = ["MAX_AUTO_RESOLVE_S", "MAX_SHIFT_S", "stored_alert_quality"]

#: The longest window for resolving alone that still means "a false alarm": a day.
MAX_AUTO_RESOLVE_S = 86_400
#: The longest on-call shift: a year.
MAX_SHIFT_S = 366 * 86_400


def stored_alert_quality(
    engine: StoreEngine,
    *,
    start: datetime,
    end: datetime,
    service: str | None = None,
    auto_resolve_s: float = DEFAULT_AUTO_RESOLVE_S,
    shift_s: float = DEFAULT_SHIFT_S,
    shifts: float | None = None,
    targets: QualityTargets = DEFAULT_TARGETS,
) -> AlertQualityReport:
    """The alert quality of the stored alerts that started in `[start, end)` (those routed to
    `service`, if given). A period that ends when or before it starts, a window for resolving
    alone outside (0, 1 day] or a shift outside (0, 366 days] is a SpecError naming the
    option."""
    from srekit.store.database import transaction
    from srekit.store.repo import (
        alerts_ended,
        alerts_started,
        get_incidents,
        incident_of,
        pages_per_incident,
    )

    if end <= start:
        raise SpecError(
            f"the period ends ({format_instant(end)}) when or before it starts"
            f" ({format_instant(start)})",
            field="to",
        )
    for name, value, longest in (
        ("auto_resolve_window", auto_resolve_s, MAX_AUTO_RESOLVE_S),
        ("shift", shift_s, MAX_SHIFT_S),
    ):
        if not 0 < value <= longest:
            raise SpecError(
                f"expected a positive number of seconds up to {longest:.0f}, got {value!r}",
                field=name,
            )
    with transaction(engine, read_only=True) as session:
        fires = alerts_started(session, start=start, end=end, service=service)
        earlier = alerts_ended(
            session,
            fingerprints=[fire.fingerprint for fire in fires],
            start=start - timedelta(seconds=REFIRE_WINDOW_S),
            end=end,
        )
        incident_ids = {fire.incident_id for fire in fires if fire.incident_id is not None}
        incidents = [
            incident_of(row) for row in get_incidents(session, incident_ids=incident_ids).values()
        ]
        pages = pages_per_incident(session, incident_ids=incident_ids)
    alerts = [
        IncidentAlert(
            fingerprint=span.fingerprint,
            alertname=span.alertname,
            status=span.status,
            starts_at=span.starts_at,
            ends_at=span.ends_at,
            labels={},  # not read: the report needs the alert's name and instants only
            incident_id=span.incident_id,
            routed=span.routed,
        )
        for span in (*earlier, *fires)
    ]
    return alert_quality(
        alerts,
        incidents=incidents,
        start=start,
        end=end,
        pages=pages,
        auto_resolve_s=auto_resolve_s,
        shift_s=shift_s,
        shifts=shifts,
        targets=targets,
    )
