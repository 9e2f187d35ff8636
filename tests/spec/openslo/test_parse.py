"""OpenSLO v1 parser: hand-written specs for every kind, reference and decision it documents."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from srekit.core.slo import (
    SLO,
    Alerting,
    BudgetingMethod,
    PromErrorRatio,
    PromRatio,
    PromThreshold,
)
from srekit.core.window import CalendarWindow, RollingWindow
from srekit.errors import SpecError
from srekit.spec.document import Document
from srekit.spec.openslo import metric_source_types, parse_documents

DAY = 86400


def documents(*files: tuple[str, str]) -> list[Document]:
    """Documents from (file name, YAML text) pairs, as read_documents would give them."""
    found: list[Document] = []
    for name, text in files:
        index = 0
        for raw in yaml.safe_load_all(text):
            for item in raw if isinstance(raw, list) else [raw]:
                found.append(Document(data=item, file=name, index=index))
                index += 1
    return found


def parse(text: str, *more: tuple[str, str]) -> list[SLO]:
    return parse_documents(documents(("slo.yaml", text), *more))


def failure(text: str, *more: tuple[str, str]) -> SpecError:
    with pytest.raises(SpecError) as caught:
        parse(text, *more)
    return caught.value


PROM_SLO = """
apiVersion: openslo/v1
kind: SLO
metadata:
  name: availability
  labels: {team: [payments, sre], tier: "1"}
spec:
  description: Checkout answers
  service: checkout
  indicator:
    metadata: {name: checkout-ok}
    spec:
      ratioMetric:
        counter: true
        good:
          metricSource:
            type: Prometheus
            spec: {query: 'http_requests_total{job="checkout",code!~"5.."}'}
        total:
          metricSource:
            type: prometheus
            spec: {query: 'http_requests_total{job="checkout"}'}
  timeWindow:
    - duration: 28d
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - displayName: Good
      target: 0.999
"""


def slo_with(spec_changes: dict[str, Any], text: str = PROM_SLO) -> str:
    data = yaml.safe_load(text)
    data["spec"].update(spec_changes)
    return yaml.safe_dump(data)


def test_inline_ratio_sli_maps_every_field() -> None:
    assert parse(PROM_SLO) == [
        SLO(
            service="checkout",
            name="availability",
            objective=0.999,
            window=RollingWindow(duration_s=28 * DAY),
            indicator=PromRatio(
                total='http_requests_total{job="checkout"}',
                good='http_requests_total{job="checkout",code!~"5.."}',
            ),
            budgeting=BudgetingMethod.OCCURRENCES,
            labels={"team": "payments,sre", "tier": "1"},
            alerting=Alerting(),
            description="Checkout answers",
            source_file="slo.yaml",
        )
    ]


def test_bad_total_and_raw_ratios() -> None:
    prom = {"metricSource": {"type": "Prometheus", "spec": {"query": "errors"}}}
    total = {"metricSource": {"type": "Prometheus", "spec": {"query": "all"}}}
    bad = {"metadata": {"name": "s"}, "spec": {"ratioMetric": {"bad": prom, "total": total}}}
    assert parse(slo_with({"indicator": bad}))[0].indicator == PromRatio(total="all", bad="errors")

    for raw_type, expected in (("failure", "errors"), ("success", "1 - (errors)")):
        raw = {"ratioMetric": {"rawType": raw_type, "raw": prom}}
        slo = parse(slo_with({"indicator": {"metadata": {"name": "s"}, "spec": raw}}))[0]
        assert slo.indicator == PromErrorRatio(error_ratio=expected)


@pytest.mark.parametrize(
    ("ratio", "expected"),
    [
        ({"total": {}}, "exactly one of 'good' and 'bad'"),
        ({"raw": {}}, "'rawType' (success or failure) is required"),
        ({"rawType": "success"}, "expected 'total' with 'good' or 'bad', or 'raw'"),
    ],
)
def test_ratio_shapes_are_checked(ratio: dict[str, Any], expected: str) -> None:
    source = {"metricSource": {"type": "Prometheus", "spec": {"query": "q"}}}
    metric = {key: source if value == {} else value for key, value in ratio.items()}
    spec = {"metadata": {"name": "s"}, "spec": {"ratioMetric": metric}}
    error = failure(slo_with({"indicator": spec}))
    assert error.field == "spec.indicator.spec.ratioMetric"
    assert expected in error.detail


THRESHOLD_SLO = """
apiVersion: openslo/v1
kind: SLO
metadata: {name: lag}
spec:
  service: annotator
  indicatorRef: kafka-lag
  budgetingMethod: Timeslices
  timeWindow: [{duration: 1w, isRolling: true}]
  objectives:
    - op: lte
      value: 100
      target: 0.99
      timeSliceTarget: 0.95
      timeSliceWindow: 1m
