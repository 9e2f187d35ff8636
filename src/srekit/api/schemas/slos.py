"""SLO specs as srekit's own JSON schema (the store's shape), and what applying them answers."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from srekit.api.schemas.base import Name, RequestModel
from srekit.contracts import ResponseModel, Time

__all__ = [
    "AlertSpecIn",
    "AlertingIn",
    "AppliedOut",
    "ApplyOut",
    "CalendarWindowIn",
    "EventsRatioIn",
    "PromErrorRatioIn",
    "PromLatencyIn",
    "PromRatioIn",
    "PromThresholdIn",
    "RollingWindowIn",
    "SloOut",
    "SloSpecIn",
    "SloSummaryOut",
    "SloVersionOut",
    "SloWrite",
    "SpecDocumentsIn",
]


class RollingWindowIn(RequestModel):
    kind: Literal["rolling"]
    duration_s: int = Field(gt=0, le=10 * 366 * 86400)


class CalendarWindowIn(RequestModel):
    kind: Literal["calendar"]
    unit: Literal["minute", "hour", "day", "week", "month", "quarter", "year"]
    count: int = Field(1, ge=1, le=1000)
    time_zone: str = "UTC"


class PromRatioIn(RequestModel):
    """Good (or bad) and total events from Prometheus counters: exactly one of good and bad."""

    kind: Literal["prom_ratio"]
    total: str = Field(min_length=1)
    good: str | None = Field(None, min_length=1)
    bad: str | None = Field(None, min_length=1)


class PromErrorRatioIn(RequestModel):
    kind: Literal["prom_error_ratio"]
    error_ratio: str = Field(min_length=1)


class PromLatencyIn(RequestModel):
    kind: Literal["prom_latency"]
    metric: str = Field(min_length=1)
    threshold_s: float = Field(gt=0)
    selector: str = ""


class PromThresholdIn(RequestModel):
    kind: Literal["prom_threshold"]
    query: str = Field(min_length=1)
    op: Literal["lt", "lte", "gt", "gte"]
    value: float


class EventsRatioIn(RequestModel):
    kind: Literal["events_ratio"]
    good: str = Field(min_length=1)
    total: str = "true"
    stream: str | None = None


class AlertSpecIn(RequestModel):
    disabled: bool = False
    labels: dict[str, str] = {}
    annotations: dict[str, str] = {}


class AlertingIn(RequestModel):
    name: str | None = Field(None, pattern=r"^[a-zA-Z_][a-zA-Z0-9_]*$")
    labels: dict[str, str] = {}
    annotations: dict[str, str] = {}
    page: AlertSpecIn = AlertSpecIn()
    ticket: AlertSpecIn = AlertSpecIn()


class SloSpecIn(RequestModel):
    """An SLO in srekit's own JSON schema; its service and name come from the URL."""

    objective: float = Field(gt=0, lt=1, description="a fraction: 0.999")
    window: Annotated[RollingWindowIn | CalendarWindowIn, Field(discriminator="kind")]
    indicator: Annotated[
        PromRatioIn | PromErrorRatioIn | PromLatencyIn | PromThresholdIn | EventsRatioIn,
        Field(discriminator="kind"),
    ]
    budgeting: Literal["occurrences", "timeslices", "ratio_timeslices"] = "occurrences"
    timeslice_s: int | None = Field(None, gt=0, le=86400)
    timeslice_target: float | None = Field(None, gt=0, le=1)
    labels: dict[str, str] = {}
    alerting: AlertingIn = AlertingIn()
    policy: Name | None = None
    description: str | None = None
    owner: Name | None = Field(None, description="the owning team (created when missing)")
    runbook_url: str | None = None


class SloWrite(RequestModel):
    """`PUT /api/v1/slos/{service}/{name}`: exactly one of `spec` (srekit's JSON schema) or
    `document` (one spec document in any supported format: srekit/v1, OpenSLO v1, Sloth),
    which must define this SLO and nothing else."""

    spec: SloSpecIn | None = None
    document: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> SloWrite:
        if (self.spec is None) == (self.document is None):
            raise ValueError("give exactly one of spec and document")
        return self


class SpecDocumentsIn(RequestModel):
    """`POST /api/v1/slos`: spec documents as `srekit slo apply` reads them from files."""

    documents: list[dict[str, Any]] = Field(min_length=1, max_length=1000)


class AppliedOut(ResponseModel):
    name: str = Field(description="service/name of an SLO, or a policy's name")
    result: Literal["created", "updated", "unchanged"]
    version: int
    changes: list[str]


class ApplyOut(ResponseModel):
    actor: str
    slos: list[AppliedOut]
    policies: list[AppliedOut]


class SloSummaryOut(ResponseModel):
    service: str
    slo: str
    team: str | None
    objective: float
    window: str
    version: int
    source_format: str | None
    updated_at: Time


class SloVersionOut(ResponseModel):
    version: int
    applied_at: Time
    applied_by: str
    source_format: str | None
    source_file: str | None
    changes: list[str]
    spec: dict[str, Any]


class SloOut(ResponseModel):
    service: str
    slo: str
    team: str | None
    version: int
    source_format: str | None
    source_file: str | None
    created_at: Time
    updated_at: Time
    spec: dict[str, Any]
    versions: list[SloVersionOut]
