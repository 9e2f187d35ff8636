"""Every upstream OpenSLO file (spec examples, go-sdk, oslo) through the `openslo/v1` parser.

The files and why each is valid or not: `conformance/README.md`. Every file under `openslo/` is
classified below (a test fails on a new, unclassified one), and each expected failure says why.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from pathlib import Path

import pytest

from srekit.core.slo import SLO
from srekit.core.window import CalendarWindow
from srekit.errors import SpecError
from srekit.spec.document import Document, read_documents
from srekit.spec.loader import load_specs
from srekit.spec.openslo import parse_documents
from tests.conformance import conformance_dir

pytestmark = pytest.mark.conformance

GO_SDK_V1 = "go-sdk/pkg/openslo/v1/examples"
SDK_DATA = "go-sdk/pkg/openslosdk/test_data"
OSLO = "oslo/test/inputs/validate"
README = "readme-examples"

# Valid openslo/v1 files, each parsed on its own, with the core SLO ids they give.
VALID: dict[str, list[str]] = {
    "examples/budgeting-method/occurences-slo.yaml": [
        "web-shop-search-slo"
    ],  # ends `alertPolicies:` (null)
    "examples/budgeting-method/ratio-timeslices.yaml": ["web-shop-main-page"],  # `op` on a ratio
    # `duration: 1m` is one calendar minute (its comment "1 month" is wrong: `M` is months).
    "examples/budgeting-method/timeslices-slo.yaml": [
        "web-availability-service-availability-internal-objective",
        "web-availability-service-availability-sla",
    ],
    "examples/treat-low-traffic-as-equally-important/timeslices-slo.yaml": [
        "web-availability-service-availability"
    ],
    f"{GO_SDK_V1}/alert_conditions.yaml": [],
    f"{GO_SDK_V1}/alert_notification_targets.yaml": [],
    f"{GO_SDK_V1}/data_sources.yaml": [],
    f"{GO_SDK_V1}/services.yaml": [],  # the same Service name twice: unreferenced, harmless
    f"{GO_SDK_V1}/slis.yaml": [],  # Datadog and AppDynamics sources parse too
    f"{GO_SDK_V1}/slos.yaml": ["web-web-availability"],
    f"{SDK_DATA}/decode/sequence_of_objects.json": [],
    f"{SDK_DATA}/decode/sequence_of_objects.yaml": [],
    f"{SDK_DATA}/decode/single_object.json": [],
    f"{SDK_DATA}/decode/single_object.yaml": [],
    f"{SDK_DATA}/decode/two_documents.yaml": [],
    f"{SDK_DATA}/decode/v1_slos.yaml": ["foo-foo-slo"],
    f"{SDK_DATA}/encode/v1_slo.json": ["foo-foo-slo"],
    f"{SDK_DATA}/encode/v1_slo.yaml": ["foo-foo-slo"],
    f"{SDK_DATA}/inline/inputs/v1_alert_policies_keep_refs.yaml": [],
    f"{SDK_DATA}/inline/inputs/v1_alert_policies_remove_refs.yaml": [],
    f"{SDK_DATA}/inline/inputs/v1_slo.yaml": ["web-my-slo-1", "web-my-slo-2"],
    f"{SDK_DATA}/inline/outputs/v1_alert_policies_keep_refs.yaml": [],
    f"{SDK_DATA}/inline/outputs/v1_alert_policies_remove_refs.yaml": [],
    f"{SDK_DATA}/inline/outputs/v1_slo.yaml": ["web-my-slo-1", "web-my-slo-2"],
    "oslo/internal/files/testdata/format/list-of-services.yaml": [],
    "oslo/internal/files/testdata/format/two-documents.yaml": [],
    "oslo/test/inputs/fmt/service.yaml": [],
    "oslo/test/outputs/fmt/service.yaml": [],
    f"{README}/README-L182-datasource-cloudwatch.yaml": [],  # a DataSource named `string`
    f"{README}/README-L444-slo-inline-sli-datadog.yaml": ["foo-foo-slo"],  # no timeWindow
    f"{README}/README-L712-alertcondition-burnrate.yaml": [],
    f"{README}/README-L750-alertnotificationtarget-email.yaml": [],  # CamelCase name
    f"{README}/README-L762-alertnotificationtarget-slack.yaml": [],
}

# The SDK's reference inliner resolves refs in inputs/X into outputs/X: both mean the same SLOs.
INLINE_PAIRS = [
    "v1_alert_policies_keep_refs.yaml",
    "v1_alert_policies_remove_refs.yaml",
    "v1_slo.yaml",
]


@dataclasses.dataclass(frozen=True)
class Invalid:
    """A file (or directory) that must fail, where, and why."""

    path: str
    file: str  # the failing document, relative to openslo/ (`#n` for the n-th document)
    field: str
    detail: str  # a part of the message
    why: str


INVALID = [
    Invalid(f"{OSLO}/invalid-apiversion.yaml", f"{OSLO}/invalid-apiversion.yaml", "apiVersion",
            "expected 'openslo/v1', got 'foo'", "apiVersion foo (oslo validate.bats)"),
    Invalid(f"{OSLO}/unknown-field.yaml", f"{OSLO}/unknown-field.yaml", "spec.markdown",
            "unknown field", "the reference decoder refuses unknown fields"),
    Invalid(f"{OSLO}/mix/2.yaml", f"{OSLO}/mix/2.yaml", "metadata.name", "'example service'",
            "a name with a space (upstream: not an RFC 1123 label)"),
    Invalid(f"{OSLO}/recursive/1.yaml", f"{OSLO}/recursive/1.yaml", "metadata.name",
            "'example service'", "a name with a space"),
    # Upstream also flags `op` on a ratio objective (srekit accepts it, see the parser) and the
    # time zone (an artifact of its test container, which lacks tzdata).
    Invalid(f"{OSLO}/v1.yaml", f"{OSLO}/v1.yaml#3", "metadata.name", "'example service'",
            "the third object's name has a space"),
    Invalid(f"{SDK_DATA}/inline/inputs/v1_alert_policies_invalid_condition.yaml",
            f"{SDK_DATA}/inline/inputs/v1_alert_policies_invalid_condition.yaml",
            "spec.conditions[0].conditionRef",
            "v1.AlertCondition 'cpu-usage-breach' referenced at 'spec.conditions[0].conditionRef'"
            " does not exist", "missing AlertCondition (reference_inliner_test.go)"),
    Invalid(f"{SDK_DATA}/inline/inputs/v1_alert_policies_invalid_target.yaml",
            f"{SDK_DATA}/inline/inputs/v1_alert_policies_invalid_target.yaml",
            "spec.notificationTargets[1].targetRef",
            "v1.AlertNotificationTarget 'devs-email-notification' referenced at"
            " 'spec.notificationTargets[1].targetRef' does not exist",
            "missing AlertNotificationTarget"),
    Invalid(f"{SDK_DATA}/inline/inputs/v1_slo_invalid_policy.yaml",
            f"{SDK_DATA}/inline/inputs/v1_slo_invalid_policy.yaml",
            "spec.alertPolicies[0].alertPolicyRef",
            "v1.AlertPolicy 'no-policy' referenced at 'spec.alertPolicies[0].alertPolicyRef'"
            " does not exist", "missing AlertPolicy"),
    Invalid(f"{SDK_DATA}/inline/inputs/v1_slo_invalid_sli.yaml",
            f"{SDK_DATA}/inline/inputs/v1_slo_invalid_sli.yaml", "spec.indicatorRef",
            "v1.SLI 'no-sli' referenced at 'spec.indicatorRef' does not exist", "missing SLI"),
    Invalid(f"{SDK_DATA}/inline/inputs/v1_slo_invalid_target.yaml",
            f"{SDK_DATA}/inline/inputs/v1_slo_invalid_target.yaml",
            "spec.alertPolicies[0].spec.notificationTargets[1].targetRef",
            "v1.AlertNotificationTarget 'devs-email-notification' referenced at"
            " 'spec.alertPolicies[0].spec.notificationTargets[1].targetRef' does not exist",
            "missing target of an inline policy"),
    # Upstream runs this case with reference resolution turned off (`ReferenceConfig{}`), so the
    # missing SLI, policies and condition go unnoticed. srekit always resolves: it computes SLOs.
    Invalid(f"{SDK_DATA}/inline/inputs/custom_config.yaml",
            f"{SDK_DATA}/inline/inputs/custom_config.yaml", "spec.conditions[0].conditionRef",
            "'cpu-usage-breach'", "upstream resolves no references here"),
    Invalid(f"{SDK_DATA}/inline/outputs/custom_config.yaml",
            f"{SDK_DATA}/inline/outputs/custom_config.yaml", "spec.conditions[0].conditionRef",
            "'cpu-usage-breach'", "upstream resolves no references here"),
]  # fmt: skip

# Schema-valid objects whose references name objects the upstream files never define: the
# SDK examples' policies target `on-call-mail-notification`/`on-call-pd-notification` (the
# targets file names `devs-email-notification`/`pd-on-call-notification`); the README's policy
# targets `on-call-devops-mail-notification` (its target is `OnCallDevopsMailNotification`);
# the export cases (run without validation upstream) keep refs to undefined objects. Each must
# fail on that reference, and parse once the missing objects are supplied.
DANGLING: dict[str, tuple[str, str, list[tuple[str, str]]]] = {
    GO_SDK_V1: (
        f"{GO_SDK_V1}/alert_policies.yaml",
        "spec.notificationTargets[0].targetRef",
        [
            ("AlertNotificationTarget", "on-call-mail-notification"),
            ("AlertNotificationTarget", "on-call-pd-notification"),
        ],
    ),
    README: (
        f"{README}/README-L610-alertpolicy-refs.yaml",
        "spec.notificationTargets[0].targetRef",
        [("AlertNotificationTarget", "on-call-devops-mail-notification")],
    ),
}
EXPORT_MISSING = [
    ("AlertCondition", "cpu-usage-breach"),
    ("AlertNotificationTarget", "devs-email-notification"),
]
EXPORT_CASES = ["custom_config.yaml", "v1_alert_policies.yaml", "v1_slo.yaml"]

# openslo.com/v2alpha reshapes every object (`sli`, `dataSourceRef`, `serviceRef`, labels as
# plain strings) and is still alpha: refused with a message saying to write openslo/v1.
V2ALPHA = [
    *(
        f"go-sdk/pkg/openslo/v2alpha/examples/{name}.yaml"
        for name in (
            "alert_conditions",
            "alert_notification_targets",
            "alert_policies",
            "data_sources",
            "services",
            "slis",
            "slos",
        )
    ),
    f"{SDK_DATA}/decode/v2alpha_data_source.yaml",
    f"{SDK_DATA}/decode/v2alpha_slos.yaml",
    f"{OSLO}/mix/3.yaml",
    f"{OSLO}/recursive/nested/2.yaml",
    f"{OSLO}/recursive/nested/nested2/nested3/3.yaml",
    f"{OSLO}/v2alpha.yaml",
]


# Expected stderr of `oslo validate` (upstream validate.bats), not spec files.
NOT_SPECS = [
    f"oslo/test/outputs/validate/{name}"
    for name in ("mix", "recursive", "v1", "v1alpha", "v2alpha")
]


def root() -> Path:
    return conformance_dir() / "openslo"


def read(relative: str) -> list[Document]:
    return list(read_documents(root() / relative))


def stubs(documents: list[Document], wanted: Iterable[tuple[str, str]]) -> list[Document]:
    """`documents` plus minimal objects for the (kind, name) pairs they do not define."""
    defined = {(d.data.get("kind"), d.data.get("metadata", {}).get("name")) for d in documents}
    specs = {
        "AlertCondition": {
            "severity": "page",
            "condition": {"kind": "burnrate", "op": "gt", "threshold": 2, "lookbackWindow": "1h"},
        },
        "AlertNotificationTarget": {"target": "email"},
    }
    added = [
        Document(
            data={"apiVersion": "openslo/v1", "kind": kind, "metadata": {"name": name},
                  "spec": specs[kind]},
            file="stubs.yaml",
            index=index,
        )
        for index, (kind, name) in enumerate(wanted)
        if (kind, name) not in defined
    ]  # fmt: skip
    return documents + added


def without_origin(slos: list[SLO]) -> list[SLO]:
    return [dataclasses.replace(slo, source_file=None) for slo in slos]


def failure(documents: list[Document]) -> SpecError:
    with pytest.raises(SpecError) as caught:
        parse_documents(documents)
    return caught.value


def where(relative: str) -> str:
    path, _, index = relative.partition("#")
    return str(root() / path) + (f"#{index}" if index else "")


@pytest.mark.parametrize(("path", "ids"), VALID.items(), ids=list(VALID))
def test_valid_files_parse(path: str, ids: list[str]) -> None:
    assert [slo.id for slo in parse_documents(read(path))] == ids


@pytest.mark.parametrize("name", INLINE_PAIRS)
def test_inlined_output_means_the_same_slos(name: str) -> None:
    inputs = parse_documents(read(f"{SDK_DATA}/inline/inputs/{name}"))
    outputs = parse_documents(read(f"{SDK_DATA}/inline/outputs/{name}"))
    assert without_origin(inputs) == without_origin(outputs)


def test_json_and_yaml_encodings_mean_the_same_slo() -> None:
    json_slos = parse_documents(read(f"{SDK_DATA}/encode/v1_slo.json"))
    yaml_slos = parse_documents(read(f"{SDK_DATA}/encode/v1_slo.yaml"))
    assert without_origin(json_slos) == without_origin(yaml_slos)


@pytest.mark.parametrize("case", INVALID, ids=[f"{c.path}: {c.why}" for c in INVALID])
def test_invalid_files_fail_naming_file_and_field(case: Invalid) -> None:
    error = failure(read(case.path))
    assert (error.file, error.field) == (where(case.file), case.field)
    assert case.detail in error.detail


def test_one_minute_and_one_month_calendar_windows() -> None:
    """`1m` is a calendar minute as written; `1M`, surely what was meant, a calendar month."""
    [document] = read("examples/budgeting-method/timeslices-slo.yaml")
    as_written = parse_documents([document])
    assert {slo.window for slo in as_written} == {CalendarWindow("minute", 1, "America/New_York")}
    spec = document.data["spec"]
    window = {**spec["timeWindow"][0], "duration": "1M"}
    data = {**document.data, "spec": {**spec, "timeWindow": [window]}}
    slos = parse_documents([dataclasses.replace(document, data=data)])
    assert [slo.name for slo in slos] == [
        "service-availability-internal-objective",
        "service-availability-sla",
    ]
    assert {slo.window for slo in slos} == {CalendarWindow("month", 1, "America/New_York")}


@pytest.mark.parametrize("directory", list(DANGLING))
def test_dangling_references_fail_then_parse_when_supplied(directory: str) -> None:
    file, field, missing = DANGLING[directory]
    documents = read(directory)
    error = failure(documents)
    assert (error.file, error.field) == (where(file), field)
    assert "does not exist" in error.detail
    parse_documents(stubs(documents, missing))


@pytest.mark.parametrize("name", EXPORT_CASES)
def test_exported_output_means_the_same_slos(name: str) -> None:
    inputs = read(f"{SDK_DATA}/export/inputs/{name}")
    outputs = read(f"{SDK_DATA}/export/outputs/{name}")
    assert "does not exist" in failure(inputs).detail
    assert without_origin(parse_documents(stubs(inputs, EXPORT_MISSING))) == without_origin(
        parse_documents(stubs(outputs, EXPORT_MISSING))
    )


@pytest.mark.parametrize("path", V2ALPHA)
def test_v2alpha_is_refused_with_what_to_write(path: str) -> None:
    error = failure(read(path))
    assert error.field == "apiVersion"
    assert error.detail == "openslo.com/v2alpha is not supported yet; use openslo/v1"


V1ALPHA_VALID = [
    "go-sdk/pkg/openslo/v1alpha/examples/services.yaml",
    "oslo/internal/files/testdata/format/valid-service.json",
    "oslo/internal/files/testdata/format/valid-service.yaml",
]
# Upstream's validator refuses these: a Service named with a space breaks v1alpha's RFC 1123
# rule (oslo's expected output for v1alpha.yaml names exactly that).
V1ALPHA_INVALID = [
    "oslo/internal/files/testdata/format/invalid-service.yaml",
    f"{OSLO}/mix/1.yaml",
    f"{OSLO}/v1alpha.yaml",
]
# Valid v1alpha, but beyond what Sloth reads (thresholdMetric, Datadog queries, Week windows):
# srekit reads v1alpha as Sloth does, so it refuses it and says which field.
V1ALPHA_BEYOND_SLOTH = "go-sdk/pkg/openslo/v1alpha/examples/slos.yaml"


@pytest.mark.parametrize("path", V1ALPHA_VALID)
def test_v1alpha_valid_files_load(path: str) -> None:
    assert load_specs([root() / path]).slos == ()


@pytest.mark.parametrize("path", V1ALPHA_INVALID)
def test_v1alpha_invalid_files_fail_on_the_service_name(path: str) -> None:
    with pytest.raises(SpecError) as caught:
        load_specs([root() / path])
    assert caught.value.field == "metadata.name"
    assert str(root() / path) in str(caught.value)


def test_v1alpha_beyond_sloth_is_refused_naming_the_field() -> None:
    with pytest.raises(SpecError) as caught:
        load_specs([root() / V1ALPHA_BEYOND_SLOTH])
    assert caught.value.field == "spec.timeWindows[0].unit"
    assert "expected Day" in str(caught.value)


def test_every_upstream_file_is_classified() -> None:
    classified = {
        *VALID,
        *(case.path for case in INVALID),
        *(DANGLING[directory][0] for directory in DANGLING),
        *(f"{SDK_DATA}/export/{side}/{name}" for side in ("inputs", "outputs")
          for name in EXPORT_CASES),
        *(f"{SDK_DATA}/inline/outputs/custom_config.yaml",),
        *V2ALPHA,
        *V1ALPHA_VALID,
        *V1ALPHA_INVALID,
        V1ALPHA_BEYOND_SLOTH,
        *NOT_SPECS,
        f"{README}/README-L628-alertpolicy-inline-condition.yaml",  # read with the README set
    }  # fmt: skip
    present = {str(p.relative_to(root())) for p in root().rglob("*") if p.is_file()}
    assert sorted(present - classified) == []
    assert sorted(classified - present) == []
