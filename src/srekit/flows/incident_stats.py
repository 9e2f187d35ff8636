"""Incident figures for a period, with the error budget each incident consumed of the SLOs it
names, read from the SLI sources: the pipeline behind incident reports and their API.

Per incident and SLO two windows are read: the incident's interval, and the SLO window ending
where the interval ends (`core.incident_stats`). They are asked in batches: all the windows
of an SLO in one `SliSource.counts` call, and SLOs whose windows are the same (several SLOs of
one service named by the same incidents) together, so the event store answers an SLO's
incidents in one SQL statement. A source that is missing or fails leaves the consumption
unknown, with the reason, for the SLOs it serves; the figures themselves never depend on it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime

from srekit.core.incident import DEFAULT_SEVERITIES, Incident, Severity, SeverityDefinition
from srekit.core.incident_stats import (
    IncidentBudget,
    IncidentStats,
    incident_budget,
    incident_interval,
    incident_stats,
    incidents_in_period,
)
from srekit.core.sli import EventCounts, SliSource, SourceSet, WindowQuery
from srekit.core.slo import SLO, BudgetingMethod
from srekit.core.window import window_name, window_span
from srekit.errors import SourceTimeout, SpecError, SrekitError
from srekit.store import StoreEngine

__all__ = [
    "compute_incident_stats",
    "read_incident_budgets",
    "slo_key",
    "stored_incident_stats",
]

logger = logging.getLogger(__name__)

#: One incident's two windows for one SLO: its interval, and the SLO window ending with it.
_Need = tuple[Incident, WindowQuery, WindowQuery]
_Counts = Mapping[tuple[str, str], EventCounts | None]


def slo_key(slo: SLO) -> str:
    """How an incident names an SLO: `service/name`."""
    return f"{slo.service}/{slo.name}"


def compute_incident_stats(
    incidents: Sequence[Incident],
    *,
    slos: Sequence[SLO],
    sources: SourceSet,
    start: datetime,
    end: datetime,
    now: datetime,
    severities: Mapping[Severity, SeverityDefinition] = DEFAULT_SEVERITIES,
) -> IncidentStats:
    """The figures of the incidents opened in `[start, end)` as seen at `now`, with the budget
    each of them consumed of the SLOs it names (`core.incident_stats.incident_stats`).

    `slos` are the SLOs incidents may name; only the period's incidents are read from the
    sources. Raises ValueError for an empty period or an undefined severity, never for a
    source.
    """
    period = incidents_in_period(incidents, start=start, end=end, now=now)
    budgets = read_incident_budgets(period, slos=slos, sources=sources, now=now)
    return incident_stats(
        period, start=start, end=end, now=now, severities=severities, budgets=budgets
    )


def read_incident_budgets(
    incidents: Sequence[Incident],
    *,
    slos: Sequence[SLO],
    sources: SourceSet,
    now: datetime,
) -> list[IncidentBudget]:
    """The budget each incident consumed of each SLO it names, incident by incident in the
    order given and each SLO once, as at `now` (an open incident's interval ends at `now`).

    Unknown, with the reason, for an SLO not in `slos`, one budgeted by time slices (its budget
    is slices, not events), and the SLOs of a source that is missing or fails.
    """
    by_key = {slo_key(slo): slo for slo in slos}
    budgets: dict[tuple[int, str], IncidentBudget] = {}
    order: list[tuple[int, str]] = []
    needs: dict[str, list[_Need]] = {}
    for incident in incidents:
        for key in dict.fromkeys(incident.slos):
            order.append((incident.id, key))
            slo = by_key.get(key)
            if slo is None:
                budgets[incident.id, key] = IncidentBudget(
                    incident.id, key, reason=f"no SLO {key} is defined"
                )
            elif slo.budgeting is not BudgetingMethod.OCCURRENCES:
                budgets[incident.id, key] = IncidentBudget(
                    incident.id,
                    key,
                    reason=f"{key} is budgeted by time slices; an incident's consumption is"
                    " counted in events, for occurrence SLOs",
                )
            else:
                needs.setdefault(key, []).append(_windows(incident, slo, now=now))
    # SLOs asking for the same windows of the same source share a call
    batches: dict[tuple[str, tuple[WindowQuery, ...]], list[SLO]] = {}
    for key, wanted in needs.items():
        slo = by_key[key]
        windows = tuple(w for _, interval, window in wanted for w in (interval, window))
        batches.setdefault((sources.for_slo(slo)[0], windows), []).append(slo)
    for (name, windows), members in batches.items():
        _, source, missing = sources.for_slo(members[0])
        for slo, counts in _read(name, source, missing, members, windows):
            key = slo_key(slo)
            for incident, interval, window in needs[key]:
                budgets[incident.id, key] = (
                    IncidentBudget(incident.id, key, reason=counts)
                    if isinstance(counts, str)
                    else incident_budget(
                        incident.id,
                        slo=key,
                        objective=slo.objective,
                        interval=counts.get((slo.id, interval.label)),
                        window=counts.get((slo.id, window.label)),
                    )
                )
    return [budgets[pair] for pair in order]


def _windows(incident: Incident, slo: SLO, *, now: datetime) -> _Need:
    start, end = incident_interval(incident, now=now)
    window_start, window_end = window_span(slo.window, end)
    return (
        incident,
        WindowQuery(f"incident {incident.id}", start, end),
        WindowQuery(f"incident {incident.id} {window_name(slo.window)}", window_start, window_end),
    )


def _read(
    name: str,
    source: SliSource | None,
    missing: str,
    slos: list[SLO],
    windows: tuple[WindowQuery, ...],
) -> list[tuple[SLO, _Counts | str]]:
    """Each SLO with its counts, or with why they could not be read. A batch that ran out of
    time is asked again one SLO at a time, so a costly SLO costs only its own figures."""
    if source is None:
        return [(slo, missing) for slo in slos]
    try:
        counts = source.counts(slos, list(windows))
    except SourceTimeout as error:
        if len(slos) == 1:
            return [(slos[0], str(error))]
        return [read for slo in slos for read in _read(name, source, missing, [slo], windows)]
    except SrekitError as error:
        return [(slo, str(error)) for slo in slos]
    except Exception as error:  # a misbehaving source must not cost the figures
        logger.warning("SLI source %s failed reading incident budgets: %r", name, error)
        return [(slo, f"the {name} source failed: {error}") for slo in slos]
    return [(slo, counts) for slo in slos]


def stored_incident_stats(
    engine: StoreEngine,
    *,
    sources: SourceSet,
    start: datetime,
    end: datetime,
    now: datetime,
    service: str | None = None,
    severities: Mapping[Severity, SeverityDefinition] = DEFAULT_SEVERITIES,
) -> IncidentStats:
    """The figures of the stored incidents opened in `[start, end)` (of one service, if
    given), with the budget each consumed of the stored SLOs it names, judged against
    `severities`' response targets."""
    from srekit.store.database import transaction
    from srekit.store.repo import incident_of, list_incidents, list_slos

    if end <= start:
        raise SpecError(
            f"the period ends ({end:%Y-%m-%dT%H:%M:%SZ}) when or before it starts", field="to"
        )
    with transaction(engine, read_only=True) as session:
        incidents = [
            incident_of(row)
            for row in list_incidents(
                session,
                service=service,
                state="all",
                opened_from=start,
                opened_to=end,
                limit=None,
            )
        ]
        named = {key for incident in incidents for key in incident.slos}
        slos = []
        for row in list_slos(session):
            if row.key in named:
                try:
                    slos.append(row.to_slo())
                except SpecError:
                    continue  # an unreadable stored SLO: its budgets say "no spec"
    return compute_incident_stats(
        incidents,
        slos=slos,
        sources=sources,
        start=start,
        end=end,
        now=now,
        severities=severities,
    )
