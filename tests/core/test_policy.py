"""The error-budget policy ladder and the gate's order of reasons."""

from __future__ import annotations

from dataclasses import replace

import pytest

from srekit.core.policy import (
    DEFAULT_POLICY,
    BudgetPolicy,
    Decision,
    FailMode,
    PolicyLevel,
    SloStanding,
    denied_decision,
    evaluate_gate,
    policy_for_service,
    policy_for_slo,
    policy_level,
    unknown_change_type,
)


@pytest.mark.parametrize(
    ("remaining", "state"),
    [
        (1.0, "normal"),
        (0.5000001, "normal"),
        (0.5, "reduced_velocity"),
        (0.25, "feature_freeze"),
        (0.2, "feature_freeze"),
        (0.10, "all_hands"),
        (0.01, "all_hands"),
        (0.0, "emergency"),
        (-3.0, "emergency"),
    ],
)
def test_default_ladder(remaining: float, state: str) -> None:
    assert policy_level(remaining).state == state


def _gate(remaining: float | None, change_type: str = "feature", **kwargs: object) -> object:
    standing = SloStanding(
        "api/availability", remaining, "ok" if remaining is not None else "error"
    )
    return evaluate_gate("api", change_type=change_type, standings=[standing], **kwargs)  # type: ignore[arg-type]


def test_worst_slo_decides() -> None:
    standings = [SloStanding("api/a", 0.9), SloStanding("api/b", 0.05), SloStanding("api/c", 0.6)]
    decision = evaluate_gate("api", change_type="feature", standings=standings)
    assert not decision.allowed
    assert decision.state == "all_hands"
    assert decision.decision is Decision.DENY
    assert "api/b" in decision.reasons[0]


@pytest.mark.parametrize("change_type", ["security_fix", "critical_bug", "rollback"])
def test_exceptions_always_pass(change_type: str) -> None:
    decision = evaluate_gate(
        "api",
        change_type=change_type,
        standings=[SloStanding("api/a", -1.0)],
        open_severe_incidents=["INC-1"],
    )
    assert decision.allowed
    assert decision.state == "emergency"


def test_open_severe_incident_denies_even_with_budget() -> None:
    decision = evaluate_gate(
        "api",
        change_type="config",
        standings=[SloStanding("api/a", 0.99)],
        open_severe_incidents=["INC-7"],
    )
    assert not decision.allowed
    assert "INC-7" in decision.reasons[0]


def test_unreadable_data_fails_closed_by_default_and_open_on_request() -> None:
    standing = SloStanding("api/a", None, "error", "Prometheus down")
    closed = evaluate_gate("api", change_type="feature", standings=[standing])
    assert not closed.allowed
    assert any("Prometheus down" in reason for reason in closed.reasons)
    opened = evaluate_gate(
        "api", change_type="feature", standings=[standing], fail_mode=FailMode.OPEN
    )
    assert opened.allowed
    assert any("fails open" in reason for reason in opened.reasons)


def test_silence_denies_unless_the_policy_allows_idle_services() -> None:
    """An SLO without SLI data in its window looks exactly like a typo in its query."""
    silent = [SloStanding("api/a", 0.9), SloStanding("api/b", None, "no_data")]
    denied = evaluate_gate("api", change_type="feature", standings=silent)
    assert (denied.allowed, denied.decision, denied.state) == (False, Decision.DENY, "normal")
    assert denied.reasons[0] == (
        "no SLI data in the window for api/b (policy default says no_data: deny)"
    )
    idle = replace(DEFAULT_POLICY, name="idle-ok", no_data=Decision.ALLOW)
    allowed = evaluate_gate("api", change_type="feature", standings=silent, policy=idle)
    assert (allowed.allowed, allowed.state) == (True, "normal")
    assert allowed.reasons[0].startswith("api/a has 90.00% of its error budget left")
    all_silent = [SloStanding("api/b", None, "no_data")]
    only_silence = evaluate_gate("api", change_type="feature", standings=all_silent, policy=idle)
    assert (only_silence.allowed, only_silence.state) == (True, "unknown")
    assert (
        only_silence.reasons[0] == "no SLO of api has SLI data (policy idle-ok says no_data: allow)"
    )
    review = replace(DEFAULT_POLICY, no_data=Decision.REVIEW)
    reviewed = evaluate_gate("api", change_type="feature", standings=all_silent, policy=review)
    assert (reviewed.allowed, reviewed.decision) == (False, Decision.REVIEW)


def test_exception_change_types_ship_even_in_silence() -> None:
    silent = [SloStanding("api/b", None, "no_data")]
    rollback = evaluate_gate("api", change_type="rollback", standings=silent)
    assert rollback.allowed


