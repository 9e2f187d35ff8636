"""Reading Sloth specs: Sloth's validation cases, conversion to core SLOs, and error messages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from srekit.core.slo import PromErrorRatio, PromRatio
from srekit.core.window import RollingWindow
from srekit.errors import SpecError
from srekit.sloth.spec import (
    SlothServiceLevel,
    parse_documents,
    parse_sloth_documents,
    render_window,
)
from srekit.spec.document import Document, read_documents
from tests.conformance import conformance_dir


def _testdata() -> Path:
    return conformance_dir() / "sloth" / "test" / "integration" / "prometheus" / "testdata"


def _docs(text: str, file: str = "slo.yaml") -> list[Document]:
    return [
        Document(data=data, file=file, index=index)
        for index, data in enumerate(yaml.safe_load_all(text))
        if data is not None
    ]


BASE = """
version: prometheus/v1
service: svc01
labels: {team: a}
slos:
  - name: slo1
    objective: 99.9
    description: Availability.
    labels: {tier: "1"}
    sli:
      events:
        error_query: sum(rate(x{code=~"5.."}[{{.window}}]))
        total_query: sum(rate(x[{{ .window }}]))
    alerting:
      name: Alert
      labels: {a: "1"}
      annotations: {runbook: "https://r"}
      page_alert: {labels: {severity: page}}
      ticket_alert: {disable: true}
