"""Evaluate SLOs against their sources at one instant: the pipeline behind status and the gate.

SLOs are grouped by source (Prometheus or the event store), each source is asked once for all of
its SLOs and windows, and a source that cannot answer turns its SLOs' statuses into `error`
states with the reason, instead of failing the whole evaluation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from srekit.core.policy import (
    BudgetPolicy,
    FailMode,
    GateDecision,
    evaluate_gate,
)
from srekit.core.sli import EventCounts, SliSource, SourceSet, WindowQuery
from srekit.core.slo import SLO, BudgetingMethod
from srekit.core.status import (
    SloStatus,
    evaluate_slo,
    status_windows,
    timeslice_readings,
    unavailable_status,
)
from srekit.core.window import window_span
from srekit.errors import SourceUnavailable

__all__ = ["evaluate_statuses", "gate_service"]


def _readings(
    source: SliSource, slos: Sequence[SLO], at: datetime
) -> dict[str, dict[str, EventCounts | None]]:
    """Counts per SLO id and window label: one batched call for occurrence SLOs, slices else."""
    per_slo: dict[str, dict[str, EventCounts | None]] = {}
    occurrences = [s for s in slos if s.budgeting is BudgetingMethod.OCCURRENCES]
    if occurrences:
        windows_by_label: dict[str, WindowQuery] = {}
        for slo in occurrences:
            for window in status_windows(slo, at):
                windows_by_label.setdefault(window.label, window)
        counts = source.counts(occurrences, list(windows_by_label.values()))
        for slo in occurrences:
            per_slo[slo.id] = {
                w.label: counts.get((slo.id, w.label)) for w in status_windows(slo, at)
            }
    for slo in slos:
        if slo.budgeting is BudgetingMethod.OCCURRENCES:
            continue
        start, end = window_span(slo.window, at)
        slices = source.slices(slo, start=start, end=end, slice_s=slo.timeslice_s or 60)
        per_slo[slo.id] = timeslice_readings(slo, slices, windows=status_windows(slo, at))
    return per_slo


def evaluate_statuses(
    slos: Sequence[SLO],
    *,
    at: datetime,
    sources: SourceSet,
    policies: Mapping[str, BudgetPolicy],
    default_policy: BudgetPolicy,
) -> list[SloStatus]:
    """Every SLO's status at `at`, in the order given; unreadable sources become `error` states."""
    groups: dict[str, list[SLO]] = {}
    for slo in slos:
        groups.setdefault(sources.for_slo(slo)[0], []).append(slo)
    statuses: dict[str, SloStatus] = {}
    for members in groups.values():
        _, source, missing = sources.for_slo(members[0])
        if source is None:
            for slo in members:
                statuses[slo.id] = unavailable_status(slo, at=at, detail=missing)
            continue
        try:
            readings = _readings(source, members, at)
        except SourceUnavailable as error:
            for slo in members:
                statuses[slo.id] = unavailable_status(slo, at=at, detail=str(error))
            continue
        for slo in members:
            policy = policies.get(slo.policy or "default", default_policy)
            statuses[slo.id] = evaluate_slo(slo, readings=readings[slo.id], at=at, policy=policy)
    return [statuses[slo.id] for slo in slos]


def gate_service(
    service: str,
    *,
    change_type: str,
    statuses: Sequence[SloStatus],
    policy: BudgetPolicy,
    fail_mode: FailMode = FailMode.CLOSED,
    open_severe_incidents: Sequence[str] = (),
) -> GateDecision:
    """The deploy decision for `service` from the statuses of its SLOs."""
    own = [status.standing for status in statuses if status.service == service]
    return evaluate_gate(
        service,
        change_type=change_type,
        standings=own,
        policy=policy,
        open_severe_incidents=open_severe_incidents,
        fail_mode=fail_mode,
    )
