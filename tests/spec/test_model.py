"""The one spec model: every core SLO and policy survives it, bounds guard what clients send,
and what the store read back is left to core."""

from __future__ import annotations

import math
from typing import Any

import pytest
from pydantic import ValidationError

from srekit.core.policy import DEFAULT_POLICY, BudgetPolicy, Decision, PolicyLevel
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
)
from srekit.core.window import CalendarWindow, RollingWindow, Window
from srekit.errors import SpecError
from srekit.spec.model import NO_INTAKE_BOUNDS, PolicySpec, SloSpec

INDICATORS: list[Indicator] = [
    PromRatio(total="requests_total", good='requests_total{code!~"5.."}'),
    PromRatio(total="requests_total", bad='requests_total{code=~"5.."}'),
    PromErrorRatio(error_ratio="sum(rate(e[{{.window}}])) / sum(rate(t[{{.window}}]))"),
    PromLatency(metric="http_request_duration_seconds", threshold_s=0.3, selector='job="a"'),
    PromThreshold(query="up", op="gte", value=1.0),
    EventsRatio(good="status < 500", total="path != '/health'", stream="api"),
]
WINDOWS: list[Window] = [
    RollingWindow(30 * 86400),
    CalendarWindow("month"),
    CalendarWindow("week", 2, "Europe/Paris"),
]
BASE: dict[str, Any] = {
    "objective": 0.999,
    "window": {"kind": "rolling", "duration_s": 2592000},
    "indicator": {"kind": "events_ratio", "good": "status < 500"},
}
POLICY: dict[str, Any] = {
    "levels": [
        {"state": "normal", "floor": 0.5, "decision": "allow"},
        {"state": "frozen", "decision": "deny"},
    ]
}


def _slo(indicator: Indicator, window: Window, budgeting: BudgetingMethod) -> SLO:
    sliced = budgeting is not BudgetingMethod.OCCURRENCES
    return SLO(
        service="api",
        name="x",
        objective=0.995,
        window=window,
        indicator=indicator,
        budgeting=budgeting,
        timeslice_s=60 if sliced else None,
        timeslice_target=0.9 if budgeting is BudgetingMethod.TIMESLICES else None,
        labels={"tier": "1"},
        alerting=Alerting(
            name="ApiX",
            labels={"team": "a"},
            annotations={"summary": "s"},
            page=AlertSpec(disabled=True),
            ticket=AlertSpec(labels={"route": "t"}, annotations={"b": "c"}),
        ),
        policy="strict",
        description="d",
        owner="payments",
        runbook_url="https://runbooks.example/x",
        source_file="specs/api.yaml",
    )


@pytest.mark.parametrize("indicator", INDICATORS, ids=lambda i: type(i).__name__)
@pytest.mark.parametrize("window", WINDOWS, ids=str)
@pytest.mark.parametrize("budgeting", list(BudgetingMethod), ids=str)
def test_every_slo_round_trips(
    indicator: Indicator, window: Window, budgeting: BudgetingMethod
) -> None:
    slo = _slo(indicator, window, budgeting)
    spec = SloSpec.from_slo(slo)
    assert spec.to_slo(service="api", name="x", source_file="specs/api.yaml") == slo
    # and through JSON, as the API receives it
    again = SloSpec.model_validate_json(spec.model_dump_json())
    assert again == spec
    assert again.to_slo(service="api", name="x", source_file="specs/api.yaml") == slo


def test_the_minimal_spec_takes_core_defaults() -> None:
    slo = SloSpec.model_validate(BASE).to_slo(service="api", name="x")
    assert slo == SLO("api", "x", 0.999, RollingWindow(2592000), EventsRatio("status < 500"))


def test_the_default_policy_round_trips() -> None:
    spec = PolicySpec.from_policy(DEFAULT_POLICY)
    assert spec.to_policy("default") == DEFAULT_POLICY
    assert PolicySpec.model_validate_json(spec.model_dump_json()).to_policy("default") == (
        DEFAULT_POLICY
    )


