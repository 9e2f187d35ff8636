"""Load-test results, baselines and the load gate's verdict as the API reads and answers
them. Results are uploaded as the tools write them (the request body is the file), so the
only JSON request is a baseline's."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from srekit.api.schemas.base import RequestModel
from srekit.contracts import ResponseModel
from srekit.core.load_gate import DEFAULT_RULES as DEFAULT

__all__ = [
    "BaselineIn",
    "GateLimitsQuery",
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


def _amount(description: str, default: float | None) -> Any:
    return Field(default, ge=0, le=1e9, description=description)


def _fraction(description: str, default: float) -> Any:
    return Field(default, ge=0, le=1, description=description)


class GateLimitsQuery(BaseModel):
    """The gate's limits in the query, named as `flows.load_gate.gate_rules` takes them (the
    CLI's options in snake_case); the query's other parameters are the route's own."""

    model_config = ConfigDict(allow_inf_nan=False)

    latency_increase: float = _amount(
        "p95/p99 increase that fails (0.2 = 20 %)", DEFAULT.latency_increase
    )
    noise_floor_ms: float = _amount(
        "latency changes smaller than this never fail", DEFAULT.latency_noise_floor_ms
    )
    max_p95_ms: float | None = _amount("absolute p95 limit (ms)", None)
    max_p99_ms: float | None = _amount("absolute p99 limit (ms)", None)
    max_error_rate: float = _fraction("error rate limit without a baseline", DEFAULT.max_error_rate)
    error_rate_increase: float = _fraction(
        "error-rate increase that fails", DEFAULT.error_rate_increase
    )
    throughput_drop: float = _fraction("throughput drop that fails", DEFAULT.throughput_drop)
    throughput_noise_floor: float = _amount(
        "throughput drops below this never fail", DEFAULT.throughput_noise_floor
    )
    min_samples: int = Field(DEFAULT.min_samples, ge=0, le=10**12)
    allow_inconclusive: bool = DEFAULT.allow_inconclusive


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
