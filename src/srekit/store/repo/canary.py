"""Canary analyses per service: records (like load-test runs), stored as they were answered,
never audited."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from srekit.core.specs import canonical_json
from srekit.store.repo._base import check_name, when
from srekit.store.tables import CanaryAnalysisRow

__all__ = ["list_canary_analyses", "record_canary_analysis"]


def record_canary_analysis(
    session: Session,
    *,
    service: str,
    canary: str,
    baseline: str,
    at: datetime,
    window_s: int,
    step_s: int,
    verdict: str,
    confidence: float | None,
    document: dict[str, Any],
    actor: str,
    now: datetime | None = None,
) -> CanaryAnalysisRow:
    """Keep one analysis of `service` (its selectors, window, verdict and whole document)."""
    check_name(service, "service")
    row = CanaryAnalysisRow(
        service=service,
        canary=canary[:2000],
        baseline=baseline[:2000],
        at=at,
        window_s=window_s,
        step_s=step_s,
        verdict=verdict,
        confidence=confidence,
        recorded_at=when(now),
        recorded_by=actor[:200],
        document_json=canonical_json(document),
    )
    session.add(row)
    session.flush()
    return row


def list_canary_analyses(
    session: Session, *, service: str | None = None, limit: int = 50
) -> list[CanaryAnalysisRow]:
    """The newest analyses first (of `service`, or of every service)."""
    query = select(CanaryAnalysisRow).order_by(
        CanaryAnalysisRow.recorded_at.desc(), CanaryAnalysisRow.id.desc()
    )
    if service is not None:
        query = query.where(CanaryAnalysisRow.service == service)
    return list(session.scalars(query.limit(limit)))
