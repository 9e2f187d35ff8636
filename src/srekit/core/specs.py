"""A set of specs as one unit: the SLOs and policies some files (or an API body) declare, and
the rules that hold across them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from srekit.core.policy import BudgetPolicy, policy_for_slo
from srekit.core.slo import SLO

__all__ = ["OwnerConflict", "SpecSet", "find_owner_conflict"]


@dataclass(frozen=True)
class SpecSet:
    """What a set of spec files declares: SLOs and the error-budget policies they name."""

    slos: tuple[SLO, ...]
    policies: Mapping[str, BudgetPolicy] = field(default_factory=dict)
    files: tuple[str, ...] = ()

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
