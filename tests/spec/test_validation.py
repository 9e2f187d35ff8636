"""The one spec-error mapper: pydantic and YAML failures become SpecErrors naming file and field."""

from __future__ import annotations

import pytest
import yaml

from srekit.errors import SpecError
from srekit.spec.document import Document
from srekit.spec.loader import parse_spec_documents
from srekit.spec.validation import dotted_field, yaml_error

SLO = {
    "apiVersion": "srekit/v1",
    "kind": "SLO",
    "service": "api",
    "name": "availability",
    "objective": "99.9%",
    "indicator": {"ratio": {"bad": "errors", "total": "requests"}},
}


def _failure(**changes: object) -> SpecError:
    document = Document(data={**SLO, **changes}, file="slo.yaml", index=0)
    with pytest.raises(SpecError) as caught:
        parse_spec_documents([document])
    return caught.value


def test_unknown_field_names_what_is_allowed() -> None:
    error = _failure(indicator={"ratios": {"total": "requests"}})
    assert error.field == "indicator.ratios"
    assert error.detail == (
        "unknown field; expected one of: ratio, latency, events, error_ratio, threshold"
    )


def test_union_members_the_input_was_not_meant_for_are_left_out() -> None:
    error = _failure(window={"calendar": "month", "time_zone": "Mars/X"})
    assert error.field == "window"
    assert "unknown time zone" in error.detail
    assert "valid string" not in error.detail


def test_a_key_that_looks_like_a_union_label_is_kept() -> None:
    error = _failure(alerting={"_x": 1})
    assert error.field == "alerting._x"
    assert error.detail.startswith("unknown field; expected one of: name, labels")


def test_more_problems_follow_the_first() -> None:
    error = _failure(typo=1, service=2)
    assert error.field == "typo"
    assert error.detail.endswith("(also service: expected a valid string, got 2)")


def test_yaml_error_names_line_and_column() -> None:
    with pytest.raises(yaml.YAMLError) as caught:
        yaml.safe_load("a: [1,\nb: }\n")
    error = yaml_error(caught.value, file="broken.yaml")
    assert error.file == "broken.yaml"
    assert str(error) == (
        "broken.yaml: invalid YAML at line 2, column 4: expected the node content, but found '}'"
    )


def test_dotted_field() -> None:
    assert dotted_field(("spec", "objectives", 0, "target")) == "spec.objectives[0].target"
    assert dotted_field((0, "name"), "levels") == "levels[0].name"


# Messages say each thing once, in words: these inputs produced "got 1.5 (also window: ...,
# got 1.5)", a list's repr, and a regular expression (which Rich then half ate as markup).


@pytest.mark.parametrize(("window", "found"), [(1.5, "1.5"), (["7d"], "a list"), (True, "True")])
def test_a_value_no_member_of_a_union_takes_is_said_once(window: object, found: str) -> None:
    error = _failure(window=window)
    assert error.field == "window"
    assert error.detail == f"expected a valid string or a mapping (an object), got {found}"
    assert error.detail.count("got") == 1


@pytest.mark.parametrize(
    ("changes", "field", "detail"),
    [
        (
            {"objective": [0.99]},
            "objective",
            "expected a fraction like 0.999 or a percentage like '99.9%', got a list",
        ),
        (
            {"objective": {"value": 0.99}},
            "objective",
            "expected a fraction like 0.999 or a percentage like '99.9%', got a mapping",
        ),
        (
            {"budgeting": "timeslices", "timeslice": {"length": ["5m"], "target": 0.9}},
            "timeslice.length",
            "expected a duration like 5m, 1h or 30d, got a list",
        ),
    ],
)
def test_a_list_is_called_a_list(changes: dict[str, object], field: str, detail: str) -> None:
    error = _failure(**changes)
    assert (error.field, error.detail) == (field, detail)


@pytest.mark.parametrize(
    ("changes", "field", "detail"),
    [
        (
            {"indicator": {"latency": {"metric": "http-duration", "threshold": 0.3}}},
            "indicator.latency.metric",
            "expected a Prometheus metric name: letters, digits, '_' and ':', not starting"
            " with a digit, got 'http-duration'",
        ),
        (
            {"alerting": {"name": "bad name!"}},
            "alerting.name",
            "expected letters, digits and '_', not starting with a digit, got 'bad name!'",
        ),
    ],
)
def test_a_pattern_is_said_in_words(changes: dict[str, object], field: str, detail: str) -> None:
    error = _failure(**changes)
    assert (error.field, error.detail) == (field, detail)
    assert "pattern" not in error.detail
    assert "[" not in error.detail
