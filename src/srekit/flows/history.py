"""SLO history: compaction (raw snapshots → hourly rollups → gone, by the retention
horizons), and what the dashboard's charts read: one SLO's downsampled series, the events to
overlay on them, and the daily budget heatmap. The numbers come from `core.history`.

Reading a range takes, hour by hour, the raw snapshots where the hour is within the raw
horizon (or has no rollup yet) and the rollup elsewhere, so a chart crossing the seam shows
both without a gap or a double.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from srekit.core.compliance import (
    BurndownView,
    MonthCompliance,
    burndown_window,
    month_starts,
    monthly_compliance,
)
from srekit.core.history import (
    HOUR_S,
    Buckets,
    HourRollup,
    Point,
    SnapshotPoint,
    budget_burndown,
    budget_burned_in_hour,
    downsample,
    hour_floor,
    hours_due,
    ideal_budget_line,
    raw_horizon,
    rollup_horizon,
)
from srekit.core.window import (
    RollingWindow,
    calendar_period,
    window_label,
    window_length_s,
    window_span,
)
from srekit.store import StoreEngine
from srekit.store.database import transaction
from srekit.store.repo import (
    alerts_overlapping,
    budget_burned_by_day,
    delete_rolled_snapshots,
    delete_rollups_before,
    get_slo,
    hour_rollups,
    list_deployments_between,
    list_incidents,
    roll_up_hour,
    slo_objectives,
    snapshot_hours,
    snapshot_points,
)

__all__ = [
    "CompactionReport",
    "HistoryChart",
    "Overlays",
    "budget_heatmap",
    "compact_history",
    "slo_history_chart",
    "slo_monthly_compliance",
    "slo_overlays",
    "slo_window_start",
]

_HOUR = timedelta(hours=1)


# -- compaction ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CompactionReport:
    """What one compaction did: the hours it rolled up (and how many rollup rows that made),
    the hours whose raw snapshots it deleted (and how many), the expired rollups deleted."""

    rolled_hours: tuple[datetime, ...] = ()
    rollups: int = 0
    purged_hours: tuple[datetime, ...] = ()
    deleted_snapshots: int = 0
    deleted_rollups: int = 0


def compact_history(
    engine: StoreEngine,
    *,
    now: datetime,
    raw_s: float,
    hourly_s: float,
    grace_s: float = 300.0,
    rolled: Collection[datetime] = (),
    purged: Collection[datetime] = (),
) -> CompactionReport:
    """Roll up every complete hour holding snapshots that has no rollup yet, delete the raw
    snapshots of rolled-up hours past the raw horizon (each SLO's newest stays), and delete
    rollups past the hourly horizon.

    An hour is rolled up once complete for `grace_s` (not only past the raw horizon): long
    ranges and the heatmap then read rollups alone, while the raw snapshots stay for the raw
    horizon. Each hour is one transaction (its rollups, and its raw snapshots' deletion when
    due), so a crash leaves every hour either done or untouched, and the unique
    `(slo_id, hour_start)` makes a rerun insert nothing twice. `rolled`/`purged` are hours a
    caller knows are done already (a job's memory), skipped without a query.
    """
    if raw_s <= 0 or hourly_s <= 0:
        raise ValueError(f"expected positive horizons, got raw {raw_s}s and hourly {hourly_s}s")
    keep_from = rollup_horizon(now, hourly_s=hourly_s)
    purge_before = raw_horizon(now, raw_s=raw_s)
    with transaction(engine, read_only=True) as session:
        hours = snapshot_hours(session, since=keep_from, before=now)
    due = hours_due(hours, rolled=rolled, now=now, grace_s=grace_s)
    to_purge = [hour for hour in hours if hour < purge_before and hour not in purged]
    done_rolled: list[datetime] = []
    done_purged: list[datetime] = []
    rollups = deleted = 0
    for hour in sorted({*due, *to_purge}):
        with transaction(engine) as session:
            if hour in due:
                rollups += roll_up_hour(session, hour_start=hour)
                done_rolled.append(hour)
            if hour < purge_before and hour not in purged:
                deleted += delete_rolled_snapshots(session, hour_start=hour)
                done_purged.append(hour)
    with transaction(engine) as session:
        expired = delete_rollups_before(session, before=keep_from)
    return CompactionReport(
        rolled_hours=tuple(done_rolled),
        rollups=rollups,
        purged_hours=tuple(done_purged),
        deleted_snapshots=deleted,
        deleted_rollups=expired,
    )


# -- one SLO's charts ------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryChart:
    """One SLO's chart data over `[start, end)` at `width` buckets.

    `series` maps `sli`, `remaining`, `bad_events`, `total_events` (the SLO window's counts)
    and `burn_rate:<window>` to their buckets (only series with data). `ideal` is the budget a
    steady burn of 1 leaves over the window ending at `end` (a calendar window: the period
    holding it); `burndown` the remaining budget since that window's start, hour by hour.
    `raw_from` is where raw snapshots take over from rollups.
    """

    service: str
    slo: str
    objective: float
    window: str
    window_s: int
    start: datetime
    end: datetime
    width: int
    raw_from: datetime
    series: Mapping[str, Buckets]
    ideal: tuple[tuple[datetime, float], tuple[datetime, float]]
    burndown: Sequence[tuple[datetime, float]] = field(default_factory=list)


def _epoch(moment: datetime) -> float:
    return moment.timestamp()


def _add_rollup(points_of: dict[str, list[Point]], rollup: HourRollup) -> None:
    """The rollup's figures as one point each, at the hour's start."""
    t = _epoch(rollup.hour_start)
    for figure, extent in (
        ("sli", rollup.sli),
        ("remaining", rollup.remaining),
        ("bad_events", rollup.bad_events),
        ("total_events", rollup.total_events),
    ):
        if extent is not None:
            points_of.setdefault(figure, []).append((t, *extent))
    for window, extent in rollup.burn_rates.items():
        if extent is not None:
            points_of.setdefault(f"burn_rate:{window}", []).append((t, *extent))


def _add_points(points_of: dict[str, list[Point]], raw: list[SnapshotPoint]) -> None:
    """Each raw snapshot's figures as one reading each (the hot loop of a chart's read:
    flat tuples, no per-point objects)."""
    sli = points_of.setdefault("sli", [])
    remaining = points_of.setdefault("remaining", [])
    bad = points_of.setdefault("bad_events", [])
    total = points_of.setdefault("total_events", [])
    for point in raw:
        t = _epoch(point.at)
        good, count = point.good_events, point.total_events
        for into, value in (
            (sli, point.sli),
            (remaining, point.remaining),
            (total, count),
            (bad, None if good is None or count is None else count - good),
        ):
            if value is not None:
                into.append((t, value, value, value, value))
        for window, rate in point.burn_rates.items():
            if rate is not None:
                points_of.setdefault(f"burn_rate:{window}", []).append((t, rate, rate, rate, rate))


def slo_history_chart(
    engine: StoreEngine,
    *,
    service: str,
    name: str,
    start: datetime,
    end: datetime,
    width: int,
    now: datetime,
    raw_s: float,
    view: BurndownView = "rolling",
) -> HistoryChart:
    """The SLO's history over `[start, end)` downsampled to `width` buckets (NotFound when
    the SLO is not stored). Raises ValueError for an empty range or width.

    `view` picks the burn-down's window: the SLO's own, or the current calendar week, month
    or quarter (`core.compliance.burndown_window`): the budget left since that period's
    start, each hour spending `budget_burned_in_hour` of the period's budget."""
    if not end > start:
        raise ValueError("expected the range to end after it starts")
    seam = raw_horizon(now, raw_s=raw_s)
    moment = min(end, now)
    with transaction(engine, read_only=True) as session:
        row = get_slo(session, service=service, name=name)
        slo = row.to_slo()
        window_s = window_length_s(slo.window, moment)
        period = burndown_window(view, slo_window=slo.window)
        if period is not None:
            window_start, window_end = calendar_period(period, moment)
            period_s = int((window_end - window_start).total_seconds())
        elif isinstance(slo.window, RollingWindow):
            window_start, window_end = moment - timedelta(seconds=window_s), moment
        else:
            window_start, window_end = calendar_period(slo.window, moment)
        read_from = hour_floor(min(start, window_start))
        rollups = hour_rollups(session, slo_id=row.id, start=read_from, end=end)
        # Buckets of an hour or more show nothing an hour's rollup does not: raw snapshots
        # are read only past the newest rollup (the hour in progress). Shorter buckets read
        # them wherever they are kept.
        coarse = (end - start).total_seconds() / width >= HOUR_S
        raw_from = rollups[-1].hour_start + _HOUR if coarse and rollups else read_from
        points = snapshot_points(session, slo_id=row.id, start=raw_from, end=end)
    rolled = {rollup.hour_start: rollup for rollup in rollups}
    raw_hours: dict[datetime, list[SnapshotPoint]] = {}
    for point in points:
        raw_hours.setdefault(hour_floor(point.at), []).append(point)
    # hour by hour, one source: raw within the raw horizon or where no rollup exists
    points_of: dict[str, list[Point]] = {}
    hourly: list[tuple[datetime, float | None, float | None, int]] = []
    for hour in sorted({*rolled, *raw_hours}):
        raw = raw_hours.get(hour)
        if raw is not None and (hour >= seam or hour not in rolled):
            _add_points(points_of, raw)
            last = raw[-1]
            hourly.append((hour, last.burn_rates.get("1h"), last.remaining, last.window_s))
        else:
            rollup = rolled[hour]
            _add_rollup(points_of, rollup)
            burn = rollup.burn_rates.get("1h")
            hourly.append(
                (
                    hour,
                    burn.last if burn else None,
                    rollup.remaining.last if rollup.remaining else None,
                    rollup.window_s,
                )
            )
    series: dict[str, Buckets] = {}
    for figure, figure_points in points_of.items():
        buckets = downsample(figure_points, start=_epoch(start), end=_epoch(end), width=width)
        if buckets.t:
            series[figure] = buckets
    if period is not None:
        burndown = budget_burndown(
            [(hour, budget_burned_in_hour(burn, window_s=period_s)) for hour, burn, _, _ in hourly],
            window_start=window_start,
        )
    elif isinstance(slo.window, RollingWindow):
        burndown = budget_burndown(
            [
                (hour, budget_burned_in_hour(burn, window_s=hour_window_s))
                for hour, burn, _, hour_window_s in hourly
            ],
            window_start=window_start,
        )
    else:  # a calendar period's remaining budget is its burn-down, exactly
        burndown = [
            (hour + _HOUR, remaining)
            for hour, _, remaining, _ in hourly
            if remaining is not None and hour >= window_start
        ]
    # the hour in progress ends in the future: its point stands at the chart's end instead
    burndown = [(min(at, moment), remaining) for at, remaining in burndown]
    return HistoryChart(
        service=service,
        slo=name,
        objective=slo.objective,
        window=window_label(slo.window),
        window_s=window_s,
        start=start,
        end=end,
        width=width,
        raw_from=seam,
        series=series,
        ideal=ideal_budget_line(window_start=window_start, window_end=window_end),
        burndown=burndown,
    )


def slo_window_start(engine: StoreEngine, *, service: str, name: str, now: datetime) -> datetime:
    """Where the SLO's own window starts at `now` (the chart range "window"); NotFound when
    the SLO is not stored."""
    with transaction(engine, read_only=True) as session:
        slo = get_slo(session, service=service, name=name).to_slo()
    start, _ = window_span(slo.window, now)
    return start


# -- month-by-month compliance --------------------------------------------------------------


def slo_monthly_compliance(
    engine: StoreEngine, *, service: str, name: str, now: datetime, months: int = 13
) -> list[MonthCompliance]:
    """The SLO's compliance in each of the last `months` UTC months (this one so far
    included), from its hourly rollups (`core.compliance.monthly_compliance`). NotFound when
    the SLO is not stored."""
    starts = month_starts(now, count=months)
    with transaction(engine, read_only=True) as session:
        row = get_slo(session, service=service, name=name)
        rollups = hour_rollups(session, slo_id=row.id, start=starts[0], end=now)
    return monthly_compliance(rollups, months=starts)


# -- overlays --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Overlays:
    """What happened around an SLO in `[start, end)`, as plain documents: deploys the gate
    allowed, deploys it denied, incidents on the service, and the SLO's alerts."""

    deployments: list[dict[str, Any]]
    gate_denials: list[dict[str, Any]]
    incidents: list[dict[str, Any]]
    alerts: list[dict[str, Any]]


def _instant(moment: datetime | None) -> str | None:
    from srekit.core.instant import format_instant

    return None if moment is None else format_instant(moment)


def slo_overlays(
    engine: StoreEngine, *, service: str, name: str, start: datetime, end: datetime
) -> Overlays:
    """The events to draw over the SLO's charts (NotFound when the SLO is not stored).

    Alerts are the SLO's when their `srekit_slo` label names it and their `srekit_service`
    label (else `service`, else the service routing gave them) names the service."""
    deployments: list[dict[str, Any]] = []
    denials: list[dict[str, Any]] = []
    with transaction(engine, read_only=True) as session:
        get_slo(session, service=service, name=name)
        for deploy in list_deployments_between(
            session, services=[service], start=start, end=end, limit=1000
        ):
            document = {
                "at": _instant(deploy.requested_at),
                "version": deploy.version,
                "change_type": deploy.change_type,
                "decision": deploy.decision,
                "source": deploy.source,
            }
            if deploy.allowed:
                deployments.append(document)
            else:
                denials.append({**document, "reasons": list(deploy.reasons)})
        incidents = [
            {
                "id": incident.id,
                "title": incident.title,
                "severity": incident.severity,
                "state": incident.state,
                "opened_at": _instant(incident.opened_at),
                "resolved_at": _instant(incident.resolved_at),
            }
            for incident in reversed(
                list_incidents(session, service=service, state="all", opened_to=end, limit=1000)
            )
            if incident.resolved_at is None or incident.resolved_at >= start
        ]
        holding = f'"srekit_slo":{json.dumps(name, ensure_ascii=False)}'
        alerts = []
        for alert in alerts_overlapping(session, start=start, end=end, labels_holding=holding):
            labels = alert.labels
            owner = labels.get("srekit_service") or labels.get("service") or alert.service
            if labels.get("srekit_slo") == name and owner == service:
                alerts.append(
                    {
                        "alertname": alert.alertname,
                        "severity": labels.get("severity") or alert.severity,
                        "starts_at": _instant(alert.starts_at),
                        "ends_at": _instant(alert.ends_at),
                        "incident_id": alert.incident_id,
                    }
                )
    return Overlays(
        deployments=deployments, gate_denials=denials, incidents=incidents, alerts=alerts
    )


# -- the heatmap -----------------------------------------------------------------------------


def budget_heatmap(
    engine: StoreEngine, *, days: int, now: datetime
) -> tuple[list[datetime], list[dict[str, Any]]]:
    """Per stored SLO, the share of its window's budget each of the last `days` UTC days
    (today included, up to its last rolled-up hour) spent: the sum of its hours' spend
    (`core.history.budget_burned_in_hour`). None for a day without data."""
    if days < 1:
        raise ValueError(f"expected at least one day, got {days}")
    today = hour_floor(now).replace(hour=0)
    moments = [today - timedelta(days=back) for back in range(days - 1, -1, -1)]
    with transaction(engine, read_only=True) as session:
        burned = budget_burned_by_day(session, days=moments)
        named = slo_objectives(session)
    rows = [
        {
            "service": service,
            "slo": name,
            "objective": objective,
            "burned": burned.get(slo_id) or [None] * days,
        }
        for slo_id, service, name, objective in named
    ]
    return moments, rows
