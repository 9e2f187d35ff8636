"""The store's JSON form of SLOs and policies: every field survives the round trip."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

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
from srekit.core.specs import spec_diff
from srekit.core.window import CALENDAR_UNITS, CalendarWindow, RollingWindow
from srekit.errors import SpecError
from srekit.spec.loader import load_specs
from srekit.store.codec import (
    policy_from_dict,
    policy_to_dict,
    slo_from_dict,
    slo_to_dict,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

texts = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=12)
maybe_texts = st.none() | texts
labels = st.dictionaries(texts, texts, max_size=3)
finite = st.floats(allow_nan=False, allow_infinity=False)

windows = st.builds(RollingWindow, duration_s=st.integers(1, 10**8)) | st.builds(
    CalendarWindow,
    unit=st.sampled_from(CALENDAR_UNITS),
    count=st.integers(1, 12),
    time_zone=st.sampled_from(["UTC", "Europe/Paris", "America/New_York"]),
)
indicators: st.SearchStrategy[Indicator] = st.one_of(
    st.builds(PromRatio, total=texts, good=texts, bad=st.none()),
    st.builds(PromRatio, total=texts, good=st.none(), bad=texts),
    st.builds(PromErrorRatio, error_ratio=texts),
    st.builds(
        PromLatency,
        metric=texts,
        threshold_s=st.floats(0.001, 1e4),
        selector=st.text(max_size=12),
    ),
    st.builds(
        PromThreshold, query=texts, op=st.sampled_from(["lt", "lte", "gt", "gte"]), value=finite
    ),
    st.builds(EventsRatio, good=texts, total=texts, stream=maybe_texts),
)
alert_specs = st.builds(AlertSpec, disabled=st.booleans(), labels=labels, annotations=labels)
alertings = st.builds(
    Alerting,
    name=maybe_texts,
    labels=labels,
    annotations=labels,
    page=alert_specs,
    ticket=alert_specs,
)


@st.composite
def slos(draw: st.DrawFn) -> SLO:
    budgeting = draw(st.sampled_from(list(BudgetingMethod)))
    sliced = budgeting is not BudgetingMethod.OCCURRENCES or draw(st.booleans())
    return SLO(
        service=draw(texts),
        name=draw(texts),
        objective=draw(st.floats(0.0001, 0.99999)),
        window=draw(windows),
        indicator=draw(indicators),
        budgeting=budgeting,
        timeslice_s=draw(st.integers(1, 3600)) if sliced else None,
        timeslice_target=draw(st.none() | st.floats(0.01, 0.99999)),
        labels=draw(labels),
        alerting=draw(alertings),
        policy=draw(maybe_texts),
        description=draw(maybe_texts),
        owner=draw(maybe_texts),
        runbook_url=draw(maybe_texts),
        source_file=draw(maybe_texts),
    )


@st.composite
def policies(draw: st.DrawFn) -> BudgetPolicy:
    floors = sorted(draw(st.sets(st.floats(-1, 1), max_size=4)), reverse=True)
    size = len(floors) + 1
    states = draw(st.lists(texts, min_size=size, max_size=size, unique=True))
    levels = [
        PolicyLevel(
            state=state,
            floor=floor,
            decision=draw(st.sampled_from(list(Decision))),
            actions=tuple(draw(st.lists(texts, max_size=2))),
            change_types=draw(st.dictionaries(texts, st.sampled_from(list(Decision)), max_size=2)),
        )
        for state, floor in zip(states, [*floors, None], strict=True)
    ]
    return BudgetPolicy(
        name=draw(texts), levels=tuple(levels), exceptions=tuple(draw(st.lists(texts, max_size=3)))
    )


def through_json(data: dict[str, Any]) -> Any:
    return json.loads(json.dumps(data))


@given(slos())
def test_every_slo_survives_the_round_trip(slo: SLO) -> None:
    assert slo_from_dict(through_json(slo_to_dict(slo))) == slo


@given(policies())
def test_every_policy_survives_the_round_trip(policy: BudgetPolicy) -> None:
    assert policy_from_dict(through_json(policy_to_dict(policy))) == policy


@pytest.mark.parametrize(
    "indicator",
    [
        PromRatio(total="http_requests_total", bad='http_requests_total{code=~"5.."}'),
        PromRatio(total="sum(rate(x[{{.window}}]))", good="sum(rate(y[{{.window}}]))"),
        PromErrorRatio(error_ratio="sum(rate(e[{{.window}}])) / sum(rate(t[{{.window}}]))"),
        PromLatency(metric="http_request_duration_seconds", threshold_s=0.3, selector='job="a"'),
        PromThreshold(query="up", op="gte", value=1),
        EventsRatio(good="status < 500", total="path != '/health'", stream="api"),
    ],
    ids=lambda indicator: type(indicator).__name__,
)
def test_each_indicator_kind_round_trips(indicator: Indicator) -> None:
    slo = SLO(
        service="api",
        name="x",
        objective=0.999,
        window=CalendarWindow("month", time_zone="Europe/Paris"),
        indicator=indicator,
        budgeting=BudgetingMethod.TIMESLICES,
        timeslice_s=60,
        timeslice_target=0.95,
    )
    encoded = through_json(slo_to_dict(slo))
    assert slo_from_dict(encoded) == slo
    assert encoded["indicator"]["kind"] in {
        "prom_ratio",
        "prom_error_ratio",
        "prom_latency",
        "prom_threshold",
        "events_ratio",
    }


def test_the_examples_and_the_default_policy_round_trip() -> None:
    specs = load_specs([EXAMPLES / "slos", EXAMPLES / "prometheus", EXAMPLES / "sloth"])
    assert len(specs.slos) >= 6
    for slo in specs.slos:
        assert slo_from_dict(through_json(slo_to_dict(slo))) == slo
    for policy in [*specs.policies.values(), DEFAULT_POLICY]:
        assert policy_from_dict(through_json(policy_to_dict(policy))) == policy


def base() -> dict[str, Any]:
    return slo_to_dict(
        SLO(
            service="api",
            name="availability",
            objective=0.999,
            window=RollingWindow(2592000),
            indicator=EventsRatio(good="status < 500"),
        )
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d.pop("objective"), "objective"),
        (lambda d: d.update(objective="high"), "objective"),
        (lambda d: d.update(objective=1.5), None),
        (lambda d: d["indicator"].update(kind="magic"), "indicator.kind"),
        (lambda d: d["window"].update(kind="sliding"), "window.kind"),
        (lambda d: d["window"].update(duration_s=True), "window.duration_s"),
        (lambda d: d.update(budgeting="weekly"), "budgeting"),
        (lambda d: d.update(labels={"tier": 1}), "labels.tier"),
        (lambda d: d["alerting"]["page"].update(disabled="no"), "alerting.page.disabled"),
    ],
)
def test_malformed_data_names_the_field(change: Any, field: str | None) -> None:
    data = base()
    change(data)
    with pytest.raises(SpecError) as caught:
        slo_from_dict(data)
    assert caught.value.field == field


def test_a_policy_with_a_bad_decision_names_the_level() -> None:
    data = policy_to_dict(DEFAULT_POLICY)
    data["levels"][2]["decision"] = "maybe"
    with pytest.raises(SpecError, match="allow, review, deny") as caught:
        policy_from_dict(data)
    assert caught.value.field == "levels[2].decision"


def test_diff_names_each_changed_leaf() -> None:
    before = base()
    after = base()
    after["objective"] = 0.995
    after["labels"] = {"tier": "1"}
    after["indicator"]["good"] = "status < 400"
    after["alerting"]["page"]["disabled"] = True
    assert spec_diff(before, after) == (
        "alerting.page.disabled: false → true",
        'indicator.good: "status < 500" → "status < 400"',
        'labels.tier: added "1"',
        "objective: 0.999 → 0.995",
    )
    assert spec_diff(after, before)[2] == 'labels.tier: removed (was "1")'
    assert spec_diff(before, base()) == ()


def test_integer_and_float_spellings_encode_alike() -> None:
    as_int = SLO("a", "b", 0.9, RollingWindow(60), PromThreshold(query="up", op="gt", value=1))
    as_float = SLO("a", "b", 0.9, RollingWindow(60), PromThreshold(query="up", op="gt", value=1.0))
    assert spec_diff(slo_to_dict(as_int), slo_to_dict(as_float)) == ()
