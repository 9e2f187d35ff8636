"""Canary analyses kept per service: store an analysis as it was answered, read the recent
ones back (the CLI's `--record`, the API's `service`, the Canary page)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from srekit.core.canary import CanaryPlan, CanaryReport
from srekit.core.instant import format_instant
from srekit.store import StoreEngine
from srekit.store.database import transaction
from srekit.store.repo.canary import list_canary_analyses, record_canary_analysis

__all__ = ["StoredAnalysis", "analysis_document", "recent_analyses", "record_analysis"]


@dataclass(frozen=True)
class StoredAnalysis:
    """A kept analysis: who asked, when, and the document it answered (`report_document`)."""

    id: int
    service: str
    canary: str
    baseline: str
    at: datetime
    window_s: int
    step_s: int
    verdict: str
    confidence: float | None
    recorded_at: datetime
    recorded_by: str
    document: dict[str, Any]


def _stored(row: Any) -> StoredAnalysis:
    return StoredAnalysis(
        id=row.id,
        service=row.service,
        canary=row.canary,
        baseline=row.baseline,
        at=row.at,
        window_s=row.window_s,
        step_s=row.step_s,
        verdict=row.verdict,
        confidence=row.confidence,
        recorded_at=row.recorded_at,
        recorded_by=row.recorded_by,
        document=row.document,
    )


def record_analysis(
    engine: StoreEngine,
    *,
    service: str,
    report: CanaryReport,
    plan: CanaryPlan,
    at: datetime,
    document: dict[str, Any],
    actor: str,
    now: datetime,
) -> StoredAnalysis:
    """Keep `report` (answered as `document`) as an analysis of `service`."""
    with transaction(engine) as session:
        row = record_canary_analysis(
            session,
            service=service,
            canary=document["canary"],
            baseline=document["baseline"],
            at=at,
            window_s=plan.window_s,
            step_s=plan.step_s,
            verdict=report.verdict.value,
            confidence=report.confidence,
            document=document,
            actor=actor,
            now=now,
        )
        return _stored(row)


def recent_analyses(
    engine: StoreEngine, *, service: str | None = None, limit: int = 50
) -> list[StoredAnalysis]:
    """The newest analyses (of `service`, or of every service) first."""
    with transaction(engine, read_only=True) as session:
        return [_stored(row) for row in list_canary_analyses(session, service=service, limit=limit)]


def analysis_document(analysis: StoredAnalysis) -> dict[str, Any]:
    """A kept analysis as JSON: the CLI's and the API's, its answer under `analysis`."""
    return {
        "id": analysis.id,
        "service": analysis.service,
        "verdict": analysis.verdict,
        "confidence": analysis.confidence,
        "recorded_at": format_instant(analysis.recorded_at),
        "recorded_by": analysis.recorded_by,
        "analysis": analysis.document,
    }
