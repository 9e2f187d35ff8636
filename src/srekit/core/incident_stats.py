"""Incident figures over a period, and the error budget each incident consumed.

For the incidents opened in a period `[start, end)`, per group (every incident, a service, a
severity, a service at a severity):

- `count`: incidents opened in the period. An incident naming several services counts once in
  each of their groups and once in the others (overall, its severity).
- `mtta_s`: mean time to acknowledge, Σ(acknowledged_at − opened_at) / n over the n incidents
  acknowledged; seconds. None when none was.
- `mttr_s`: mean time to resolve, Σ(resolved_at − opened_at) / n over the n incidents
  resolved; seconds. None when none was.
- `mtbf_s`: mean time between failures, the mean gap between the starts of consecutive
  incidents, (last opened_at − first opened_at) / (count − 1); seconds. None under two.
- `response_share`: met / (met + missed) against the severity's response target: an incident
  whose `responded_at()` came at most `response_target_s` after it opened met it; one not yet
  responded to is missed once its target has passed at `now`, and not judged before. None when
  no incident was judged.
- `open`: incidents not resolved at `now`.

Everything is read as it stood at `now`: an incident opened after `now` is left out, and an
instant after `now` (an acknowledgement, a resolution) has not happened yet, so figures asked
about a past `now` are the ones that could be seen then (up to reopenings, whose earlier
resolutions an incident does not keep).

The budget an incident consumed of an SLO (DESIGN.md "Semantics"): with `o` the objective,
`consumed = bad(I) / ((1 − o) × total(W))`, the bad events of the incident's interval
`I = [opened_at, resolved_at or now)` over the bad events the SLO allows in its window `W`
ending where the interval ends. 0.25 means the incident spent a quarter of the budget.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from srekit.core.budget import error_budget
from srekit.core.incident import DEFAULT_SEVERITIES, Incident, Severity, SeverityDefinition
from srekit.core.sli import EventCounts

__all__ = [
    "IncidentBudget",
    "IncidentFigures",
    "IncidentStats",
    "incident_budget",
    "incident_interval",
    "incident_stats",
    "incidents_in_period",
]


@dataclass(frozen=True)
class IncidentFigures:
    """The figures of one group of incidents; durations in seconds (see the module's docstring).

    `acknowledged` and `resolved` count the incidents MTTA and MTTR average over;
    `response_met` and `response_missed` the incidents judged against their response target.
    """

    count: int
    open: int
    acknowledged: int
    resolved: int
    mtta_s: float | None
    mttr_s: float | None
    mtbf_s: float | None
    response_met: int
    response_missed: int

    @property
    def response_share(self) -> float | None:
        """met / (met + missed), a fraction; None when no incident was judged yet."""
        judged = self.response_met + self.response_missed
        return None if judged == 0 else self.response_met / judged


@dataclass(frozen=True)
class IncidentBudget:
    """The share of an SLO's error budget one incident consumed.

    `slo` is the SLO's `service/name` key. `consumed` is a fraction of the budget (1.0 spends
    all of it, more overspends); `bad_events` the SLO's bad events in the incident's interval,
    `allowed_bad_events` (1 − o) × total(W). When the consumption cannot be known, these are
    None and `reason` says why (no events in the window, a source that failed, ...).
    """

    incident_id: int
    slo: str
    consumed: float | None = None
    bad_events: float | None = None
    allowed_bad_events: float | None = None
    reason: str | None = None


@dataclass(frozen=True)
class IncidentStats:
    """The figures of the incidents opened in `[start, end)`, as seen at `at`.

    `by_severity` holds every defined severity, P0 first, even without incidents (a quiet
    month is a figure too); `by_service` the services named, by name; `by_service_severity`
    the pairs that had incidents, by service then severity. An incident naming no service
    counts in `overall` and its severity only. `budgets` are those of the period's incidents,
    by incident id then SLO.
    """

    start: datetime
    end: datetime
    at: datetime
    overall: IncidentFigures
    by_severity: Mapping[Severity, IncidentFigures]
    by_service: Mapping[str, IncidentFigures]
    by_service_severity: Mapping[tuple[str, Severity], IncidentFigures]
    budgets: tuple[IncidentBudget, ...] = ()


def incidents_in_period(
    incidents: Iterable[Incident], *, start: datetime, end: datetime, now: datetime
) -> list[Incident]:
    """The incidents opened in `[start, end)` and not after `now`, in the order given.

    Raises ValueError when the period ends before it starts.
    """
    if end <= start:
        raise ValueError(
            f"the period must end after it starts: {start.isoformat()} to {end.isoformat()}"
        )
    return [i for i in incidents if start <= i.opened_at < end and i.opened_at <= now]


def incident_interval(incident: Incident, *, now: datetime) -> tuple[datetime, datetime]:
    """The interval an incident's budget is measured on: `[opened_at, resolved_at)` when it
    was resolved by `now`, else `[opened_at, now)` (never ending before it starts)."""
    resolved = incident.resolved_at
    end = resolved if resolved is not None and resolved <= now else now
    return incident.opened_at, max(end, incident.opened_at)


def incident_budget(
    incident_id: int,
    *,
    slo: str,
    objective: float,
    interval: EventCounts | None,
    window: EventCounts | None,
) -> IncidentBudget:
    """The budget incident `incident_id` consumed of `slo`: bad(I) / ((1 − o) × total(W)).

    `interval` holds the SLO's events in the incident's interval I (None: no events, so no
    bad ones), `window` those of the SLO window W ending where I ends; allowed bad events are
    `core.budget.error_budget`'s. Negative bad counts (counters scraped at slightly different
    instants) count as 0. Unknown (None, with the reason) when W holds no events, or when the
    source gives an error ratio rather than event counts.
    """
    if any(counts is not None and not counts.counted for counts in (interval, window)):
        return IncidentBudget(
            incident_id, slo, reason="the source gives an error ratio, not event counts"
        )
    budget = error_budget(window, objective=objective)
    if budget is None or budget.allowed_bad_events is None:
        return IncidentBudget(
            incident_id, slo, reason="no events in the SLO window ending with the incident"
        )
    bad = 0.0 if interval is None else max(0.0, interval.bad)
    allowed = budget.allowed_bad_events
    return IncidentBudget(
        incident_id,
        slo,
        consumed=bad / allowed,
        bad_events=bad,
        allowed_bad_events=allowed,
    )


class _Tally:
    """Running sums of one group, which merge: a service's are the sums of its severities'."""

    __slots__ = (
        "acked",
        "acked_s",
        "count",
        "first",
        "last",
        "met",
        "missed",
        "open",
        "resolved",
        "resolved_s",
    )

    def __init__(self) -> None:
        self.count = 0
        self.open = 0
        self.acked = 0
        self.acked_s = 0.0
        self.resolved = 0
        self.resolved_s = 0.0
        self.first = float("inf")
        self.last = float("-inf")
        self.met = 0
        self.missed = 0

    def add(self, measured: _Measured) -> None:
        opened, acked_s, resolved_s, met, missed, still_open = measured
        self.count += 1
        self.open += still_open
        if acked_s is not None:
            self.acked += 1
            self.acked_s += acked_s
        if resolved_s is not None:
            self.resolved += 1
            self.resolved_s += resolved_s
        self.first = min(self.first, opened)
        self.last = max(self.last, opened)
        self.met += met
        self.missed += missed

    def merge(self, other: _Tally) -> None:
        self.count += other.count
        self.open += other.open
        self.acked += other.acked
        self.acked_s += other.acked_s
        self.resolved += other.resolved
        self.resolved_s += other.resolved_s
        self.first = min(self.first, other.first)
        self.last = max(self.last, other.last)
        self.met += other.met
        self.missed += other.missed

    def figures(self) -> IncidentFigures:
        return IncidentFigures(
            count=self.count,
            open=self.open,
            acknowledged=self.acked,
            resolved=self.resolved,
            mtta_s=self.acked_s / self.acked if self.acked else None,
            mttr_s=self.resolved_s / self.resolved if self.resolved else None,
            mtbf_s=(self.last - self.first) / (self.count - 1) if self.count > 1 else None,
            response_met=self.met,
            response_missed=self.missed,
        )


#: One incident as the tallies read it: opened (epoch s), to acknowledge (s), to resolve (s),
#: response target met (0/1), missed (0/1), open at now (0/1).
_Measured = tuple[float, float | None, float | None, int, int, int]


def _measure(incident: Incident, *, now: datetime, target_s: float) -> _Measured:
    opened = incident.opened_at
    acked = incident.acknowledged_at
    resolved = incident.resolved_at
    acked_s = (acked - opened).total_seconds() if acked is not None and acked <= now else None
    resolved_s = None
    if resolved is not None and resolved <= now:
        resolved_s = (resolved - opened).total_seconds()
    responded = incident.responded_at()
    if responded is not None and responded <= now:
        met = (responded - opened).total_seconds() <= target_s
        missed = not met
    else:
        met = False
        missed = (now - opened).total_seconds() > target_s
    return opened.timestamp(), acked_s, resolved_s, int(met), int(missed), int(resolved_s is None)


def incident_stats(
    incidents: Iterable[Incident],
    *,
    start: datetime,
    end: datetime,
    now: datetime,
    severities: Mapping[Severity, SeverityDefinition] = DEFAULT_SEVERITIES,
    budgets: Sequence[IncidentBudget] = (),
) -> IncidentStats:
    """The figures of the incidents opened in `[start, end)` as seen at `now` (module docstring).

    `budgets` (from `incident_budget`, for any incidents) are kept for the period's incidents.
    Raises ValueError when the period ends before it starts or an incident's severity has no
    definition in `severities`.
    """
    by_severity = {severity: _Tally() for severity in Severity if severity in severities}
    by_pair: dict[tuple[str, Severity], _Tally] = {}
    seen: set[int] = set()
    period = incidents_in_period(incidents, start=start, end=end, now=now)
    for incident in period:
        severity = incident.severity
        tally = by_severity.get(severity)
        if tally is None:
            raise ValueError(
                f"incident {incident.id}: severity {severity} has no definition"
                f" (defined: {', '.join(by_severity) or 'none'})"
            )
        measured = _measure(incident, now=now, target_s=severities[severity].response_target_s)
        tally.add(measured)
        for service in set(incident.services):
            pair = by_pair.get((service, severity))
            if pair is None:
                pair = by_pair[service, severity] = _Tally()
            pair.add(measured)
        seen.add(incident.id)
    overall = _Tally()
    for tally in by_severity.values():
        overall.merge(tally)
    order = list(Severity)
    pairs = sorted(by_pair, key=lambda key: (key[0], order.index(key[1])))
    by_service: dict[str, _Tally] = {}
    for service, severity in pairs:
        by_service.setdefault(service, _Tally()).merge(by_pair[service, severity])
    return IncidentStats(
        start=start,
        end=end,
        at=now,
        overall=overall.figures(),
        by_severity={severity: tally.figures() for severity, tally in by_severity.items()},
        by_service={service: tally.figures() for service, tally in by_service.items()},
        by_service_severity={pair: by_pair[pair].figures() for pair in pairs},
        budgets=tuple(
            sorted(
                (b for b in budgets if b.incident_id in seen),
                key=lambda b: (b.incident_id, b.slo),
            )
        ),
    )