def test_unknown_change_types_are_denied_naming_the_known_ones() -> None:
    policy = BudgetPolicy(
        "custom",
        (
            PolicyLevel("ok", 0.3, Decision.ALLOW),
            PolicyLevel("careful", None, Decision.REVIEW, change_types={"docs": Decision.ALLOW}),
        ),
        exceptions=("hotfix",),
    )
    assert policy.change_types == ("config", "docs", "feature", "hotfix")
    assert unknown_change_type("docs", policy) is None
    yolo = evaluate_gate(
        "api", change_type="yolo", standings=[SloStanding("a", 0.9)], policy=policy
    )
    assert (yolo.allowed, yolo.decision, yolo.state) == (False, Decision.DENY, "ok")
    assert yolo.reasons == (
        "unknown change type 'yolo': expected one of config, docs, feature, hotfix",
    )
    # not even an exception of another policy passes: this one does not know it
    rollback = evaluate_gate("api", change_type="rollback", standings=[], policy=policy)
    assert rollback.reasons[0].startswith("unknown change type 'rollback'")


def test_review_is_not_allowed_and_change_type_overrides() -> None:
    policy = BudgetPolicy(
        "custom",
        (
            PolicyLevel("ok", 0.3, Decision.ALLOW),
            PolicyLevel("careful", None, Decision.REVIEW, change_types={"config": Decision.ALLOW}),
        ),
    )
    feature = evaluate_gate(
        "api", change_type="feature", standings=[SloStanding("a", 0.1)], policy=policy
    )
    config = evaluate_gate(
        "api", change_type="config", standings=[SloStanding("a", 0.1)], policy=policy
    )
    assert (feature.allowed, feature.decision) == (False, Decision.REVIEW)
    assert (config.allowed, config.decision) == (True, Decision.ALLOW)


def test_policy_rejects_unordered_floors() -> None:
    with pytest.raises(ValueError, match="decrease"):
        BudgetPolicy(
            "bad",
            (
                PolicyLevel("a", 0.1, Decision.ALLOW),
                PolicyLevel("b", 0.5, Decision.DENY),
                PolicyLevel("c", None, Decision.DENY),
            ),
        )
    with pytest.raises(ValueError, match="ending"):
        BudgetPolicy("bad", (PolicyLevel("a", 0.1, Decision.ALLOW),))
    assert DEFAULT_POLICY.levels[-1].floor is None


_STRICT = BudgetPolicy(
    name="strict",
    levels=(PolicyLevel("ok", 0.8, Decision.ALLOW), PolicyLevel("frozen", None, Decision.DENY)),
)
_MINE_DEFAULT = BudgetPolicy(
    name="default", levels=(PolicyLevel("anything", None, Decision.ALLOW),)
)


@pytest.mark.parametrize(
    ("named", "policies", "expected"),
    [
        (None, {}, DEFAULT_POLICY),
        ("default", {}, DEFAULT_POLICY),
        ("strict", {"strict": _STRICT}, _STRICT),
        (None, {"strict": _STRICT, "default": _MINE_DEFAULT}, _MINE_DEFAULT),
        # a name nobody defined falls back to the user's default, then to srekit's
        ("missing", {"default": _MINE_DEFAULT}, _MINE_DEFAULT),
        ("missing", {"strict": _STRICT}, DEFAULT_POLICY),
    ],
)
def test_policy_for_slo(
    named: str | None, policies: dict[str, BudgetPolicy], expected: BudgetPolicy
) -> None:
    assert policy_for_slo(named, policies) is expected


def test_policy_for_service_one_policy_or_a_conflict() -> None:
    policies = {"strict": _STRICT}
    same = policy_for_service("api", ["strict", "strict"], policies)
    assert (same.policy, same.conflict) == (_STRICT, None)
    # naming nothing and naming "default" are the same policy
    implicit = policy_for_service("api", [None, "default"], policies)
    assert (implicit.policy, implicit.conflict) == (DEFAULT_POLICY, None)
    assert policy_for_service("api", [], policies).policy is DEFAULT_POLICY
    mixed = policy_for_service("api", ["strict", None], policies)
    assert mixed.conflict == (
        "the SLOs of api name different policies (default, strict): a service is gated by one"
        " policy"
    )


def test_denied_decision_says_why_and_knows_no_state() -> None:
    decision = denied_decision("api", "config", "the store is down")
    assert (decision.allowed, decision.decision, decision.state) == (
        False,
        Decision.DENY,
        "unknown",
    )
    assert decision.reasons == ("the store is down",)
    assert (decision.service, decision.change_type, decision.actions) == ("api", "config", ())


def test_a_service_without_slos_has_no_data_to_gate_on() -> None:
    decision = evaluate_gate("api", change_type="feature", standings=[])
    assert (decision.allowed, decision.state) == (False, "unknown")
    assert decision.reasons == (
        "api has no SLOs: no SLI data to gate on (policy default says no_data: deny)",
    )
    idle = replace(DEFAULT_POLICY, no_data=Decision.ALLOW)
    assert evaluate_gate("api", change_type="feature", standings=[], policy=idle).allowed


def test_policy_rejects_a_state_given_twice() -> None:
    with pytest.raises(ValueError, match="unique") as caught:
        BudgetPolicy(
            "twice",
            (
                PolicyLevel("b", 0.5, Decision.ALLOW),
                PolicyLevel("a", 0.2, Decision.REVIEW),
                PolicyLevel("b", 0.1, Decision.DENY),
                PolicyLevel("a", None, Decision.DENY),
            ),
        )
    assert str(caught.value) == (
        "expected each level's state to be unique, got 'a', 'b' more than once"
    )
