"""Canary analyses to keep without a Prometheus: a report core builds from figures given here,
and the document the flow answers for it (for the store's, the page's and the browser's tests)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from srekit.core.canary import (
    DEFAULT_THRESHOLDS,
    CanaryMetric,
    CanaryPlan,
    CanaryReport,
    MetricResult,
    Verdict,
    plan_analysis,
)
from srekit.flows.canary import report_document
from srekit.flows.canary_records import StoredAnalysis, record_analysis
from srekit.store import StoreEngine

AT = datetime(2026, 11, 1, tzinfo=UTC)


def canary_report(
    verdict: Verdict, confidences: tuple[float | None, float | None]
) -> tuple[CanaryReport, CanaryPlan]:
    """A report over 30 m in 1 m steps: error rate and p95, with these confidences."""
    plan = plan_analysis(
        canary='app="shop",track="canary"', baseline='app="shop",track="stable"',
        window_s=1800, step_s=60,
        metrics=(CanaryMetric.ERROR_RATE, CanaryMetric.LATENCY_P95),
    )  # fmt: skip
    results = tuple(
        MetricResult(
            metric,
            verdict if confidence is not None else Verdict.INCONCLUSIVE,
            "as given",
            DEFAULT_THRESHOLDS[metric],
            30,
            30,
            confidence=confidence,
            canary_mean=0.01 if confidence is not None else None,
            baseline_mean=0.005 if confidence is not None else None,
        )
        for metric, confidence in zip(plan.metrics, confidences, strict=True)
    )
    return CanaryReport(verdict, results), plan


def keep(
    engine: StoreEngine,
    service: str,
    verdict: Verdict,
    confidences: tuple[float | None, float | None],
    *,
    now: datetime = AT,
) -> tuple[StoredAnalysis, dict[str, Any]]:
    report, plan = canary_report(verdict, confidences)
    document = report_document(report, plan, at=AT)
    kept = record_analysis(
        engine, service=service, report=report, plan=plan, at=AT, document=document,
        actor="ci", now=now,
    )  # fmt: skip
    return kept, document
