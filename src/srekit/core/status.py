"""An SLO's standing at one instant: SLI, error budget, burn rates, alerts and policy state.

Everything here is computed from per-window event counts handed in by a source; the same
function serves the CLI, the API and reports, so each number exists once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from srekit.core.alerts import BurnRateAlert, burn_rate_alerts, evaluate_alerts
from srekit.core.budget import (
    ErrorBudget,
    burn_rate,
    error_budget,
    time_to_exhaustion_s,
    timeslice_counts,
)
from srekit.core.instant import format_age, format_instant
from srekit.core.policy import DEFAULT_POLICY, BudgetPolicy, SloStanding, policy_level
from srekit.core.sli import EventCounts, WindowQuery
from srekit.core.slo import SLO, BudgetingMethod
from srekit.core.window import (
    format_duration,
    window_label,
    window_length_s,
    window_name,
    window_span,
)

__all__ = [
    "BURN_RATE_WINDOWS_S",
    "NOT_EVALUATED",
    "DataState",
    "SloStatus",
    "current_statuses",
    "evaluate_slo",
    "last_good_status",
    "outdated_status",
    "slice_windows",
    "status_windows",
    "timeslice_readings",
    "unavailable_status",
]

BURN_RATE_WINDOWS_S: tuple[int, ...] = (300, 1800, 3600, 7200, 21600, 86400, 259200)


class DataState(StrEnum):
    """How much to trust a status: fresh data, no events, an old reading, or a failed read."""

    OK = "ok"
    NO_DATA = "no_data"
    STALE = "stale"
    ERROR = "error"


@dataclass(frozen=True)
class SloStatus:
    """The figures `srekit status` reports for one SLO (DESIGN.md "Contracts")."""

    service: str
    slo: str
    objective: float
    window: str
    window_s: int
    at: datetime
    sli: float | None
    error_budget: ErrorBudget | None
    burn_rates: Mapping[str, float | None]
    time_to_exhaustion_s: float | None
    alerts: tuple[BurnRateAlert, ...]
    policy_state: str
    data: DataState
    detail: str | None = None
    counts: EventCounts | None = None
    labels: Mapping[str, str] = field(default_factory=dict)

    @property
    def standing(self) -> SloStanding:
        """What the deploy gate reads of this status. Stale figures do not gate: without
        fresh data the gate's fail mode decides."""
        remaining = (
            self.error_budget.remaining
            if self.error_budget and self.data is not DataState.STALE
            else None
        )
        return SloStanding(
            slo=f"{self.service}/{self.slo}",
            remaining=remaining,
            data=self.data.value,
            detail=self.detail,
        )


def status_windows(slo: SLO, at: datetime) -> list[WindowQuery]:
    """The windows a status needs: the burn-rate windows and the SLO window, ending at `at`."""
    windows = [
        WindowQuery(format_duration(seconds), at - timedelta(seconds=seconds), at)
        for seconds in BURN_RATE_WINDOWS_S
    ]
    start, end = window_span(slo.window, at)
    label = window_label(slo.window)
    if all(w.label != label for w in windows):
        windows.append(WindowQuery(label, start, end))
    return windows


