"""SLO history: hourly rollups of the snapshots (`core.history`), the raw snapshots they
replace, and what the charts read back. Records, not configuration: not audited.

Compaction is a few statements a caller runs in transactions of its own
(`flows.history.compact_history`): `snapshot_hours` finds the hours holding snapshots,
`roll_up_hour` inserts the rollups an hour lacks (`INSERT … ON CONFLICT DO NOTHING` on
`(slo_id, hour_start)`, so a second run, or a second replica, adds nothing),
`delete_rolled_snapshots` removes the raw snapshots of an hour once it is rolled up, keeping
each SLO's newest, and `delete_rollups_before` applies the hourly horizon.

Each SLO's day is rolled up too (`core.history.rollup_day`, one `slo_history_days` row per SLO
per UTC day) from its hourly rollups, in the same transaction as any change to them
(`roll_up_hour`, `delete_rollups_before`, both through `refresh_day_rollups`), so a day's row
always says what its hours say; the dashboard's 30-day views read those rows.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple, cast

import orjson
from sqlalchemy import CursorResult, case, delete, func, null, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from srekit.core.history import (
    Extent,
    HourClose,
    HourRollup,
    SnapshotPoint,
    budget_burned_in_hour,
    day_floor,
    day_number,
    hour_floor,
    rollup_day,
    rollup_hour,
)
from srekit.core.specs import canonical_json
from srekit.store.repo._base import core_connection, driver_rows, table_of
from srekit.store.tables import SloDayRow, SloHourRow, SloRow, SnapshotRow

__all__ = [
    "DayClose",
    "DayFigures",
    "budget_burned_by_day",
    "day_closes",
    "day_rollups",
    "delete_rolled_snapshots",
    "delete_rollups_before",
    "hour_rollups",
    "refresh_day_rollups",
    "roll_up_hour",
    "rollup_chart_rows",
    "snapshot_chart_rows",
    "snapshot_hours",
    "snapshot_points",
]

_HOUR = timedelta(hours=1)
_DAY = timedelta(days=1)
_HOURS = table_of(SloHourRow)
_DAYS = table_of(SloDayRow)
_SNAPSHOTS = table_of(SnapshotRow)
_FIGURES = ("sli", "remaining", "bad_events", "total_events")
_INSERT = {  # by dialect: INSERT … ON CONFLICT DO NOTHING is spelled by each
    "postgresql": postgresql.insert(_HOURS).on_conflict_do_nothing(
        index_elements=["slo_id", "hour_start"]
    ),
    "sqlite": sqlite.insert(_HOURS).on_conflict_do_nothing(index_elements=["slo_id", "hour_start"]),
}
_POINT_COLUMNS = (
    _SNAPSHOTS.c.evaluated_at,
    _SNAPSHOTS.c.objective,
    _SNAPSHOTS.c.window,
    _SNAPSHOTS.c.window_s,
    _SNAPSHOTS.c.sli,
    _SNAPSHOTS.c.remaining,
    _SNAPSHOTS.c.good_events,
    _SNAPSHOTS.c.total_events,
    _SNAPSHOTS.c.burn_rates_json,
    _SNAPSHOTS.c.policy_state,
    _SNAPSHOTS.c.data,
)


def snapshot_hours(session: Session, *, since: datetime, before: datetime) -> list[datetime]:
    """The start of every UTC hour in `[since, before)` holding a snapshot, oldest first.

    One index seek per hour found, jumping over hours without any: a store stopped for a
    month costs no more than one that was not."""
    connection = core_connection(session)
    hours: list[datetime] = []
    cursor = since
    while cursor < before:
        found = connection.execute(
            select(func.min(_SNAPSHOTS.c.evaluated_at)).where(
                _SNAPSHOTS.c.evaluated_at >= cursor, _SNAPSHOTS.c.evaluated_at < before
            )
        ).scalar_one()
        if found is None:
            break
        hour = hour_floor(found)
        hours.append(hour)
        cursor = hour + _HOUR
    return hours


def _point(row: Any) -> SnapshotPoint:
    return SnapshotPoint(
        at=row.evaluated_at,
        objective=row.objective,
        window=row.window,
        window_s=row.window_s,
        sli=row.sli,
        remaining=row.remaining,
        good_events=row.good_events,
        total_events=row.total_events,
        burn_rates=json.loads(row.burn_rates_json),
        policy_state=row.policy_state,
        data=row.data,
    )


def _rollup_values(slo_id: int, rollup: HourRollup) -> dict[str, Any]:
    values: dict[str, Any] = {
        "slo_id": slo_id,
        "hour_start": rollup.hour_start,
        "samples": rollup.samples,
        "objective": rollup.objective,
        "window": rollup.window,
        "window_s": rollup.window_s,
        "burn_rates_json": canonical_json(
            {
                name: None
                if extent is None
                else [extent.low, extent.high, extent.first, extent.last]
                for name, extent in rollup.burn_rates.items()
            }
        ),
        "worst_data": rollup.worst_data,
        "worst_policy_state": rollup.worst_policy_state,
    }
    for figure in _FIGURES:
        extent: Extent | None = getattr(rollup, figure)
        for part, value in zip(
            ("min", "max", "first", "last"),
            (None, None, None, None)
            if extent is None
            else (extent.low, extent.high, extent.first, extent.last),
            strict=True,
        ):
            values[f"{figure}_{part}"] = value
    burn_1h = rollup.burn_rates.get("1h")
    values["budget_burned"] = budget_burned_in_hour(
        burn_1h.last if burn_1h is not None else None, window_s=rollup.window_s
    )
    return values


def roll_up_hour(session: Session, *, hour_start: datetime) -> int:
    """Insert the rollup of `hour_start` for every SLO with snapshots in that hour and no
    rollup of it yet; returns how many were inserted. Running it twice inserts nothing."""
    connection = core_connection(session)
    rolled = select(_HOURS.c.slo_id).where(_HOURS.c.hour_start == hour_start)
    rows = connection.execute(
        select(_SNAPSHOTS.c.slo_id, *_POINT_COLUMNS)
        .where(
            _SNAPSHOTS.c.evaluated_at >= hour_start,
            _SNAPSHOTS.c.evaluated_at < hour_start + _HOUR,
            _SNAPSHOTS.c.slo_id.not_in(rolled),
        )
        .order_by(_SNAPSHOTS.c.slo_id, _SNAPSHOTS.c.evaluated_at, _SNAPSHOTS.c.id)
    )
    by_slo: dict[int, list[SnapshotPoint]] = {}
    for row in rows:
        by_slo.setdefault(row.slo_id, []).append(_point(row))
    values = [
        _rollup_values(slo_id, rollup_hour(points, hour_start=hour_start))
        for slo_id, points in by_slo.items()
    ]
    if not values:
        return 0
    result = connection.execute(_INSERT[connection.dialect.name], values)
    inserted = cast(CursorResult[Any], result).rowcount
    refresh_day_rollups(session, day_start=day_floor(hour_start), slo_ids=list(by_slo))
    return inserted if inserted >= 0 else len(values)


def delete_rolled_snapshots(session: Session, *, hour_start: datetime) -> int:
    """Delete the snapshots of `hour_start` whose SLO has that hour rolled up, keeping each
    SLO's newest snapshot (a status can still be shown, as stale, after a long stop);
    returns how many were deleted."""
    newer = aliased(SnapshotRow)
    newest_at = (
        select(func.max(newer.evaluated_at))
        .where(newer.slo_id == SnapshotRow.slo_id)
        .scalar_subquery()
    )
    rolled = select(SloHourRow.slo_id).where(SloHourRow.hour_start == hour_start)
    result = session.execute(
        delete(SnapshotRow)
        .where(
            SnapshotRow.evaluated_at >= hour_start,
            SnapshotRow.evaluated_at < hour_start + _HOUR,
            SnapshotRow.evaluated_at < newest_at,
            SnapshotRow.slo_id.in_(rolled),
        )
        .execution_options(synchronize_session=False)
    )
    return cast(CursorResult[Any], result).rowcount


def delete_rollups_before(session: Session, *, before: datetime) -> int:
    """Delete the rollups of hours starting before `before` (the hourly horizon), and with
    them the days they made: the days before `before`'s are deleted, its own rolled up again
    from the hours it keeps."""
    connection = core_connection(session)
    result = connection.execute(delete(_HOURS).where(_HOURS.c.hour_start < before))
    deleted = cast(CursorResult[Any], result).rowcount
    if deleted:
        first_kept = day_floor(before)
        connection.execute(delete(_DAYS).where(_DAYS.c.day < day_number(first_kept)))
        if first_kept < before:
            refresh_day_rollups(session, day_start=first_kept)
    return deleted


def snapshot_points(
    session: Session, *, slo_id: int, start: datetime, end: datetime
) -> list[SnapshotPoint]:
    """The SLO's raw snapshots in `[start, end)`, oldest first, as history points."""
    rows = core_connection(session).execute(
        select(*_POINT_COLUMNS)
        .where(
            _SNAPSHOTS.c.slo_id == slo_id,
            _SNAPSHOTS.c.evaluated_at >= start,
            _SNAPSHOTS.c.evaluated_at < end,
        )
        .order_by(_SNAPSHOTS.c.evaluated_at, _SNAPSHOTS.c.id)
    )
    return [_point(row) for row in rows]


