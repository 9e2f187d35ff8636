"""Canary analysis over HTTP: the request (`CanaryAnalysisIn`), Flagger's webhook metadata
read into one, and the answer (`CanaryAnalysisOut`, the document `flows.canary` builds)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from srekit.api.schemas.base import Name, RequestModel
from srekit.contracts import ResponseModel

__all__ = [
    "CanaryAnalysisIn",
    "CanaryAnalysisOut",
    "CanaryFlaggerPayload",
    "CanaryRecordOut",
    "MetricOut",
    "ToleranceIn",
]

MetricName = Literal["error-rate", "latency-p95", "latency-p99"]
Selector = Annotated[str, Field(min_length=1, max_length=2000)]
Duration = Annotated[str, Field(min_length=1, max_length=32)]
_BIG = 1e12


class ToleranceIn(RequestModel):
    """How much worse a metric's mean may be: a fraction of the baseline's, plus an amount."""

    relative: float = Field(ge=0, le=_BIG)
    absolute: float = Field(0.0, ge=0, le=_BIG)


class CanaryAnalysisIn(RequestModel):
    """What to compare. Selectors are label matchers (`app="checkout",track="canary"`);
    durations are Prometheus's (`30m`, `1m`); unset thresholds keep their defaults."""

    canary: Selector
    baseline: Selector
    window: Duration = "30m"
    step: Duration = "1m"
    metrics: list[MetricName] = Field(default_factory=list, max_length=3)
    alpha: float | None = Field(None, gt=0, lt=1)
    min_requests: float | None = Field(None, ge=0, le=_BIG)
    min_intervals: int | None = Field(None, ge=1, le=10_000)
    tolerances: dict[MetricName, ToleranceIn] = Field(default_factory=dict)
    requests_metric: str | None = Field(None, min_length=1, max_length=200)
    errors_matchers: str | None = Field(None, min_length=1, max_length=2000)
    latency_metric: str | None = Field(None, min_length=1, max_length=200)
    at: str | None = Field(
        None, max_length=40, description="RFC 3339: judge the window ending then (default now)"
    )
    service: Name | None = Field(
        None, description="keep the analysis as one of this service's (GET /analyses lists them)"
    )


class CanaryFlaggerPayload(BaseModel):
    """Flagger's webhook payload; `metadata` carries the analysis's parameters as strings
    (`canary`, `baseline`, `window`, `step`, `metrics` comma-separated, `alpha`,
    `min_requests`, `min_intervals`, `allow_inconclusive`)."""

    model_config = ConfigDict(extra="allow")

    name: str = Field(max_length=253)
    namespace: str = Field("", max_length=253)
    phase: str = Field("", max_length=100)
    metadata: dict[
        Annotated[str, Field(max_length=100)], Annotated[str, Field(max_length=2000)]
    ] = Field(default_factory=dict, max_length=50)


class SideOut(ResponseModel):
    intervals: int
    mean: float | None
    median: float | None


class ThresholdsOut(ResponseModel):
    alpha: float
    min_requests: float
    min_intervals: int
    max_relative_increase: float
    max_absolute_increase: float


class MetricOut(ResponseModel):
    metric: MetricName
    verdict: Literal["pass", "fail", "inconclusive"]
    reason: str
    confidence: float | None
    p_value: float | None
    u: float | None
    method: Literal["exact", "normal"] | None
    canary: SideOut
    baseline: SideOut
    mean_ratio: float | None
    limit: float | None
    thresholds: ThresholdsOut


class CanaryAnalysisOut(ResponseModel):
    """The analysis: `verdict` (pass, fail, inconclusive) and each metric's figures."""

    verdict: Literal["pass", "fail", "inconclusive"]
    canary: str
    baseline: str
    at: str
    window_s: int
    step_s: int
    metrics: list[MetricOut]


class CanaryRecordOut(ResponseModel):
    """A kept analysis: who asked and when, with the answer it gave under `analysis`."""

    id: int
    service: str
    verdict: Literal["pass", "fail", "inconclusive"]
    confidence: float | None
    recorded_at: str
    recorded_by: str
    analysis: CanaryAnalysisOut
