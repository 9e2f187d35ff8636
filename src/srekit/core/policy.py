"""The error-budget policy: what the remaining budget means for a service and its deploys.

A policy is a ladder of levels, highest floor first. A level applies when the remaining budget is
strictly above its floor; the last level (no floor) catches the rest. The default follows the
usual decision matrix:

    remaining > 50 %        normal                  allow
    25 % < remaining ≤ 50 % reduced_velocity        allow (with care)
    10 % < remaining ≤ 25 % feature_freeze          review
    0 < remaining ≤ 10 %    all_hands               deny
    remaining ≤ 0           emergency               deny

A service is in its worst SLO's state. Exception change types (security fixes, critical bug
fixes, rollbacks) are always allowed; an open P0/P1 incident on the service denies everything else.
Silence is not good news: an SLO with no SLI data in its window (a typo in a query or a label
looks exactly like that) denies, unless the policy says `no_data: allow` for idle services.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

__all__ = [
    "DEFAULT_EXCEPTIONS",
    "DEFAULT_POLICY",
    "STANDARD_CHANGE_TYPES",
    "BudgetPolicy",
    "Decision",
    "FailMode",
    "GateDecision",
    "PolicyLevel",
    "ServicePolicy",
    "SloStanding",
    "denied_decision",
    "evaluate_gate",
    "policy_for_service",
    "policy_for_slo",
    "policy_level",
    "unknown_change_type",
]


class Decision(StrEnum):
    ALLOW = "allow"
    REVIEW = "review"
    DENY = "deny"


class FailMode(StrEnum):
    """What the gate does when SLI data cannot be read: deny (closed) or allow (open)."""

    CLOSED = "closed"
    OPEN = "open"


@dataclass(frozen=True)
class PolicyLevel:
    """A policy state that applies while remaining > `floor` (None: the catch-all bottom level).

    `change_types` overrides `decision` per change type (`{"config": "allow"}`).
    """

    state: str
    floor: float | None
    decision: Decision
    actions: tuple[str, ...] = ()
    change_types: Mapping[str, Decision] = field(default_factory=dict)

    def decision_for(self, change_type: str) -> Decision:
        return self.change_types.get(change_type, self.decision)


DEFAULT_EXCEPTIONS: tuple[str, ...] = ("security_fix", "critical_bug", "rollback")
# the change types every policy knows; a policy adds those its exceptions and levels name
STANDARD_CHANGE_TYPES: tuple[str, ...] = ("feature", "config")


@dataclass(frozen=True)
class BudgetPolicy:
    """An ordered ladder of levels and the change types that always pass.

    Checked on construction: floors strictly decrease, only the last level has none, and no two
    levels share a state.
    """

    name: str
    levels: tuple[PolicyLevel, ...]
    exceptions: tuple[str, ...] = DEFAULT_EXCEPTIONS
    no_data: Decision = Decision.DENY  # what an SLO without SLI data in its window means

    @property
    def change_types(self) -> tuple[str, ...]:
        """Every change type this policy decides: the standard ones, its exceptions, and the
        ones its levels name. Anything else is a typo, and a typo must not ship."""
        named = {name for level in self.levels for name in level.change_types}
        return tuple(sorted({*STANDARD_CHANGE_TYPES, *self.exceptions, *named}))

    def __post_init__(self) -> None:
        floors = [level.floor for level in self.levels]
        if not floors or floors[-1] is not None or None in floors[:-1]:
            raise ValueError("a policy needs levels with floors, ending with one without a floor")
        numeric = [f for f in floors if f is not None]
        if numeric != sorted(numeric, reverse=True) or len(set(numeric)) != len(numeric):
            raise ValueError("policy level floors must strictly decrease")
        # a state names the level a status reports and the gate acts on: two alike are ambiguous
        states = [level.state for level in self.levels]
        twice = sorted({state for state in states if states.count(state) > 1})
        if twice:
            raise ValueError(
                "expected each level's state to be unique, got "
                + ", ".join(repr(state) for state in twice)
                + " more than once"
            )


DEFAULT_POLICY = BudgetPolicy(
    name="default",
    levels=(
        PolicyLevel("normal", 0.50, Decision.ALLOW, ("ship as usual",)),
        PolicyLevel(
            "reduced_velocity",
            0.25,
            Decision.ALLOW,
            ("prefer small, reversible changes", "review reliability work in planning"),
        ),
        PolicyLevel(
            "feature_freeze",
            0.10,
            Decision.REVIEW,
            ("freeze features; reliability work first", "every deploy needs an approval"),
        ),
        PolicyLevel(
            "all_hands",
            0.0,
            Decision.DENY,
            ("all hands on reliability", "only exception changes ship"),
        ),
        PolicyLevel(
            "emergency",
            None,
            Decision.DENY,
            ("budget exhausted: incident review and post-mortem", "only exception changes ship"),
        ),
    ),
)


def policy_level(remaining: float, policy: BudgetPolicy = DEFAULT_POLICY) -> PolicyLevel:
    """The first level whose floor lies strictly below `remaining` (the bottom one otherwise)."""
    # the bottom level has no floor (BudgetPolicy checks), so one always applies
    return next(level for level in policy.levels if level.floor is None or remaining > level.floor)


def policy_for_slo(named: str | None, policies: Mapping[str, BudgetPolicy]) -> BudgetPolicy:
    """The policy an SLO names (`default` when it names none).

    A name with no such policy falls back to the user's `default` policy, and that to
    DEFAULT_POLICY: an SLO is always gated by some policy.
    """
    fallback = policies.get("default", DEFAULT_POLICY)
    return policies.get(named or "default", fallback)


@dataclass(frozen=True)
class ServicePolicy:
    """The one policy that gates a service, or why there is none (`conflict`)."""

    policy: BudgetPolicy
    conflict: str | None = None


def policy_for_service(
    service: str, named: Sequence[str | None], policies: Mapping[str, BudgetPolicy]
) -> ServicePolicy:
    """The policy gating `service`, from the policy names of its SLOs.

    A service is gated by one policy: when its SLOs name different ones, `conflict` says so
    (and the gate denies). A service without SLOs is gated by the default policy.
    """
    names = sorted({name or "default" for name in named})
    policy = policy_for_slo(names[0] if names else None, policies)
    if len(names) > 1:
        return ServicePolicy(
            policy,
            conflict=f"the SLOs of {service} name different policies ({', '.join(names)}):"
            " a service is gated by one policy",
        )
    return ServicePolicy(policy)


@dataclass(frozen=True)
class SloStanding:
    """What the gate needs to know of one SLO: its remaining budget, or why it has none."""

    slo: str
    remaining: float | None
    data: str = "ok"
    detail: str | None = None


@dataclass(frozen=True)
class GateDecision:
    """The answer to "may this change ship now?" — `allowed` is True only for Decision.ALLOW."""

    service: str
    change_type: str
    allowed: bool
    decision: Decision
    state: str
    reasons: tuple[str, ...]
    actions: tuple[str, ...] = ()


def denied_decision(service: str, change_type: str, reason: str) -> GateDecision:
    """A denial decided before any SLO was looked at (bad input, a store that is down): the
    state is unknown and the reason says why."""
    return GateDecision(
        service=service,
        change_type=change_type,
        allowed=False,
        decision=Decision.DENY,
        state="unknown",
        reasons=(reason,),
    )


def unknown_change_type(change_type: str, policy: BudgetPolicy) -> str | None:
    """Why `change_type` cannot be decided under `policy` (None when it can)."""
    if change_type in policy.change_types:
        return None
    return f"unknown change type {change_type!r}: expected one of {', '.join(policy.change_types)}"


def evaluate_gate(
    service: str,
    *,
    change_type: str,
    standings: Sequence[SloStanding],
    policy: BudgetPolicy = DEFAULT_POLICY,
    open_severe_incidents: Sequence[str] = (),
    fail_mode: FailMode = FailMode.CLOSED,
) -> GateDecision:
    """Decide a deploy of `change_type` for `service` from its SLOs' remaining budgets.

    Order: an unknown change type denies; exception change types pass; then an open P0/P1
    incident denies; then unreadable SLI data denies when failing closed; then SLOs with no
    data in their window (or no SLOs at all) get the policy's `no_data` decision (deny unless
    the policy says otherwise); then the worst SLO's policy level decides.
    """
    reasons: list[str] = []
    readable = [s for s in standings if s.remaining is not None]
    for standing in standings:
        if standing.remaining is None:
            reasons.append(
                f"{standing.slo}: {standing.data}"
                + (f" ({standing.detail})" if standing.detail else "")
            )
    worst = min(readable, key=lambda s: s.remaining or 0.0) if readable else None
    level = policy_level(worst.remaining, policy) if worst and worst.remaining is not None else None
    state = level.state if level else "unknown"

    def decide(decision: Decision, *why: str) -> GateDecision:
        return GateDecision(
            service=service,
            change_type=change_type,
            allowed=decision is Decision.ALLOW,
            decision=decision,
            state=state,
            reasons=(*why, *reasons),
            actions=level.actions if level else (),
        )

    unknown = unknown_change_type(change_type, policy)
    if unknown is not None:
        return decide(Decision.DENY, unknown)
    if change_type in policy.exceptions:
        return decide(Decision.ALLOW, f"{change_type} is an exception change type: always allowed")
    if open_severe_incidents:
        return decide(
            Decision.DENY,
            f"open P0/P1 incident(s) on {service}: {', '.join(open_severe_incidents)}",
        )
    unreadable = [s for s in standings if s.data in ("error", "stale") and s.remaining is None]
    if unreadable and fail_mode is FailMode.CLOSED:
        return decide(Decision.DENY, "SLI data could not be read and the gate fails closed")
    if unreadable:
        reasons.append("SLI data could not be read and the gate fails open")
    silent = [s.slo for s in standings if s.data == "no_data" and s.remaining is None]
    no_data = f"policy {policy.name} says no_data: {policy.no_data.value}"
    if not standings:
        return decide(policy.no_data, f"{service} has no SLOs: no SLI data to gate on ({no_data})")
    if silent and policy.no_data is not Decision.ALLOW:
        return decide(
            policy.no_data, f"no SLI data in the window for {', '.join(silent)} ({no_data})"
        )
    if level is None or worst is None or worst.remaining is None:
        return decide(Decision.ALLOW, f"no SLO of {service} has SLI data ({no_data})")
    decision = level.decision_for(change_type)
    return decide(
        decision,
        f"{worst.slo} has {worst.remaining:.2%} of its error budget left: "
        f"state {level.state}, {change_type} → {decision.value}",
    )