_ROLLUP_COLUMNS = (
    _HOURS.c.hour_start,
    _HOURS.c.samples,
    _HOURS.c.objective,
    _HOURS.c.window,
    _HOURS.c.window_s,
    *(
        _HOURS.c[f"{figure}_{part}"]
        for figure in _FIGURES
        for part in ("min", "max", "first", "last")
    ),
    _HOURS.c.burn_rates_json,
    _HOURS.c.worst_data,
    _HOURS.c.worst_policy_state,
)


def _extent_at(row: Sequence[Any], position: int) -> Extent | None:
    """The four figure columns from `position` (min, max, first, last) as an extent."""
    return None if row[position] is None else Extent(*row[position : position + 4])


def hour_rollups(
    session: Session, *, slo_id: int, start: datetime, end: datetime
) -> list[HourRollup]:
    """The SLO's rollups of hours starting in `[start, end)`, oldest first. Columns by
    position: a year's chart reads thousands of rows."""
    rows = core_connection(session).execute(
        select(*_ROLLUP_COLUMNS)
        .where(
            _HOURS.c.slo_id == slo_id,
            _HOURS.c.hour_start >= start,
            _HOURS.c.hour_start < end,
        )
        .order_by(_HOURS.c.hour_start)
    )
    loads = orjson.loads  # a year's chart decodes thousands of these
    return [
        HourRollup(
            row[0],
            row[1],
            row[2],
            row[3],
            row[4],
            _extent_at(row, 5),
            _extent_at(row, 9),
            _extent_at(row, 13),
            _extent_at(row, 17),
            {
                name: None if parts is None else Extent(*parts)
                for name, parts in loads(row[21]).items()
            },
            row[22],
            row[23],
        )
        for row in rows
    ]


