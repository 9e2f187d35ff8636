"""`/api/v1/capacity`: a CapacityPlan to forecast (with its series inline, or read by the
server from Prometheus and the event store), and the plans recorded per service."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from srekit.api.schemas.base import Name, RequestModel
from srekit.contracts import ResponseModel
from srekit.spec.capacity import CapacityPlanDocument

__all__ = ["CapacityForecastIn", "CapacityPlanOut", "StoredCapacityPlanOut"]

#: Samples per inline series: 30 days at one a minute, and some.
SERIES_POINTS = 50_000

_Sample = tuple[
    Annotated[float, Field(allow_inf_nan=False)], Annotated[float, Field(allow_inf_nan=False)]
]


class CapacityForecastIn(RequestModel):
    """The plan, optionally each resource's `[unix_seconds, value]` samples (else the
    server reads its sources), the instant to plan at (default now) and whether to record
    the plan (editors only)."""

    plan: CapacityPlanDocument
    series: dict[Name, Annotated[list[_Sample], Field(min_length=1, max_length=SERIES_POINTS)]] = (
        Field(default_factory=dict, max_length=32)
    )
    at: str | None = Field(default=None, max_length=40, description="RFC 3339; default now")
    record: bool = False


class CapacityPlanOut(ResponseModel):
    """`contracts.capacity_plan_document`: per resource the figures, forecast and crossings."""

    plan: str
    service: str
    at: str
    horizon_s: int
    step_s: int
    resources: list[dict[str, Any]]
    problems: list[dict[str, str]]
    hpa: dict[str, Any] | None
    past_forecasts: list[dict[str, Any]] | None = None


class StoredCapacityPlanOut(ResponseModel):
    """A recorded plan of one resource: when, which model, and its summary figures."""

    id: int
    service: str
    resource: str
    plan: str
    made_at: str
    model: str
    step_s: int
    limit: float
    summary: dict[str, Any]
