"""OpenSLO `openslo/v1` specs → core SLOs.

All `openslo/v1` documents of a spec set are read together, so references (`indicatorRef`,
`alertPolicyRef`, `conditionRef`, `targetRef`, `metricSourceRef`) may cross files. Every object
is validated, referenced or not, as strictly as the reference SDK (OpenSLO/go-sdk) decodes:
unknown fields are refused, and a reference to an object that does not exist is an error naming
the referencing field. Where srekit departs from the SDK, or the spec leaves a choice, it is
because of what srekit computes:

* Names: the spec asks for RFC 1123 labels, yet its own README examples are named
  `AlertPolicy` and `OnCallDevopsMailNotification`, and it encourages longer names. srekit
  accepts letters of either case, digits, `-`, `.` and `_` (1-255 characters, alphanumeric at
  both ends) and refuses whitespace or `/`, which would break rule names and URLs.
* `op`/`value` on an objective of a `ratioMetric` SLI: the SDK forbids `op` there, but the spec
  repository's own examples use it; it has no meaning for a ratio, so it is accepted and ignored.
* Durations: `m` is minutes, `M` months, `Q` quarters, `Y` years. A calendar window in `M`/`Q`/`Y`
  (or `d`/`w`) is that many calendar units in `calendar.timeZone`. A rolling window (or a time
  slice) in `M`/`Q`/`Y` has no fixed length, so it counts 30, 90 and 365 days as the SDK does:
  write `30d` to make that explicit. A calendar window in minutes or hours must be whole days.
* `calendar.startTime` is checked (`YYYY-MM-DD HH:MM:SS`) but srekit aligns calendar periods on
  their natural boundaries in the time zone (midnight, Monday, the 1st of the month/quarter/year).
* Defaults where the spec's own examples omit a field: `budgetingMethod` Occurrences, `timeWindow`
  a rolling 30 days (the SRE Workbook's window, and Sloth's default), `calendar.timeZone` UTC,
  an alert condition's `op` none (the spec README's condition examples have none).
* Each objective becomes one core SLO, named `<slo>` when there is one objective and
  `<slo>-<displayName as a slug, or the objective's index>` otherwise. Objectives carrying their
  own indicator (composite SLOs) are each evaluated alone; `compositeWeight` is accepted, unused.
* Queries: a metric source's type comes from `metricSource.type` or the referenced DataSource's
  `spec.type`. Prometheus (any case) needs `spec.query`, a PromQL expression. Other types
  (Datadog, CloudWatch, ...) parse, so a whole OpenSLO repository validates, and their query
  text (or, without a `query`, the source spec as JSON) is kept in the same indicator types;
  `srekit status` and `srekit rules` only work for Prometheus sources, and
  `metric_source_types` tells which SLOs use which source.
* `counter` does not change the mapping: a PromQL query is either a `{{.window}}` template or a
  bare counter selector that srekit wraps in `increase()`; write a gauge as a template.
* Alerting: with exactly one alert policy its name becomes the alert name; conditions and
  targets are validated but srekit derives burn-rate alerts from the objective itself.

`openslo.com/v2alpha` is refused with a clear message: its objects are shaped differently
(`sli`, `dataSourceRef`, `serviceRef`) and the version is still alpha.
"""

from __future__ import annotations

import json
import re
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, Union
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictStr,
    ValidationError,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import ErrorDetails

from srekit.core.slo import (
    SLO,
    Alerting,
    BudgetingMethod,
    Indicator,
    PromErrorRatio,
    PromRatio,
    PromThreshold,
)
from srekit.core.window import CalendarUnit, CalendarWindow, RollingWindow, Window
from srekit.spec.document import Document
from srekit.spec.validation import dotted_field

__all__ = ["API_VERSION", "KINDS", "metric_source_types", "parse_documents"]

API_VERSION = "openslo/v1"
KINDS = (
    "AlertCondition",
    "AlertNotificationTarget",
    "AlertPolicy",
    "DataSource",
    "SLI",
    "SLO",
    "Service",
)
_UNSUPPORTED_VERSIONS = ("openslo.com/v2alpha", "openslo/v2alpha")
_DEFAULT_WINDOW_S = 30 * 86400