def _rollup_chart_columns(figures: Collection[str]) -> tuple[Any, ...]:
    """The columns a chart reads, a figure not in `figures` as NULLs (the positions stay);
    `remaining_last` always, for the burn-down."""
    return (
        _HOURS.c.hour_start,
        _HOURS.c.window_s,
        *(
            _HOURS.c[f"{figure}_{part}"]
            if figure in figures or (figure, part) == ("remaining", "last")
            else null()
            for figure in _FIGURES
            for part in ("min", "max", "first", "last")
        ),
        _HOURS.c.burn_rates_json,
    )


_SNAPSHOT_CHART_COLUMNS = (
    _SNAPSHOTS.c.evaluated_at,
    _SNAPSHOTS.c.window_s,
    _SNAPSHOTS.c.sli,
    _SNAPSHOTS.c.remaining,
    _SNAPSHOTS.c.good_events,
    _SNAPSHOTS.c.total_events,
    _SNAPSHOTS.c.burn_rates_json,
)


def rollup_chart_rows(
    session: Session,
    *,
    slo_id: int,
    start: datetime,
    end: datetime,
    figures: Collection[str] = _FIGURES,
) -> list[Sequence[Any]]:
    """What a chart reads of the SLO's rollups of hours starting in `[start, end)`, oldest
    first, as plain rows: `hour_start, window_s`, then min, max, first, last of `sli`,
    `remaining`, `bad_events`, `total_events` (positions 2..17; None for a figure not in
    `figures`, but `remaining`'s last), then `burn_rates_json` (18), still encoded. No
    objects per row: a 90-day chart reads 2,160 of them, by the `(slo_id, hour_start)`
    unique index."""
    rows = core_connection(session).execute(
        select(*_rollup_chart_columns(figures))
        .where(
            _HOURS.c.slo_id == slo_id,
            _HOURS.c.hour_start >= start,
            _HOURS.c.hour_start < end,
        )
        .order_by(_HOURS.c.hour_start)
    )
    return list(rows)


