"""Load-test runs and baselines per service.

A run is a record (like a deployment): stored as it came, never audited. A baseline is
configuration (the run later runs are compared with): each new version goes through
`audited_write`. Writers setting one service's baseline at once take turns, on PostgreSQL
through a transaction's advisory lock per service as SQLite's single writer makes them, so
each gets the next version and none is refused.
"""

from __future__ import annotations

import zlib
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from srekit.core.specs import canonical_json
from srekit.errors import NotFound
from srekit.store.locks import lock_transaction
from srekit.store.repo._base import check_name, when
from srekit.store.repo.audit import audited_write
from srekit.store.tables import LoadBaselineRow, LoadRunRow

__all__ = [
    "get_load_baseline",
    "get_load_run",
    "last_passed_load_test",
    "last_passed_load_tests",
    "list_load_runs",
    "load_baselines",
    "load_test_passed_within",
    "newest_load_run_id",
    "record_load_run",
    "set_load_baseline",
]


def record_load_run(
    session: Session,
    *,
    service: str,
    tool: str,
    source: str,
    summary: dict[str, Any],
    actor: str,
    verdict: str | None = None,
    passed: bool | None = None,
    checks: list[dict[str, Any]] | None = None,
    baseline_version: int | None = None,
    now: datetime | None = None,
) -> LoadRunRow:
    """Store a run's `summary` (and the gate's verdict on it, when judged)."""
    check_name(service, "service")
    row = LoadRunRow(
        service=service,
        tool=tool[:40],
        source=source[:200],
        recorded_at=when(now),
        recorded_by=actor[:200],
        summary_json=canonical_json(summary),
        verdict=verdict,
        passed=passed,
        verdict_json=None if checks is None else canonical_json(checks),
        baseline_version=baseline_version,
    )
    session.add(row)
    session.flush()
    return row


def get_load_run(session: Session, *, run_id: int) -> LoadRunRow:
    row = session.get(LoadRunRow, run_id)
    if row is None:
        raise NotFound(f"no load-test run {run_id}")
    return row


def list_load_runs(
    session: Session, *, service: str | None = None, limit: int = 50
) -> list[LoadRunRow]:
    """The newest runs first (of `service`, or of every service)."""
    query = select(LoadRunRow).order_by(LoadRunRow.recorded_at.desc(), LoadRunRow.id.desc())
    if service is not None:
        query = query.where(LoadRunRow.service == service)
    return list(session.scalars(query.limit(limit)))


#: the high half of a service's baseline lock key (the low half is its name's CRC-32): apart
#: from the jobs' single keys; two services sharing a CRC only take turns needlessly
_BASELINE_LOCK = 0x5E_BA_5E_11 << 32


def set_load_baseline(
    session: Session, *, service: str, run_id: int, actor: str, now: datetime | None = None
) -> LoadBaselineRow:
    """Make run `run_id` (of `service`) the service's baseline, as its next version."""
    run = get_load_run(session, run_id=run_id)
    if run.service != service:
        raise NotFound(f"load-test run {run_id} belongs to {run.service}, not {service}")
    # held until the transaction ends: the next writer reads the version this one adds
    lock_transaction(session.connection(), key=_BASELINE_LOCK | zlib.crc32(service.encode("utf-8")))
    previous = session.scalar(
        select(func.max(LoadBaselineRow.version)).where(LoadBaselineRow.service == service)
    )
    version = (previous or 0) + 1
    row = LoadBaselineRow(
        service=service, version=version, run_id=run_id, created_at=when(now), created_by=actor
    )
    session.add(row)
    audited_write(
        session,
        actor=actor,
        action="load_baseline.set",
        target=service,
        before=None if previous is None else {"version": previous},
        after={"version": version, "run_id": run_id},
        refused=f"another baseline of {service} was set at the same time: try again",
        now=now,
    )
    return row


def load_baselines(session: Session, *, service: str) -> list[LoadBaselineRow]:
    """Every baseline version of `service`, newest first."""
    query = (
        select(LoadBaselineRow)
        .where(LoadBaselineRow.service == service)
        .order_by(LoadBaselineRow.version.desc())
    )
    return list(session.scalars(query))


def get_load_baseline(
    session: Session, *, service: str, version: int | None = None
) -> LoadBaselineRow:
    """Version `version` of `service`'s baseline (None: the newest); NotFound when absent."""
    query = select(LoadBaselineRow).where(LoadBaselineRow.service == service)
    if version is None:
        query = query.order_by(LoadBaselineRow.version.desc()).limit(1)
    else:
        query = query.where(LoadBaselineRow.version == version)
    row = session.scalars(query).first()
    if row is None:
        which = "" if version is None else f" version {version}"
        raise NotFound(f"{service} has no load-test baseline{which}")
    return row


def last_passed_load_test(
    session: Session, *, service: str, until: datetime | None = None
) -> datetime | None:
    """When `service` last had a run the load gate passed, at or before `until` when given
    (None: never)."""
    query = select(func.max(LoadRunRow.recorded_at)).where(
        LoadRunRow.service == service, LoadRunRow.passed.is_(True)
    )
    if until is not None:
        query = query.where(LoadRunRow.recorded_at <= until)
    return session.scalar(query)


def load_test_passed_within(session: Session, *, service: str, days: float, now: datetime) -> bool:
    """Whether `service` had a load test the gate passed in the `days` before `now`
    (a production-readiness question)."""
    last = last_passed_load_test(session, service=service, until=now)
    return last is not None and now - last <= timedelta(days=days)


def last_passed_load_tests(session: Session) -> dict[str, datetime]:
    """When each service last had a run the load gate passed (services never passed: absent)."""
    query = (
        select(LoadRunRow.service, func.max(LoadRunRow.recorded_at))
        .where(LoadRunRow.passed.is_(True))
        .group_by(LoadRunRow.service)
    )
    return {row.service: row[1] for row in session.execute(query)}


def newest_load_run_id(session: Session) -> int | None:
    """The id of the newest run stored: moves whenever a run is recorded (the gate's catalog
    is read again then)."""
    return session.scalar(select(func.max(LoadRunRow.id)))
