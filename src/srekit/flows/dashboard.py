"""What the dashboard's pages show, read once per request from the same flows as the API.

The SLO figures are the evaluator's latest statuses (the caller passes the API's cached ones),
each SLO's health class is `core.dashboard`'s, a service's gate state is `flows.gate`'s
decision for a `feature` change (without recording a deployment: nothing was asked to ship)
from the gate's catalog and load-test policy (the caller passes the API's: the verdict is the
one `GET /api/v1/gate` gives, a required load test missing or stale included), open incidents are
`flows.incidents`', who is on call is `flows.oncall`'s.

The 30-day history (`daily_history`) is read only for the SLOs a page shows: the SLO list's
page of them, the Overview's worst budgets. It is each day's rollup (`store.repo.day_rollups`,
a row per SLO and day kept from the hourly rollups): the remaining budget and 1-day burn rate
its last rolled-up hour ended with. Rollups outlive the raw snapshots, so a compacted store
still shows the 30 days; today shows up to its last rolled-up hour, as the history heatmap
does. A day without a rollup is `recorded=False`,
shown as missing history, never as zero.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple

from srekit.core.dashboard import SloHealth, slo_health
from srekit.core.incident import IncidentView
from srekit.core.load_gate import LoadTestPolicy
from srekit.core.policy import FailMode, GateDecision
from srekit.core.ports import IncidentRepository
from srekit.core.rotation import Shift
from srekit.core.status import SloStatus
from srekit.errors import SrekitError
from srekit.flows.gate import Catalog, GateQuestion, decide_stored, load_catalog
from srekit.flows.incidents import list_incident_views
from srekit.flows.oncall import stored_versions, who
from srekit.store import StoreEngine
from srekit.store.database import transaction

__all__ = [
    "HEATMAP_SLOS",
    "HISTORY_DAYS",
    "DailyReading",
    "OnCallNow",
    "Overview",
    "SloLine",
    "daily_history",
    "overview",
    "slo_lines",
    "worst_budget_first",
]

log = logging.getLogger(__name__)

#: Days of history the Overview's heatmap and the SLO list's sparklines cover.
HISTORY_DAYS = 30
#: SLOs the Overview's heatmap shows, the least budget left first; the SLO list has them all.
HEATMAP_SLOS = 20


class DailyReading(NamedTuple):
    """One UTC day of an SLO's history: the remaining budget and 1-day burn rate its last
    rolled-up hour ended with; `recorded` is False when no hour of the day was rolled up.
    A tuple, immutable and cheap: a page of the SLO list reads 3,000."""

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
    """The Overview at `at`: every SLO's line (for the counts, alerts and gates), and the
    history of the `worst` of them only (the heatmap's rows), keyed by `SloLine.key`."""

    at: datetime
    lines: tuple[SloLine, ...]
    incidents: tuple[IncidentView, ...]
    on_call: tuple[OnCallNow, ...]
    days: tuple[date, ...]
    worst: tuple[SloLine, ...] = ()
    history: Mapping[str, tuple[DailyReading, ...]] = field(default_factory=dict)
    problems: tuple[str, ...] = ()  # parts that could not be read, in words


def _days(now: datetime, count: int) -> list[date]:
    today = now.astimezone(UTC).date()
    return [today - timedelta(days=back) for back in range(count - 1, -1, -1)]


def daily_history(
    engine: StoreEngine,
    lines: Sequence[SloLine],
    *,
    now: datetime,
    history_days: int = HISTORY_DAYS,
    burn_rates: bool = True,
) -> dict[str, tuple[DailyReading, ...]]:
    """The readings of the last `history_days` UTC days of each SLO of `lines`, from the
    rollups of hours that ended by `now`, keyed by `SloLine.key`: these SLOs only, so a page
    pays for the SLOs it shows, not for every stored one. Without `burn_rates` the 1-day burn
    rate is left None (not decoded: a sparkline of the remaining budget does not show it)."""
    from srekit.store.repo import day_rollups, slo_ids

    days = _days(now, history_days)
    missing = tuple(DailyReading(day=day, recorded=False) for day in days)
    found = dict.fromkeys((line.key for line in lines), missing)
    if not lines:
        return found
    starts = [datetime.combine(day, time(), tzinfo=UTC) for day in days]
    with transaction(engine, read_only=True) as session:
        ids = slo_ids(session, keys=[(line.status.service, line.status.slo) for line in lines])
        rolled = day_rollups(session, days=starts, slo_ids=list(ids.values()))
    for (service, name), slo_id in ids.items():
        found[f"{service}/{name}"] = tuple(
            DailyReading(day=day, recorded=False)
            if close is None
            else DailyReading(
                day=day,
                recorded=True,
                remaining=close.remaining,
                burn_1d=close.burn_1d if burn_rates else None,
            )
            for day, close in zip(days, rolled[slo_id], strict=True)
        )
    return found


def worst_budget_first(lines: Sequence[SloLine]) -> list[SloLine]:
    """`lines` by remaining budget, least first (the SLO list's default order); SLOs without
    a figure last; ties by service then SLO."""

    def order(line: SloLine) -> tuple[bool, float, str, str]:
        budget = line.status.error_budget
        remaining = budget.remaining if budget is not None else math.nan
        unknown = math.isnan(remaining)
        return (unknown, 0.0 if unknown else remaining, line.status.service, line.status.slo)

    return sorted(lines, key=order)


def _gates(
    statuses: Sequence[SloStatus],
    *,
    catalog: Catalog,
    incidents: IncidentRepository,
    now: datetime,
    max_status_age_s: float,
    load_test: LoadTestPolicy,
) -> dict[str, GateDecision]:
    """Each service's gate, decided from its own statuses only (the same decision as from
    all of them: a service's gate reads its own SLOs' statuses), with the gate's load-test
    policy."""
    by_service: dict[str, list[SloStatus]] = {}
    for status in statuses:
        by_service.setdefault(status.service, []).append(status)
    gates: dict[str, GateDecision] = {}
    for service, own in sorted(by_service.items()):
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
            statuses=own,
            open_severe_incidents=tuple(incidents.open_severe_incidents(service)),
            now=now,
            max_status_age_s=max_status_age_s,
            load_test=load_test,
        )
    return gates