"""

LAG_SLI = """
apiVersion: openslo/v1
kind: SLI
metadata: {name: kafka-lag}
spec:
  thresholdMetric:
    metricSource:
      metricSourceRef: thanos
      spec: {query: 'max(kafka_consumergroup_lag{group="annotator"})'}
---
apiVersion: openslo/v1
kind: DataSource
metadata: {name: thanos}
spec:
  type: Prometheus
  connectionDetails: {url: http://thanos:9090}
"""

LAG_SLI_ALONE = LAG_SLI.split("---", maxsplit=1)[0]


def test_referenced_sli_in_another_file_and_datasource_type() -> None:
    slo = parse(THRESHOLD_SLO, ("slis.yaml", LAG_SLI))[0]
    assert slo.indicator == PromThreshold(
        query='max(kafka_consumergroup_lag{group="annotator"})', op="lte", value=100.0
    )
    assert slo.budgeting is BudgetingMethod.TIMESLICES
    assert (slo.timeslice_s, slo.timeslice_target) == (60, 0.95)
    assert slo.window == RollingWindow(duration_s=7 * DAY)
    found = documents(("slo.yaml", THRESHOLD_SLO), ("slis.yaml", LAG_SLI))
    assert metric_source_types(found) == {"annotator-lag": "Prometheus"}


def test_missing_sli_names_the_reference() -> None:
    error = failure(THRESHOLD_SLO.replace("indicatorRef: kafka-lag", "indicatorRef: no-sli"))
    assert error.file == "slo.yaml"
    assert error.field == "spec.indicatorRef"
    assert error.detail == "v1.SLI 'no-sli' referenced at 'spec.indicatorRef' does not exist"


def test_threshold_objective_needs_op_and_value() -> None:
    error = failure(THRESHOLD_SLO.replace("op: lte", "displayName: x"), ("slis.yaml", LAG_SLI))
    assert error.field == "spec.objectives[0].op"


def test_metric_source_type_rules() -> None:
    sli_without_source = LAG_SLI_ALONE
    error = failure(THRESHOLD_SLO, ("slis.yaml", sli_without_source))
    assert (error.file, error.field) == (
        "slis.yaml",
        "spec.thresholdMetric.metricSource.metricSourceRef",
    )
    assert "v1.DataSource 'thanos'" in error.detail

    not_text = sli_without_source.replace("metricSourceRef: thanos", "metricSourceRef: [a]")
    error = failure(THRESHOLD_SLO, ("slis.yaml", not_text))
    assert error.field == "spec.thresholdMetric.metricSource.metricSourceRef"
    assert "expected a valid string" in error.detail

    no_ref = sli_without_source.replace("      metricSourceRef: thanos\n", "")
    error = failure(THRESHOLD_SLO, ("slis.yaml", no_ref))
    assert error.field == "spec.thresholdMetric.metricSource.type"

    contradicting = LAG_SLI.replace(
        "metricSourceRef: thanos", "metricSourceRef: thanos\n      type: Datadog"
    )
    error = failure(THRESHOLD_SLO, ("slis.yaml", contradicting))
    assert error.field == "spec.thresholdMetric.metricSource.type"
    assert "contradicts v1.DataSource 'thanos'" in error.detail


def test_other_data_sources_parse_and_are_reported() -> None:
    datadog = PROM_SLO.replace("type: Prometheus", "type: Datadog").replace(
        "type: prometheus", "type: Datadog"
    )
    slo = parse(datadog)[0]
    assert slo.indicator == PromRatio(
        total='http_requests_total{job="checkout"}',
        good='http_requests_total{job="checkout",code!~"5.."}',
    )
    assert metric_source_types(documents(("slo.yaml", datadog))) == {
        "checkout-availability": "Datadog"
    }

    app_dynamics = {"metricSource": {"type": "AppDynamics", "spec": {"metricPath": "A|B"}}}
    ratio = {"ratioMetric": {"good": app_dynamics, "total": app_dynamics}}
    slo = parse(slo_with({"indicator": {"metadata": {"name": "s"}, "spec": ratio}}))[0]
    assert slo.indicator == PromRatio(total='{"metricPath": "A|B"}', good='{"metricPath": "A|B"}')


def test_prometheus_source_needs_a_query() -> None:
    text = PROM_SLO.replace(
        'spec: {query: \'http_requests_total{job="checkout",code!~"5.."}\'}', "spec: {q: x}"
    )
    error = failure(text)
    assert error.field == "spec.indicator.spec.ratioMetric.good.metricSource.spec.query"


def test_mixed_source_types_in_one_ratio_are_refused() -> None:
    error = failure(PROM_SLO.replace("type: prometheus", "type: Datadog"))
    assert error.field == "spec.indicator.spec.ratioMetric"


def test_unknown_field_names_it_and_what_is_allowed() -> None:
    service = "apiVersion: openslo/v1\nkind: Service\nmetadata: {name: web}\nspec: {markdown: x}\n"
    error = failure(service)
    assert error.field == "spec.markdown"
    assert error.detail == "unknown field; expected one of: description"


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("foo", "expected 'openslo/v1', got 'foo'"),
        ("openslo/v1alpha", "expected 'openslo/v1', got 'openslo/v1alpha'"),
        ("openslo.com/v2alpha", "openslo.com/v2alpha is not supported yet; use openslo/v1"),
        ("openslo/v2alpha", "openslo/v2alpha is not supported yet; use openslo/v1"),
    ],
)
def test_other_api_versions_are_refused(version: str, expected: str) -> None:
    error = failure(f"apiVersion: {version}\nkind: Service\nmetadata: {{name: web}}\n")
    assert (error.field, error.detail) == ("apiVersion", expected)


def test_unknown_kind() -> None:
    error = failure("apiVersion: openslo/v1\nkind: Project\nmetadata: {name: web}\n")
    assert error.field == "kind"
    assert "AlertCondition, AlertNotificationTarget, AlertPolicy" in error.detail


@pytest.mark.parametrize("duration", ["30x", "0d", "1.5h", "30", "d", "1 d", "30D"])
def test_bad_durations(duration: str) -> None:
    error = failure(slo_with({"timeWindow": [{"duration": duration, "isRolling": True}]}))
    assert error.field == "spec.timeWindow[0].duration"
    assert "duration shorthand" in error.detail


@pytest.mark.parametrize(
    ("duration", "seconds"),
    [("90m", 5400), ("12h", 43200), ("2w", 14 * DAY), ("1M", 30 * DAY), ("1Q", 90 * DAY)],
)
def test_rolling_windows(duration: str, seconds: int) -> None:
    slo = parse(slo_with({"timeWindow": [{"duration": duration, "isRolling": True}]}))[0]
    assert slo.window == RollingWindow(duration_s=seconds)


def test_missing_time_window_is_a_rolling_30_days() -> None:
    data = yaml.safe_load(PROM_SLO)
    del data["spec"]["timeWindow"], data["spec"]["budgetingMethod"]
    slo = parse(yaml.safe_dump(data))[0]
    assert (slo.window, slo.budgeting) == (RollingWindow(30 * DAY), BudgetingMethod.OCCURRENCES)


@pytest.mark.parametrize(
    ("duration", "unit", "count"),
    [
        ("1M", "month", 1),
        ("1Q", "quarter", 1),
        ("1Y", "year", 1),
        ("1w", "week", 1),
        ("2d", "day", 2),
        ("48h", "day", 2),
        ("1440m", "day", 1),
        ("1m", "minute", 1),
        ("6h", "hour", 6),
    ],
)
def test_calendar_windows(duration: str, unit: str, count: int) -> None:
    window = {
        "duration": duration,
        "calendar": {"startTime": "2024-01-01 00:00:00", "timeZone": "Europe/Paris"},
    }
    slo = parse(slo_with({"timeWindow": [window]}))[0]
    assert slo.window == CalendarWindow(unit=unit, count=count, time_zone="Europe/Paris")  # type: ignore[arg-type]


def test_calendar_window_unquoted_start_time_and_default_zone() -> None:
    text = slo_with({"timeWindow": [{"duration": "1M", "isRolling": False, "calendar": {}}]})
    text = text.replace("calendar: {}", "calendar:\n      startTime: 2022-01-01 12:00:00")
    assert parse(text)[0].window == CalendarWindow(unit="month")


@pytest.mark.parametrize(
    ("window", "field", "expected"),
    [
        ({"duration": "1M", "calendar": {"startTime": "2022-01-01 00:00", "timeZone": "UTC"}},
         "spec.timeWindow[0].calendar.startTime", "date and time"),
        ({"duration": "1M", "calendar": {"startTime": "2022-01-01 00:00:00", "timeZone": "X/Y"}},
         "spec.timeWindow[0].calendar.timeZone", "IANA time zone"),
        ({"duration": "1M", "calendar": {"startTime": "January 1st"}},
         "spec.timeWindow[0].calendar.startTime", "'2022-01-01 00:00:00'"),
        ({"duration": "1M"}, "spec.timeWindow[0]", "'isRolling: true'"),
        ({"duration": "1M", "isRolling": True, "calendar": {"startTime": "2022-01-01 00:00:00"}},
         "spec.timeWindow[0]", "'calendar' cannot be set"),
    ],
)  # fmt: skip
def test_bad_windows(window: dict[str, Any], field: str, expected: str) -> None:
    error = failure(slo_with({"timeWindow": [window]}))
    assert error.field == field
    assert expected in error.detail


def test_only_one_time_window() -> None:
    window = {"duration": "1d", "isRolling": True}
    error = failure(slo_with({"timeWindow": [window, window]}))
    assert (error.field, error.detail) == ("spec.timeWindow", "expected at most 1 item(s), got 2")


def test_timeslices() -> None:
    objective = {"target": 0.99, "timeSliceTarget": 0.9, "timeSliceWindow": 5}
    slo = parse(slo_with({"budgetingMethod": "Timeslices", "objectives": [objective]}))[0]
    assert (slo.budgeting, slo.timeslice_s, slo.timeslice_target) == (
        BudgetingMethod.TIMESLICES,
        300,
        0.9,
    )

    ratio = {"target": 0.99, "timeSliceWindow": "1h", "op": "gt"}  # op ignored on ratios
    slo = parse(slo_with({"budgetingMethod": "RatioTimeslices", "objectives": [ratio]}))[0]
    assert (slo.budgeting, slo.timeslice_s, slo.timeslice_target) == (
        BudgetingMethod.RATIO_TIMESLICES,
        3600,
        None,
    )

    error = failure(slo_with({"budgetingMethod": "Timeslices", "objectives": [ratio]}))
    assert error.field == "spec.objectives[0].timeSliceTarget"
    error = failure(slo_with({"budgetingMethod": "Timeslices", "objectives": [{"target": 0.9}]}))
    assert error.field == "spec.objectives[0].timeSliceWindow"
    error = failure(slo_with({"budgetingMethod": "Timeslice"}))
    assert error.field == "spec.budgetingMethod"
    assert "'Occurrences', 'Timeslices' or 'RatioTimeslices'" in error.detail


def test_multiple_objectives_make_one_slo_each() -> None:
    objectives = [
        {"displayName": "Internal objective", "target": 0.995},
        {"displayName": "SLA", "targetPercent": 99.95},
        {"target": 0.9},
    ]
    slos = parse(slo_with({"objectives": objectives}))
    assert [(s.name, s.objective) for s in slos] == [
        ("availability-internal-objective", 0.995),
        ("availability-sla", 0.9995),
        ("availability-2", 0.9),
    ]

    twice = [{"displayName": "SLA", "target": 0.9}, {"displayName": "sla", "target": 0.99}]
    error = failure(slo_with({"objectives": twice}))
    assert error.field == "spec.objectives[1].displayName"


@pytest.mark.parametrize(
    ("objective", "field", "expected"),
    [
        ({"target": 1}, "spec.objectives[0].target", "expected less than 1, got 1"),
        ({"target": 0}, "spec.objectives[0].target", "expected greater than 0, got 0"),
        ({"target": "high"}, "spec.objectives[0].target", "expected a valid number, got 'high'"),
        ({"targetPercent": 100}, "spec.objectives[0].targetPercent", "less than 100"),
        ({"target": 0.9, "targetPercent": 90}, "spec.objectives[0]", "exactly one of 'target'"),
        ({}, "spec.objectives[0]", "exactly one of 'target'"),
    ],
)
def test_objective_targets(objective: dict[str, Any], field: str, expected: str) -> None:
    error = failure(slo_with({"objectives": [objective]}))
    assert error.field == field
    assert expected in error.detail


ALERTING = """
- apiVersion: openslo/v1
  kind: AlertCondition
  metadata: {name: fast-burn}
  spec:
    severity: page
    condition: {kind: burnrate, op: gte, threshold: 14.4, lookbackWindow: 1h, alertAfter: 5m}
- apiVersion: openslo/v1
  kind: AlertNotificationTarget
  metadata: {name: OnCallPager}
  spec: {target: pagerduty, description: the on-call}
- apiVersion: openslo/v1
  kind: AlertPolicy
  metadata: {name: CheckoutBurn}
  spec:
    alertWhenBreaching: true
    conditions: [{conditionRef: fast-burn}]
    notificationTargets: [{targetRef: OnCallPager}]
"""

INLINE_POLICY = {
    "kind": "AlertPolicy",
    "metadata": {"name": "inline-policy"},
    "spec": {
        "conditions": [
            {
                "kind": "AlertCondition",
                "metadata": {"name": "slow-burn"},
                "spec": {
                    "severity": "ticket",
                    "condition": {"threshold": 1, "lookbackWindow": "3d"},
                },
            }
        ],
        "notificationTargets": [
            {"kind": "AlertNotificationTarget", "metadata": {"name": "t"}, "spec": {"target": "x"}},
            {"targetRef": "OnCallPager"},
        ],
    },
}


def test_alert_policies_by_reference_and_inline() -> None:
    by_ref = slo_with({"alertPolicies": [{"alertPolicyRef": "CheckoutBurn"}]})
    assert parse(by_ref, ("alerts.yaml", ALERTING))[0].alerting == Alerting(name="CheckoutBurn")

    inline = slo_with({"alertPolicies": [INLINE_POLICY]})
    assert parse(inline, ("alerts.yaml", ALERTING))[0].alerting == Alerting(name="inline-policy")

    both = slo_with({"alertPolicies": [INLINE_POLICY, {"alertPolicyRef": "CheckoutBurn"}]})
    assert parse(both, ("alerts.yaml", ALERTING))[0].alerting == Alerting()

    assert parse(slo_with({"alertPolicies": None}))[0].alerting == Alerting()


def test_missing_alerting_references() -> None:
    error = failure(slo_with({"alertPolicies": [{"alertPolicyRef": "no-policy"}]}))
    assert error.field == "spec.alertPolicies[0].alertPolicyRef"

    error = failure(slo_with({"alertPolicies": [INLINE_POLICY]}))
    field = "spec.alertPolicies[0].spec.notificationTargets[1].targetRef"
    assert error.field == field
    assert error.detail == (
        f"v1.AlertNotificationTarget 'OnCallPager' referenced at '{field}' does not exist"
    )

    # A standalone policy's references are checked even when no SLO uses it.
    alerting = documents(("alerts.yaml", ALERTING))
    error_docs = [d for d in alerting if d.data["kind"] != "AlertCondition"]
    with pytest.raises(SpecError) as caught:
        parse_documents(error_docs)
    assert (caught.value.file, caught.value.field) == (
        "alerts.yaml#3",
        "spec.conditions[0].conditionRef",
    )


def test_policy_shapes() -> None:
    policy = copy.deepcopy(INLINE_POLICY)
    conditions = policy["spec"]["conditions"]  # type: ignore[index]
    conditions.append({"conditionRef": "fast-burn"})
    error = failure(slo_with({"alertPolicies": [policy]}), ("alerts.yaml", ALERTING))
    assert error.field == "spec.alertPolicies[0].spec.conditions"

    policy = copy.deepcopy(INLINE_POLICY)
    policy["spec"]["notificationTargets"][1]["kind"] = "AlertNotificationTarget"  # type: ignore[index]
    error = failure(slo_with({"alertPolicies": [policy]}), ("alerts.yaml", ALERTING))
    assert error.field == "spec.alertPolicies[0].spec.notificationTargets[1]"
    assert "not both" in error.detail


def test_ambiguous_reference_and_duplicate_slo() -> None:
    error = failure(THRESHOLD_SLO, ("a.yaml", LAG_SLI), ("b.yaml", LAG_SLI_ALONE))
    assert error.field == "spec.indicatorRef"
    assert "defined twice: a.yaml, b.yaml" in error.detail

    error = failure(PROM_SLO, ("other.yaml", PROM_SLO))
    assert (error.file, error.field) == ("other.yaml", "metadata.name")


def test_labels_and_names() -> None:
    error = failure(PROM_SLO.replace('tier: "1"', "tier: 1"))
    assert error.field == "metadata.labels.tier"
    assert "a string or a list of strings" in error.detail

    error = failure(PROM_SLO.replace('tier: "1"', '"bad key!": x'))
    assert error.field == "metadata.labels.bad key!"

    # Other objects may be CamelCase (OpenSLO's README examples are), but an SLO's name and
    # service become srekit's and follow its rule: lowercase, as OpenSLO asks (RFC 1123).
    error = failure(PROM_SLO.replace("name: availability", "name: CheckoutAvailability"))
    assert error.field == "metadata.name"
    assert "expected a name of lowercase letters" in error.detail
    assert "got 'CheckoutAvailability', where 'C' is not allowed" in error.detail
    error = failure(PROM_SLO.replace("name: availability", "name: checkout availability"))
    assert error.field == "metadata.name"
    error = failure(PROM_SLO.replace("service: checkout", "service: Checkout"))
    assert error.field == "spec.service"
    assert "got 'Checkout', where 'C' is not allowed" in error.detail


def test_composite_objectives() -> None:
    objectives = [
        {"displayName": "lag", "indicatorRef": "kafka-lag", "op": "lt", "value": 5, "target": 0.9},
        {"displayName": "ok", "indicator": yaml.safe_load(PROM_SLO)["spec"]["indicator"],
         "target": 0.99, "compositeWeight": 2},
    ]  # fmt: skip
    data = yaml.safe_load(PROM_SLO)
    del data["spec"]["indicator"]
    data["spec"]["objectives"] = objectives
    slos = parse(yaml.safe_dump(data), ("slis.yaml", LAG_SLI))
    assert [type(s.indicator) for s in slos] == [PromThreshold, PromRatio]

    data["spec"]["indicatorRef"] = "kafka-lag"
    error = failure(yaml.safe_dump(data), ("slis.yaml", LAG_SLI))
    assert error.field == "spec.indicator"
    assert "not both" in error.detail


def test_every_kind_alone_parses_to_no_slo() -> None:
    others = """
- {apiVersion: openslo/v1, kind: Service, metadata: {name: web}}
- {apiVersion: openslo/v1, kind: Service, metadata: {name: web}, spec: {description: dup}}
- apiVersion: openslo/v1
  kind: DataSource
  metadata: {name: string, displayName: string}
  spec: {type: CloudWatch, connectionDetails: {accessKeyID: a}}
"""
    assert parse_documents(documents(("alerts.yaml", ALERTING), ("other.yaml", others))) == []


def test_error_names_the_document_in_its_file() -> None:
    error = failure(PROM_SLO, ("more.yaml", "- {apiVersion: openslo/v1, kind: Service}\n"))
    assert (error.file, error.field) == ("more.yaml", "metadata")
    assert str(error) == "more.yaml: metadata: required field is missing"


# Anything at any place must give a SpecError, never another exception.
_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(value: Any, prefix: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    found: list[tuple[Any, ...]] = [tuple(prefix)]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, [*prefix, key])
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, [*prefix, index])
    return found


_BASE = yaml.safe_load(slo_with({"alertPolicies": [INLINE_POLICY]}))
_BASE_PATHS = [path for path in _paths(_BASE) if path]


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(path=st.sampled_from(_BASE_PATHS), value=_VALUES)
def test_any_input_gives_a_spec_error_or_slos(path: tuple[Any, ...], value: Any) -> None:
    data = copy.deepcopy(_BASE)
    target = data
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    alerting = documents(("alerts.yaml", ALERTING))
    try:
        parse_documents([Document(data=data, file="slo.yaml", index=0), *alerting])
    except SpecError as error:
        failed: SpecError | None = error
    else:
        failed = None
    assert failed is None or failed.file is not None