def test_a_policy_with_change_types_and_no_exceptions_round_trips() -> None:
    policy = BudgetPolicy(
        name="strict",
        levels=(
            PolicyLevel("ok", 0.5, Decision.ALLOW, ("ship",), {"config": Decision.REVIEW}),
            PolicyLevel("no", None, Decision.DENY),
        ),
        exceptions=(),
    )
    assert PolicySpec.from_policy(policy).to_policy("strict") == policy


def _problem(model: type[SloSpec] | type[PolicySpec], data: dict[str, Any]) -> tuple[Any, str]:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(data)
    first = caught.value.errors()[0]
    return first["loc"], first["type"]


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize(
    ("change", "location"),
    [
        (lambda v: {"objective": v}, ("objective",)),
        (lambda v: {"timeslice_target": v}, ("timeslice_target",)),
        (
            lambda v: {"indicator": {"kind": "prom_latency", "metric": "m", "threshold_s": v}},
            ("indicator", "prom_latency", "threshold_s"),
        ),
        (
            lambda v: {
                "indicator": {"kind": "prom_threshold", "query": "q", "op": "lt", "value": v}
            },
            ("indicator", "prom_threshold", "value"),
        ),
    ],
)
def test_nan_and_infinity_are_refused_naming_the_field(
    change: Any, location: tuple[str, ...], value: float
) -> None:
    assert _problem(SloSpec, {**BASE, **change(value)}) == (location, "finite_number")


@pytest.mark.parametrize("value", [math.nan, math.inf])
def test_a_policy_floor_must_be_finite(value: float) -> None:
    levels = [{**POLICY["levels"][0], "floor": value}, POLICY["levels"][1]]
    assert _problem(PolicySpec, {"levels": levels}) == (("levels", 0, "floor"), "finite_number")


@pytest.mark.parametrize(
    ("data", "location"),
    [
        ({**BASE, "objectiv": 0.9}, ("objectiv",)),
        (
            {**BASE, "window": {"kind": "rolling", "duration_s": 60, "unit": "d"}},
            ("window", "rolling", "unit"),
        ),
        ({**BASE, "alerting": {"page": {"disable": True}}}, ("alerting", "page", "disable")),
        ({**BASE, "service": "api"}, ("service",)),
    ],
)
def test_unknown_fields_are_refused_naming_the_field(
    data: dict[str, Any], location: tuple[str, ...]
) -> None:
    assert _problem(SloSpec, data) == (location, "extra_forbidden")


def test_an_unknown_policy_field_is_refused() -> None:
    assert _problem(PolicySpec, {**POLICY, "name": "p"}) == (("name",), "extra_forbidden")


@pytest.mark.parametrize(
    ("change", "location", "kind"),
    [
        ({"objective": 1.5}, ("objective",), "less_than"),
        ({"timeslice_s": 2 * 86400}, ("timeslice_s",), "less_than_equal"),
        ({"alerting": {"name": "has-dashes"}}, ("alerting", "name"), "string_pattern_mismatch"),
        ({"owner": ""}, ("owner",), "string_too_short"),
    ],
)
def test_intake_bounds_are_checked_by_default_and_skipped_on_read_back(
    change: dict[str, Any], location: tuple[str, ...], kind: str
) -> None:
    data = {**BASE, **change}
    assert _problem(SloSpec, data) == (location, kind)
    SloSpec.model_validate(data, context=NO_INTAKE_BOUNDS)


def test_what_core_refuses_is_a_spec_error_naming_the_field() -> None:
    unsliced = SloSpec.model_validate({**BASE, "budgeting": "timeslices"})
    with pytest.raises(SpecError, match="timeslice") as caught:
        unsliced.to_slo(service="api", name="x")
    assert caught.value.field is None
    no_zone = {**BASE, "window": {"kind": "calendar", "unit": "month", "time_zone": "Mars/X"}}
    with pytest.raises(SpecError, match="unknown time zone") as caught:
        SloSpec.model_validate(no_zone).to_slo(service="api", name="x")
    assert caught.value.field == "window"
    both = {**BASE, "indicator": {"kind": "prom_ratio", "total": "t", "good": "g", "bad": "b"}}
    with pytest.raises(SpecError, match="exactly one of good and bad") as caught:
        SloSpec.model_validate(both).to_slo(service="api", name="x")
    assert caught.value.field == "indicator"
    unordered = PolicySpec.model_validate({"levels": list(reversed(POLICY["levels"]))})
    with pytest.raises(SpecError) as caught:
        unordered.to_policy("p")
    assert caught.value.field == "levels"


