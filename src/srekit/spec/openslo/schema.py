"""The OpenSLO `openslo/v1` schema as pydantic models, as strict as the reference SDK decodes.

Every kind (`SLO`, `SLI`, `Service`, `DataSource`, `AlertPolicy`, `AlertCondition`,
`AlertNotificationTarget`) with its field types: names, label keys and values, duration
shorthands (`30d`, `1M`), calendar start times and time zones. Unknown fields are refused.
What srekit accepts beyond the SDK, and why, is said in the package's docstring.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal
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
    model_validator,
)
from pydantic.alias_generators import to_camel

from srekit.core.window import CalendarUnit
from srekit.spec.document import Document

__all__ = [
    "API_VERSION",
    "CALENDAR_UNITS",
    "KINDS",
    "MODELS",
    "UNIT_S",
    "AlertConditionObject",
    "AlertConditionSpec",
    "AlertNotificationTargetObject",
    "AlertNotificationTargetSpec",
    "AlertPolicyObject",
    "AlertPolicySpec",
    "Calendar",
    "ConditionType",
    "DataSourceObject",
    "DataSourceSpec",
    "InlineSli",
    "Metadata",
    "MetricSource",
    "MetricSpec",
    "Object",
    "Objective",
    "PolicyCondition",
    "PolicyTarget",
    "RatioMetric",
    "ServiceObject",
    "ServiceSpec",
    "SliObject",
    "SliSpec",
    "SloAlertPolicy",
    "SloObject",
    "SloSpec",
    "TimeWindow",
    "model_for",
    "split_duration",
]

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

_NAME = re.compile(r"^[A-Za-z0-9]([-._A-Za-z0-9]{0,253}[A-Za-z0-9])?$")
_LABEL_KEY = re.compile(r"^[a-zA-Z0-9]([-._a-zA-Z0-9]{0,61}[a-zA-Z0-9])?$")
_DURATION = re.compile(r"^([1-9][0-9]*)([mhdwMQY])$")
UNIT_S = {
    "m": 60,
    "h": 3600,
    "d": 86400,
    "w": 7 * 86400,
    "M": 30 * 86400,
    "Q": 90 * 86400,
    "Y": 365 * 86400,
}
CALENDAR_UNITS: dict[str, CalendarUnit] = {
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


class Metadata(_Model):
    name: _Name
    display_name: StrictStr | None = None
    labels: dict[_LabelKey, _LabelValue] | None = None
    annotations: dict[StrictStr, StrictStr] | None = None


class MetricSource(_Model):
    metric_source_ref: _Ref | None = None
    source_type: Annotated[StrictStr, Field(min_length=1)] | None = Field(None, alias="type")
    spec: Annotated[dict[str, Any], Field(min_length=1)]


class MetricSpec(_Model):
    metric_source: MetricSource


class RatioMetric(_Model):
    counter: StrictBool | None = None
    good: MetricSpec | None = None
    bad: MetricSpec | None = None
    total: MetricSpec | None = None
    raw_type: Literal["success", "failure"] | None = None
    raw: MetricSpec | None = None

    @model_validator(mode="after")
    def _one_shape(self) -> RatioMetric:
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


class SliSpec(_Model):
    description: _Description | None = None
    threshold_metric: MetricSpec | None = None
    ratio_metric: RatioMetric | None = None

    @model_validator(mode="after")
    def _one_metric(self) -> SliSpec:
        if (self.threshold_metric is None) == (self.ratio_metric is None):
            raise ValueError("expected exactly one of 'thresholdMetric' and 'ratioMetric'")
        return self


class InlineSli(_Model):
    metadata: Metadata
    spec: SliSpec


class Objective(_Model):
    display_name: StrictStr | None = None
    op: _Op | None = None
    value: StrictFloat | None = None
    target: Annotated[StrictFloat, Field(gt=0, lt=1)] | None = None
    target_percent: Annotated[StrictFloat, Field(gt=0, lt=100)] | None = None
    time_slice_target: Annotated[StrictFloat, Field(gt=0, le=1)] | None = None
    time_slice_window: _SliceWindow | None = None
    indicator: InlineSli | None = None
    indicator_ref: _Ref | None = None
    composite_weight: Annotated[StrictFloat, Field(gt=0)] | None = None

    @model_validator(mode="after")
    def _one_target(self) -> Objective:
        if (self.target is None) == (self.target_percent is None):
            raise ValueError("expected exactly one of 'target' (0.999) and 'targetPercent' (99.9)")
        if self.indicator is not None and self.indicator_ref is not None:
            raise ValueError("expected 'indicator' or 'indicatorRef', not both")
        return self


class Calendar(_Model):
    start_time: _StartTime
    time_zone: _TimeZone = "UTC"


class TimeWindow(_Model):
    duration: _Duration
    is_rolling: StrictBool | None = None
    calendar: Calendar | None = None

    @model_validator(mode="after")
    def _rolling_or_calendar(self) -> TimeWindow:
        if self.is_rolling and self.calendar is not None:
            raise ValueError("'calendar' cannot be set when 'isRolling' is true")
        if not self.is_rolling and self.calendar is None:
            raise ValueError(
                "expected 'isRolling: true' for a rolling window, or 'calendar' (startTime,"
                " timeZone) for a calendar-aligned one"
            )
        return self


class ConditionType(_Model):
    kind: Literal["burnrate"] = "burnrate"
    op: _Op | None = None
    threshold: StrictFloat
    lookback_window: _Duration
    alert_after: _Duration | None = None


class AlertConditionSpec(_Model):
    description: _Description | None = None
    severity: Annotated[StrictStr, Field(min_length=1)]
    condition: ConditionType


class AlertNotificationTargetSpec(_Model):
    description: _Description | None = None
    target: Annotated[StrictStr, Field(min_length=1)]


class PolicyCondition(_Model):
    """`conditionRef: name`, or an inline AlertCondition (`kind`, `metadata`, `spec`)."""

    condition_ref: _Ref | None = None
    kind: Literal["AlertCondition"] | None = None
    metadata: Metadata | None = None
    spec: AlertConditionSpec | None = None

    @model_validator(mode="after")
    def _ref_or_inline(self) -> PolicyCondition:
        _ref_or_inline("conditionRef", self.condition_ref, self.kind, self.metadata, self.spec)
        return self


class PolicyTarget(_Model):
    """`targetRef: name`, or an inline AlertNotificationTarget (`kind`, `metadata`, `spec`)."""

    target_ref: _Ref | None = None
    kind: Literal["AlertNotificationTarget"] | None = None
    metadata: Metadata | None = None
    spec: AlertNotificationTargetSpec | None = None

    @model_validator(mode="after")
    def _ref_or_inline(self) -> PolicyTarget:
        _ref_or_inline("targetRef", self.target_ref, self.kind, self.metadata, self.spec)
        return self


class AlertPolicySpec(_Model):
    description: _Description | None = None
    alert_when_no_data: StrictBool | None = None
    alert_when_breaching: StrictBool | None = None
    alert_when_resolved: StrictBool | None = None
    # The spec allows one condition (a list "for future-proofing") and needs a target.
    conditions: Annotated[list[PolicyCondition], Field(min_length=1, max_length=1)]
    notification_targets: Annotated[list[PolicyTarget], Field(min_length=1)]


class SloAlertPolicy(_Model):
    """`alertPolicyRef: name`, or an inline AlertPolicy (`kind`, `metadata`, `spec`)."""

    alert_policy_ref: _Ref | None = None
    kind: Literal["AlertPolicy"] | None = None
    metadata: Metadata | None = None
    spec: AlertPolicySpec | None = None

    @model_validator(mode="after")
    def _ref_or_inline(self) -> SloAlertPolicy:
        _ref_or_inline("alertPolicyRef", self.alert_policy_ref, self.kind, self.metadata, self.spec)
        return self


def _ref_or_inline(ref_name: str, ref: str | None, *inline: object) -> None:
    given = [part is not None for part in inline]
    if ref is not None and any(given):
        raise ValueError(f"expected '{ref_name}' or an inline object, not both")
    if ref is None and not all(given):
        raise ValueError(f"expected '{ref_name}', or an inline object with kind, metadata, spec")


class SloSpec(_Model):
    description: _Description | None = None
    service: Annotated[StrictStr, Field(min_length=1)]
    indicator: InlineSli | None = None
    indicator_ref: _Ref | None = None
    budgeting_method: Literal["Occurrences", "Timeslices", "RatioTimeslices"] = "Occurrences"
    time_window: Annotated[list[TimeWindow], Field(min_length=1, max_length=1)] | None = None
    objectives: Annotated[list[Objective], Field(min_length=1)]
    alert_policies: list[SloAlertPolicy] | None = None


class ServiceSpec(_Model):
    description: _Description | None = None


class DataSourceSpec(_Model):
    description: _Description | None = None
    source_type: Annotated[StrictStr, Field(min_length=1)] = Field(alias="type")
    connection_details: Any = None


class Object(_Model):
    api_version: StrictStr
    kind: StrictStr
    metadata: Metadata


class SloObject(Object):
    spec: SloSpec


class SliObject(Object):
    spec: SliSpec


class ServiceObject(Object):
    spec: ServiceSpec | None = None


class DataSourceObject(Object):
    spec: DataSourceSpec


class AlertPolicyObject(Object):
    spec: AlertPolicySpec


class AlertConditionObject(Object):
    spec: AlertConditionSpec


class AlertNotificationTargetObject(Object):
    spec: AlertNotificationTargetSpec


MODELS: dict[str, type[Object]] = {
    "AlertCondition": AlertConditionObject,
    "AlertNotificationTarget": AlertNotificationTargetObject,
    "AlertPolicy": AlertPolicyObject,
    "DataSource": DataSourceObject,
    "SLI": SliObject,
    "SLO": SloObject,
    "Service": ServiceObject,
}


def split_duration(text: str) -> tuple[int, str]:
    """`30d` → (30, "d"), for a duration the schema has accepted."""
    match = _DURATION.match(text)
    if match is None:  # the schema has already checked it
        raise ValueError(text)
    return int(match.group(1)), match.group(2)


def model_for(document: Document) -> type[Object]:
    """The schema for a document, refusing other API versions and unknown kinds by name."""
    version = document.data.get("apiVersion")
    if version in _UNSUPPORTED_VERSIONS:
        raise document.error("apiVersion", f"{version} is not supported yet; use {API_VERSION}")
    if version != API_VERSION:
        raise document.error("apiVersion", f"expected {API_VERSION!r}, got {version!r}")
    kind = document.data.get("kind")
    model = MODELS.get(kind) if isinstance(kind, str) else None
    if model is None:
        raise document.error("kind", f"expected one of {', '.join(KINDS)}, got {kind!r}")
    return model
