"""srekit/v1 AlertRouting documents: the shape as written, every mistake named by file and
field, and the written form that parses back to the same routing."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from srekit.core.incident import Severity
from srekit.core.routing import DEFAULT_ROUTING, AlertRoute, AlertRouting, OnResolved
from srekit.errors import SpecError
from srekit.spec.document import Document
from srekit.spec.loader import load_specs
from srekit.spec.native import parse_documents, policy_document
from srekit.spec.routing import parse_routing, routing_document, routing_from_spec

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

AS_WRITTEN = """
apiVersion: srekit/v1
kind: AlertRouting
metadata: {name: default}
spec:
  routes:                                  # first match wins
    - match: {severity: page}              # label equality; match_re for regexes
      incident: true
      severity: P1
      group_by: [alertname, service]
    - match: {severity: ticket}
      incident: true
      severity: P3
  service_label: service
  on_resolved: resolve                     # or keep
"""


def _write(tmp_path: Path, text: str, name: str = "routing.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_the_documented_shape_is_the_built_in_routing(tmp_path: Path) -> None:
    specs = load_specs([_write(tmp_path, AS_WRITTEN)])
    assert specs.slos == ()
    assert specs.routings == {"default": DEFAULT_ROUTING}


def test_the_example_file_parses() -> None:
    (routing,) = load_specs([EXAMPLES / "routing.yaml"]).routings.values()
    assert routing.routes[2] == AlertRoute(
        match_re={"alertname": "Watchdog|InfoInhibitor"}, incident=False
    )
    assert routing.routes[2].group_by == ("alertname", "service")  # the default grouping


def test_every_setting_is_read(tmp_path: Path) -> None:
    text = """
apiVersion: srekit/v1
kind: AlertRouting
metadata: {name: payments}
spec:
  routes:
    - match: {team: payments}
      match_re: {alertname: "Checkout.*"}
      group_by: []
    - {}
  service_label: app
  on_resolved: keep
  severity_labels: {sev1: P0, sev2: P2}