"""


def _base(**changes: Any) -> list[Document]:
    data = yaml.safe_load(BASE)
    slo = data["slos"][0]
    for key, value in changes.items():
        target, _, name = key.rpartition(".")
        node = slo
        for part in filter(None, target.split(".")):
            node = node.setdefault(part, {})
        if value is None:
            node.pop(name, None)
        else:
            node[name] = value
    return [Document(data=data, file="slo.yaml", index=0)]


# --- Sloth's validation cases ---------------------------------------------------------------------


@pytest.mark.conformance
def test_good_cases_validate_with_duplicates_ignored() -> None:
    levels = parse_sloth_documents(
        read_documents(_testdata() / "validate" / "good"), ignore_duplicates=True
    )
    assert sum(len(level.slos) for level in levels) == 17  # 2+2+2+2+4+4+1


@pytest.mark.conformance
def test_good_cases_share_slo_ids_so_duplicates_fail_by_default() -> None:
    with pytest.raises(SpecError, match="duplicate SLO id 'svc01-slo1'"):
        parse_sloth_documents(read_documents(_testdata() / "validate" / "good"))


@pytest.mark.conformance
@pytest.mark.parametrize(
    ("name", "field", "message"),
    [
        ("bad-aa.yaml", "slos[1].objective", "<= 100"),
        ("bad-ab.yaml", "slos[1].objective", "<= 100"),
        ("bad-ba.yaml", "slos[1].objective", "<= 100"),
        ("bad-k8s.yaml", "spec.service", "service is required"),
        ("bad-multi-k8s.yaml", "spec.slos[0].alerting.name", "alert name is required"),
        ("bad-multi.yaml", "slos[1].sli", "an SLI is required"),
    ],
)
def test_bad_cases_fail(name: str, field: str, message: str) -> None:
    with pytest.raises(SpecError, match=message) as caught:
        parse_sloth_documents(read_documents(_testdata() / "validate" / "bad" / name))
    assert caught.value.field == field


@pytest.mark.conformance
def test_bad_openslo_validates_with_current_sloth() -> None:
    # Its only difference from good-openslo.yaml is `count: 28` days, marked "# BAD!" before Sloth
    # supported 28-day periods (PR #182). Sloth now ships a google-28d window catalog, and so does
    # srekit, so this file is valid; the bad/ directory as a whole still fails.
    path = _testdata() / "validate" / "bad" / "bad-openslo.yaml"
    (level,) = parse_sloth_documents(read_documents(path))
    assert level.slos[0].period_s == 28 * 86400
    with pytest.raises(SpecError):
        parse_sloth_documents(read_documents(path.parent), ignore_duplicates=True)


@pytest.mark.conformance
@pytest.mark.parametrize(
    "path", ["bad-prom-multi-duplicates.yaml", "k8s", "openslo", "prom"], ids=str
)
def test_duplicates_fail_unless_ignored(path: str) -> None:
    target = _testdata() / "validate_with_duplicates" / path
    with pytest.raises(SpecError, match="duplicate SLO id"):
        parse_sloth_documents(read_documents(target))
    assert parse_sloth_documents(read_documents(target), ignore_duplicates=True)


@pytest.mark.conformance
def test_invalid_version_is_named() -> None:
    with pytest.raises(SpecError, match="unknown Sloth spec version 'prometheus/v999'") as caught:
        parse_sloth_documents(read_documents(_testdata() / "in-invalid-version.yaml"))
    assert caught.value.field == "version"


# --- conversion to core SLOs ----------------------------------------------------------------------


@pytest.mark.conformance
def test_base_spec_as_core_slos() -> None:
    first, second = parse_documents(list(read_documents(_testdata() / "in-base.yaml")))
    assert first.id == "svc01-slo1"
    assert first.objective == 0.999
    assert first.window == RollingWindow(30 * 86400)
    assert isinstance(first.indicator, PromRatio)
    assert first.indicator.bad is not None
    assert first.indicator.bad.startswith("sum(rate(http_request_duration_seconds_count")
    assert first.labels == {"global01k1": "global01v1", "global02k1": "global02v1"}
    assert first.alerting.name == "myServiceAlert"
    assert first.alerting.page.labels == {"alert03k1": "alert03v1"}
    assert first.alerting.ticket.labels == {"alert04k1": "alert04v1"}
    assert first.description == "This is SLO 01."
    assert first.source_file is not None
    assert first.source_file.endswith("in-base.yaml")
    assert second.objective == 0.95
    assert isinstance(second.indicator, PromErrorRatio)
    assert second.alerting.page.disabled
    assert second.alerting.ticket.disabled


@pytest.mark.conformance
def test_k8s_spec_keeps_metadata() -> None:
    (level,) = parse_sloth_documents(read_documents(_testdata() / "in-base-k8s.yaml"))
    assert level.spec == "sloth.slok.dev/v1"
    assert level.k8s is not None
    assert (level.k8s.name, level.k8s.namespace) == ("svc", "test-ns")
    assert level.slos[1].sli.kind == "raw"


@pytest.mark.conformance
def test_openslo_objectives_become_good_total_ratios() -> None:
    (slo,) = parse_documents(list(read_documents(_testdata() / "in-openslo.yaml")))
    assert (slo.service, slo.name, slo.objective) == ("svc01", "slo1-0", 0.999)
    assert isinstance(slo.indicator, PromRatio)
    assert slo.indicator.good is not None
    assert 'code!~"(5..|429)"' in slo.indicator.good
    assert slo.alerting.page.disabled


def test_openslo_service_documents_are_skipped() -> None:
    documents = _docs(
        """
apiVersion: openslo/v1alpha
kind: Service
metadata: {name: svc01}
spec: {description: x}
---
apiVersion: openslo/v1alpha
kind: SLO
metadata: {name: avail}
spec:
  service: svc01
  objectives:
    - ratioMetrics:
        good: {source: prometheus, queryType: promql, query: "sum(rate(ok[{{.window}}]))"}
        total: {source: prometheus, queryType: promql, query: "sum(rate(all[{{.window}}]))"}
      target: 0.99
  timeWindows: [{count: 7, unit: Day}]
