"""SLO snapshots: what each evaluation round found, kept as history. They record, they do not
change the configuration: they are not audited."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, insert, select
from sqlalchemy.orm import Session, aliased, contains_eager

from srekit.core.specs import canonical_json
from srekit.core.status import DataState, SloStatus
from srekit.store.codec import alerts_to_list
from srekit.store.repo.slos import get_slo
from srekit.store.tables import ServiceRow, SloRow, SnapshotRow

__all__ = [
    "SnapshotPoint",
    "daily_snapshots",
    "last_good_snapshot",
    "latest_snapshots",
    "newest_snapshot_id",
    "prune_snapshots",
    "record_snapshots",
    "slo_history",
]

_GOOD_DATA = (DataState.OK.value, DataState.NO_DATA.value)


@dataclass(frozen=True)
class SnapshotPoint:
    """The figures of one snapshot a report samples: when, the SLI, the budget."""

    evaluated_at: datetime
    sli: float | None
    remaining: float | None
    consumed: float | None
    time_to_exhaustion_s: float | None


def _snapshot_values(status: SloStatus, slo: SloRow, at: datetime) -> dict[str, Any]:
    budget = status.error_budget
    counts = status.counts if status.counts is not None and status.counts.counted else None
    return {
        "slo_id": slo.id,
        "slo_version": slo.version,
        "evaluated_at": at,
        "objective": status.objective,
        "window": status.window,
        "window_s": status.window_s,
        "sli": status.sli,
        "remaining": budget.remaining if budget else None,
        "consumed": budget.consumed if budget else None,
        "allowed_bad_events": budget.allowed_bad_events if budget else None,
        "good_events": counts.good if counts else None,
        "total_events": counts.total if counts else None,
        "burn_rates_json": canonical_json(dict(status.burn_rates)),
        "time_to_exhaustion_s": status.time_to_exhaustion_s,
        "policy_state": status.policy_state,
        "data": status.data.value,
        "detail": status.detail,
        "alerts_json": canonical_json(alerts_to_list(status.alerts)),
    }


def record_snapshots(
    session: Session, *, statuses: Sequence[SloStatus], now: datetime | None = None
) -> int:
    """Store one snapshot per status of a stored SLO; returns how many were written.

    Each is stamped `now`, or its own `at` when `now` is None. Statuses of SLOs the store does
    not hold (deleted since the round began) are skipped: there is nothing to attach them to.
    """
    services = {status.service for status in statuses}
    if not services:
        return 0
    known = {
        (row.service.name, row.name): row
        for row in session.scalars(
            select(SloRow)
            .join(SloRow.service)
            .where(ServiceRow.name.in_(services))
            .options(contains_eager(SloRow.service))
        )
    }
    values = [
        _snapshot_values(status, known[status.service, status.slo], now or status.at)
        for status in statuses
        if (status.service, status.slo) in known
    ]
    if values:
        session.execute(insert(SnapshotRow), values)
    return len(values)


def _with_slo(query: Any) -> Any:
    """Load each snapshot's SLO and service in the same query (`SnapshotRow.to_status` reads
    them, possibly after the session has closed)."""
    return (
        query.join(SnapshotRow.slo)
        .join(SloRow.service)
        .options(contains_eager(SnapshotRow.slo).contains_eager(SloRow.service))
    )


def latest_snapshots(
    session: Session, *, service: str | None = None, at: datetime | None = None
) -> dict[tuple[str, str], SnapshotRow]:
    """The newest snapshot of every SLO (of one service), taken at or before `at` (None: the
    newest of all), keyed by `(service, slo)`; SLOs with none then are absent.

    One query; each SLO's newest row is found through the `(slo_id, evaluated_at, id)` index,
    so the cost grows with the number of SLOs, not with the history kept.
    """
    newer = aliased(SnapshotRow)
    newest_id = (
        select(newer.id)
        .where(newer.slo_id == SloRow.id, *(() if at is None else (newer.evaluated_at <= at,)))
        .order_by(newer.evaluated_at.desc(), newer.id.desc())
        .limit(1)
        .correlate(SloRow)
        .scalar_subquery()
    )
    query = _with_slo(select(SnapshotRow)).where(SnapshotRow.id == newest_id)
    if service is not None:
        query = query.where(ServiceRow.name == service)
    rows: list[SnapshotRow] = list(session.scalars(query))
    return {(row.slo.service.name, row.slo.name): row for row in rows}


def newest_snapshot_id(session: Session) -> int | None:
    """The newest snapshot's id (None: none yet): snapshots are only ever added, so it moves
    whenever a round recorded some."""
    return session.scalar(select(func.max(SnapshotRow.id)))


def last_good_snapshot(session: Session, *, slo_id: int) -> SnapshotRow | None:
    """The newest snapshot of an SLO whose source answered (`ok` or `no_data`), if any."""
    query = (
        _with_slo(select(SnapshotRow))
        .where(SnapshotRow.slo_id == slo_id, SnapshotRow.data.in_(_GOOD_DATA))
        .order_by(SnapshotRow.evaluated_at.desc(), SnapshotRow.id.desc())
        .limit(1)
    )
    return cast(SnapshotRow | None, session.scalars(query).first())


def slo_history(
    session: Session,
    *,
    service: str,
    name: str,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 1000,
) -> list[SnapshotRow]:
    """Snapshots of `service/name` in `[since, until]`, oldest first: the newest `limit` of them.

    NotFound when the SLO is not stored.
    """
    slo = get_slo(session, service=service, name=name)
    query = _with_slo(select(SnapshotRow)).where(SnapshotRow.slo_id == slo.id)
    if since is not None:
        query = query.where(SnapshotRow.evaluated_at >= since)
    if until is not None:
        query = query.where(SnapshotRow.evaluated_at <= until)
    query = query.order_by(SnapshotRow.evaluated_at.desc(), SnapshotRow.id.desc()).limit(limit)
    rows: list[SnapshotRow] = list(session.scalars(query))
    return rows[::-1]


def prune_snapshots(session: Session, *, older_than: datetime) -> int:
    """Delete snapshots taken before `older_than`, keeping each SLO's newest one (so a status
    can still be shown, as stale, after a long stop); returns how many were deleted."""
    newer = aliased(SnapshotRow)
    newest_at = (
        select(func.max(newer.evaluated_at))
        .where(newer.slo_id == SnapshotRow.slo_id)
        .scalar_subquery()
    )
    result = session.execute(
        delete(SnapshotRow)
        .where(SnapshotRow.evaluated_at < older_than, SnapshotRow.evaluated_at < newest_at)
        .execution_options(synchronize_session=False)
    )
    return cast(CursorResult[Any], result).rowcount


def daily_snapshots(
    session: Session, *, slo_ids: Sequence[int], days: Sequence[tuple[datetime, datetime]]
) -> dict[int, list[SnapshotPoint | None]]:
    """Per SLO id, for each `(start, end)` of `days`, its newest snapshot taken in
    `(start, end]`, or None when it has none then.

    One query per day, each SLO's row found through the `(slo_id, evaluated_at, id)` index:
    the cost grows with SLOs × days, not with the history kept.
    """
    found: dict[int, list[SnapshotPoint | None]] = {slo_id: [] for slo_id in slo_ids}
    if not slo_ids:
        return found
    for day_start, day_end in days:
        newer = aliased(SnapshotRow)
        newest_id = (
            select(newer.id)
            .where(
                newer.slo_id == SloRow.id,
                newer.evaluated_at > day_start,
                newer.evaluated_at <= day_end,
            )
            .order_by(newer.evaluated_at.desc(), newer.id.desc())
            .limit(1)
            .correlate(SloRow)
            .scalar_subquery()
        )
        query = (
            select(
                SnapshotRow.slo_id,
                SnapshotRow.evaluated_at,
                SnapshotRow.sli,
                SnapshotRow.remaining,
                SnapshotRow.consumed,
                SnapshotRow.time_to_exhaustion_s,
            )
            .join(SloRow, SloRow.id == SnapshotRow.slo_id)
            .where(SloRow.id.in_(list(slo_ids)), SnapshotRow.id == newest_id)
        )
        points = {
            row.slo_id: SnapshotPoint(
                row.evaluated_at, row.sli, row.remaining, row.consumed, row.time_to_exhaustion_s
            )
            for row in session.execute(query)
        }
        for slo_id, series in found.items():
            series.append(points.get(slo_id))
    return found
