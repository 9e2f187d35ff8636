"""srekit's own spec format, `apiVersion: srekit/v1`: one SLO or one policy per document.

```yaml
apiVersion: srekit/v1
kind: SLO
service: checkout
name: availability
objective: 99.9%            # or 0.999
window: 30d                 # or {calendar: month, time_zone: Europe/Paris}
indicator:
  ratio:                    # or latency / events / error_ratio / threshold
    good: http_requests_total{job="checkout",code!~"5.."}
    total: http_requests_total{job="checkout"}
```

See docs/specs.md for every field.

The format is a friendlier surface over the one spec model (`spec.model`). The parts that read
alike are that model's own classes (`alerting:` is `AlertingSpec`, `events:` is `EventsQuery`,
`threshold:` is `ThresholdQuery`); the rest (`objective: 99.9%`, `window: 30d`,
`indicator: {ratio: ...}`, `timeslice: {length, target}`, a policy level's `above`) is checked
by this module's own models, so an error names the field as the user wrote it (rewriting the
document first would report `indicator.good` for their `indicator.ratio.good`). A checked
document is then rewritten into a `SloSpec` or `PolicySpec`, and core values come from its
`to_slo` and `to_policy`, the one way every surface takes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from srekit.core.policy import DEFAULT_EXCEPTIONS, BudgetPolicy, Decision
from srekit.core.slo import SLO
from srekit.core.window import CalendarUnit, format_duration, parse_duration
from srekit.errors import SpecError
from srekit.spec.document import Document
from srekit.spec.model import (
    AlertingSpec,
    CalendarWindowSpec,
    EventsQuery,
    EventsRatioSpec,
    Name,
    PolicyLevelSpec,
    PolicySpec,
    PromErrorRatioSpec,
    PromLatencySpec,
    PromRatioSpec,
    PromThresholdSpec,
    RollingWindowSpec,
    SloSpec,
    ThresholdQuery,
)
from srekit.spec.validation import shown_value, validate_model

__all__ = ["API_VERSION", "parse_document", "parse_documents", "policy_document", "slo_document"]

API_VERSION = "srekit/v1"
# `99.9%`: ASCII digits, at most one point, the sign right after (Python's own float() and
# Decimal() would also take Arabic-Indic digits, inner spaces and underscores)
_PERCENT = re.compile(r"[0-9]+(?:\.[0-9]+)?%")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _objective(value: Any) -> float:
    """`99.9%` or `0.999` → 0.999; bare numbers above 1 are refused as ambiguous."""
    if isinstance(value, str) and value.strip().endswith("%"):
        if not _PERCENT.fullmatch(value):
            raise ValueError(
                "expected a percentage of ASCII digits with the % sign right after and no"
                f" spaces, like '99.9%', got {value!r}"
            )
        # Decimal keeps 99.9 % exactly 0.999 (float division gives 0.9990000000000001).
        fraction = float(Decimal(value[:-1]) / 100)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        fraction = float(value)
    else:
        raise ValueError(
            f"expected a fraction like 0.999 or a percentage like '99.9%', got {shown_value(value)}"
        )
    if not 0 < fraction < 1:
        raise ValueError(
            f"expected a fraction strictly between 0 and 1 (0.999) or a percentage below 100 "
            f"('99.9%'), got {value!r}"
        )
    return fraction


def _duration(value: Any) -> int:
    if not isinstance(value, str):
        raise ValueError(f"expected a duration like 5m, 1h or 30d, got {shown_value(value)}")
    return parse_duration(value)


class _Calendar(_Strict):
    calendar: CalendarUnit
    count: int = Field(1, ge=1)
    time_zone: str = "UTC"

    def spec(self) -> CalendarWindowSpec:
        return CalendarWindowSpec.model_construct(
            kind="calendar", unit=self.calendar, count=self.count, time_zone=self.time_zone
        )

    @model_validator(mode="after")
    def _zone_exists(self) -> _Calendar:
        self.spec().to_window()
        return self


class _Ratio(_Strict):
    good: str | None = None
    bad: str | None = None
    total: str

    @model_validator(mode="after")
    def _one_of_good_bad(self) -> _Ratio:
        if (self.good is None) == (self.bad is None):
            raise ValueError("expected exactly one of good and bad")
        return self


class _Latency(_Strict):
    metric: str = Field(pattern=r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
    threshold: float = Field(gt=0, description="seconds; an existing bucket bound (le)")
    selector: str = ""


class _Indicator(_Strict):
    ratio: _Ratio | None = None
    latency: _Latency | None = None
    events: EventsQuery | None = None
    error_ratio: str | None = None
    threshold: ThresholdQuery | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> _Indicator:
        given = [name for name, value in self if value is not None]
        if len(given) != 1:
            raise ValueError(
                "expected exactly one of ratio, latency, events, error_ratio, threshold; "
                f"got {', '.join(given) or 'none'}"
            )
        return self

    def spec(
        self,
    ) -> PromRatioSpec | PromLatencySpec | EventsRatioSpec | PromThresholdSpec | PromErrorRatioSpec:
        if self.ratio:
            return PromRatioSpec.model_construct(
                kind="prom_ratio", total=self.ratio.total, good=self.ratio.good, bad=self.ratio.bad
            )
        if self.latency:
            return PromLatencySpec.model_construct(
                kind="prom_latency",
                metric=self.latency.metric,
                threshold_s=self.latency.threshold,
                selector=self.latency.selector,
            )
        if self.events:
            return EventsRatioSpec.model_construct(kind="events_ratio", **dict(self.events))
        if self.threshold:
            return PromThresholdSpec.model_construct(kind="prom_threshold", **dict(self.threshold))
        assert self.error_ratio is not None
        return PromErrorRatioSpec.model_construct(
            kind="prom_error_ratio", error_ratio=self.error_ratio
        )


class _Timeslice(_Strict):
    length: Annotated[int, Field(gt=0)]
    target: float | None = Field(None, gt=0, le=1)

    @field_validator("length", mode="before")
    @classmethod
    def _length(cls, value: Any) -> int:
        return _duration(value)


class _Slo(_Strict):
    api_version: Literal["srekit/v1"] = Field(alias="apiVersion")
    kind: Literal["SLO"]
    service: Name
    name: Name
    objective: float
    window: str | _Calendar = "30d"
    budgeting: Literal["occurrences", "timeslices", "ratio_timeslices"] = "occurrences"
    timeslice: _Timeslice | None = None
    indicator: _Indicator
    labels: dict[str, str] = {}
    alerting: AlertingSpec = AlertingSpec()
    policy: Name | None = None
    description: str | None = None
    owner: Name | None = None
    runbook_url: str | None = None

    @field_validator("objective", mode="before")
    @classmethod
    def _objective(cls, value: Any) -> float:
        return _objective(value)

    @field_validator("window", mode="before")
    @classmethod
    def _window(cls, value: Any) -> Any:
        if isinstance(value, str):
            _duration(value)
        return value

    @model_validator(mode="after")
    def _timeslice_needed(self) -> _Slo:
        if self.budgeting != "occurrences" and self.timeslice is None:
            raise ValueError(f"budgeting {self.budgeting} needs timeslice: {{length, target}}")
        if self.budgeting == "timeslices" and self.timeslice and self.timeslice.target is None:
            raise ValueError("budgeting timeslices needs timeslice.target (the slice's own SLO)")
        return self

    def window_spec(self) -> RollingWindowSpec | CalendarWindowSpec:
        if isinstance(self.window, str):
            return RollingWindowSpec.model_construct(
                kind="rolling", duration_s=_duration(self.window)
            )
        return self.window.spec()


class _Level(_Strict):
    state: str = Field(min_length=1)
    above: float | None = Field(None, ge=-10, le=1)
    decision: Decision
    actions: list[str] = []
    change_types: dict[str, Decision] = {}


class _Policy(_Strict):
    api_version: Literal["srekit/v1"] = Field(alias="apiVersion")
    kind: Literal["Policy"]
    name: Name
    levels: list[_Level] = Field(min_length=1)
    exceptions: list[str] = list(DEFAULT_EXCEPTIONS)
    no_data: Decision = Decision.DENY


def _to_slo(model: _Slo, document: Document) -> SLO:
    spec = SloSpec.model_construct(
        objective=model.objective,
        window=model.window_spec(),
        indicator=model.indicator.spec(),
        budgeting=model.budgeting,
        timeslice_s=model.timeslice.length if model.timeslice else None,
        timeslice_target=model.timeslice.target if model.timeslice else None,
        labels=dict(model.labels),
        alerting=model.alerting,
        policy=model.policy,
        description=model.description,
        owner=model.owner,
        runbook_url=model.runbook_url,
    )
    try:
        return spec.to_slo(service=model.service, name=model.name, source_file=document.file)
    except SpecError as error:
        raise document.error(error.field, error.detail) from None


def _to_policy(model: _Policy, document: Document) -> BudgetPolicy:
    spec = PolicySpec.model_construct(
        levels=[
            PolicyLevelSpec.model_construct(
                state=level.state,
                floor=level.above,
                decision=level.decision.value,
                actions=list(level.actions),
                change_types={name: value.value for name, value in level.change_types.items()},
            )
            for level in model.levels
        ],
        exceptions=list(model.exceptions),
        no_data=model.no_data.value,
    )
    try:
        return spec.to_policy(model.name)
    except SpecError as error:
        # core speaks of floors; this format calls them `above`
        hint = " (every level but the last needs `above`)" if "floor" in error.detail else ""
        raise document.error("levels", error.detail + hint) from None


def parse_document(document: Document) -> SLO | BudgetPolicy:
    """Parse one srekit/v1 document: an SLO or an error-budget policy."""
    kind = document.data.get("kind")
    if kind == "SLO":
        return _to_slo(validate_model(_Slo, document.data, document), document)
    if kind == "Policy":
        return _to_policy(validate_model(_Policy, document.data, document), document)
    raise document.error(
        "kind", f"expected SLO, Policy or AlertRouting for {API_VERSION}, got {kind!r}"
    )


def parse_documents(documents: Sequence[Document]) -> tuple[list[SLO], list[BudgetPolicy]]:
    """Parse srekit/v1 documents into SLOs and error-budget policies."""
    slos: list[SLO] = []
    policies: list[BudgetPolicy] = []
    for document in documents:
        parsed = parse_document(document)
        if isinstance(parsed, BudgetPolicy):
            policies.append(parsed)
        else:
            slos.append(parsed)
    return slos, policies


def slo_document(slo: SLO) -> dict[str, Any]:
    """`slo` as a srekit/v1 document, the way a person writes one: `objective: 99.9%`,
    `window: 30d`, the indicator in its own words, defaults left out. Parsing it gives `slo`
    back (its source file aside), whatever format the SLO was first written in."""
    spec = SloSpec.from_slo(slo)
    document: dict[str, Any] = {
        "apiVersion": API_VERSION,
        "kind": "SLO",
        "service": slo.service,
        "name": slo.name,
        "objective": f"{Decimal(repr(slo.objective)) * 100:f}".rstrip("0").rstrip(".") + "%",
    }
    window = spec.window
    if isinstance(window, RollingWindowSpec):
        if window.duration_s != _DEFAULT_WINDOW_S:
            document["window"] = format_duration(window.duration_s)
    else:
        document["window"] = {
            "calendar": window.unit,
            **({"count": window.count} if window.count != 1 else {}),
            **({"time_zone": window.time_zone} if window.time_zone != "UTC" else {}),
        }
    if spec.budgeting != "occurrences":
        document["budgeting"] = spec.budgeting
    if spec.timeslice_s is not None:
        document["timeslice"] = {
            "length": format_duration(spec.timeslice_s),
            **({"target": spec.timeslice_target} if spec.timeslice_target is not None else {}),
        }
    document["indicator"] = _indicator_document(spec.indicator)
    if spec.labels:
        document["labels"] = dict(spec.labels)
    if spec.alerting != AlertingSpec():
        document["alerting"] = spec.alerting.model_dump(exclude_defaults=True)
    for field in ("policy", "description", "owner", "runbook_url"):
        value = getattr(spec, field)
        if value is not None:
            document[field] = value
    return document


_DEFAULT_WINDOW_S = 30 * 86400


def policy_document(policy: BudgetPolicy) -> dict[str, Any]:
    """`policy` as a srekit/v1 document, the way a person writes one (a level's floor as
    `above`, defaults left out): parsing it gives `policy` back."""
    levels: list[dict[str, Any]] = []
    for level in policy.levels:
        written: dict[str, Any] = {"state": level.state}
        if level.floor is not None:
            written["above"] = float(level.floor)
        written["decision"] = level.decision.value
        if level.actions:
            written["actions"] = list(level.actions)
        if level.change_types:
            written["change_types"] = {k: v.value for k, v in level.change_types.items()}
        levels.append(written)
    document: dict[str, Any] = {
        "apiVersion": API_VERSION,
        "kind": "Policy",
        "name": policy.name,
        "levels": levels,
    }
    if tuple(policy.exceptions) != tuple(DEFAULT_EXCEPTIONS):
        document["exceptions"] = list(policy.exceptions)
    if policy.no_data is not Decision.DENY:
        document["no_data"] = policy.no_data.value
    return document


def _indicator_document(indicator: Any) -> dict[str, Any]:
    if isinstance(indicator, EventsRatioSpec):
        events = {"good": indicator.good}
        if indicator.total != "true":
            events["total"] = indicator.total
        if indicator.stream is not None:
            events["stream"] = indicator.stream
        return {"events": events}
    if isinstance(indicator, PromRatioSpec):
        ratio = {"good": indicator.good} if indicator.good is not None else {"bad": indicator.bad}
        return {"ratio": {**ratio, "total": indicator.total}}
    if isinstance(indicator, PromLatencySpec):
        latency: dict[str, Any] = {"metric": indicator.metric, "threshold": indicator.threshold_s}
        if indicator.selector:
            latency["selector"] = indicator.selector
        return {"latency": latency}
    if isinstance(indicator, PromThresholdSpec):
        return {
            "threshold": {"query": indicator.query, "op": indicator.op, "value": indicator.value}
        }
    return {"error_ratio": indicator.error_ratio}