def snapshot_chart_rows(
    session: Session, *, slo_id: int, start: datetime, end: datetime
) -> list[Sequence[Any]]:
    """What a chart reads of the SLO's raw snapshots in `[start, end)`, oldest first, as
    plain rows: `evaluated_at, window_s, sli, remaining, good_events, total_events,
    burn_rates_json` (still encoded), by the `(slo_id, evaluated_at, id)` index."""
    rows = core_connection(session).execute(
        select(*_SNAPSHOT_CHART_COLUMNS)
        .where(
            _SNAPSHOTS.c.slo_id == slo_id,
            _SNAPSHOTS.c.evaluated_at >= start,
            _SNAPSHOTS.c.evaluated_at < end,
        )
        .order_by(_SNAPSHOTS.c.evaluated_at, _SNAPSHOTS.c.id)
    )
    return list(rows)


def _day_upsert(dialect: str) -> Any:
    """INSERT … ON CONFLICT (slo_id, day) DO UPDATE, spelled by each dialect."""
    statement = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(_DAYS)
    return statement.on_conflict_do_update(
        index_elements=["slo_id", "day"],
        set_={
            name: statement.excluded[name]
            for name in (
                "hours",
                "close_hour_start",
                "sli_last",
                "remaining_last",
                "burn_1d_last",
                "budget_burned",
            )
        },
    )


_UPSERT_DAY = {dialect: _day_upsert(dialect) for dialect in ("postgresql", "sqlite")}
_DAILY_BURN_WINDOW = "1d"


def _burn_1d(burn_rates_json: str) -> float | None:
    parts = orjson.loads(burn_rates_json).get(_DAILY_BURN_WINDOW)
    return None if parts is None else cast(float | None, parts[3])


def refresh_day_rollups(
    session: Session, *, day_start: datetime, slo_ids: Sequence[int] | None = None
) -> int:
    """Roll up again the day starting at `day_start` (a UTC midnight) of every SLO, or of
    those of `slo_ids`, from the hourly rollups it holds now: insert or replace each SLO's
    row, delete the rows of SLOs left without an hour that day. Returns the rows written."""
    connection = core_connection(session)
    chosen = [] if slo_ids is None else [_DAYS.c.slo_id.in_(list(slo_ids))]
    rows = connection.execute(
        select(
            _HOURS.c.slo_id,
            _HOURS.c.hour_start,
            _HOURS.c.sli_last,
            _HOURS.c.remaining_last,
            _HOURS.c.burn_rates_json,
            _HOURS.c.budget_burned,
        )
        .where(
            _HOURS.c.hour_start >= day_start,
            _HOURS.c.hour_start < day_start + _DAY,
            *([] if slo_ids is None else [_HOURS.c.slo_id.in_(list(slo_ids))]),
        )
        .order_by(_HOURS.c.slo_id, _HOURS.c.hour_start)
    )
    by_slo: dict[int, list[Any]] = {}
    for row in rows:
        by_slo.setdefault(row.slo_id, []).append(row)
    values = []
    for slo_id, hours in by_slo.items():
        last = hours[-1]  # the day's close: only its burn rates are decoded
        rolled = rollup_day(
            day_start,
            [
                HourClose(
                    hour.hour_start,
                    hour.sli_last,
                    hour.remaining_last,
                    _burn_1d(hour.burn_rates_json) if hour is last else None,
                    hour.budget_burned,
                )
                for hour in hours
            ],
        )
        values.append(
            {
                "slo_id": slo_id,
                "day": day_number(rolled.day_start),
                "hours": rolled.hours,
                "close_hour_start": rolled.close_hour_start,
                "sli_last": rolled.sli,
                "remaining_last": rolled.remaining,
                "burn_1d_last": rolled.burn_1d,
                "budget_burned": rolled.budget_burned,
            }
        )
    connection.execute(
        delete(_DAYS).where(
            _DAYS.c.day == day_number(day_start), _DAYS.c.slo_id.not_in(list(by_slo)), *chosen
        )
    )
    if values:
        connection.execute(_UPSERT_DAY[connection.dialect.name], values)
    return len(values)