def slice_windows(
    slices: Sequence[EventCounts | None], *, windows: Sequence[WindowQuery], slice_s: int
) -> dict[str, list[EventCounts | None]]:
    """The trailing slices that fall inside each window (slices end at the windows' common end)."""
    return {
        w.label: list(slices[-(w.duration_s // slice_s) :]) if w.duration_s >= slice_s else []
        for w in windows
    }


def evaluate_slo(
    slo: SLO,
    *,
    readings: Mapping[str, EventCounts | None],
    at: datetime,
    policy: BudgetPolicy = DEFAULT_POLICY,
) -> SloStatus:
    """Compute an SLO's status from good/total counts per window label.

    The SLO window's counts give the SLI and the budget (ratio of sums, not a mean of ratios);
    every window's counts give a burn rate; burn(1h) gives the time to exhaustion; W for a
    calendar window is the whole period's length. A window without events is "no data".
    """
    label = window_label(slo.window)
    window_s = window_length_s(slo.window, at)
    counts = readings.get(label)
    budget = error_budget(counts, objective=slo.objective)
    burn_rates: dict[str, float | None] = {}
    for seconds in BURN_RATE_WINDOWS_S:
        name = format_duration(seconds)
        reading = readings.get(name)
        burn_rates[name] = burn_rate(
            reading.error_ratio if reading else None, objective=slo.objective
        )
    burn_rates[window_name(slo.window)] = burn_rate(
        counts.error_ratio if counts else None, objective=slo.objective
    )
    alerts = evaluate_alerts(burn_rate_alerts(window_s), burn_rates)
    remaining = budget.remaining if budget else None
    return SloStatus(
        service=slo.service,
        slo=slo.name,
        objective=slo.objective,
        window=label,
        window_s=window_s,
        at=at,
        sli=counts.sli if counts else None,
        error_budget=budget,
        burn_rates=burn_rates,
        time_to_exhaustion_s=time_to_exhaustion_s(
            remaining, window_s=window_s, burn_rate_1h=burn_rates.get("1h")
        ),
        alerts=tuple(alerts),
        policy_state=policy_level(remaining, policy).state if remaining is not None else "unknown",
        data=DataState.OK if budget else DataState.NO_DATA,
        detail=None if budget else "no events in the SLO window",
        counts=counts,
        labels=slo.labels,
    )


def unavailable_status(
    slo: SLO, *, at: datetime, detail: str, data: DataState = DataState.ERROR
) -> SloStatus:
    """A status for an SLO whose source could not be read: every figure unknown, and why."""
    window_s = window_length_s(slo.window, at)
    label = window_label(slo.window)
    windows = [format_duration(s) for s in BURN_RATE_WINDOWS_S]
    return SloStatus(
        service=slo.service,
        slo=slo.name,
        objective=slo.objective,
        window=label,
        window_s=window_s,
        at=at,
        sli=None,
        error_budget=None,
        burn_rates=dict.fromkeys([*windows, window_name(slo.window)]),
        time_to_exhaustion_s=None,
        alerts=tuple(burn_rate_alerts(window_s)),
        policy_state="unknown",
        data=data,
        detail=detail,
        labels=slo.labels,
    )


def timeslice_readings(
    slo: SLO, slices: Sequence[EventCounts | None], *, windows: Sequence[WindowQuery]
) -> dict[str, EventCounts | None]:
    """Per-window slice counts for a timeslice SLO, from its slices over the SLO window.

    Windows shorter than one slice have no data: a slice is the smallest thing judged.
    """
    slice_s = slo.timeslice_s or 60
    ratio = slo.budgeting is BudgetingMethod.RATIO_TIMESLICES
    readings: dict[str, EventCounts | None] = {}
    for label, parts in slice_windows(slices, windows=windows, slice_s=slice_s).items():
        counts = timeslice_counts(parts, slice_target=slo.timeslice_target, ratio=ratio)
        readings[label] = counts if counts.total > 0 else None
    return readings


NOT_EVALUATED = "not evaluated yet"


def outdated_status(status: SloStatus, *, now: datetime, max_age_s: float) -> SloStatus:
    """`status` as it stands at `now`: itself while younger than `max_age_s`, else marked
    `stale` with its age (an `error` stays an error), since whoever evaluates is behind or gone.
    """
    elapsed = now - status.at
    if elapsed.total_seconds() <= max_age_s:
        return status
    detail = f"last evaluated {format_age(elapsed)} ago: the evaluator is behind or stopped"
    if status.detail:
        detail += f"; then: {status.detail}"
    data = DataState.STALE if status.data in (DataState.OK, DataState.NO_DATA) else status.data
    return replace(status, data=data, detail=detail)


def last_good_status(good: SloStatus, *, failure: str, at: datetime) -> SloStatus:
    """The last good figures, as of `at`, marked `stale` with their age and why the source
    failed now: better than losing them, and the gate still treats them as unreadable."""
    return replace(
        good,
        at=at,
        data=DataState.STALE,
        detail=(
            f"source failed: {failure}; last good evaluation {format_age(at - good.at)} ago"
            f" ({format_instant(good.at)})"
        ),
    )


def current_statuses(
    slos: Sequence[SLO],
    latest: Mapping[tuple[str, str], SloStatus],
    *,
    now: datetime,
    max_age_s: float,
) -> list[SloStatus]:
    """Each SLO's latest status (by `(service, name)`) as it stands at `now`, in `slos` order.

    An SLO never evaluated is an `error` ("not evaluated yet"), so a fail-closed gate cannot
    pass it unseen; one evaluated longer than `max_age_s` ago is stale (`outdated_status`).
    """
    statuses: list[SloStatus] = []
    for slo in slos:
        status = latest.get((slo.service, slo.name))
        if status is None:
            statuses.append(unavailable_status(slo, at=now, detail=NOT_EVALUATED))
        else:
            statuses.append(outdated_status(status, now=now, max_age_s=max_age_s))
    return statuses
