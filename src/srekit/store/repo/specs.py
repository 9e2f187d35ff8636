"""Applying a parsed spec set at once: every policy, then every SLO, in the caller's
transaction, so a set that fails part-way stores nothing."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from srekit.core.slo import SLO
from srekit.core.specs import find_owner_conflict
from srekit.errors import SpecError
from srekit.store.repo._base import Applied
from srekit.store.repo.policies import apply_policy
from srekit.store.repo.slos import apply_slo
from srekit.store.tables import PolicyRow, SloRow

if TYPE_CHECKING:
    from srekit.core.specs import SpecSet

__all__ = ["SpecApplied", "apply_specs", "check_one_owner_per_service"]


@dataclass(frozen=True)
class SpecApplied:
    """What `apply_specs` did, SLO by SLO and policy by policy, in spec order."""

    slos: tuple[Applied[SloRow], ...]
    policies: tuple[Applied[PolicyRow], ...]


def check_one_owner_per_service(slos: Sequence[SLO]) -> None:
    """Refuse specs whose SLOs give one service two owners (`core.specs.find_owner_conflict`),
    naming the file and field of the SLO that disagrees."""
    conflict = find_owner_conflict(slos)
    if conflict is not None:
        raise SpecError(conflict.message, file=conflict.slo.source_file, field="owner")


def apply_specs(
    session: Session,
    *,
    specs: SpecSet,
    actor: str,
    source_formats: Mapping[str, str] | None = None,
    now: datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> SpecApplied:
    """Store every policy, then every SLO, of a parsed spec set (in the caller's transaction).

    `source_formats` maps a spec file to the format it was written in. SLOs stored earlier but
    absent from `specs` are kept: apply adds and updates, `delete_slo` removes. `progress` is
    told how many of the SLOs are stored so far, after each one.
    """
    check_one_owner_per_service(specs.slos)
    formats = source_formats or {}
    policies = tuple(
        apply_policy(session, policy=policy, actor=actor, now=now)
        for policy in specs.policies.values()
    )
    slos: list[Applied[SloRow]] = []
    for slo in specs.slos:
        slos.append(
            apply_slo(
                session,
                slo=slo,
                actor=actor,
                source_format=formats.get(slo.source_file or ""),
                now=now,
            )
        )
        if progress is not None:
            progress(len(slos))
    return SpecApplied(slos=tuple(slos), policies=policies)