def _positions(days: Sequence[datetime]) -> dict[int, int]:
    """Each of `days` (UTC midnights) as its stored day number, to its position."""
    return {day_number(day): position for position, day in enumerate(days)}


class DayFigures(NamedTuple):
    """What an SLO's day closed with (its day rollup's figures, `core.history.DayRollup`), as
    the dashboard's 30-day views read it: a tuple, a page of the SLO list reads 1,500."""

    sli: float | None
    remaining: float | None
    burn_1d: float | None
    budget_burned: float | None


def day_rollups(
    session: Session, *, days: Sequence[datetime], slo_ids: Sequence[int]
) -> dict[int, list[DayFigures | None]]:
    """Per SLO id of `slo_ids`, the figures of each of `days` (UTC midnights), None for a day
    without a rollup. One query by the `(slo_id, day)` unique index, no timestamp decoded:
    a page of 50 SLOs over 30 days reads 1,500 short rows."""
    found: dict[int, list[DayFigures | None]] = {slo_id: [None] * len(days) for slo_id in slo_ids}
    if not slo_ids or not days:
        return found
    positions = _positions(days)
    rows = driver_rows(
        core_connection(session),
        select(
            _DAYS.c.slo_id,
            _DAYS.c.day,
            _DAYS.c.sli_last,
            _DAYS.c.remaining_last,
            _DAYS.c.burn_1d_last,
            _DAYS.c.budget_burned,
        ).where(
            _DAYS.c.slo_id.in_(list(slo_ids)),
            _DAYS.c.day >= min(positions),
            _DAYS.c.day <= max(positions),
        ),
    )
    for slo_id, day, *figures in rows:
        position = positions.get(day)
        if position is not None:  # else a day between two of `days`, not one of them
            found[slo_id][position] = DayFigures(*figures)
    return found


def budget_burned_by_day(
    session: Session, *, days: Sequence[datetime]
) -> dict[int, list[float | None]]:
    """Per SLO id, the budget each day (a UTC midnight of `days`) spent: its day rollup's
    (the sum of its rolled-up hours' `budget_burned`); None for a day without one. One query
    over the `day` index alone; a month of 1,000 SLOs is 30,000 rows of three numbers."""
    burned: dict[int, list[float | None]] = {}
    if not days:
        return burned
    positions = _positions(days)
    rows = driver_rows(
        core_connection(session),
        select(_DAYS.c.slo_id, _DAYS.c.day, _DAYS.c.budget_burned).where(
            _DAYS.c.day >= min(positions), _DAYS.c.day <= max(positions)
        ),
    )
    empty = [None] * len(days)
    for slo_id, day, total in rows:
        position = positions.get(day)
        if position is None:
            continue
        figures = burned.get(slo_id)
        if figures is None:
            figures = burned[slo_id] = list(empty)
        figures[position] = total
    return burned