"""
    )
    (slo,) = parse_documents(documents)
    assert slo.window == RollingWindow(7 * 86400)
    assert slo.objective == 0.99


def test_sloth_level_keeps_the_objective_as_written() -> None:
    (level,) = parse_sloth_documents(_base())
    assert isinstance(level, SlothServiceLevel)
    slo = level.slos[0]
    assert slo.objective == 99.9
    assert slo.labels == {"team": "a", "tier": "1"}
    assert slo.alert_annotations == {"runbook": "https://r"}


def test_default_period_is_configurable() -> None:
    (slo,) = parse_documents(_base(), default_period_s=28 * 86400)
    assert slo.window == RollingWindow(28 * 86400)


# --- errors name the field and what was expected ------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"objective": 0}, "slos[0].objective", "> 0 and <= 100"),
        ({"objective": "high"}, "slos[0].objective", "expected a number"),
        ({"name": ""}, "slos[0].name", "SLO name is required"),
        ({"name": "bad name"}, "slos[0].name", "invalid SLO name"),
        ({"sli": None}, "slos[0].sli", "an SLI is required"),
        (
            {"sli.raw": {"error_ratio_query": "x[{{.window}}]"}},
            "slos[0].sli",
            "only one SLI kind",
        ),
        (
            {"sli.events.error_query": "sum(rate(x[5m]))"},
            "slos[0].sli.events.error_query",
            "{{.window}}",
        ),
        (
            {"sli.events.error_query": "sum(rate(x[{{.window}}])) {{ .other }}"},
            "slos[0].sli.events.error_query",
            "unsupported template action",
        ),
        (
            {"sli.events.error_query": "sum(rate(x[{{ .window }}]))"},
            "slos[0].sli.events",
            "must differ",
        ),
        ({"alerting.name": None}, "slos[0].alerting.name", "alert name is required"),
        ({"labels": {"bad-name": "x"}}, "slos[0].labels.bad-name", "Prometheus label name"),
        ({"labels": {"empty": ""}}, "slos[0].labels.empty", "must not be empty"),
        ({"alerting.page_alert.disable": "yes"}, "slos[0].alerting.page_alert.disable", "true"),
    ],
)
def test_invalid_slo_fields(changes: dict[str, Any], field: str, message: str) -> None:
    with pytest.raises(SpecError, match=message) as caught:
        parse_sloth_documents(_base(**changes))
    assert caught.value.field == field
    assert caught.value.file == "slo.yaml"


def test_alert_name_is_optional_when_both_alerts_are_disabled() -> None:
    documents = _base(**{"alerting.name": None, "alerting.page_alert.disable": True})
    (slo,) = parse_documents(documents)
    assert slo.alerting.name is None


def test_unknown_document_kind_is_refused() -> None:
    with pytest.raises(SpecError, match="not a Sloth spec") as caught:
        parse_sloth_documents(_docs("apiVersion: openslo/v1\nkind: SLO\n"))
    assert caught.value.field == "apiVersion"


def test_objective_100_is_sloth_valid_but_has_no_budget_for_srekit() -> None:
    documents = _base(objective=100)
    assert parse_sloth_documents(documents)[0].slos[0].objective == 100
    with pytest.raises(SpecError, match="no error budget"):
        parse_documents(documents)


def test_sli_plugin_is_kept_for_validation_but_refused_for_core_slos() -> None:
    documents = _base(**{"sli": {"plugin": {"id": "my_plugin", "options": {"job": "x"}}}})
    (level,) = parse_sloth_documents(documents)
    assert level.slos[0].sli.plugin_id == "my_plugin"
    with pytest.raises(SpecError, match="SLI plugins \\(Go\\) are not supported") as caught:
        parse_documents(documents)
    assert caught.value.field == "slos[0].sli.plugin"


def test_duplicates_within_one_document_always_fail() -> None:
    data = yaml.safe_load(BASE)
    data["slos"].append(data["slos"][0])
    documents = [Document(data=data, file="slo.yaml", index=0)]
    with pytest.raises(SpecError, match="duplicate SLO id") as caught:
        parse_sloth_documents(documents, ignore_duplicates=True)
    assert caught.value.field == "slos[1].name"


def test_render_window_accepts_spaces_inside_the_action() -> None:
    assert render_window("rate(x[{{.window}}]) / rate(y[{{ .window }}])", "5m") == (
        "rate(x[5m]) / rate(y[5m])"
    )


def test_a_list_where_a_number_belongs_is_called_a_list() -> None:
    data = yaml.safe_load(BASE)
    data["slos"][0]["objective"] = [99.9]
    documents = [Document(data=data, file="slo.yaml", index=0)]
    with pytest.raises(SpecError) as caught:
        parse_sloth_documents(documents)
    assert caught.value.field == "slos[0].objective"
    assert caught.value.detail == "expected a number, got a list"
