"""What the dashboard's pages show, read once per request from the same flows as the API.

The SLO figures are the evaluator's latest statuses (the caller passes the API's cached ones),
each SLO's health class is `core.dashboard`'s, a service's gate state is `flows.gate`'s
decision for a `feature` change (without recording a deployment: nothing was asked to ship),
open incidents are `flows.incidents`', who is on call is `flows.oncall`'s, and the 30-day
history is each day's last hourly rollup (`store.repo.day_closes`): its last remaining budget
and 1-day burn rate. Rollups outlive the raw snapshots, so a compacted store still shows the
30 days; today shows up to its last rolled-up hour, as the history heatmap does. A day without
a rollup is `recorded=False`, shown as missing history, never as zero.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from srekit.core.dashboard import SloHealth, slo_health
from srekit.core.history import hour_floor
from srekit.core.incident import IncidentView
from srekit.core.policy import FailMode, GateDecision
from srekit.core.ports import IncidentRepository
from srekit.core.rotation import Shift
from srekit.core.status import SloStatus
from srekit.errors import SrekitError
from srekit.flows.gate import GateQuestion, decide_stored, load_catalog
from srekit.flows.incidents import list_incident_views
from srekit.flows.oncall import stored_versions, who
from srekit.store import StoreEngine
from srekit.store.database import transaction

__all__ = [
    "HISTORY_DAYS",
    "DailyReading",
    "OnCallNow",
    "Overview",
    "SloLine",
    "overview",
    "slo_lines",
]

log = logging.getLogger(__name__)

#: Days of history the Overview's heatmap and the SLO list's sparklines cover.
HISTORY_DAYS = 30
_DAILY_BURN_WINDOW = "1d"


@dataclass(frozen=True)
class DailyReading:
    """One UTC day of an SLO's history: the remaining budget and 1-day burn rate its last
    rolled-up hour ended with; `recorded` is False when no hour of the day was rolled up."""

    day: date
    recorded: bool
    remaining: float | None = None
    burn_1d: float | None = None


@dataclass(frozen=True)
class SloLine:
    """One SLO as the dashboard lists it."""

    status: SloStatus
    team: str | None
    health: SloHealth
    gate: GateDecision
    open_incidents: int
    history: tuple[DailyReading, ...]

    @property
    def key(self) -> str:
        return f"{self.status.service}/{self.status.slo}"


@dataclass(frozen=True)
class OnCallNow:
    """Who holds one layer of a rotation now (`member` None: a gap, `gap` says why)."""

    rotation: str
    team: str | None
    layer: str
    member: str | None
    until: datetime | None
    gap: str | None = None


@dataclass(frozen=True)
class Overview:
    at: datetime
    lines: tuple[SloLine, ...]
    incidents: tuple[IncidentView, ...]
    on_call: tuple[OnCallNow, ...]
    days: tuple[date, ...]
    problems: tuple[str, ...] = ()  # parts that could not be read, in words


def _days(now: datetime, count: int) -> list[date]:
    today = now.astimezone(UTC).date()
    return [today - timedelta(days=back) for back in range(count - 1, -1, -1)]


def _history(
    engine: StoreEngine, *, now: datetime, days: Sequence[date]
) -> dict[tuple[str, str], list[DailyReading]]:
    """Each SLO's readings of `days`, from the rollups of hours that ended by `now`."""
    from srekit.store.repo import day_closes, list_slos

    last_hour_end = hour_floor(now)
    ranges = []
    for day in days:
        start = datetime.combine(day, time(), tzinfo=UTC)
        ranges.append((start, min(start + timedelta(days=1), last_hour_end)))
    with transaction(engine, read_only=True) as session:
        keys = {row.id: (row.service.name, row.name) for row in list_slos(session)}
        closes = day_closes(session, days=ranges)
    return {
        keys[slo_id]: [
            DailyReading(day=day, recorded=False)
            if close is None
            else DailyReading(
                day=day,
                recorded=True,
                remaining=close.remaining,
                burn_1d=close.burn_rates.get(_DAILY_BURN_WINDOW),
            )
            for day, close in zip(days, series, strict=True)
        ]
        for slo_id, series in closes.items()
        if slo_id in keys
    }