class DayClose(NamedTuple):
    """How an SLO's day ended, as its last rolled-up hour of the day recorded it: that hour's
    last SLI and remaining budget (over the SLO window) and the last value of each burn-rate
    window (None: not held). A tuple: a 30-day view of 1,000 SLOs reads 30,000. The burn
    rates stay encoded until asked for (`burn_rates`): a sparkline of the remaining budget
    never decodes them."""

    hour_start: datetime
    sli: float | None
    remaining: float | None
    burn_rates_json: str

    @property
    def burn_rates(self) -> dict[str, float | None]:
        return {
            name: None if parts is None else parts[3]
            for name, parts in orjson.loads(self.burn_rates_json).items()
        }


_CLOSE_COLUMNS = (
    _HOURS.c.slo_id,
    _HOURS.c.hour_start,
    _HOURS.c.sli_last,
    _HOURS.c.remaining_last,
    _HOURS.c.burn_rates_json,
)


def _last_hour_in(start: datetime, end: datetime) -> datetime | None:
    """The start of the last whole UTC hour that can start in `[start, end)`, if any."""
    last = hour_floor(end - timedelta(microseconds=1))
    return last if last >= start else None


def day_closes(
    session: Session,
    *,
    days: Sequence[tuple[datetime, datetime]],
    slo_ids: Sequence[int] | None = None,
) -> dict[int, list[DayClose | None]]:
    """Per SLO id (every stored SLO, or those of `slo_ids`), for each `(start, end)` of `days`,
    its last rollup of an hour starting in `[start, end)`, or None when it has none there.

    Compaction rolls up every complete hour, so a day's close is nearly always the rollup of
    its last hour (23:00, or today's last complete hour): one query reads those for every day
    and SLO by the `(slo_id, hour_start)` unique index. Only the pairs it did not find (a day
    the evaluator stopped early, or without any history) are looked for again, a query per
    such day with one seek per SLO. Rollups outlive the raw snapshots (the retention's raw
    horizon), so a compacted store still answers."""
    slos = select(SloRow.id)
    if slo_ids is not None:
        slos = slos.where(SloRow.id.in_(list(slo_ids)))
    ids = list(session.scalars(slos))
    found: dict[int, list[DayClose | None]] = {slo_id: [None] * len(days) for slo_id in ids}
    if not ids or not days:
        return found
    connection = core_connection(session)
    positions: dict[datetime, list[int]] = {}
    for position, (start, end) in enumerate(days):
        last = _last_hour_in(start, end)
        if last is not None:
            positions.setdefault(last, []).append(position)
    if positions:
        hours = list(positions)
        # which of `hours` a row is, as a number: no timestamp to decode for each row
        hour_index = case(
            {hour: index for index, hour in enumerate(hours)}, value=_HOURS.c.hour_start
        )
        exact = select(
            _HOURS.c.slo_id,
            hour_index,
            _HOURS.c.sli_last,
            _HOURS.c.remaining_last,
            _HOURS.c.burn_rates_json,
        ).where(_HOURS.c.hour_start.in_(hours))
        if slo_ids is not None:
            exact = exact.where(_HOURS.c.slo_id.in_(ids))
        for slo_id, index, sli, remaining, burn_rates_json in connection.execute(exact):
            closes = found.get(slo_id)
            if closes is None:
                continue
            close = DayClose(hours[index], sli, remaining, burn_rates_json)
            for position in positions[hours[index]]:
                closes[position] = close
    slo_table = table_of(SloRow)
    newer = _HOURS.alias("newer")
    for position, (start, end) in enumerate(days):
        wanting = [slo_id for slo_id in ids if found[slo_id][position] is None]
        if not wanting or start >= end:
            continue
        last_id = (
            select(newer.c.id)
            .where(
                newer.c.slo_id == slo_table.c.id,
                newer.c.hour_start >= start,
                newer.c.hour_start < end,
            )
            .order_by(newer.c.hour_start.desc())
            .limit(1)
            .correlate(slo_table)
            .scalar_subquery()
        )
        query = (
            select(*_CLOSE_COLUMNS)
            .select_from(slo_table)
            .join(_HOURS, _HOURS.c.id == last_id)
            .where(slo_table.c.id.in_(wanting))
        )
        for slo_id, hour_start, sli, remaining, burn_rates_json in connection.execute(query):
            found[slo_id][position] = DayClose(hour_start, sli, remaining, burn_rates_json)
    return found