"""
    (routing,) = load_specs([_write(tmp_path, text)]).routings.values()
    assert routing == AlertRouting(
        name="payments",
        routes=(
            AlertRoute(
                match={"team": "payments"},
                match_re={"alertname": "Checkout.*"},
                incident=True,
                severity=None,
                group_by=(),
            ),
            AlertRoute(),
        ),
        service_label="app",
        on_resolved=OnResolved.KEEP,
        severity_labels={"sev1": Severity.P0, "sev2": Severity.P2},
    )


MISTAKES = [
    (
        "routes: [{match_re: {service: '('}}]",
        "spec.routes[0].match_re.service",
        "expected a regular expression, got '('",
    ),
    (  # Python's re takes a look-ahead; Alertmanager's RE2 does not, nor does srekit
        "routes: [{match_re: {service: '(?!test).*'}}]",
        "spec.routes[0].match_re.service",
        "invalid perl operator: (?! (RE2 syntax, as Alertmanager's)",
    ),
    (
        "routes: [{match: {bad-label: x}}]",
        "spec.routes[0].match.bad-label",
        "expected letters, digits and '_', not starting with a digit, got 'bad-label'",
    ),
    (
        "routes: [{match_re: {0day: x}}]",
        "spec.routes[0].match_re.0day",
        "not starting with a digit",
    ),
    (
        "routes: [{severity: P5}]",
        "spec.routes[0].severity",
        "expected 'P0', 'P1', 'P2' or 'P3', got 'P5'",
    ),
    ("routes: [{severity: p1}]", "spec.routes[0].severity", "expected 'P0', 'P1', 'P2' or 'P3'"),
    (
        "routes: [{matches: {a: b}}]",
        "spec.routes[0].matches",
        "unknown field; expected one of: match, match_re, incident, severity, group_by",
    ),
    ("routes: []", "spec.routes", "expected at least 1 item(s), got 0"),
    (
        "routes: [{group_by: [a, b, a]}]",
        "spec.routes[0].group_by",
        "expected each label once, got a more than once",
    ),
    ("routes: [{group_by: [a-b]}]", "spec.routes[0].group_by[0]", "got 'a-b'"),
    ("routes: [{incident: 'yes'}]", "spec.routes[0].incident", "expected a valid boolean"),
    ("routes: [{}]\n  service_label: 1x", "spec.service_label", "got '1x'"),
    (
        "routes: [{}]\n  on_resolved: maybe",
        "spec.on_resolved",
        "expected 'resolve' or 'keep', got 'maybe'",
    ),
    ("routes: [{}]\n  severity_labels: {page: P9}", "spec.severity_labels.page", "got 'P9'"),
    ("routes: [{}]\n  receivers: []", "spec.receivers", "unknown field"),
    (
        'routes: [{match: {team: "a\\tb"}}]',
        "spec.routes[0].match.team",
        "expected text without control characters, got '\\t'",
    ),
    ("routes: {severity: page}", "spec.routes", "expected a list, got a mapping"),
]


@pytest.mark.parametrize(("spec", "field", "expected"), MISTAKES, ids=[m[1] for m in MISTAKES])
def test_mistakes_name_the_file_the_field_and_the_expectation(
    tmp_path: Path, spec: str, field: str, expected: str
) -> None:
    header = "apiVersion: srekit/v1\nkind: AlertRouting\nmetadata: {name: default}\nspec:\n  "
    path = _write(tmp_path, header + spec + "\n")
    with pytest.raises(SpecError) as raised:
        load_specs([path])
    assert (raised.value.file, raised.value.field) == (str(path), field)
    assert expected in raised.value.detail


@pytest.mark.parametrize(
    ("document", "field", "expected"),
    [
        ({"metadata": {"name": "Default"}}, "metadata.name", "expected a name of lowercase"),
        ({"metadata": {}}, "metadata.name", "required field is missing"),
        ({"metadata": {"name": "x", "labels": {}}}, "metadata.labels", "unknown field"),
        ({"spec": None}, "spec", "expected a mapping"),
        ({"name": "default"}, "name", "unknown field"),
    ],
)
def test_the_document_around_the_spec_is_checked(
    tmp_path: Path, document: dict[str, object], field: str, expected: str
) -> None:
    data = {
        "apiVersion": "srekit/v1",
        "kind": "AlertRouting",
        "metadata": {"name": "default"},
        "spec": {"routes": [{}]},
        **document,
    }
    path = _write(tmp_path, yaml.safe_dump(data))
    with pytest.raises(SpecError) as raised:
        load_specs([path])
    assert raised.value.field == field
    assert expected in raised.value.detail


def test_a_routing_defined_twice_is_refused_naming_both_places(tmp_path: Path) -> None:
    _write(tmp_path, AS_WRITTEN, "a.yaml")
    _write(tmp_path, AS_WRITTEN, "b.yaml")
    with pytest.raises(SpecError) as raised:
        load_specs([tmp_path])
    assert raised.value.file == str(tmp_path / "b.yaml")
    assert raised.value.field == "metadata.name"
    assert f"AlertRouting 'default' is defined twice (also in {tmp_path / 'a.yaml'})" in str(
        raised.value
    )


def test_routings_sit_beside_slos_and_policies_in_one_directory(tmp_path: Path) -> None:
    slo = (EXAMPLES / "slos" / "checkout.yaml").read_text()
    _write(tmp_path, slo + "\n---\n" + AS_WRITTEN, "all.yaml")
    specs = load_specs([tmp_path])
    assert {s.id for s in specs.slos} == {"checkout-availability", "checkout-latency"}
    assert set(specs.policies) == {"payments"}
    assert set(specs.routings) == {"default"}


@pytest.mark.parametrize(
    "routing",
    [
        DEFAULT_ROUTING,
        AlertRouting(
            name="edge",
            routes=(
                AlertRoute(match_re={"env": "prod|staging"}, severity=Severity.P2, group_by=()),
                AlertRoute(incident=False),
            ),
            service_label="app",
            on_resolved=OnResolved.KEEP,
            severity_labels={},
        ),
    ],
    ids=["default", "edge"],
)
def test_the_written_form_parses_back_to_the_same_routing(routing: AlertRouting) -> None:
    document = routing_document(routing)
    text = yaml.safe_dump(document, sort_keys=False)
    parsed = parse_routing(Document(yaml.safe_load(text), file="shown.yaml", index=0))
    assert parsed == routing
    assert routing_from_spec(routing.name, document["spec"]) == routing


def test_the_written_form_leaves_out_empty_matchers_and_a_severity_from_labels() -> None:
    spec = routing_document(AlertRouting(routes=(AlertRoute(match={"a": "b"}),)))["spec"]
    assert spec["routes"] == [
        {"match": {"a": "b"}, "incident": True, "group_by": ["alertname", "service"]}
    ]
    assert spec["severity_labels"] == {
        "critical": "P0",
        "page": "P1",
        "warning": "P2",
        "ticket": "P3",
    }


def test_a_stored_spec_that_does_not_read_names_the_field() -> None:
    with pytest.raises(SpecError) as raised:
        routing_from_spec("default", {"routes": [{"incident": "no"}]})
    assert raised.value.field == "spec.routes[0].incident"


def test_the_written_policy_parses_back_to_the_same_policy() -> None:
    policies = load_specs([EXAMPLES / "slos"]).policies
    for policy in policies.values():
        document = policy_document(policy)
        _, (parsed,) = parse_documents([Document(document, file="p.yaml", index=0)])
        assert parsed == policy
    payments = policy_document(policies["payments"])
    assert [level.get("above") for level in payments["levels"]][-1] is None
    assert "no_data" not in payments


def test_a_policy_with_every_setting_is_written_in_full() -> None:
    from srekit.core.policy import BudgetPolicy, Decision, PolicyLevel

    idle = BudgetPolicy(
        name="idle",
        levels=(
            PolicyLevel("ok", 0.2, Decision.ALLOW, ("ship",), {"feature": Decision.REVIEW}),
            PolicyLevel("frozen", None, Decision.DENY),
        ),
        exceptions=("rollback",),
        no_data=Decision.ALLOW,
    )
    document = policy_document(idle)
    assert document == {
        "apiVersion": "srekit/v1",
        "kind": "Policy",
        "name": "idle",
        "levels": [
            {
                "state": "ok",
                "above": 0.2,
                "decision": "allow",
                "actions": ["ship"],
                "change_types": {"feature": "review"},
            },
            {"state": "frozen", "decision": "deny"},
        ],
        "exceptions": ["rollback"],
        "no_data": "allow",
    }
    _, (parsed,) = parse_documents([Document(document, file="p.yaml", index=0)])
    assert parsed == idle
