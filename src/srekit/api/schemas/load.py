"""Load-test results, baselines and the load gate's verdict as the API reads and answers
them. Results are uploaded as the tools write them (the request body is the file), so the
only JSON request is a baseline's."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from srekit.api.schemas.base import RequestModel
from srekit.contracts import ResponseModel

__all__ = [
    "BaselineIn",
    "LoadBaselineOut",
    "LoadCheckOut",
    "LoadMetricOut",
    "LoadRunOut",
    "LoadSummaryOut",
    "LoadThresholdOut",
    "LoadVerdictOut",
]


class BaselineIn(RequestModel):
    run_id: Annotated[int, Field(ge=1, le=2**62, description="the stored run to compare with")]


class LoadMetricOut(ResponseModel):
    name: str
    tags: dict[str, str]
    count: float | None
    rate: float | None
    avg: float | None
    min: float | None
    med: float | None
    max: float | None
    p90: float | None
    p95: float | None
    p99: float | None
    rounded: bool


class LoadThresholdOut(ResponseModel):
    metric: str
    expression: str
    ok: bool


class LoadSummaryOut(ResponseModel):
    tool: str
    duration_s: float | None
    requests: int
    throughput: float | None
    error_rate: float | None
    metrics: list[LoadMetricOut]
    thresholds: list[LoadThresholdOut]


class LoadCheckOut(ResponseModel):
    check: str
    tags: Annotated[
        str, Field(description="the tag set of a per-tag row (name:login); empty: the whole run")
    ] = ""
    outcome: str
    current: float | None
    baseline: float | None
    limit: float | None
    reason: str


class LoadRunOut(ResponseModel):
    id: int
    service: str
    tool: str
    source: str
    recorded_at: str
    recorded_by: str
    verdict: str | None
    passed: bool | None
    baseline_version: int | None
    checks: list[LoadCheckOut]
    summary: LoadSummaryOut


class LoadBaselineOut(ResponseModel):
    service: str
    version: int
    run_id: int
    created_at: str
    created_by: str


class LoadVerdictOut(ResponseModel):
    service: str
    outcome: str
    passed: bool
    run_id: int | None
    baseline_version: int | None
    checks: list[LoadCheckOut]
    summary: LoadSummaryOut