_NAME = re.compile(r"^[A-Za-z0-9]([-._A-Za-z0-9]{0,253}[A-Za-z0-9])?$")
_LABEL_KEY = re.compile(r"^[a-zA-Z0-9]([-._a-zA-Z0-9]{0,61}[a-zA-Z0-9])?$")
_DURATION = re.compile(r"^([1-9][0-9]*)([mhdwMQY])$")
_UNIT_S = {
    "m": 60,
    "h": 3600,
    "d": 86400,
    "w": 7 * 86400,
    "M": 30 * 86400,
    "Q": 90 * 86400,
    "Y": 365 * 86400,
}
_CALENDAR_UNITS: dict[str, CalendarUnit] = {
    "m": "minute",
    "h": "hour",
    "d": "day",
    "w": "week",
    "M": "month",
    "Q": "quarter",
    "Y": "year",
}
_START_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


# --- field types -------------------------------------------------------------------------------


def _check_name(value: str) -> str:
    if not _NAME.match(value):
        raise ValueError(
            "expected a name of letters, digits, '-', '.' or '_' (at most 255 characters,"
            f" starting and ending with a letter or digit), e.g. 'my-slo', got {value!r}"
        )
    return value


def _check_duration(value: Any) -> str:
    if not isinstance(value, str) or not _DURATION.match(value):
        raise ValueError(
            "expected a duration shorthand: a positive whole number and one of m (minutes),"
            f" h, d, w, M (months), Q (quarters), Y (years), e.g. 30d or 1M, got {value!r}"
        )
    return value


def _check_slice_window(value: Any) -> str:
    """`timeSliceWindow` may also be a bare number of minutes (the spec's default unit)."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return f"{value}m"
    return _check_duration(value)


def _check_start_time(value: Any) -> str:
    # Unquoted `2022-01-01 12:00:00` is a timestamp to YAML: accept it as written.
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.strftime(_START_TIME_FORMAT)
    if isinstance(value, str):
        try:
            return datetime.strptime(value, _START_TIME_FORMAT).strftime(_START_TIME_FORMAT)
        except ValueError:
            pass
    raise ValueError(
        f"expected a date and time without time zone, like '2022-01-01 00:00:00', got {value!r}"
    )


def _check_time_zone(value: Any) -> str:
    try:
        if not isinstance(value, str) or not value:
            raise ValueError(value)
        ZoneInfo(value)
    except (KeyError, ValueError, OSError):
        raise ValueError(
            f"expected an IANA time zone name like UTC or Europe/Paris, got {value!r}"
        ) from None
    return value


def _check_label_key(value: str) -> str:
    if not _LABEL_KEY.match(value):
        raise ValueError(
            "expected a label key of at most 63 letters, digits, '-', '_' or '.', starting and"
            f" ending with a letter or digit, got {value!r}"
        )
    return value


def _label_value(value: Any) -> str:
    """A label value is a string or a list of strings (joined with ',' for core labels)."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return ",".join(value)
    raise ValueError(f"expected a string or a list of strings, got {value!r}")


_Name = Annotated[StrictStr, AfterValidator(_check_name)]
_Ref = Annotated[StrictStr, Field(min_length=1)]
_Description = Annotated[StrictStr, Field(max_length=1050)]
_Duration = Annotated[str, BeforeValidator(_check_duration)]
_SliceWindow = Annotated[str, BeforeValidator(_check_slice_window)]
_StartTime = Annotated[str, BeforeValidator(_check_start_time)]
_TimeZone = Annotated[str, BeforeValidator(_check_time_zone)]
_LabelKey = Annotated[StrictStr, AfterValidator(_check_label_key)]
_LabelValue = Annotated[str, BeforeValidator(_label_value)]
_Op = Literal["lt", "lte", "gt", "gte"]


# --- the OpenSLO v1 schema ---------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, frozen=True)


class _Metadata(_Model):
    name: _Name
    display_name: StrictStr | None = None
    labels: dict[_LabelKey, _LabelValue] | None = None
    annotations: dict[StrictStr, StrictStr] | None = None