def _teams(engine: StoreEngine) -> dict[str, str | None]:
    from srekit.store.repo import list_services

    with transaction(engine, read_only=True) as session:
        return {row.name: row.team.name if row.team else None for row in list_services(session)}


def _gates(
    engine: StoreEngine,
    services: Sequence[str],
    *,
    statuses: Sequence[SloStatus],
    incidents: IncidentRepository,
    now: datetime,
    max_status_age_s: float,
) -> dict[str, GateDecision]:
    catalog = load_catalog(engine)
    gates: dict[str, GateDecision] = {}
    for service in services:
        question = GateQuestion(
            service=service,
            change_type="feature",
            fail_mode=FailMode.CLOSED,
            version=None,
            commit_time=None,
            requested_by=None,
            source="dashboard",
        )
        gates[service], _ = decide_stored(
            question,
            catalog=catalog,
            statuses=statuses,
            open_severe_incidents=tuple(incidents.open_severe_incidents(service)),
            now=now,
            max_status_age_s=max_status_age_s,
        )
    return gates


def slo_lines(
    engine: StoreEngine,
    *,
    statuses: Sequence[SloStatus],
    incidents: IncidentRepository,
    now: datetime,
    max_status_age_s: float,
    open_incidents: Sequence[IncidentView] | None = None,
    history_days: int = HISTORY_DAYS,
) -> list[SloLine]:
    """Every SLO of `statuses` with its team, health, service gate, open incidents (those
    naming the SLO, or its service when they name no SLO) and daily history, in `statuses`
    order."""
    days = _days(now, history_days)
    history = _history(engine, now=now, days=days)
    teams = _teams(engine)
    services = sorted({status.service for status in statuses})
    gates = _gates(
        engine,
        services,
        statuses=statuses,
        incidents=incidents,
        now=now,
        max_status_age_s=max_status_age_s,
    )
    views = (
        open_incidents
        if open_incidents is not None
        else list_incident_views(engine, state="open", limit=1000)
    )
    missing = tuple(DailyReading(day=day, recorded=False) for day in days)
    lines: list[SloLine] = []
    for status in statuses:
        key = f"{status.service}/{status.slo}"
        touching = sum(
            1
            for view in views
            if key in view.incident.slos
            or (not view.incident.slos and status.service in view.incident.services)
        )
        lines.append(
            SloLine(
                status=status,
                team=teams.get(status.service),
                health=slo_health(status),
                gate=gates[status.service],
                open_incidents=touching,
                history=tuple(history.get((status.service, status.slo), missing)),
            )
        )
    return lines


def _on_call(engine: StoreEngine, *, now: datetime) -> tuple[list[OnCallNow], list[str]]:
    from srekit.store.repo import list_rotations

    with transaction(engine, read_only=True) as session:
        rotations = [(row.name, row.team) for row in list_rotations(session)]
    held: list[OnCallNow] = []
    problems: list[str] = []
    for name, team in rotations:
        try:
            shifts: dict[str, Shift] = who(stored_versions(engine, name=name), at=now)
        except SrekitError as error:  # one unreadable rotation must not hide the others
            log.error("rotation %s cannot be read: %s", name, error)
            problems.append(f"rotation {name} cannot be read: {error}")
            continue
        held.extend(
            OnCallNow(
                rotation=name,
                team=team,
                layer=layer,
                member=shift.member,
                until=shift.end,
                gap=shift.gap,
            )
            for layer, shift in shifts.items()
        )
    return held, problems


def overview(
    engine: StoreEngine,
    *,
    statuses: Sequence[SloStatus],
    incidents: IncidentRepository,
    now: datetime,
    max_status_age_s: float,
    history_days: int = HISTORY_DAYS,
) -> Overview:
    """Everything the Overview shows, read at `now`."""
    views = list_incident_views(engine, state="open", limit=1000)
    lines = slo_lines(
        engine,
        statuses=statuses,
        incidents=incidents,
        now=now,
        max_status_age_s=max_status_age_s,
        open_incidents=views,
        history_days=history_days,
    )
    on_call, problems = _on_call(engine, now=now)
    return Overview(
        at=now,
        lines=tuple(lines),
        incidents=tuple(views),
        on_call=tuple(on_call),
        days=tuple(_days(now, history_days)),
        problems=tuple(problems),
    )
