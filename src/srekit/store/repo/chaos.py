"""Chaos experiment runs, per service: recorded once when a run ends, listed newest first,
read back one by one, and asked whether one passed recently (for readiness)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from srekit.core.chaos import RunStatus, deviations_of
from srekit.errors import NotFound, SpecError
from srekit.store.tables import ChaosRunRow

__all__ = ["chaos_run", "chaos_runs", "latest_passed_chaos_run", "record_chaos_run"]


def _instant(journal: Mapping[str, Any], key: str) -> datetime:
    try:
        moment = datetime.fromisoformat(str(journal[key]))
    except (KeyError, ValueError):
        raise SpecError(
            f"expected an RFC 3339 instant, got {journal.get(key)!r}", field=key
        ) from None
    if moment.tzinfo is None:
        raise SpecError("expected an instant with its offset", field=key)
    return moment


def record_chaos_run(
    session: Session,
    *,
    journal: Mapping[str, Any],
    service: str | None,
    budget_consumed: float | None = None,
) -> ChaosRunRow:
    """Store a finished run's journal for `service`; its outcome and deviations are read
    from the journal itself, so the row and the journal never disagree."""
    status = journal.get("status")
    if status not in tuple(RunStatus):
        raise SpecError(f"expected a run status, got {status!r}", field="status")
    if budget_consumed is not None and not math.isfinite(budget_consumed):
        raise SpecError("expected a finite fraction", field="budget_consumed")
    try:
        journal_json = json.dumps(journal, allow_nan=False)
    except ValueError:
        raise SpecError("expected a journal without NaN or infinity", field="journal") from None
    row = ChaosRunRow(
        service=service,
        title=str(journal.get("experiment", {}).get("title", ""))[:500],
        started_at=_instant(journal, "start"),
        ended_at=_instant(journal, "end"),
        status=status,
        deviated=journal.get("deviated") is True,
        deviations_json=json.dumps(list(deviations_of(journal))),
        budget_consumed=budget_consumed,
        journal_json=journal_json,
    )
    session.add(row)
    session.flush()
    return row


def chaos_runs(
    session: Session, *, service: str | None = None, limit: int = 100
) -> Sequence[ChaosRunRow]:
    """The latest runs (of one service, or all), newest first."""
    query = select(ChaosRunRow).order_by(ChaosRunRow.started_at.desc(), ChaosRunRow.id.desc())
    if service is not None:
        query = query.where(ChaosRunRow.service == service)
    return list(session.scalars(query.limit(limit)))


def chaos_run(session: Session, *, run_id: int) -> ChaosRunRow:
    """One run by its id; NotFound when there is none."""
    row = session.get(ChaosRunRow, run_id)
    if row is None:
        raise NotFound(f"no chaos run {run_id}")
    return row


def latest_passed_chaos_run(
    session: Session, *, service: str, since: datetime
) -> ChaosRunRow | None:
    """The newest run of `service` started at or after `since` that completed with its
    steady state held (`core.chaos.passed`), or None: "a chaos experiment passed within N
    days" is `latest_passed_chaos_run(since=now - N days) is not None`."""
    return session.scalars(
        select(ChaosRunRow)
        .where(
            ChaosRunRow.service == service,
            ChaosRunRow.started_at >= since,
            ChaosRunRow.status == RunStatus.COMPLETED.value,
            ChaosRunRow.deviated.is_(False),
        )
        .order_by(ChaosRunRow.started_at.desc())
        .limit(1)
    ).first()