class _MetricSource(_Model):
    metric_source_ref: _Ref | None = None
    source_type: Annotated[StrictStr, Field(min_length=1)] | None = Field(None, alias="type")
    spec: Annotated[dict[str, Any], Field(min_length=1)]


class _MetricSpec(_Model):
    metric_source: _MetricSource


class _RatioMetric(_Model):
    counter: StrictBool | None = None
    good: _MetricSpec | None = None
    bad: _MetricSpec | None = None
    total: _MetricSpec | None = None
    raw_type: Literal["success", "failure"] | None = None
    raw: _MetricSpec | None = None

    @model_validator(mode="after")
    def _one_shape(self) -> _RatioMetric:
        if self.raw is not None:
            if self.good or self.bad or self.total:
                raise ValueError("'raw' cannot be combined with 'good', 'bad' or 'total'")
            if self.raw_type is None:
                raise ValueError("'rawType' (success or failure) is required with 'raw'")
            return self
        if self.total is None:
            raise ValueError("expected 'total' with 'good' or 'bad', or 'raw' with 'rawType'")
        if (self.good is None) == (self.bad is None):
            raise ValueError("expected exactly one of 'good' and 'bad' beside 'total'")
        if self.raw_type is not None:
            raise ValueError("'rawType' is only used with 'raw'")
        return self


class _SliSpec(_Model):
    description: _Description | None = None
    threshold_metric: _MetricSpec | None = None
    ratio_metric: _RatioMetric | None = None

    @model_validator(mode="after")
    def _one_metric(self) -> _SliSpec:
        if (self.threshold_metric is None) == (self.ratio_metric is None):
            raise ValueError("expected exactly one of 'thresholdMetric' and 'ratioMetric'")
        return self


class _InlineSli(_Model):
    metadata: _Metadata
    spec: _SliSpec


class _Objective(_Model):
    display_name: StrictStr | None = None
    op: _Op | None = None
    value: StrictFloat | None = None
    target: Annotated[StrictFloat, Field(gt=0, lt=1)] | None = None
    target_percent: Annotated[StrictFloat, Field(gt=0, lt=100)] | None = None
    time_slice_target: Annotated[StrictFloat, Field(gt=0, le=1)] | None = None
    time_slice_window: _SliceWindow | None = None
    indicator: _InlineSli | None = None
    indicator_ref: _Ref | None = None
    composite_weight: Annotated[StrictFloat, Field(gt=0)] | None = None

    @model_validator(mode="after")
    def _one_target(self) -> _Objective:
        if (self.target is None) == (self.target_percent is None):
            raise ValueError("expected exactly one of 'target' (0.999) and 'targetPercent' (99.9)")
        if self.indicator is not None and self.indicator_ref is not None:
            raise ValueError("expected 'indicator' or 'indicatorRef', not both")
        return self


class _Calendar(_Model):
    start_time: _StartTime
    time_zone: _TimeZone = "UTC"


class _TimeWindow(_Model):
    duration: _Duration
    is_rolling: StrictBool | None = None
    calendar: _Calendar | None = None

    @model_validator(mode="after")
    def _rolling_or_calendar(self) -> _TimeWindow:
        if self.is_rolling and self.calendar is not None:
            raise ValueError("'calendar' cannot be set when 'isRolling' is true")
        if not self.is_rolling and self.calendar is None:
            raise ValueError(
                "expected 'isRolling: true' for a rolling window, or 'calendar' (startTime,"
                " timeZone) for a calendar-aligned one"
            )
        return self


class _ConditionType(_Model):
    kind: Literal["burnrate"] = "burnrate"
    op: _Op | None = None
    threshold: StrictFloat
    lookback_window: _Duration
    alert_after: _Duration | None = None


class _AlertConditionSpec(_Model):
    description: _Description | None = None
    severity: Annotated[StrictStr, Field(min_length=1)]
    condition: _ConditionType


class _AlertNotificationTargetSpec(_Model):
    description: _Description | None = None
    target: Annotated[StrictStr, Field(min_length=1)]


