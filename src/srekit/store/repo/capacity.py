"""Recorded capacity plans: one row per resource and run, with its forecast path, so a later
run can score the earlier median against what was observed since."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from srekit.store.tables import CapacityPlanRow

__all__ = [
    "StoredCapacityPlan",
    "capacity_plans",
    "latest_capacity_plans",
    "record_capacity_plan",
]


@dataclass(frozen=True)
class StoredCapacityPlan:
    """A recorded plan as the flows read it: the forecast path decoded, `summary` as stored."""

    id: int
    service: str
    resource: str
    plan: str
    made_at: datetime
    unit: str
    model: str
    step_s: int
    limit: float
    forecast_at: tuple[float, ...]
    median: tuple[float, ...]
    upper: tuple[float, ...]
    summary: dict[str, Any]
    bands: dict[int, tuple[tuple[float, ...], tuple[float, ...]]]
    history_at: tuple[float, ...]
    history: tuple[float, ...]


def _stored(row: CapacityPlanRow) -> StoredCapacityPlan:
    forecast = json.loads(row.forecast_json)
    return StoredCapacityPlan(
        id=row.id,
        service=row.service,
        resource=row.resource,
        plan=row.plan,
        made_at=row.made_at,
        unit=row.unit,
        model=row.model,
        step_s=row.step_s,
        limit=row.capacity_limit,
        forecast_at=tuple(float(t) for t in forecast["at"]),
        median=tuple(float(v) for v in forecast["median"]),
        upper=tuple(float(v) for v in forecast["upper"]),
        summary=json.loads(row.summary_json),
        bands={
            int(level): (tuple(map(float, lower)), tuple(map(float, upper)))
            for level, (lower, upper) in forecast.get("bands", {}).items()
        },
        history_at=tuple(float(t) for t in forecast.get("history_at", ())),
        history=tuple(float(v) for v in forecast.get("history", ())),
    )


def _finite(values: Sequence[float], what: str) -> list[float]:
    """JSON has no NaN or infinity: a path holding one is a caller's bug, refused here."""
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"{what}: expected finite numbers")
    return list(values)


def record_capacity_plan(
    session: Session,
    *,
    service: str,
    resource: str,
    plan: str,
    made_at: datetime,
    unit: str,
    model: str,
    step_s: int,
    limit: float,
    forecast_at: Sequence[float],
    median: Sequence[float],
    upper: Sequence[float],
    summary: dict[str, Any],
    bands: Mapping[int, tuple[Sequence[float], Sequence[float]]] | None = None,
    history: tuple[Sequence[float], Sequence[float]] = ((), ()),
) -> int:
    """Store one resource's plan; returns its id. `bands` (lower, upper) by level in percent
    and the `history` (timestamps, values) it was made on are kept for drawing it again."""
    if not (len(forecast_at) == len(median) == len(upper)):
        raise ValueError("expected one median and one upper value per forecast instant")
    if len(history[0]) != len(history[1]):
        raise ValueError("expected one history value per timestamp")
    row = CapacityPlanRow(
        service=service,
        resource=resource,
        plan=plan,
        made_at=made_at,
        unit=unit,
        model=model,
        step_s=step_s,
        capacity_limit=limit,
        forecast_json=json.dumps(
            {
                "at": _finite(forecast_at, "forecast_at"),
                "median": _finite(median, "median"),
                "upper": _finite(upper, "upper"),
                "bands": {
                    str(level): [_finite(lower, "bands"), _finite(high, "bands")]
                    for level, (lower, high) in (bands or {}).items()
                },
                "history_at": _finite(history[0], "history"),
                "history": _finite(history[1], "history"),
            },
            allow_nan=False,
        ),
        summary_json=json.dumps(summary, allow_nan=False),
    )
    session.add(row)
    session.flush()
    return row.id


def latest_capacity_plans(
    session: Session, *, service: str, before: datetime | None = None
) -> dict[str, StoredCapacityPlan]:
    """The latest recorded plan of each of the service's resources (made before `before`
    when given), by resource name."""
    latest = select(
        CapacityPlanRow.resource, func.max(CapacityPlanRow.made_at).label("made_at")
    ).where(CapacityPlanRow.service == service)
    if before is not None:
        latest = latest.where(CapacityPlanRow.made_at < before)
    newest = latest.group_by(CapacityPlanRow.resource).subquery()
    rows = session.scalars(
        select(CapacityPlanRow)
        .join(
            newest,
            (CapacityPlanRow.resource == newest.c.resource)
            & (CapacityPlanRow.made_at == newest.c.made_at),
        )
        .where(CapacityPlanRow.service == service)
        .order_by(CapacityPlanRow.resource, CapacityPlanRow.id.desc())
    )
    found: dict[str, StoredCapacityPlan] = {}
    for row in rows:
        found.setdefault(row.resource, _stored(row))  # the last written of equal instants
    return found


def capacity_plans(
    session: Session, *, service: str | None = None, limit: int = 100
) -> list[StoredCapacityPlan]:
    """Recorded plans, newest first (of one service, or all), at most `limit`."""
    query = select(CapacityPlanRow).order_by(
        CapacityPlanRow.made_at.desc(), CapacityPlanRow.id.desc()
    )
    if service is not None:
        query = query.where(CapacityPlanRow.service == service)
    return [_stored(row) for row in session.scalars(query.limit(limit))]
