"""Evaluate SLOs against their sources at one instant: the pipeline behind `srekit status`,
the CLI gate and the server's evaluation rounds.

SLOs are grouped by source (Prometheus or the event store), each source is asked once for all
of its SLOs and windows, and a source that cannot answer turns its SLOs' statuses into `error`
states with the reason, instead of failing the whole evaluation. A batch that runs past the
source's time limit (SourceTimeout) is asked again one SLO at a time, so a costly SLO costs
only its own status.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from srekit.core.policy import BudgetPolicy, policy_for_slo
from srekit.core.sli import EventCounts, SliSource, SourceSet, WindowQuery
from srekit.core.slo import SLO, BudgetingMethod
from srekit.core.specs import SpecSet
from srekit.core.status import (
    DataState,
    SloStatus,
    evaluate_slo,
    last_good_status,
    status_windows,
    timeslice_readings,
    unavailable_status,
)
from srekit.core.window import window_span
from srekit.errors import SourceTimeout, SourceUnavailable, SpecError
from srekit.store import StoreEngine, StoreSession
from srekit.store.database import transaction
from srekit.store.repo import (
    last_good_snapshot,
    list_policies,
    list_slos,
    prune_snapshots,
    record_snapshots,
)

__all__ = [
    "SourceEvaluation",
    "StoredRound",
    "evaluate_by_source",
    "evaluate_statuses",
    "evaluate_stored",
    "stored_specs",
]

logger = logging.getLogger(__name__)


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
) -> list[SloStatus]:
    """Every SLO's status at `at`, in the order given, each against the policy it names
    (`policy_for_slo`); unreadable sources become `error` states."""
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
            if not isinstance(error, SourceTimeout) or len(members) == 1:
                for slo in members:
                    statuses[slo.id] = unavailable_status(slo, at=at, detail=str(error))
                continue
            # the batch ran out of time: ask again one SLO at a time, so only the costly
            # SLOs lose their statuses
            readings = {}
            for slo in members:
                try:
                    readings.update(_readings(source, [slo], at))
                except SourceUnavailable as own:
                    statuses[slo.id] = unavailable_status(slo, at=at, detail=str(own))
        for slo in members:
            if slo.id in statuses:
                continue
            policy = policy_for_slo(slo.policy, policies)
            statuses[slo.id] = evaluate_slo(slo, readings=readings[slo.id], at=at, policy=policy)
    return [statuses[slo.id] for slo in slos]


@dataclass(frozen=True)
class SourceEvaluation:
    """Statuses in the SLOs' order, and each source that could not answer, with why."""

    statuses: list[SloStatus]
    failures: dict[str, str]


def evaluate_by_source(
    slos: Sequence[SLO],
    *,
    at: datetime,
    sources: SourceSet,
    policies: Mapping[str, BudgetPolicy],
) -> SourceEvaluation:
    """`evaluate_statuses`, with each source confined to its own SLOs.

    A source that misbehaves (raises something other than SourceUnavailable, say a query
    Prometheus refuses) cannot cost the others their statuses; its SLOs are then retried one
    by one to confine the failure to the SLOs that cause it. What a long-running server needs.
    """
    groups: dict[str, list[SLO]] = {}
    for slo in slos:
        groups.setdefault(sources.for_slo(slo)[0], []).append(slo)
    by_id: dict[str, SloStatus] = {}
    failures: dict[str, str] = {}

    def evaluate(members: Sequence[SLO]) -> list[SloStatus]:
        return evaluate_statuses(members, at=at, sources=sources, policies=policies)

    for name, members in groups.items():
        try:
            statuses = evaluate(members)
        except Exception as error:
            logger.warning("SLI source %s failed (%r); evaluating its SLOs one by one", name, error)
            statuses = []
            for slo in members:
                try:
                    statuses.extend(evaluate([slo]))
                except Exception as own:
                    statuses.append(
                        unavailable_status(slo, at=at, detail=f"{name} source failed: {own}")
                    )
        for slo, status in zip(members, statuses, strict=True):
            by_id[slo.id] = status
            if status.data is DataState.ERROR and name not in failures:
                failures[name] = status.detail or "unknown error"
    for name, why in failures.items():
        logger.warning("SLI source %s could not be read: %s", name, why)
    return SourceEvaluation([by_id[slo.id] for slo in slos], failures)


@dataclass(frozen=True)
class StoredRound:
    """What one evaluation of the stored SLOs recorded."""

    statuses: tuple[SloStatus, ...]
    recorded: int
    failures: dict[str, str]
    pruned: int


def _stored_slos(session: StoreSession) -> tuple[list[SLO], dict[tuple[str, str], int]]:
    """The stored SLOs (a row that no longer decodes is logged and left out) and their ids."""
    slos: list[SLO] = []
    ids: dict[tuple[str, str], int] = {}
    for row in list_slos(session):
        try:
            slos.append(row.to_slo())
        except SpecError as error:
            logger.error("stored SLO %s cannot be read, not evaluated: %s", row.key, error)
            continue
        ids[row.service.name, row.name] = row.id
    return slos, ids


def stored_specs(engine: StoreEngine) -> SpecSet:
    """The stored SLOs and policies as one spec set, as if read from files: what the CLI
    evaluates and gates when it reads the state store. An SLO whose row no longer decodes is
    logged and left out, as an evaluation round leaves it out."""
    with transaction(engine, read_only=True) as session:
        slos, _ = _stored_slos(session)
        policies = {row.name: row.to_policy() for row in list_policies(session)}
    return SpecSet(slos=tuple(slos), policies=policies)


def evaluate_stored(
    engine: StoreEngine,
    *,
    at: datetime,
    sources: SourceSet,
    prune_older_than: datetime | None = None,
) -> StoredRound:
    """Evaluate every stored SLO at `at` against its stored policy and record a snapshot each.

    An SLO whose source failed keeps its last good figures, marked stale with their age and
    the failure (`last_good_status`), rather than losing them. Snapshots older than
    `prune_older_than` are deleted in the same transaction.
    """
    with transaction(engine, read_only=True) as session:
        slos, ids = _stored_slos(session)
        policies = {row.name: row.to_policy() for row in list_policies(session)}
    evaluation = evaluate_by_source(slos, at=at, sources=sources, policies=policies)
    pruned = 0
    with transaction(engine) as session:
        kept = []
        for status in evaluation.statuses:
            slo_id = ids.get((status.service, status.slo))
            good = (
                last_good_snapshot(session, slo_id=slo_id)
                if status.data is DataState.ERROR and slo_id is not None
                else None
            )
            failure = status.detail or "unknown error"
            kept.append(
                status
                if good is None
                else last_good_status(good.to_status(), failure=failure, at=at)
            )
        recorded = record_snapshots(session, statuses=kept, now=at)
        if prune_older_than is not None:
            pruned = prune_snapshots(session, older_than=prune_older_than)
    return StoredRound(tuple(kept), recorded, evaluation.failures, pruned)
