"""A set of specs as one unit: the SLOs, policies and alert routings some files (or an API
body) declare, and the rules that hold across them."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from srekit.core.escalation import EscalationPolicy
from srekit.core.oncall import RotationChange
from srekit.core.policy import BudgetPolicy, policy_for_slo
from srekit.core.routing import AlertRouting
from srekit.core.slo import SLO

__all__ = [
    "OwnerConflict",
    "SpecSet",
    "canonical_json",
    "find_owner_conflict",
    "spec_diff",
]


@dataclass(frozen=True)
class SpecSet:
    """What a set of spec files declares: SLOs, the error-budget policies they name, and
    alert routings and on-call rotations (by name)."""

    slos: tuple[SLO, ...]
    policies: Mapping[str, BudgetPolicy] = field(default_factory=dict)
    routings: Mapping[str, AlertRouting] = field(default_factory=dict)
    rotations: Mapping[str, RotationChange] = field(default_factory=dict)
    escalation_policies: Mapping[str, EscalationPolicy] = field(default_factory=dict)
    # CapacityPlan documents, validated where they were read: each plan's service by name
    capacity_plans: Mapping[str, str] = field(default_factory=dict)
    files: tuple[str, ...] = ()
    # each file written in one format, by its format (a file mixing formats is left out)
    formats: Mapping[str, str] = field(default_factory=dict)

    def policy_for(self, slo: SLO) -> BudgetPolicy:
        return policy_for_slo(slo.policy, self.policies)

    def services(self) -> list[str]:
        return sorted({slo.service for slo in self.slos})


@dataclass(frozen=True)
class OwnerConflict:
    """An SLO naming a different owner than an earlier SLO of its service."""

    slo: SLO
    first: SLO

    @property
    def message(self) -> str:
        return (
            f"SLO {self.slo.service}/{self.slo.name} names owner {self.slo.owner!r} but"
            f" {self.first.service}/{self.first.name} names {self.first.owner!r}:"
            " a service belongs to one team"
        )


def find_owner_conflict(slos: Sequence[SLO]) -> OwnerConflict | None:
    """The first SLO that gives its service a second owner, if any: a service belongs to one
    team. SLOs naming no owner agree with any."""
    owners: dict[str, SLO] = {}
    for slo in slos:
        if slo.owner is None:
            continue
        first = owners.setdefault(slo.service, slo)
        if first.owner != slo.owner:
            return OwnerConflict(slo, first)
    return None


def canonical_json(data: Any) -> str:
    """One spelling per value (sorted keys, no spaces), so equal specs compare equal as text."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _flatten(value: Any, path: str, into: dict[str, Any]) -> dict[str, Any]:
    if isinstance(value, Mapping):  # an empty object adds no leaf: `labels.tier: added "1"`
        for key in value:
            _flatten(value[key], f"{path}.{key}" if path else str(key), into)
    elif isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
        for index, item in enumerate(value):  # policy levels: `levels[0].floor: 0.5 → 0.3`
            _flatten(item, f"{path}[{index}]", into)
    else:
        into[path] = value
    return into


def _show(value: Any) -> str:
    text = canonical_json(value)
    return text if len(text) <= 60 else text[:57] + "..."


def spec_diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[str, ...]:
    """What changed between two encoded specs, one `field: old → new` line per leaf, sorted.

    Nested objects are compared leaf by leaf (`indicator.good`, `labels.tier`), lists of objects
    item by item (`levels[0].floor`), other lists and scalars as whole values. Equal specs give
    an empty tuple.
    """
    old = _flatten(before, "", {})
    new = _flatten(after, "", {})
    changes: list[str] = []
    for key in sorted(old.keys() | new.keys()):
        if key not in new:
            changes.append(f"{key}: removed (was {_show(old[key])})")
        elif key not in old:
            changes.append(f"{key}: added {_show(new[key])}")
        elif canonical_json(old[key]) != canonical_json(new[key]):
            changes.append(f"{key}: {_show(old[key])} → {_show(new[key])}")
    return tuple(changes)