def test_the_json_schema_shows_the_bounds() -> None:
    schema = SloSpec.model_json_schema()
    objective = schema["properties"]["objective"]
    assert (objective["exclusiveMinimum"], objective["exclusiveMaximum"]) == (0, 1)
    timeslice = schema["properties"]["timeslice_s"]["anyOf"][0]
    assert (timeslice["exclusiveMinimum"], timeslice["maximum"]) == (0, 86400)
    assert schema["properties"]["indicator"]["discriminator"]["propertyName"] == "kind"
    levels = PolicySpec.model_json_schema()["properties"]["levels"]
    assert (levels["minItems"], levels["maxItems"]) == (1, 50)


_LONG_QUERY = "x" * 16_385
_TOO_MANY = {f"k{i}": "v" for i in range(65)}


@pytest.mark.parametrize(
    ("change", "location", "kind"),
    [
        ({"description": "d" * 4097}, ("description",), "string_too_long"),
        ({"runbook_url": "https://x/" + "u" * 2048}, ("runbook_url",), "string_too_long"),
        ({"owner": "o" * 201}, ("owner",), "string_too_long"),
        ({"policy": "p" * 201}, ("policy",), "string_too_long"),
        (
            {"indicator": {"kind": "events_ratio", "good": _LONG_QUERY}},
            ("indicator", "events_ratio", "good"),
            "string_too_long",
        ),
        (
            {"indicator": {"kind": "prom_ratio", "total": "t", "bad": _LONG_QUERY}},
            ("indicator", "prom_ratio", "bad"),
            "string_too_long",
        ),
        (
            {"indicator": {"kind": "prom_threshold", "query": _LONG_QUERY, "op": "lt", "value": 1}},
            ("indicator", "prom_threshold", "query"),
            "string_too_long",
        ),
        ({"labels": {"k" * 201: "v"}}, ("labels", "k" * 201, "[key]"), "string_too_long"),
        ({"labels": {"k": "v" * 1025}}, ("labels", "k"), "string_too_long"),
        ({"labels": _TOO_MANY}, ("labels",), "too_long"),
        (
            {"alerting": {"annotations": {"summary": "s" * 4097}}},
            ("alerting", "annotations", "summary"),
            "string_too_long",
        ),
        (
            {"alerting": {"page": {"labels": {"k": "v" * 1025}}}},
            ("alerting", "page", "labels", "k"),
            "string_too_long",
        ),
    ],
)
def test_texts_are_capped_on_intake_and_not_on_read_back(
    change: dict[str, Any], location: tuple[Any, ...], kind: str
) -> None:
    data = {**BASE, **change}
    assert _problem(SloSpec, data) == (location, kind)
    SloSpec.model_validate(data, context=NO_INTAKE_BOUNDS)


@pytest.mark.parametrize(
    "change",
    [
        {"description": "d" * 4096},
        {"owner": "o" * 200},
        {"labels": {"k" * 200: "v" * 1024, **{f"k{i}": "v" for i in range(63)}}},
        {"indicator": {"kind": "events_ratio", "good": "x" * 16_384}},
    ],
)
def test_texts_at_their_cap_are_accepted(change: dict[str, Any]) -> None:
    SloSpec.model_validate({**BASE, **change})


def test_policy_texts_are_capped() -> None:
    level = POLICY["levels"][0]
    levels = [{**level, "actions": ["a" * 4097]}, POLICY["levels"][1]]
    assert _problem(PolicySpec, {"levels": levels}) == (
        ("levels", 0, "actions", 0),
        "string_too_long",
    )
    many = {"levels": POLICY["levels"], "exceptions": [f"e{i}" for i in range(65)]}
    assert _problem(PolicySpec, many) == (("exceptions",), "too_long")


def test_the_json_schema_shows_the_caps() -> None:
    schema = SloSpec.model_json_schema()
    assert schema["properties"]["description"]["anyOf"][0]["maxLength"] == 4096
    labels = schema["properties"]["labels"]
    assert labels["maxProperties"] == 64
    assert labels["additionalProperties"]["maxLength"] == 1024
