"""`apiVersion: srekit/v1, kind: CapacityPlan`: what to forecast for one service, and against what.

```yaml
apiVersion: srekit/v1
kind: CapacityPlan
metadata: {name: checkout}
spec:
  service: checkout
  horizon: 90d                 # default 90d
  history: 30d                 # default 30d
  step: 1h                     # default chosen from the horizon (see `default_step_s`)
  resources:
    - name: cpu
      usage: sum(rate(container_cpu_usage_seconds_total{namespace="checkout"}[5m]))
      unit: cores
      type: gauge              # or counter
      # source: events         # instead of `usage`: requests per second from the event store
      limit: 24                # a number, or {query: "..."}
      headroom: 0.7            # scale before usage reaches 70 % of the limit
      per_pod_capacity: 2      # optional
  hpa:                         # optional; every field has a default
    current_replicas: 4
```

`CapacityPlanDocument` is the one model of the document. Every number is finite; limits and
capacities are positive; the headroom is a fraction in (0, 1]; unknown fields are refused.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from srekit.errors import SpecError
from srekit.spec.document import Document, read_documents
from srekit.spec.model import Bounded, Name
from srekit.spec.validation import validate_model

__all__ = [
    "DEFAULT_STEPS_S",
    "KIND",
    "CapacityPlanDocument",
    "CapacityPlanSpec",
    "HpaBehaviorSpec",
    "HpaSpec",
    "LimitQuery",
    "ResourceSpec",
    "ScalingRuleSpec",
    "default_step_s",
    "duration_s",
    "load_capacity_plans",
    "parse_capacity_plan",
]

KIND = "CapacityPlan"
QUERY_CHARS = 16_384
RESOURCES = 32
#: The steps a default is chosen from, smallest first.
DEFAULT_STEPS_S = (300, 900, 3_600, 21_600, 86_400)
#: A default step keeps the forecast at most this many steps long.
MAX_DEFAULT_STEPS = 2_200
_DURATION = re.compile(r"(?P<count>[1-9][0-9]{0,5})(?P<unit>s|m|h|d|w)")
_UNIT_S = {"s": 1, "m": 60, "h": 3_600, "d": 86_400, "w": 604_800}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def duration_s(text: str) -> int:
    """`90d` → 7,776,000: a positive whole count of s, m, h, d or w."""
    found = _DURATION.fullmatch(text)
    if found is None:
        raise ValueError(f"expected a duration like 90d, 12h or 15m, got {text!r}")
    return int(found["count"]) * _UNIT_S[found["unit"]]


def default_step_s(horizon_s: int) -> int:
    """The smallest of 5m, 15m, 1h, 6h, 1d giving at most 2,200 steps over the horizon
    (90d → 1h, 7d → 5m); 1d beyond 6 years."""
    for step in DEFAULT_STEPS_S:
        if horizon_s / step <= MAX_DEFAULT_STEPS:
            return step
    return DEFAULT_STEPS_S[-1]


def _duration(text: str) -> str:
    duration_s(text)
    return text


def _window(text: str) -> str:
    """A stabilization window may be zero: scale at once."""
    if text != "0s":
        duration_s(text)
    return text


def _printable(text: str) -> str:
    found = _CONTROL.search(text)
    if found is not None:
        raise ValueError(f"expected text without control characters, got {found.group()!r}")
    return text


class _Spec(BaseModel):
    """Unknown fields are refused: a misspelt setting is an error, not a silent default."""

    model_config = ConfigDict(extra="forbid", frozen=True)


_Duration = Annotated[str, Field(strict=True), Bounded(max_length=16), AfterValidator(_duration)]
_Window = Annotated[str, Field(strict=True), Bounded(max_length=16), AfterValidator(_window)]
_Query = Annotated[
    str,
    Field(strict=True),
    Bounded(min_length=1, max_length=QUERY_CHARS),
    AfterValidator(_printable),
]
_Positive = Annotated[float, Field(strict=True), Bounded(gt=0, allow_inf_nan=False)]
_Percent = Annotated[float, Field(strict=True, gt=0, le=100, allow_inf_nan=False)]
_Unit = Annotated[
    str, Field(strict=True), Bounded(min_length=1, max_length=32), AfterValidator(_printable)
]


def _not_text(value: Any) -> Any:
    """A limit written as text ("24", or 1e309 that YAML 1.1 reads as text) is refused by name,
    not as a mapping that was expected."""
    if isinstance(value, str):
        raise ValueError(f"expected a positive number or {{query: ...}}, got text {value!r}")
    return value


class LimitQuery(_Spec):
    """A limit read from Prometheus (e.g. the sum of the pods' CPU limits)."""

    query: _Query


class ResourceSpec(_Spec):
    """One resource: its usage query, unit, kind of series, limit and headroom target.

    `source: events` reads the service's requests per second from the event store (the
    ingested access logs) instead of a PromQL `usage` query, which it then must not have.
    """

    name: Name
    source: Literal["prometheus", "events"] = "prometheus"
    usage: _Query | None = None
    unit: _Unit
    type: Literal["gauge", "counter"] = "gauge"
    limit: Annotated[_Positive | LimitQuery, BeforeValidator(_not_text)]
    headroom: Annotated[float, Field(strict=True, gt=0, le=1, allow_inf_nan=False)] = 0.7
    per_pod_capacity: _Positive | None = None

    @model_validator(mode="after")
    def _usage_matches_source(self) -> ResourceSpec:
        if self.source == "prometheus" and self.usage is None:
            raise ValueError("expected `usage`, a PromQL query (or `source: events`)")
        if self.source == "events" and self.usage is not None:
            raise ValueError(
                "expected no `usage` with `source: events` (requests per second are read "
                "from the event store)"
            )
        return self


class ScalingRuleSpec(_Spec):
    """One direction of HPA behavior: a stabilization window and Percent/Pods policies."""

    stabilization_window: _Window | None = None
    percent: Annotated[int, Field(strict=True, gt=0, le=1000)] | None = None
    pods: Annotated[int, Field(strict=True, gt=0, le=1000)] | None = None
    period: _Duration = "15s"


class HpaBehaviorSpec(_Spec):
    """Defaults follow Kubernetes: scale up at once (100 % or 4 pods per 15 s), scale down
    after a 5-minute window, 100 % per 15 s."""

    scale_up: ScalingRuleSpec = ScalingRuleSpec(stabilization_window="0s", percent=100, pods=4)
    scale_down: ScalingRuleSpec = ScalingRuleSpec(stabilization_window="300s", percent=100)


class HpaSpec(_Spec):
    """The HorizontalPodAutoscaler being planned: replicas and per-metric targets."""

    current_replicas: Annotated[int, Field(strict=True, ge=1, le=10_000)] | None = None
    min_replicas: Annotated[int, Field(strict=True, ge=1, le=10_000)] = 3
    max_replicas: Annotated[int, Field(strict=True, ge=1, le=10_000)] = 10
    cpu_utilization: _Percent = 70
    memory_utilization: _Percent = 80
    rps_per_pod: _Positive = 50
    behavior: HpaBehaviorSpec = HpaBehaviorSpec()

    @model_validator(mode="after")
    def _ordered(self) -> HpaSpec:
        if self.min_replicas > self.max_replicas:
            raise ValueError(
                f"expected min_replicas ({self.min_replicas}) <= max_replicas ({self.max_replicas})"
            )
        return self


class CapacityPlanSpec(_Spec):
    """A plan's `spec:`: the service, its resources, the horizon, the history and the step."""

    service: Name
    resources: Annotated[list[ResourceSpec], Bounded(min_length=1, max_length=RESOURCES)]
    horizon: _Duration = "90d"
    history: _Duration = "30d"
    step: _Duration | None = None
    hpa: HpaSpec | None = None

    @model_validator(mode="after")
    def _consistent(self) -> CapacityPlanSpec:
        names = [resource.name for resource in self.resources]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"expected each resource name once, got {', '.join(repeated)} twice")
        if self.history_s < 2 * self.step_s:
            raise ValueError(
                f"expected a history of at least two steps ({2 * self.step_s} s), "
                f"got {self.history}"
            )
        return self

    @property
    def horizon_s(self) -> int:
        return duration_s(self.horizon)

    @property
    def history_s(self) -> int:
        return duration_s(self.history)

    @property
    def step_s(self) -> int:
        """The step written, else `default_step_s(horizon)`."""
        return duration_s(self.step) if self.step else default_step_s(self.horizon_s)


class _Metadata(_Spec):
    name: Name


class CapacityPlanDocument(_Spec):
    """The whole srekit/v1 document, as a file holds it."""

    api_version: Literal["srekit/v1"] = Field(alias="apiVersion")
    kind: Literal["CapacityPlan"]
    metadata: _Metadata
    spec: CapacityPlanSpec


def parse_capacity_plan(document: Document) -> CapacityPlanDocument:
    """The plan a `kind: CapacityPlan` document declares; a SpecError names the file, the
    field and what was expected."""
    return validate_model(CapacityPlanDocument, document.data, document)


def load_capacity_plans(path: Path) -> list[CapacityPlanDocument]:
    """Every CapacityPlan in a file or directory; other kinds are a SpecError at `kind`."""
    plans = []
    for document in read_documents(path):
        document.check_size()
        if document.data.get("kind") != KIND:
            raise SpecError(
                f"expected kind {KIND}, got {document.data.get('kind')!r}",
                file=document.where,
                field="kind",
            )
        plans.append(parse_capacity_plan(document))
    if not plans:
        raise SpecError("expected at least one CapacityPlan document", file=str(path))
    return plans