def slo_lines(
    engine: StoreEngine,
    *,
    statuses: Sequence[SloStatus],
    incidents: IncidentRepository,
    now: datetime,
    max_status_age_s: float,
    load_test: LoadTestPolicy,
    catalog: Catalog | None = None,
    open_incidents: Sequence[IncidentView] | None = None,
) -> list[SloLine]:
    """Every SLO of `statuses` with its team, health, service gate and open incidents (those
    naming the SLO, or its service when they name no SLO), in `statuses` order. `catalog` is
    the gate's (read from the store when not given); `load_test` the gate's policy (required:
    a dashboard that left it out would allow what the gate denies)."""
    known = catalog if catalog is not None else load_catalog(engine)
    gates = _gates(
        statuses,
        catalog=known,
        incidents=incidents,
        now=now,
        max_status_age_s=max_status_age_s,
        load_test=load_test,
    )
    views = (
        open_incidents
        if open_incidents is not None
        else list_incident_views(engine, state="open", limit=1000)
    )
    by_slo: Counter[str] = Counter()
    by_service: Counter[str] = Counter()  # incidents naming no SLO count for the whole service
    for view in views:
        if view.incident.slos:
            by_slo.update(set(view.incident.slos))
        else:
            by_service.update(set(view.incident.services))
    return [
        SloLine(
            status=status,
            team=known.teams.get(status.service),
            health=slo_health(status),
            gate=gates[status.service],
            open_incidents=by_slo[f"{status.service}/{status.slo}"] + by_service[status.service],
        )
        for status in statuses
    ]


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
    load_test: LoadTestPolicy,
    catalog: Catalog | None = None,
    open_incidents: Sequence[IncidentView] | None = None,
    lines: Sequence[SloLine] | None = None,
    history_days: int = HISTORY_DAYS,
    heatmap_slos: int = HEATMAP_SLOS,
) -> Overview:
    """Everything the Overview shows, read at `now`: the history of the `heatmap_slos` SLOs
    with the least budget left only. `open_incidents` and `lines` are read when not given
    (a caller may keep the lines of `slo_lines` between requests)."""
    views = (
        open_incidents
        if open_incidents is not None
        else list_incident_views(engine, state="open", limit=1000)
    )
    if lines is None:
        lines = slo_lines(
            engine,
            statuses=statuses,
            incidents=incidents,
            now=now,
            max_status_age_s=max_status_age_s,
            load_test=load_test,
            catalog=catalog,
            open_incidents=views,
        )
    worst = worst_budget_first(lines)[:heatmap_slos]
    on_call, problems = _on_call(engine, now=now)
    return Overview(
        at=now,
        lines=tuple(lines),
        incidents=tuple(views),
        on_call=tuple(on_call),
        days=tuple(_days(now, history_days)),
        worst=tuple(worst),
        history=daily_history(engine, worst, now=now, history_days=history_days),
        problems=tuple(problems),
    )
