"""srekit/v1 EscalationPolicy documents: the shape as written, every mistake named by file and
field, and the written form that parses back to the same policy."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from srekit.core.escalation import EscalationPolicy, EscalationStep, NotifyTarget
from srekit.core.incident import Severity
from srekit.errors import SpecError
from srekit.spec.document import Document
from srekit.spec.escalation import (
    escalation_policy_document,
    escalation_policy_from_spec,
    escalation_policy_spec,
    parse_escalation_policy,
)

AS_WRITTEN = """
apiVersion: srekit/v1
kind: EscalationPolicy
metadata: {name: payments}
spec:
  services: [checkout, payments-api]   # incidents on these services escalate by this policy
  severities: [P0, P1, P2]             # default: all
  steps:                               # ordered; step 1 pages at once
    - notify: {rotation: payments, layer: primary}
    - notify: {rotation: payments, layer: secondary}
      after: 10m                       # wait without acknowledgement before this step
    - notify: {rotation: payments, layer: manager}
      after: 15m
    - notify: {person: grace}          # a named person works too
  repeat: 0                            # times to start over after the last step
"""

PAYMENTS = EscalationPolicy(
    name="payments",
    services=("checkout", "payments-api"),
    severities=frozenset({Severity.P0, Severity.P1, Severity.P2}),
    steps=(
        EscalationStep(NotifyTarget(rotation="payments", layer="primary")),
        EscalationStep(NotifyTarget(rotation="payments", layer="secondary"), after_s=600),
        EscalationStep(NotifyTarget(rotation="payments", layer="manager"), after_s=900),
        EscalationStep(NotifyTarget(person="grace")),
    ),
)


def _document(data: Any, file: str = "policy.yaml") -> Document:
    return Document(data=data, file=file, index=0)


def test_the_documented_shape_is_read_exactly() -> None:
    assert parse_escalation_policy(_document(yaml.safe_load(AS_WRITTEN))) == PAYMENTS


def test_defaults_all_severities_no_repeat_and_seconds_for_after() -> None:
    data = {
        "apiVersion": "srekit/v1",
        "kind": "EscalationPolicy",
        "metadata": {"name": "search"},
        "spec": {
            "services": ["search"],
            "steps": [{"notify": {"person": "ann"}}, {"notify": {"person": "bo"}, "after": 90}],
        },
    }
    policy = parse_escalation_policy(_document(data))
    assert policy.severities == frozenset(Severity)
    assert policy.repeat == 0
    assert policy.steps[1].after_s == 90.0
    # stored as a duration, in the largest unit that divides it
    assert escalation_policy_spec(policy)["steps"][1] == {
        "notify": {"person": "bo"},
        "after": "90s",
    }


HEADER = "apiVersion: srekit/v1\nkind: EscalationPolicy\nmetadata: {name: payments}\nspec:\n"
ONE_STEP = "  steps: [{notify: {person: grace}}]\n"
MISTAKES = [
    ("  services: []\n" + ONE_STEP, "spec.services", "at least 1 item"),
    ("  steps: [{notify: {person: grace}}]\n", "spec.services", "required field is missing"),
    ("  services: [Checkout]\n" + ONE_STEP, "spec.services[0]", "expected a name of lowercase"),
    ("  services: [a, a]\n" + ONE_STEP, "spec.services", "a more than once"),
    ("  services: [a]\n  severities: [P5]\n" + ONE_STEP, "spec.severities[0]", "'P0'"),
    ("  services: [a]\n  severities: [P1, P1]\n" + ONE_STEP, "spec.severities", "P1 more than"),
    ("  services: [a]\n  severities: []\n" + ONE_STEP, "spec.severities", "at least 1 item"),
    ("  services: [a]\n  steps: []\n", "spec.steps", "at least 1 item"),
    (
        "  services: [a]\n  steps: [{notify: {person: grace}, after: 5m}]\n",
        "spec.steps",
        "the first step pages at once",
    ),
    (
        "  services: [a]\n  steps: [{notify: {person: a}}, {notify: {person: b}, after: 10x}]\n",
        "spec.steps[1].after",
        "expected a duration like 5m",
    ),
    (
        "  services: [a]\n  steps: [{notify: {person: a}}, {notify: {person: b}, after: 0}]\n",
        "spec.steps[1].after",
        "greater than or equal to 1",
    ),
    (
        "  services: [a]\n  steps: [{notify: {person: a}}, {notify: {person: b}, after: yes}]\n",
        "spec.steps[1].after",
        "expected a duration such as 10m",
    ),
    (
        "  services: [a]\n  steps: [{notify: {person: a}}, {notify: {person: b}, after: 8d}]\n",
        "spec.steps[1].after",
        "less than or equal to 604800",
    ),
    (
        "  services: [a]\n  steps: [{notify: {rotation: payments}}]\n",
        "spec.steps[0].notify",
        "rotation 'payments': expected the layer to page",
    ),
    (
        "  services: [a]\n  steps: [{notify: {}}]\n",
        "spec.steps[0].notify",
        "either a rotation (with its layer) or a person",
    ),
    (
        "  services: [a]\n  steps: [{notify: {person: grace, layer: primary}}]\n",
        "spec.steps[0].notify",
        "a layer belongs with a rotation",
    ),
    (
        "  services: [a]\n  steps: [{notify: {team: payments}}]\n",
        "spec.steps[0].notify.team",
        "unknown field",
    ),
    (
        "  services: [a]\n  steps: [{notify: {person: a}, wait: 5m}]\n",
        "spec.steps[0].wait",
        "unknown field",
    ),
    ("  services: [a]\n  repeat: -1\n" + ONE_STEP, "spec.repeat", "greater than or equal to 0"),
    ("  services: [a]\n  repeat: '2'\n" + ONE_STEP, "spec.repeat", "integer"),
]


@pytest.mark.parametrize(("spec", "field", "expected"), MISTAKES)
def test_mistakes_name_the_file_the_field_and_the_expectation(
    spec: str, field: str, expected: str
) -> None:
    with pytest.raises(SpecError) as raised:
        parse_escalation_policy(_document(yaml.safe_load(HEADER + spec)))
    assert (raised.value.file, raised.value.field) == ("policy.yaml", field)
    assert expected in raised.value.detail


def test_the_written_form_parses_back_to_the_same_policy() -> None:
    written = escalation_policy_document(PAYMENTS)
    assert written["spec"] == {
        "services": ["checkout", "payments-api"],
        "severities": ["P0", "P1", "P2"],
        "steps": [
            {"notify": {"rotation": "payments", "layer": "primary"}},
            {"notify": {"rotation": "payments", "layer": "secondary"}, "after": "10m"},
            {"notify": {"rotation": "payments", "layer": "manager"}, "after": "15m"},
            {"notify": {"person": "grace"}},
        ],
        "repeat": 0,
    }
    assert parse_escalation_policy(_document(written)) == PAYMENTS
    assert escalation_policy_from_spec("payments", written["spec"]) == PAYMENTS


def test_a_stored_spec_that_does_not_read_names_the_field() -> None:
    spec = escalation_policy_spec(PAYMENTS)
    spec["steps"][0]["notify"] = {"rotation": "payments"}
    with pytest.raises(SpecError) as raised:
        escalation_policy_from_spec("payments", spec)
    assert raised.value.field == "spec.steps[0].notify"
    assert "stored escalation policy 'payments' does not read" in raised.value.detail
