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
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

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
    SpanValues,
    bucket_runs,
    budget_burndown,
    budget_burned_in_hour,
    downsample_runs,
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
    rollup_chart_rows,
    slo_objectives,
    snapshot_chart_rows,
    snapshot_hours,
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


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_FIGURES = ("sli", "remaining", "bad_events", "total_events")
_BURN_1H = "1h"
#: An hour's figures for the burn-down: its start, last 1-hour burn rate, last remaining
#: budget and the window's length.
_Hourly = tuple[datetime, float | None, float | None, int]


def _hour_number(moment: datetime) -> int:
    """The UTC hour holding `moment`, counted from the epoch (exact: no float rounding)."""
    return (moment - _EPOCH) // _HOUR


@dataclass(frozen=True)
class _Timeline:
    """One source's rows as columns: times, each row's hour, each figure's spans per row
    (`burn_rate:<window>` too), and what the burn-down reads of each hour."""

    times: list[float]
    hours: list[int]
    figures: dict[str, list[SpanValues]]
    hourly: dict[int, _Hourly]


def _rollup_timeline(
    rows: Sequence[Sequence[Any]],
    *,
    wanted: Collection[str],
    burn_rates: bool = True,
    burndown_from: datetime | None = None,
) -> _Timeline:
    """`store.repo.rollup_chart_rows` as columns: each `wanted` figure's four columns
    zipped, the burn rates decoded once per row. Without `burn_rates` their series are left
    out and only the rows from `burndown_from` on are decoded (the burn-down ignores the
    hours before its window's start)."""
    columns: list[Sequence[Any]] = list(zip(*rows, strict=True)) if rows else [()] * 19
    starts: Sequence[datetime] = columns[0]
    figures: dict[str, list[SpanValues]] = {}
    for number, figure in enumerate(_FIGURES):
        if figure not in wanted:
            continue
        low, high, first, last = columns[2 + 4 * number : 6 + 4 * number]
        figures[figure] = [
            None if lo is None else (lo, hi, fi, la)
            for lo, hi, fi, la in zip(low, high, first, last, strict=True)
        ]
    if burn_rates or burndown_from is None:
        burns = [orjson.loads(encoded) for encoded in columns[18]]
    else:
        burns = [
            orjson.loads(encoded) if start >= burndown_from else {}
            for start, encoded in zip(starts, columns[18], strict=True)
        ]
    for window in dict.fromkeys(name for burn in burns for name in burn) if burn_rates else ():
        figures[f"burn_rate:{window}"] = [burn.get(window) for burn in burns]
    times = [_epoch(start) for start in starts]
    hours = [int(t) // HOUR_S for t in times]  # exact: a rollup starts on the hour
    remaining_last = columns[9]
    hourly = {
        hour: (start, None if burn_1h is None else burn_1h[3], remaining, window_s)
        for hour, start, burn_1h, remaining, window_s in zip(
            hours,
            starts,
            (burn.get(_BURN_1H) for burn in burns),
            remaining_last,
            columns[1],
            strict=True,
        )
    }
    return _Timeline(times, hours, figures, hourly)


def _snapshot_timeline(rows: Sequence[Sequence[Any]], *, burn_rates: bool = True) -> _Timeline:
    """`store.repo.snapshot_chart_rows` as columns: a reading is a span of one value; the
    burn-down reads each hour's last snapshot (their series left out without `burn_rates`)."""
    columns: list[Sequence[Any]] = list(zip(*rows, strict=True)) if rows else [()] * 7
    at, window_s, sli, remaining, good, total, encoded = columns
    figures: dict[str, list[SpanValues]] = {
        "sli": [None if value is None else (value, value, value, value) for value in sli],
        "remaining": [
            None if value is None else (value, value, value, value) for value in remaining
        ],
        "bad_events": [
            None if g is None or n is None else (n - g, n - g, n - g, n - g)
            for g, n in zip(good, total, strict=True)
        ],
        "total_events": [
            None if value is None else (value, value, value, value) for value in total
        ],
    }
    burns = [orjson.loads(text) for text in encoded]
    for window in dict.fromkeys(name for burn in burns for name in burn) if burn_rates else ():
        figures[f"burn_rate:{window}"] = [
            None if (rate := burn.get(window)) is None else (rate, rate, rate, rate)
            for burn in burns
        ]
    hours = [_hour_number(moment) for moment in at]
    hourly = {  # the last of each hour wins
        hour: (_EPOCH + hour * _HOUR, burn.get(_BURN_1H), left, length)
        for hour, burn, left, length in zip(hours, burns, remaining, window_s, strict=True)
    }
    return _Timeline([_epoch(moment) for moment in at], hours, figures, hourly)


def _merged(
    rolled: _Timeline,
    raw: _Timeline,
    *,
    raw_from_hour: int,
    figures_wanted: Collection[str] | None = None,
) -> tuple[list[float], dict[str, list[SpanValues]], list[_Hourly]]:
    """Both sources as one timeline, hour by hour from one source: raw where the hour is
    past the raw horizon (`raw_from_hour`) or has no rollup, the rollup elsewhere; only the
    figures of `figures_wanted` (None: all)."""
    rolled_hours = set(rolled.hours)
    raw_hours = {hour for hour in raw.hourly if hour >= raw_from_hour or hour not in rolled_hours}
    order = sorted(
        [
            (t, 0, row)
            for row, (t, hour) in enumerate(zip(rolled.times, rolled.hours, strict=True))
            if hour not in raw_hours
        ]
        + [
            (t, 1, row)
            for row, (t, hour) in enumerate(zip(raw.times, raw.hours, strict=True))
            if hour in raw_hours
        ]
    )
    figures: dict[str, list[SpanValues]] = {}
    for figure in dict.fromkeys([*rolled.figures, *raw.figures]):
        if figures_wanted is not None and figure not in figures_wanted:
            continue
        of_rolled = rolled.figures.get(figure)
        of_raw = raw.figures.get(figure)
        figures[figure] = [
            None if (column := (of_rolled, of_raw)[source]) is None else column[row]
            for _, source, row in order
        ]
    hourly = sorted(
        [value for hour, value in rolled.hourly.items() if hour not in raw_hours]
        + [raw.hourly[hour] for hour in raw_hours]
    )
    return [t for t, _, _ in order], figures, hourly


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
    figures: Collection[str] | None = None,
) -> HistoryChart:
    """The SLO's history over `[start, end)` downsampled to `width` buckets (NotFound when
    the SLO is not stored). Raises ValueError for an empty range or width.

    `view` picks the burn-down's window: the SLO's own, or the current calendar week, month
    or quarter (`core.compliance.burndown_window`): the budget left since that period's
    start, each hour spending `budget_burned_in_hour` of the period's budget. `figures`
    keeps only those series (`sli`, `burn_rate:1h`, …; None: all): a page drawing two of
    them need not pay for a dozen."""
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
        scalars = _FIGURES if figures is None else [f for f in _FIGURES if f in figures]
        rollup_rows = rollup_chart_rows(
            session, slo_id=row.id, start=read_from, end=end, figures=scalars
        )
        # Buckets of an hour or more show nothing an hour's rollup does not: raw snapshots
        # are read only past the newest rollup (the hour in progress). Shorter buckets read
        # them wherever they are kept.
        coarse = (end - start).total_seconds() / width >= HOUR_S
        raw_from = rollup_rows[-1][0] + _HOUR if coarse and rollup_rows else read_from
        raw_rows = snapshot_chart_rows(session, slo_id=row.id, start=raw_from, end=end)
    burn_rates = figures is None or any(name.startswith("burn_rate:") for name in figures)
    times, columns, hourly = _merged(
        _rollup_timeline(
            rollup_rows, wanted=scalars, burn_rates=burn_rates, burndown_from=window_start
        ),
        _snapshot_timeline(raw_rows, burn_rates=burn_rates),
        raw_from_hour=_hour_number(seam),
        figures_wanted=figures,
    )
    begin, stop = _epoch(start), _epoch(end)
    runs = bucket_runs(times, start=begin, end=stop, width=width)
    series: dict[str, Buckets] = {}
    for figure, values in columns.items():
        buckets = downsample_runs(values, runs, start=begin, end=stop, width=width)
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
