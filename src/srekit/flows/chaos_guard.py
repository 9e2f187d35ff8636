"""The SLO guard of a chaos run, read from the guarded SLOs' own sources: the statuses
before the run (may it start?), while the method runs (must it stop?), and after (what did
it cost?). `core.chaos_guard` decides; this module only evaluates the SLOs when asked."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from srekit.core.chaos import SloGuard
from srekit.core.chaos_guard import budget_consumed, guard_breach, start_refusal
from srekit.core.sli import SourceSet
from srekit.core.specs import SpecSet
from srekit.core.status import SloStatus
from srekit.errors import SpecError
from srekit.flows.evaluate import evaluate_statuses

__all__ = ["SloWatch"]


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class SloWatch:
    """The guarded SLOs of `specs`, evaluated on demand against `sources`."""

    guard: SloGuard
    specs: SpecSet
    sources: SourceSet
    clock: Callable[[], datetime] = _now
    before: list[SloStatus] = field(default_factory=list)

    def __post_init__(self) -> None:
        known = {f"{slo.service}/{slo.name}" for slo in self.specs.slos}
        missing = [name for name in self.guard.slos if name not in known]
        if missing:
            raise SpecError(
                f"the SLO guard names SLOs the specs do not declare: {', '.join(missing)}",
                field="extensions.srekit.slo_guard.slos",
            )
        self._slos = [
            slo for slo in self.specs.slos if f"{slo.service}/{slo.name}" in self.guard.slos
        ]

    def statuses(self) -> list[SloStatus]:
        return evaluate_statuses(
            self._slos, at=self.clock(), sources=self.sources, policies=self.specs.policies
        )

    def refusal(self) -> str | None:
        """Why the run must not start (kept: the statuses before it, for its cost)."""
        self.before = self.statuses()
        policies = {f"{slo.service}/{slo.name}": self.specs.policy_for(slo) for slo in self._slos}
        return start_refusal(self.guard, self.before, policies)

    def breach(self) -> str | None:
        """Why the running experiment must stop now (the runner's guard)."""
        return guard_breach(self.guard, self.statuses())

    def consumed(self, before: Sequence[SloStatus] | None = None) -> float | None:
        """The budget consumed since `refusal` read the statuses before the run."""
        return budget_consumed(self.guard, before or self.before, self.statuses())