class _PolicyCondition(_Model):
    """`conditionRef: name`, or an inline AlertCondition (`kind`, `metadata`, `spec`)."""

    condition_ref: _Ref | None = None
    kind: Literal["AlertCondition"] | None = None
    metadata: _Metadata | None = None
    spec: _AlertConditionSpec | None = None

    @model_validator(mode="after")
    def _ref_or_inline(self) -> _PolicyCondition:
        _ref_or_inline("conditionRef", self.condition_ref, self.kind, self.metadata, self.spec)
        return self


class _PolicyTarget(_Model):
    """`targetRef: name`, or an inline AlertNotificationTarget (`kind`, `metadata`, `spec`)."""

    target_ref: _Ref | None = None
    kind: Literal["AlertNotificationTarget"] | None = None
    metadata: _Metadata | None = None
    spec: _AlertNotificationTargetSpec | None = None

    @model_validator(mode="after")
    def _ref_or_inline(self) -> _PolicyTarget:
        _ref_or_inline("targetRef", self.target_ref, self.kind, self.metadata, self.spec)
        return self


class _AlertPolicySpec(_Model):
    description: _Description | None = None
    alert_when_no_data: StrictBool | None = None
    alert_when_breaching: StrictBool | None = None
    alert_when_resolved: StrictBool | None = None
    # The spec allows one condition (a list "for future-proofing") and needs a target.
    conditions: Annotated[list[_PolicyCondition], Field(min_length=1, max_length=1)]
    notification_targets: Annotated[list[_PolicyTarget], Field(min_length=1)]


class _SloAlertPolicy(_Model):
    """`alertPolicyRef: name`, or an inline AlertPolicy (`kind`, `metadata`, `spec`)."""

    alert_policy_ref: _Ref | None = None
    kind: Literal["AlertPolicy"] | None = None
    metadata: _Metadata | None = None
    spec: _AlertPolicySpec | None = None

    @model_validator(mode="after")
    def _ref_or_inline(self) -> _SloAlertPolicy:
        _ref_or_inline("alertPolicyRef", self.alert_policy_ref, self.kind, self.metadata, self.spec)
        return self


def _ref_or_inline(ref_name: str, ref: str | None, *inline: object) -> None:
    given = [part is not None for part in inline]
    if ref is not None and any(given):
        raise ValueError(f"expected '{ref_name}' or an inline object, not both")
    if ref is None and not all(given):
        raise ValueError(f"expected '{ref_name}', or an inline object with kind, metadata, spec")


class _SloSpec(_Model):
    description: _Description | None = None
    service: Annotated[StrictStr, Field(min_length=1)]
    indicator: _InlineSli | None = None
    indicator_ref: _Ref | None = None
    budgeting_method: Literal["Occurrences", "Timeslices", "RatioTimeslices"] = "Occurrences"
    time_window: Annotated[list[_TimeWindow], Field(min_length=1, max_length=1)] | None = None
    objectives: Annotated[list[_Objective], Field(min_length=1)]
    alert_policies: list[_SloAlertPolicy] | None = None


class _ServiceSpec(_Model):
    description: _Description | None = None


class _DataSourceSpec(_Model):
    description: _Description | None = None
    source_type: Annotated[StrictStr, Field(min_length=1)] = Field(alias="type")
    connection_details: Any = None


class _Object(_Model):
    api_version: StrictStr
    kind: StrictStr
    metadata: _Metadata


class _SloObject(_Object):
    spec: _SloSpec


class _SliObject(_Object):
    spec: _SliSpec


class _ServiceObject(_Object):
    spec: _ServiceSpec | None = None


class _DataSourceObject(_Object):
    spec: _DataSourceSpec


class _AlertPolicyObject(_Object):
    spec: _AlertPolicySpec


class _AlertConditionObject(_Object):
    spec: _AlertConditionSpec


class _AlertNotificationTargetObject(_Object):
    spec: _AlertNotificationTargetSpec


_MODELS: dict[str, type[_Object]] = {
    "AlertCondition": _AlertConditionObject,
    "AlertNotificationTarget": _AlertNotificationTargetObject,
    "AlertPolicy": _AlertPolicyObject,
    "DataSource": _DataSourceObject,
    "SLI": _SliObject,
    "SLO": _SloObject,
    "Service": _ServiceObject,
}


