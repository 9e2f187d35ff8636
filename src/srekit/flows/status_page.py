"""What the public status page shows, read from the latest statuses and the stored history.

Only the services named in `services` (the opt-in list, `SREKIT_STATUS_PAGE_SERVICES`) are
read at all: the page cannot show what it never loaded. For each, its SLOs' current figures
(the statuses passed in) give its condition (`core.status_page`); each SLO's 90 daily bars
are the SLI of the last hourly rollup of each UTC day (`store.repo.day_closes`: the SLI over
the SLO window as that day's last evaluation found it; rollups outlive the raw snapshots, so
the 90 days survive compaction), and the 90-day figure is their
mean (`core.status_page.mean_sli`). Incidents are those touching an opted-in service, opened
in the 90 days or still open at `now`, with their titles and public updates, never notes.

`statuses_at` reads the statuses a past instant had from stored snapshots, so
`srekit status-page export --at` gives the same page every time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from srekit.core.dashboard import SloHealth, slo_health
from srekit.core.history import hour_floor
from srekit.core.incident import is_open
from srekit.core.status import SloStatus, outdated_status
from srekit.core.status_page import (
    Banner,
    Condition,
    PublicState,
    banner,
    mean_sli,
    public_updates,
    service_condition,
)
from srekit.flows.incidents import list_incident_views
from srekit.store import StoreEngine
from srekit.store.database import transaction

__all__ = [
    "BADGE_SECRET",
    "STATUS_DAYS",
    "PublicIncident",
    "PublicService",
    "PublicSlo",
    "StatusPage",
    "badge_secret",
    "status_page",
    "statuses_at",
]

#: Days of history the status page shows.
STATUS_DAYS = 90
_INCIDENTS_PER_SERVICE = 500


@dataclass(frozen=True)
class PublicSlo:
    name: str
    objective: float
    health: SloHealth
    days: tuple[tuple[date, float | None], ...]  # oldest first: the day's SLI, None without
    mean_sli: float | None


@dataclass(frozen=True)
class PublicService:
    name: str
    condition: Condition
    slos: tuple[PublicSlo, ...]


@dataclass(frozen=True)
class PublicIncident:
    """An incident as the public sees it: its title, the opted-in services it touches, its
    public state at `now` and its updates (newest first)."""

    id: int
    title: str
    services: tuple[str, ...]
    state: PublicState
    updates: tuple[tuple[PublicState, datetime], ...]


@dataclass(frozen=True)
class StatusPage:
    at: datetime
    banner: Banner | None  # None: no service is opted in, the page publishes nothing
    services: tuple[PublicService, ...]
    incidents: tuple[PublicIncident, ...]
    days: int


def _day_ranges(now: datetime, count: int) -> list[tuple[date, datetime, datetime]]:
    """Each day with the range of hour starts whose rollup it reads: hours that ended by
    `now` (a rollup of a later hour holds what `now` had not seen)."""
    today = now.astimezone(UTC).date()
    last_hour_end = hour_floor(now)
    ranges = []
    for back in range(count - 1, -1, -1):
        day = today - timedelta(days=back)
        start = datetime.combine(day, time(), tzinfo=UTC)
        ranges.append((day, start, min(start + timedelta(days=1), last_hour_end)))
    return ranges


def _daily_slis(
    engine: StoreEngine, keys: Sequence[tuple[str, str]], *, now: datetime, days: int
) -> dict[tuple[str, str], list[tuple[date, float | None]]]:
    from srekit.store.repo import day_closes, list_slos

    ranges = _day_ranges(now, days)
    with transaction(engine, read_only=True) as session:
        ids = {
            (row.service.name, row.name): row.id
            for service in sorted({service for service, _ in keys})
            for row in list_slos(session, service=service)
        }
        known = [ids[key] for key in keys if key in ids]
        closes = day_closes(session, slo_ids=known, days=[(start, end) for _, start, end in ranges])
    found: dict[tuple[str, str], list[tuple[date, float | None]]] = {}
    for key in keys:
        series = closes.get(ids[key], []) if key in ids else []
        slis = [None if close is None else close.sli for close in series]
        slis += [None] * (len(ranges) - len(slis))
        found[key] = [(day, sli) for (day, _, _), sli in zip(ranges, slis, strict=True)]
    return found


def _incidents(
    engine: StoreEngine, services: Sequence[str], *, now: datetime, days: int
) -> list[PublicIncident]:
    since = now - timedelta(days=days)
    shown = set(services)
    found: dict[int, PublicIncident] = {}
    for service in services:
        for view in list_incident_views(
            engine, service=service, state="all", limit=_INCIDENTS_PER_SERVICE
        ):
            incident = view.incident
            if incident.id in found or incident.opened_at > now:
                continue
            updates = public_updates(incident, at=now)
            current = updates[0][0]
            if incident.opened_at < since and (
                current is PublicState.RESOLVED or not is_open(incident.state)
            ):
                continue
            found[incident.id] = PublicIncident(
                id=incident.id,
                title=incident.title,
                services=tuple(sorted(shown.intersection(incident.services))),
                state=current,
                updates=updates,
            )
    opened = {item.id: item.updates[-1][1] for item in found.values()}
    return sorted(found.values(), key=lambda item: (opened[item.id], item.id), reverse=True)


def status_page(
    engine: StoreEngine,
    *,
    statuses: Sequence[SloStatus],
    services: Sequence[str],
    now: datetime,
    days: int = STATUS_DAYS,
) -> StatusPage:
    """The status page at `now` for the opted-in `services`, from their SLOs' `statuses`."""
    opted = sorted(set(services))
    if not opted:
        return StatusPage(at=now, banner=None, services=(), incidents=(), days=days)
    mine = [status for status in statuses if status.service in opted]
    keys = [(status.service, status.slo) for status in mine]
    slis = _daily_slis(engine, keys, now=now, days=days)
    shown: list[PublicService] = []
    for service in opted:
        slos = tuple(
            PublicSlo(
                name=status.slo,
                objective=status.objective,
                health=slo_health(status),
                days=tuple(slis[status.service, status.slo]),
                mean_sli=mean_sli([sli for _, sli in slis[status.service, status.slo]]),
            )
            for status in sorted(mine, key=lambda item: item.slo)
            if status.service == service
        )
        condition = service_condition(slo.health for slo in slos)
        shown.append(PublicService(name=service, condition=condition, slos=slos))
    return StatusPage(
        at=now,
        banner=banner(service.condition for service in shown),
        services=tuple(shown),
        incidents=tuple(_incidents(engine, opted, now=now, days=days)),
        days=days,
    )


def statuses_at(
    engine: StoreEngine, *, services: Sequence[str], at: datetime, max_age_s: float
) -> list[SloStatus]:
    """The statuses of `services`' SLOs as the newest snapshot at or before `at` recorded them;
    one older than `max_age_s` is marked stale (`core.status.outdated_status`, the gate's
    rule), so it counts as no data."""
    from srekit.store.repo import latest_snapshots

    if not services:
        return []
    since = at - timedelta(days=STATUS_DAYS)
    with transaction(engine, read_only=True) as session:
        rows = latest_snapshots(session, at=at)
        found = [
            row.to_status()
            for key, row in sorted(rows.items())
            if key[0] in services and row.evaluated_at >= since
        ]
    return [outdated_status(status, now=at, max_age_s=max_age_s) for status in found]


#: The name of the store's secret that signs badge URLs (`store.repo.server_secret`).
BADGE_SECRET = "badges"


def badge_secret(engine: StoreEngine) -> bytes:
    """The secret signing private badges' URLs, shared by every replica through the store."""
    from srekit.store.repo import server_secret

    with transaction(engine) as session:
        return server_secret(session, name=BADGE_SECRET)
