"""The one model of an SLO spec (`SloSpec`) and of an error-budget policy spec (`PolicySpec`), in
srekit's JSON shape: what the store keeps (`store.codec`), what the API takes as a request body
(`api.schemas`, so the OpenAPI document shows it), and what srekit/v1 documents are turned into
(`spec.native`) before becoming core values through `to_slo` and `to_policy`.

The shape is srekit's own, not a spec format: tagged unions for windows (`kind: rolling|calendar`)
and indicators (`kind: prom_ratio|...`), durations in seconds, ratios as fractions. An SLO's
service and name are not part of it: the URL, the document or the stored row gives them.

Two kinds of check. Types and shape (unknown fields included) are always checked. Bounds
(`Bounded`: `objective` in (0, 1), `timeslice_s` up to a day, lengths, patterns, finite
numbers; every text is capped: 200 characters for a name, a label key or a change type, 4 KiB
for a description or an annotation, 16 KiB for a query, 2 KiB for a URL, 1 KiB for a label
value, 64 entries in a map or a list) guard what a client sends: they are checked by default
and shown in the OpenAPI document, and skipped under `context=NO_INTAKE_BOUNDS`, with which the
store reads back what it stored: a spec applied from a file may exceed them (srekit/v1 allows
`timeslice: {length: 2d}`, OpenSLO alert names with dashes). What makes an SLO or a policy
wrong is core's to say: `to_slo` and `to_policy` run core's constructors and turn their
ValueError into a SpecError
naming the field (`window`, `indicator`, `levels`; none for the SLO as a whole).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any, Final, Literal, TypeVar, cast

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError, PydanticKnownError, core_schema

from srekit.core.names import NAME_MAX_LENGTH, NAME_PATTERN, name_problem
from srekit.core.policy import DEFAULT_EXCEPTIONS, BudgetPolicy, Decision, PolicyLevel
from srekit.core.slo import (
    SLO,
    Alerting,
    AlertSpec,
    BudgetingMethod,
    EventsRatio,
    Indicator,
    PromErrorRatio,
    PromLatency,
    PromRatio,
    PromThreshold,
    ThresholdOp,
)
from srekit.core.window import CalendarUnit, CalendarWindow, RollingWindow, Window
from srekit.errors import SpecError

__all__ = [
    "NO_INTAKE_BOUNDS",
    "AlertingSpec",
    "Bounded",
    "CalendarWindowSpec",
    "EventsQuery",
    "EventsRatioSpec",
    "IndicatorSpec",
    "Name",
    "NameRule",
    "PolicyLevelSpec",
    "PolicySpec",
    "PromErrorRatioSpec",
    "PromLatencySpec",
    "PromRatioSpec",
    "PromThresholdSpec",
    "RollingWindowSpec",
    "SeveritySpec",
    "SloSpec",
    "ThresholdQuery",
    "WindowSpec",
]

NO_INTAKE_BOUNDS: Final[Mapping[str, bool]] = {"intake_bounds": False}

_T = TypeVar("_T")
# pydantic's JSON schema keywords for the bounds (`min_length` is `minItems` on an array)
_KEYWORDS = {"gt": "exclusiveMinimum", "ge": "minimum", "lt": "exclusiveMaximum", "le": "maximum"}


class Bounded:
    """Bounds on a field (pydantic's `Field` constraints: `gt`, `le`, `min_length`, `pattern`,
    `allow_inf_nan=False`, ...), checked with pydantic's own semantics and error types unless
    the validation context is `NO_INTAKE_BOUNDS`; the JSON schema shows them as usual."""

    def __init__(self, **constraints: Any) -> None:
        self.constraints = constraints

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        bounded: TypeAdapter[Any] = TypeAdapter(
            cast(Any, Annotated)[source, Field(**self.constraints)]
        )

        def check(value: Any, info: ValidationInfo) -> Any:
            context = info.context
            if isinstance(context, Mapping) and context.get("intake_bounds") is False:
                return value
            try:
                return bounded.validate_python(value)
            except ValidationError as error:
                first = error.errors()[0]
                raise PydanticKnownError(first["type"], first.get("ctx")) from None  # type: ignore[arg-type]

        return core_schema.with_info_after_validator_function(check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        kind = str(json_schema.get("type"))
        counted = {"array": "Items", "object": "Properties"}.get(kind, "Length")
        for name, value in self.constraints.items():
            if name in _KEYWORDS:
                json_schema[_KEYWORDS[name]] = value
            elif name in ("min_length", "max_length"):
                json_schema[name[:3] + counted] = value
            elif name == "pattern":
                json_schema["pattern"] = value
        return json_schema


class NameRule:
    """srekit's name rule (`core.names`) on a string: a refused name is a `name` error saying
    what is expected and what was found. Like `Bounded`, skipped under `NO_INTAKE_BOUNDS`; the
    JSON schema shows the rule's pattern and length."""

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        def check(value: str, info: ValidationInfo) -> str:
            context = info.context
            if isinstance(context, Mapping) and context.get("intake_bounds") is False:
                return value
            problem = name_problem(value)
            if problem is not None:
                raise PydanticCustomError("name", "{problem}", {"problem": problem})
            return value

        return core_schema.with_info_after_validator_function(check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema.update(minLength=1, maxLength=NAME_MAX_LENGTH, pattern=NAME_PATTERN)
        return json_schema


Name = Annotated[str, NameRule()]
"""A service, SLO, team, policy or token name, as a request or a spec document gives it."""


def _built(field: str, build: Callable[[], _T]) -> _T:
    """Run a core constructor, turning its ValueError into a SpecError at `field`."""
    try:
        return build()
    except SpecError:
        raise
    except (ValueError, TypeError) as error:
        raise SpecError(str(error), field=field or None) from error


class _Spec(BaseModel):
    """Unknown fields are refused: a typo is an error, not a silently ignored setting."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# Lengths: a spec is configuration, never megabytes (the API also caps a request's body)
NAME_CHARS = NAME_MAX_LENGTH
DESCRIPTION_CHARS = 4096
QUERY_CHARS = 16_384
URL_CHARS = 2048
LABEL_VALUE_CHARS = 1024
ANNOTATION_CHARS = 4096
ENTRIES = 64  # labels or annotations in one map; actions, exceptions or change types in a list

# pydantic's own length errors first (`string_too_short`), then the rule's words
_Name = Annotated[str, Bounded(min_length=1, max_length=NAME_CHARS), NameRule()]
_Query = Annotated[str, Bounded(min_length=1, max_length=QUERY_CHARS)]
_OptionalQuery = Annotated[str, Bounded(max_length=QUERY_CHARS)]
_Key = Annotated[str, Bounded(max_length=NAME_CHARS)]
_Labels = Annotated[
    dict[_Key, Annotated[str, Bounded(max_length=LABEL_VALUE_CHARS)]],
    Bounded(max_length=ENTRIES),
]
_Annotations = Annotated[
    dict[_Key, Annotated[str, Bounded(max_length=ANNOTATION_CHARS)]],
    Bounded(max_length=ENTRIES),
]
_Fraction = Annotated[float, Bounded(gt=0, le=1, allow_inf_nan=False)]
_Decision = Literal["allow", "review", "deny"]
_ALERT_NAME = r"^[a-zA-Z_][a-zA-Z0-9_]*$"


# --- windows ------------------------------------------------------------------------------


class RollingWindowSpec(_Spec):
    kind: Literal["rolling"]
    duration_s: Annotated[int, Bounded(gt=0, le=10 * 366 * 86400)]

    def to_window(self) -> RollingWindow:
        return RollingWindow(duration_s=self.duration_s)


class CalendarWindowSpec(_Spec):
    kind: Literal["calendar"]
    unit: CalendarUnit
    count: Annotated[int, Bounded(ge=1, le=1000)] = 1
    time_zone: Annotated[str, Bounded(max_length=64)] = "UTC"

    def to_window(self) -> CalendarWindow:
        return CalendarWindow(unit=self.unit, count=self.count, time_zone=self.time_zone)


WindowSpec = Annotated[RollingWindowSpec | CalendarWindowSpec, Field(discriminator="kind")]


def _window_spec(window: Window) -> RollingWindowSpec | CalendarWindowSpec:
    if isinstance(window, RollingWindow):
        return RollingWindowSpec.model_construct(kind="rolling", duration_s=window.duration_s)
    return CalendarWindowSpec.model_construct(
        kind="calendar", unit=window.unit, count=window.count, time_zone=window.time_zone
    )


# --- indicators ---------------------------------------------------------------------------
# `ThresholdQuery` and `EventsQuery` are also srekit/v1's `threshold:` and `events:`, which have
# no `kind`. Their tagged forms list the `kind` base last: pydantic takes a base's fields before
# the next one's, from the last base up, so `kind` still comes first in the JSON.


class PromRatioSpec(_Spec):
    """Good (or bad) and total events from Prometheus counters: exactly one of good and bad."""

    kind: Literal["prom_ratio"]
    total: _Query
    good: _Query | None = None
    bad: _Query | None = None

    def to_indicator(self) -> PromRatio:
        return PromRatio(total=self.total, good=self.good, bad=self.bad)


class PromErrorRatioSpec(_Spec):
    kind: Literal["prom_error_ratio"]
    error_ratio: _Query

    def to_indicator(self) -> PromErrorRatio:
        return PromErrorRatio(error_ratio=self.error_ratio)


class PromLatencySpec(_Spec):
    kind: Literal["prom_latency"]
    metric: _Query
    threshold_s: Annotated[float, Bounded(gt=0, allow_inf_nan=False)]
    selector: _OptionalQuery = ""

    def to_indicator(self) -> PromLatency:
        return PromLatency(metric=self.metric, threshold_s=self.threshold_s, selector=self.selector)


class ThresholdQuery(_Spec):
    query: _Query
    op: ThresholdOp
    value: Annotated[float, Bounded(allow_inf_nan=False)]


class _PromThresholdKind(_Spec):
    kind: Literal["prom_threshold"]


class PromThresholdSpec(ThresholdQuery, _PromThresholdKind):
    def to_indicator(self) -> PromThreshold:
        return PromThreshold(query=self.query, op=self.op, value=self.value)


class EventsQuery(_Spec):
    good: _Query
    total: _OptionalQuery = "true"
    stream: _Name | None = None


class _EventsRatioKind(_Spec):
    kind: Literal["events_ratio"]


class EventsRatioSpec(EventsQuery, _EventsRatioKind):
    def to_indicator(self) -> EventsRatio:
        return EventsRatio(good=self.good, total=self.total, stream=self.stream)


IndicatorSpec = Annotated[
    PromRatioSpec | PromErrorRatioSpec | PromLatencySpec | PromThresholdSpec | EventsRatioSpec,
    Field(discriminator="kind"),
]


def _indicator_spec(
    indicator: Indicator,
) -> PromRatioSpec | PromErrorRatioSpec | PromLatencySpec | PromThresholdSpec | EventsRatioSpec:
    if isinstance(indicator, PromRatio):
        return PromRatioSpec.model_construct(
            kind="prom_ratio", total=indicator.total, good=indicator.good, bad=indicator.bad
        )
    if isinstance(indicator, PromErrorRatio):
        return PromErrorRatioSpec.model_construct(
            kind="prom_error_ratio", error_ratio=indicator.error_ratio
        )
    if isinstance(indicator, PromLatency):
        return PromLatencySpec.model_construct(
            kind="prom_latency",
            metric=indicator.metric,
            threshold_s=float(indicator.threshold_s),
            selector=indicator.selector,
        )
    if isinstance(indicator, PromThreshold):
        return PromThresholdSpec.model_construct(
            kind="prom_threshold",
            query=indicator.query,
            op=indicator.op,
            value=float(indicator.value),
        )
    return EventsRatioSpec.model_construct(
        kind="events_ratio", good=indicator.good, total=indicator.total, stream=indicator.stream
    )


# --- alerting -----------------------------------------------------------------------------


class SeveritySpec(_Spec):
    """One severity of burn-rate alert (`page` or `ticket`)."""

    disabled: bool = False
    labels: _Labels = {}
    annotations: _Annotations = {}

    def to_alert_spec(self) -> AlertSpec:
        return AlertSpec(
            disabled=self.disabled, labels=dict(self.labels), annotations=dict(self.annotations)
        )

    @classmethod
    def from_alert_spec(cls, spec: AlertSpec) -> SeveritySpec:
        return cls.model_construct(
            disabled=spec.disabled, labels=dict(spec.labels), annotations=dict(spec.annotations)
        )


class AlertingSpec(_Spec):
    """Burn-rate alerting: the alert name, common labels and annotations, the two severities."""

    name: Annotated[str, Bounded(pattern=_ALERT_NAME, max_length=NAME_CHARS)] | None = None
    labels: _Labels = {}
    annotations: _Annotations = {}
    page: SeveritySpec = SeveritySpec()
    ticket: SeveritySpec = SeveritySpec()

    def to_alerting(self) -> Alerting:
        return Alerting(
            name=self.name,
            labels=dict(self.labels),
            annotations=dict(self.annotations),
            page=self.page.to_alert_spec(),
            ticket=self.ticket.to_alert_spec(),
        )

    @classmethod
    def from_alerting(cls, alerting: Alerting) -> AlertingSpec:
        return cls.model_construct(
            name=alerting.name,
            labels=dict(alerting.labels),
            annotations=dict(alerting.annotations),
            page=SeveritySpec.from_alert_spec(alerting.page),
            ticket=SeveritySpec.from_alert_spec(alerting.ticket),
        )


# --- the SLO ------------------------------------------------------------------------------


class SloSpec(_Spec):
    """An SLO in srekit's own JSON schema; its service and name come from the URL (or the
    document, or the stored row)."""

    # strict: a number, never text that Python would read as one (" 0.999 ", "0_999")
    objective: Annotated[float, Bounded(gt=0, lt=1, allow_inf_nan=False)] = Field(
        description="a fraction: 0.999", strict=True
    )
    window: WindowSpec
    indicator: IndicatorSpec
    budgeting: Literal["occurrences", "timeslices", "ratio_timeslices"] = "occurrences"
    timeslice_s: Annotated[int, Bounded(gt=0, le=86400)] | None = None
    timeslice_target: _Fraction | None = None
    labels: _Labels = {}
    alerting: AlertingSpec = AlertingSpec()
    policy: _Name | None = None
    description: Annotated[str, Bounded(max_length=DESCRIPTION_CHARS)] | None = None
    owner: _Name | None = Field(None, description="the owning team (created when missing)")
    runbook_url: Annotated[str, Bounded(max_length=URL_CHARS)] | None = None

    def to_slo(self, *, service: str, name: str, source_file: str | None = None) -> SLO:
        """The core SLO; a SpecError names the field core refused (none for the SLO itself)."""
        window = _built("window", self._window)
        indicator = _built("indicator", self._indicator)
        return _built(
            "",
            lambda: SLO(
                service=service,
                name=name,
                objective=self.objective,
                window=window,
                indicator=indicator,
                budgeting=BudgetingMethod(self.budgeting),
                timeslice_s=self.timeslice_s,
                timeslice_target=self.timeslice_target,
                labels=dict(self.labels),
                alerting=self.alerting.to_alerting(),
                policy=self.policy,
                description=self.description,
                owner=self.owner,
                runbook_url=self.runbook_url,
                source_file=source_file,
            ),
        )

    def _window(self) -> Window:
        return self.window.to_window()

    def _indicator(self) -> Indicator:
        return self.indicator.to_indicator()

    @classmethod
    def from_slo(cls, slo: SLO) -> SloSpec:
        """The spec of `slo` (all but its service, name and file); `to_slo` gives it back."""
        target = slo.timeslice_target
        return cls.model_construct(
            objective=float(slo.objective),
            window=_window_spec(slo.window),
            indicator=_indicator_spec(slo.indicator),
            budgeting=slo.budgeting.value,
            timeslice_s=slo.timeslice_s,
            timeslice_target=None if target is None else float(target),
            labels=dict(slo.labels),
            alerting=AlertingSpec.from_alerting(slo.alerting),
            policy=slo.policy,
            description=slo.description,
            owner=slo.owner,
            runbook_url=slo.runbook_url,
        )


# --- the error-budget policy --------------------------------------------------------------


class PolicyLevelSpec(_Spec):
    state: Annotated[str, Bounded(min_length=1, max_length=40)]
    floor: Annotated[float, Bounded(ge=-10, le=1, allow_inf_nan=False)] | None = Field(
        None, description="applies while remaining > floor; null: the bottom level"
    )
    decision: _Decision
    actions: Annotated[
        list[Annotated[str, Bounded(max_length=DESCRIPTION_CHARS)]], Bounded(max_length=ENTRIES)
    ] = []
    change_types: Annotated[dict[_Key, _Decision], Bounded(max_length=ENTRIES)] = {}

    def to_level(self) -> PolicyLevel:
        return PolicyLevel(
            state=self.state,
            floor=self.floor,
            decision=Decision(self.decision),
            actions=tuple(self.actions),
            change_types={name: Decision(value) for name, value in self.change_types.items()},
        )


class PolicySpec(_Spec):
    """An error-budget policy: levels highest floor first, the last one without a floor."""

    levels: Annotated[list[PolicyLevelSpec], Bounded(min_length=1, max_length=50)]
    exceptions: Annotated[list[_Key], Bounded(max_length=ENTRIES)] = list(DEFAULT_EXCEPTIONS)
    no_data: _Decision = Field(
        "deny",
        description="the decision while an SLO has no SLI data in its window (or none exist)",
    )

    def to_policy(self, name: str) -> BudgetPolicy:
        """The core policy; a SpecError at `levels` when core refuses the ladder."""
        return _built(
            "levels",
            lambda: BudgetPolicy(
                name=name,
                levels=tuple(level.to_level() for level in self.levels),
                exceptions=tuple(self.exceptions),
                no_data=Decision(self.no_data),
            ),
        )

    @classmethod
    def from_policy(cls, policy: BudgetPolicy) -> PolicySpec:
        """The spec of `policy` (all but its name); `to_policy` gives it back."""
        return cls.model_construct(
            levels=[
                PolicyLevelSpec.model_construct(
                    state=level.state,
                    floor=None if level.floor is None else float(level.floor),
                    decision=level.decision.value,
                    actions=list(level.actions),
                    change_types={name: value.value for name, value in level.change_types.items()},
                )
                for level in policy.levels
            ],
            exceptions=list(policy.exceptions),
            no_data=policy.no_data.value,
        )