# --- pydantic errors → SpecError ---------------------------------------------------------------


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside `X | None`, `list[X]`, `Annotated[X, ...]`, if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (Union, types.UnionType, list, Annotated):
        for argument in typing.get_args(annotation):
            found = _model_in(argument)
            if found is not None:
                return found
    return None


def _fields_at(model: type[BaseModel], location: Sequence[int | str]) -> list[str]:
    """The field names (aliases) allowed at `location` below `model`, for 'unknown field'."""
    current: type[BaseModel] | None = model
    for part in location:
        if current is None:
            return []
        if isinstance(part, int):
            continue
        fields = {info.alias or name: info for name, info in current.model_fields.items()}
        if part not in fields:
            return []
        current = _model_in(fields[part].annotation)
    if current is None:
        return []
    return [info.alias or name for name, info in current.model_fields.items()]


def _shown(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _expectation(model: type[BaseModel], error: ErrorDetails) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        allowed = _fields_at(model, error["loc"][:-1])
        known = f"; expected one of: {', '.join(allowed)}" if allowed else ""
        return f"unknown field{known}"
    if kind == "missing":
        return "required field is missing"
    context = error.get("ctx") or {}
    if kind == "too_short":
        return f"expected at least {context.get('min_length')} item(s), got {len(error['input'])}"
    if kind == "too_long":
        return f"expected at most {context.get('max_length')} item(s), got {len(error['input'])}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"expected a mapping (an object), got {_shown(error['input'])}"
    if kind == "list_type":
        return f"expected a list, got {_shown(error['input'])}"
    message = error["msg"].removeprefix("Value error, ")
    if message.startswith("Input should be "):
        message = "expected " + message.removeprefix("Input should be ")
    if kind == "value_error" or "got " in message:
        return message
    return f"{message}, got {_shown(error['input'])}"


def _validate(model: type[_Object], document: Document) -> _Object:
    try:
        return model.model_validate(document.data)
    except ValidationError as error:
        # An unknown field first: it is usually a misspelt or misplaced one, which explains
        # the rest (a 'missing' field, say).
        details = sorted(error.errors(), key=lambda e: e["type"] != "extra_forbidden")

        def where(detail: ErrorDetails) -> str:
            return dotted_field([p for p in detail["loc"] if p != "[key]"])

        message = _expectation(model, details[0])
        others = [f"{where(d)}: {_expectation(model, d)}" for d in details[1:4]]
        if len(details) > 4:
            others.append(f"{len(details) - 4} more")
        if others:
            message += " (also " + "; ".join(others) + ")"
        raise document.error(where(details[0]) or None, message) from None


# --- resolving and converting ------------------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    document: Document
    model: _Object


@dataclass(frozen=True)
class _Parsed:
    slo: SLO
    source_type: str


def _split_duration(text: str) -> tuple[int, str]:
    match = _DURATION.match(text)
    if match is None:  # the schema has already checked it
        raise ValueError(text)
    return int(match.group(1)), match.group(2)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


_BUDGETING = {
    "Occurrences": BudgetingMethod.OCCURRENCES,
    "Timeslices": BudgetingMethod.TIMESLICES,
    "RatioTimeslices": BudgetingMethod.RATIO_TIMESLICES,
}


def _timeslices(
    spec: _SloSpec, objective: _Objective, document: Document, field: str
) -> tuple[int | None, float | None]:
    """(slice length in seconds, slice target); both None with Occurrences budgeting."""
    if spec.budgeting_method == "Occurrences":
        return None, None
    if objective.time_slice_window is None:
        raise document.error(
            f"{field}.timeSliceWindow", f"required with budgetingMethod {spec.budgeting_method}"
        )
    count, unit = _split_duration(objective.time_slice_window)
    if spec.budgeting_method == "Timeslices" and objective.time_slice_target is None:
        raise document.error(
            f"{field}.timeSliceTarget",
            "required with budgetingMethod Timeslices: the fraction of a slice's events (or"
            " time) that must be good for the slice to be good",
        )
    return count * _UNIT_S[unit], objective.time_slice_target


def _target(objective: _Objective) -> float:
    if objective.target is not None:
        return objective.target
    # Decimal keeps 99.95 → 0.9995 exact, not 0.9995000000000001.
    return float(Decimal(str(objective.target_percent)) / 100)


class _SpecSet:
    """The validated objects of one spec set, indexed by kind and name for references."""

    def __init__(self, documents: Sequence[Document]) -> None:
        self.entries: list[_Entry] = []
        self.by_name: dict[tuple[str, str], list[_Entry]] = {}
        for document in documents:
            entry = _Entry(document, _validate(_model_for(document), document))
            self.entries.append(entry)
            key = (entry.model.kind, entry.model.metadata.name)
            self.by_name.setdefault(key, []).append(entry)

    def lookup(self, kind: str, name: str, document: Document, field: str) -> _Entry:
        """The object a reference names; missing or ambiguous references are errors."""
        found = self.by_name.get((kind, name), [])
        if not found:
            raise document.error(
                field, f"v1.{kind} '{name}' referenced at '{field}' does not exist"
            )
        if len(found) > 1:
            places = ", ".join(entry.document.where for entry in found)
            raise document.error(
                field, f"v1.{kind} '{name}' referenced at '{field}' is defined twice: {places}"
            )
        return found[0]

    def check_policy(self, spec: _AlertPolicySpec, document: Document, prefix: str) -> None:
        for index, condition in enumerate(spec.conditions):
            if condition.condition_ref is not None:
                field = f"{prefix}conditions[{index}].conditionRef"
                self.lookup("AlertCondition", condition.condition_ref, document, field)
        for index, target in enumerate(spec.notification_targets):
            if target.target_ref is not None:
                field = f"{prefix}notificationTargets[{index}].targetRef"
                self.lookup("AlertNotificationTarget", target.target_ref, document, field)

    def source_type(self, source: _MetricSource, document: Document, field: str) -> str:
        """`metricSource.type`, else the type of the DataSource `metricSourceRef` names."""
        ref = source.metric_source_ref
        found = self.by_name.get(("DataSource", ref), []) if ref is not None else []
        referenced = found[0].model if len(found) == 1 else None
        if isinstance(referenced, _DataSourceObject):
            declared = referenced.spec.source_type
            if source.source_type is not None and source.source_type.lower() != declared.lower():
                raise document.error(
                    f"{field}.type",
                    f"type {source.source_type!r} contradicts v1.DataSource '{ref}'"
                    f" ({found[0].document.where}), whose type is {declared!r}",
                )
            return declared
        if source.source_type is not None:
            # A DataSource kept elsewhere (a vendor's own system, say) is fine with a type.
            return source.source_type
        if ref is not None:
            self.lookup("DataSource", ref, document, f"{field}.metricSourceRef")
        raise document.error(
            f"{field}.type", "required when metricSourceRef names no DataSource of this spec set"
        )

    def query(self, metric: _MetricSpec, document: Document, field: str) -> tuple[str, str]:
        """(query text, source type) of one metric; see the module docstring for non-PromQL."""
        source = metric.metric_source
        source_type = self.source_type(source, document, f"{field}.metricSource")
        query = source.spec.get("query")
        if isinstance(query, str) and query.strip():
            return query.strip(), source_type
        if source_type.lower() == "prometheus":
            raise document.error(
                f"{field}.metricSource.spec.query",
                "expected a PromQL query string: a Prometheus metric source needs one",
            )
        return json.dumps(source.spec, sort_keys=True, default=str), source_type

    def indicator(
        self,
        spec: _SliSpec,
        *,
        sli_document: Document,
        sli_prefix: str,
        objective: _Objective,
        slo_document: Document,
        objective_field: str,
    ) -> tuple[Indicator, str]:
        if spec.threshold_metric is not None:
            query, source_type = self.query(
                spec.threshold_metric, sli_document, f"{sli_prefix}thresholdMetric"
            )
            if objective.op is None or objective.value is None:
                missing = "op" if objective.op is None else "value"
                raise slo_document.error(
                    f"{objective_field}.{missing}",
                    "required with a thresholdMetric indicator (op: lt|lte|gt|gte, value: number)",
                )
            return PromThreshold(query=query, op=objective.op, value=objective.value), source_type
        ratio = spec.ratio_metric
        if ratio is None:  # the schema guarantees one of the two
            raise sli_document.error(f"{sli_prefix}ratioMetric", "required field is missing")
        prefix = f"{sli_prefix}ratioMetric"
        if ratio.raw is not None:
            query, source_type = self.query(ratio.raw, sli_document, f"{prefix}.raw")
            error_ratio = query if ratio.raw_type == "failure" else f"1 - ({query})"
            return PromErrorRatio(error_ratio=error_ratio), source_type
        parts = {"good": ratio.good, "bad": ratio.bad, "total": ratio.total}
        queries: dict[str, str] = {}
        types_seen: dict[str, str] = {}
        for name, metric in parts.items():
            if metric is not None:
                queries[name], types_seen[name] = self.query(
                    metric, sli_document, f"{prefix}.{name}"
                )
        if len({kind.lower() for kind in types_seen.values()}) > 1:
            raise sli_document.error(
                prefix,
                "expected every query of a ratio from the same kind of data source, got "
                + ", ".join(f"{name}: {kind}" for name, kind in types_seen.items()),
            )
        indicator = PromRatio(
            total=queries["total"], good=queries.get("good"), bad=queries.get("bad")
        )
        return indicator, types_seen["total"]

    def window(self, slo: _SloObject, document: Document) -> Window:
        if not slo.spec.time_window:
            return RollingWindow(duration_s=_DEFAULT_WINDOW_S)
        window = slo.spec.time_window[0]
        count, unit = _split_duration(window.duration)
        if window.is_rolling or window.calendar is None:
            return RollingWindow(duration_s=count * _UNIT_S[unit])
        zone = window.calendar.time_zone
        seconds = count * _UNIT_S[unit]
        if unit in ("m", "h") and seconds % 86400 == 0:
            return CalendarWindow(unit="day", count=seconds // 86400, time_zone=zone)
        if unit in _CALENDAR_UNITS:
            return CalendarWindow(unit=_CALENDAR_UNITS[unit], count=count, time_zone=zone)
        raise document.error(
            "spec.timeWindow[0].duration", f"unknown calendar unit in {window.duration!r}"
        )

    def slos(self, entry: _Entry) -> list[_Parsed]:
        """One core SLO per objective of the OpenSLO SLO in `entry`."""
        slo = entry.model
        if not isinstance(slo, _SloObject):
            return []
        document = entry.document
        spec = slo.spec
        composite = any(o.indicator or o.indicator_ref for o in spec.objectives)
        if spec.indicator is not None and spec.indicator_ref is not None:
            raise document.error("spec.indicatorRef", "expected 'indicator' or 'indicatorRef'")
        has_indicator = spec.indicator is not None or spec.indicator_ref is not None
        if composite == has_indicator:
            raise document.error(
                "spec.indicator",
                "'indicator' or 'indicatorRef' goes either on 'spec' or on every objective"
                " (a composite SLO), " + ("not both" if composite else "but none was given"),
            )
        window = self.window(slo, document)
        alerting = self.alerting(spec, document)
        labels = dict(slo.metadata.labels or {})
        names: dict[str, int] = {}
        parsed: list[_Parsed] = []
        for index, objective in enumerate(spec.objectives):
            field = f"spec.objectives[{index}]"
            name = slo.metadata.name
            if len(spec.objectives) > 1:
                name = f"{name}-{_slug(objective.display_name or '') or index}"
            if name in names:
                raise document.error(
                    f"{field}.displayName",
                    f"objective name {name!r} is also that of objectives[{names[name]}]",
                )
            names[name] = index
            indicator, source_type = self.objective_indicator(spec, objective, document, field)
            slice_s, slice_target = _timeslices(spec, objective, document, field)
            try:
                core = SLO(
                    service=spec.service,
                    name=name,
                    objective=_target(objective),
                    window=window,
                    indicator=indicator,
                    budgeting=_BUDGETING[spec.budgeting_method],
                    timeslice_s=slice_s,
                    timeslice_target=slice_target,
                    labels=labels,
                    alerting=alerting,
                    description=spec.description,
                    source_file=document.file,
                )
            except ValueError as error:
                raise document.error(field, str(error)) from None
            parsed.append(_Parsed(slo=core, source_type=source_type))
        return parsed

    def objective_indicator(
        self, spec: _SloSpec, objective: _Objective, document: Document, field: str
    ) -> tuple[Indicator, str]:
        """The objective's own indicator (composite SLOs) or the SLO's, inline or referenced."""
        inline = objective.indicator or spec.indicator
        ref = objective.indicator_ref or spec.indicator_ref
        if inline is not None:
            at = field if objective.indicator is not None else "spec"
            sli_spec, sli_document, sli_prefix = inline.spec, document, f"{at}.indicator.spec."
        else:
            at = field if objective.indicator_ref is not None else "spec"
            found = self.lookup("SLI", ref or "", document, f"{at}.indicatorRef")
            if not isinstance(found.model, _SliObject):  # the index is keyed by kind
                raise document.error(f"{at}.indicatorRef", "expected an SLI")
            sli_spec, sli_document, sli_prefix = found.model.spec, found.document, "spec."
        return self.indicator(
            sli_spec,
            sli_document=sli_document,
            sli_prefix=sli_prefix,
            objective=objective,
            slo_document=document,
            objective_field=field,
        )

    def alerting(self, spec: _SloSpec, document: Document) -> Alerting:
        names: list[str] = []
        for index, policy in enumerate(spec.alert_policies or []):
            field = f"spec.alertPolicies[{index}]"
            if policy.alert_policy_ref is not None:
                # A standalone policy's own references are checked with every object.
                self.lookup(
                    "AlertPolicy", policy.alert_policy_ref, document, f"{field}.alertPolicyRef"
                )
                names.append(policy.alert_policy_ref)
            elif policy.spec is not None and policy.metadata is not None:
                self.check_policy(policy.spec, document, f"{field}.spec.")
                names.append(policy.metadata.name)
        return Alerting(name=names[0]) if len(names) == 1 else Alerting()


def _model_for(document: Document) -> type[_Object]:
    """The schema for a document, refusing other API versions and unknown kinds by name."""
    version = document.data.get("apiVersion")
    if version in _UNSUPPORTED_VERSIONS:
        raise document.error("apiVersion", f"{version} is not supported yet; use {API_VERSION}")
    if version != API_VERSION:
        raise document.error("apiVersion", f"expected {API_VERSION!r}, got {version!r}")
    kind = document.data.get("kind")
    model = _MODELS.get(kind) if isinstance(kind, str) else None
    if model is None:
        raise document.error("kind", f"expected one of {', '.join(KINDS)}, got {kind!r}")
    return model


def _parse(documents: Sequence[Document]) -> list[_Parsed]:
    spec_set = _SpecSet(documents)
    for entry in spec_set.entries:
        if isinstance(entry.model, _AlertPolicyObject):
            spec_set.check_policy(entry.model.spec, entry.document, "spec.")
    seen: dict[str, _Entry] = {}
    parsed: list[_Parsed] = []
    for entry in spec_set.entries:
        if isinstance(entry.model, _SloObject):
            name = entry.model.metadata.name
            if name in seen:
                raise entry.document.error(
                    "metadata.name",
                    f"v1.SLO {name!r} is also defined at {seen[name].document.where}",
                )
            seen[name] = entry
            parsed.extend(spec_set.slos(entry))
    return parsed


def parse_documents(documents: Sequence[Document]) -> list[SLO]:
    """Core SLOs (one per objective) from every `openslo/v1` document of a spec set.

    Every object is validated and every reference resolved, whether or not an SLO uses it;
    the first problem raises a SpecError naming the document, the field and what was expected.
    """
    return [parsed.slo for parsed in _parse(documents)]


def metric_source_types(documents: Sequence[Document]) -> Mapping[str, str]:
    """The data source type (`Prometheus`, `Datadog`, ...) of each SLO, by core SLO id.

    Core SLOs carry no source type; surfaces use this to say that an SLO's data cannot be read
    (srekit reads Prometheus only) instead of sending a Datadog query to Prometheus.
    """
    return {parsed.slo.id: parsed.source_type for parsed in _parse(documents)}
