"""The gate's flows without a server: reading a request, deciding from spec files (the CLI)
and from a stored catalog (the server), with the numbers worked out by hand."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

import pytest

from srekit.core.policy import (
    BudgetPolicy,
    Decision,
    FailMode,
    GateDecision,
    PolicyLevel,
)
from srekit.core.sli import EventCounts, SourceSet, WindowQuery
from srekit.core.slo import SLO, EventsRatio
from srekit.core.specs import SpecSet
from srekit.core.status import DataState, evaluate_slo
from srekit.core.window import RollingWindow
from srekit.errors import SourceUnavailable, SpecError
from srekit.flows.gate import (
    Catalog,
    GateQuestion,
    GateRequest,
    decide_stored,
    gate_specs,
    read_request,
)

AT = datetime(2026, 11, 1, 12, tzinfo=UTC)
FREEZE = BudgetPolicy(
    name="freeze",
    levels=(PolicyLevel("open", 0.9, Decision.ALLOW), PolicyLevel("frozen", None, Decision.DENY)),
)


def _slo(service: str, name: str, policy: str | None = None) -> SLO:
    return SLO(
        service=service,
        name=name,
        objective=0.99,
        window=RollingWindow(30 * 86400),
        indicator=EventsRatio("status < 500"),
        policy=policy,
    )


class _Source:
    """30 bad requests in 10,000 over every window: 30 % of a 99 % budget spent."""

    def __init__(self, failure: str | None = None) -> None:
        self.failure = failure

    def counts(
        self, slos: Sequence[SLO], windows: Sequence[WindowQuery]
    ) -> Mapping[tuple[str, str], EventCounts | None]:
        if self.failure:
            raise SourceUnavailable(self.failure)
        return {(s.id, w.label): EventCounts(9_970, 10_000) for s in slos for w in windows}

    def slices(
        self, slo: SLO, *, start: datetime, end: datetime, slice_s: int
    ) -> Sequence[EventCounts | None]:
        raise AssertionError("no timeslice SLO here")


@pytest.mark.parametrize(
    ("request_", "reason"),
    [
        (GateRequest(change_type="feature", service="  "), "service is required: ?service=NAME"),
        (
            GateRequest(change_type="feature", service="x" * 201),
            "service is at most 200 characters and change_type at most 40",
        ),
        (
            GateRequest(change_type="feature", service="api", commit_time="yesterday"),
            "commit_time: expected RFC 3339 (2026-11-01T10:00:00Z), got 'yesterday'",
        ),
        (
            GateRequest(change_type="feature", service="api", fail_open="maybe"),
            "fail_open: expected true or false, got 'maybe'",
        ),
    ],
)
def test_a_bad_request_is_a_denial_saying_why(request_: GateRequest, reason: str) -> None:
    denied = read_request(request_)
    assert not isinstance(denied, GateQuestion)
    assert (denied.allowed, denied.reasons) == (False, (reason,))


@pytest.mark.parametrize("change_type", [None, "", "  "])
def test_a_request_without_a_change_type_is_denied(change_type: str | None) -> None:
    """No silent default: a pipeline that forgot the parameter must not ship as a feature."""
    denied = read_request(GateRequest(service="api", change_type=change_type))
    assert isinstance(denied, GateDecision)
    assert (denied.allowed, denied.service, denied.change_type) == (False, "api", "")
    assert denied.reasons[0].startswith("change_type is required: ?change_type=TYPE")


def test_a_good_request_reads_into_a_question() -> None:
    question = read_request(
        GateRequest(
            service=" api ",
            change_type=" feature ",
            version="v" * 300,
            commit_time="2026-11-01T10:00:00+01:00",
            fail_open="true",
            requested_by="ci",
            source="flagger",
        )
    )
    assert question == GateQuestion(
        service="api",
        change_type="feature",
        fail_mode=FailMode.OPEN,
        version="v" * 200,
        commit_time=datetime(2026, 11, 1, 9, tzinfo=UTC),
        requested_by="ci",
        source="flagger",
    )


@pytest.mark.parametrize("fail_open", ["1", "yes", "TRUE", "True", "on", "0", "no", " true"])
def test_fail_open_is_exactly_true_or_false(fail_open: str) -> None:
    denied = read_request(GateRequest(change_type="feature", service="api", fail_open=fail_open))
    assert not isinstance(denied, GateQuestion)
    assert denied.reasons == (f"fail_open: expected true or false, got {fail_open!r}",)


@pytest.mark.parametrize(
    ("fail_open", "mode"),
    [
        ("true", FailMode.OPEN),
        ("false", FailMode.CLOSED),
        ("", FailMode.CLOSED),
        (None, FailMode.CLOSED),
    ],
)
def test_fail_open_true_false_or_absent(fail_open: str | None, mode: FailMode) -> None:
    question = read_request(GateRequest(change_type="feature", service="api", fail_open=fail_open))
    assert isinstance(question, GateQuestion)
    assert question.fail_mode is mode


@pytest.mark.parametrize(
    "service", ["Checkout", "a\x00b", "a\tb", "\u202eab", "api\U0001f600", '"api"', ".."]
)
def test_a_service_that_is_no_name_is_a_denial_saying_what_is_expected(service: str) -> None:
    denied = read_request(GateRequest(change_type="feature", service=service))
    assert not isinstance(denied, GateQuestion)
    (reason,) = denied.reasons
    assert reason.startswith(
        "service: expected a name of lowercase letters, digits, '-', '_' and '.', starting and"
        " ending with a letter or digit, at most 200 characters; got "
    )


def test_gate_specs_evaluates_the_service_and_applies_its_policy() -> None:
    specs = SpecSet(
        slos=(_slo("api", "availability", "freeze"), _slo("web", "availability")),
        policies={"freeze": FREEZE},
    )
    gated = gate_specs(
        specs, SourceSet(events=_Source()), service="api", change_type="feature", at=AT
    )
    # 30 of 100 allowed bad events spent: 70 % left, under freeze's 90 % floor
    assert gated.policy is FREEZE
    assert (gated.decision.allowed, gated.decision.state) == (False, "frozen")
    assert [s.slo for s in gated.statuses] == ["availability"]
    assert gated.statuses[0].error_budget is not None
    assert gated.statuses[0].error_budget.remaining == pytest.approx(0.7)
    down = gate_specs(
        SpecSet(slos=(_slo("api", "availability"),)),
        SourceSet(events=_Source(failure="event store down")),
        service="api",
        change_type="feature",
        at=AT,
        fail_mode=FailMode.OPEN,
    )
    assert down.decision.allowed is True
    assert down.statuses[0].data is DataState.ERROR


def test_gate_specs_refuses_what_the_files_get_wrong() -> None:
    specs = SpecSet(
        slos=(_slo("api", "a", "freeze"), _slo("api", "b")), policies={"freeze": FREEZE}
    )
    with pytest.raises(SpecError, match=r"^--service: no SLO in the specs belongs to 'web'"):
        gate_specs(specs, SourceSet(), service="web", change_type="feature", at=AT)
    with pytest.raises(SpecError, match="name different policies \\(default, freeze\\)"):
        gate_specs(specs, SourceSet(), service="api", change_type="feature", at=AT)


def _catalog(*slos: SLO, services: tuple[str, ...] = ("api",)) -> Catalog:
    return Catalog(
        services=frozenset(services),
        slos={s: tuple(slo for slo in slos if slo.service == s) for s in services},
        policies={"freeze": FREEZE},
    )


def _question(service: str = "api") -> GateQuestion:
    question = read_request(GateRequest(change_type="feature", service=service))
    assert isinstance(question, GateQuestion)
    return question


def test_decide_stored_from_the_evaluators_statuses() -> None:
    slo = _slo("api", "availability")
    fresh = evaluate_slo(slo, readings={"30d": EventCounts(9_970, 10_000)}, at=AT)
    decision, statuses = decide_stored(
        _question(),
        catalog=_catalog(slo),
        statuses=[fresh],
        open_severe_incidents=(),
        now=AT + timedelta(minutes=1),
        max_status_age_s=300,
    )
    assert (decision.allowed, decision.state) == (True, "normal")  # 70 % left
    assert statuses == [fresh]
    old, _ = decide_stored(
        _question(),
        catalog=_catalog(slo),
        statuses=[fresh],
        open_severe_incidents=(),
        now=AT + timedelta(minutes=6),
        max_status_age_s=300,
    )
    assert old.allowed is False
    assert "api/availability: stale (last evaluated 6m ago" in old.reasons[1]


def test_decide_stored_denies_unknown_services_and_policy_conflicts() -> None:
    unknown, statuses = decide_stored(
        _question("nope"), catalog=_catalog(), statuses=[], open_severe_incidents=(), now=AT
    )
    assert unknown.reasons == ("unknown service 'nope': no such service in the store",)
    assert statuses == []
    split = _catalog(_slo("api", "a", "freeze"), _slo("api", "b"))
    conflict, _ = decide_stored(
        _question(), catalog=split, statuses=[], open_severe_incidents=(), now=AT
    )
    assert conflict.allowed is False
    assert conflict.reasons[0].startswith("the SLOs of api name different policies")
