"""OpenSLO `openslo/v1` documents → core SLOs: references resolved, one SLO per objective.

All documents of a spec set are validated (by `schema`) and indexed together, so references
(`indicatorRef`, `alertPolicyRef`, `conditionRef`, `targetRef`, `metricSourceRef`) may cross
files; a reference to an object that does not exist, or that is defined twice, is an error
naming the referencing field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from srekit.core.names import name_problem
from srekit.core.slo import (
    SLO,
    Alerting,
    BudgetingMethod,
    Indicator,
    PromErrorRatio,
    PromRatio,
    PromThreshold,
)
from srekit.core.window import CalendarWindow, RollingWindow, Window
from srekit.spec.document import Document
from srekit.spec.openslo.schema import (
    CALENDAR_UNITS,
    UNIT_S,
    AlertPolicyObject,
    AlertPolicySpec,
    DataSourceObject,
    MetricSource,
    MetricSpec,
    Object,
    Objective,
    SliObject,
    SliSpec,
    SloObject,
    SloSpec,
    model_for,
    split_duration,
)
from srekit.spec.validation import validate_model

__all__ = ["metric_source_types", "parse_documents"]

_DEFAULT_WINDOW_S = 30 * 86400


@dataclass(frozen=True)
class _Entry:
    document: Document
    model: Object


@dataclass(frozen=True)
class _Parsed:
    slo: SLO
    source_type: str


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _check_srekit_name(value: str, field: str, document: Document) -> None:
    """The schema takes any object name OpenSLO's examples use (uppercase letters, up to 255
    characters: `AlertPolicy`); the service and SLO names srekit keeps follow its own rule,
    lowercase as the OpenSLO spec asks of names (RFC 1123), and at most 200 characters."""
    problem = name_problem(value)
    if problem is not None:
        raise document.error(field, problem)


_BUDGETING = {
    "Occurrences": BudgetingMethod.OCCURRENCES,
    "Timeslices": BudgetingMethod.TIMESLICES,
    "RatioTimeslices": BudgetingMethod.RATIO_TIMESLICES,
}


def _timeslices(
    spec: SloSpec, objective: Objective, document: Document, field: str
) -> tuple[int | None, float | None]:
    """(slice length in seconds, slice target); both None with Occurrences budgeting."""
    if spec.budgeting_method == "Occurrences":
        return None, None
    if objective.time_slice_window is None:
        raise document.error(
            f"{field}.timeSliceWindow", f"required with budgetingMethod {spec.budgeting_method}"
        )
    count, unit = split_duration(objective.time_slice_window)
    if spec.budgeting_method == "Timeslices" and objective.time_slice_target is None:
        raise document.error(
            f"{field}.timeSliceTarget",
            "required with budgetingMethod Timeslices: the fraction of a slice's events (or"
            " time) that must be good for the slice to be good",
        )
    return count * UNIT_S[unit], objective.time_slice_target


def _target(objective: Objective) -> float:
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
            entry = _Entry(document, validate_model(model_for(document), document.data, document))
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

    def check_policy(self, spec: AlertPolicySpec, document: Document, prefix: str) -> None:
        for index, condition in enumerate(spec.conditions):
            if condition.condition_ref is not None:
                field = f"{prefix}conditions[{index}].conditionRef"
                self.lookup("AlertCondition", condition.condition_ref, document, field)
        for index, target in enumerate(spec.notification_targets):
            if target.target_ref is not None:
                field = f"{prefix}notificationTargets[{index}].targetRef"
                self.lookup("AlertNotificationTarget", target.target_ref, document, field)

    def source_type(self, source: MetricSource, document: Document, field: str) -> str:
        """`metricSource.type`, else the type of the DataSource `metricSourceRef` names."""
        ref = source.metric_source_ref
        found = self.by_name.get(("DataSource", ref), []) if ref is not None else []
        referenced = found[0].model if len(found) == 1 else None
        if isinstance(referenced, DataSourceObject):
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

    def query(self, metric: MetricSpec, document: Document, field: str) -> tuple[str, str]:
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
        spec: SliSpec,
        *,
        sli_document: Document,
        sli_prefix: str,
        objective: Objective,
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

    def window(self, slo: SloObject, document: Document) -> Window:
        if not slo.spec.time_window:
            return RollingWindow(duration_s=_DEFAULT_WINDOW_S)
        window = slo.spec.time_window[0]
        count, unit = split_duration(window.duration)
        if window.is_rolling or window.calendar is None:
            return RollingWindow(duration_s=count * UNIT_S[unit])
        zone = window.calendar.time_zone
        seconds = count * UNIT_S[unit]
        if unit in ("m", "h") and seconds % 86400 == 0:
            return CalendarWindow(unit="day", count=seconds // 86400, time_zone=zone)
        if unit in CALENDAR_UNITS:
            return CalendarWindow(unit=CALENDAR_UNITS[unit], count=count, time_zone=zone)
        raise document.error(
            "spec.timeWindow[0].duration", f"unknown calendar unit in {window.duration!r}"
        )

    def slos(self, entry: _Entry) -> list[_Parsed]:
        """One core SLO per objective of the OpenSLO SLO in `entry`."""
        slo = entry.model
        if not isinstance(slo, SloObject):
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
        _check_srekit_name(spec.service, "spec.service", document)
        for index, objective in enumerate(spec.objectives):
            field = f"spec.objectives[{index}]"
            name = slo.metadata.name
            if len(spec.objectives) > 1:
                name = f"{name}-{_slug(objective.display_name or '') or index}"
            _check_srekit_name(name, "metadata.name", document)
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
        self, spec: SloSpec, objective: Objective, document: Document, field: str
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
            if not isinstance(found.model, SliObject):  # the index is keyed by kind
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

    def alerting(self, spec: SloSpec, document: Document) -> Alerting:
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


def _parse(documents: Sequence[Document]) -> list[_Parsed]:
    spec_set = _SpecSet(documents)
    for entry in spec_set.entries:
        if isinstance(entry.model, AlertPolicyObject):
            spec_set.check_policy(entry.model.spec, entry.document, "spec.")
    seen: dict[str, _Entry] = {}
    parsed: list[_Parsed] = []
    for entry in spec_set.entries:
        if isinstance(entry.model, SloObject):
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
