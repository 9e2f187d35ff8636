"""Error-budget arithmetic (SRE Workbook ch. 2 and 5), in fractions and seconds.

With objective o, the budget fraction is b = 1 − o. Burn rate over a window w is
error_ratio(w) / b: burning at 1 spends exactly the whole budget in the SLO window W.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from srekit.core.sli import EventCounts

__all__ = [
    "ErrorBudget",
    "burn_rate",
    "error_budget",
    "time_to_exhaustion_s",
    "timeslice_counts",
]


@dataclass(frozen=True)
class ErrorBudget:
    """Budget over the SLO window: `consumed` + `remaining` = 1; remaining < 0 means overspent.

    `allowed_bad_events` is b × total(W), None when the source gives no event counts.
    """

    remaining: float
    consumed: float
    allowed_bad_events: float | None


def burn_rate(error_ratio: float | None, *, objective: float) -> float | None:
    """error_ratio / (1 − objective); None when the window has no data."""
    if error_ratio is None:
        return None
    return error_ratio / (1.0 - objective)


def error_budget(counts: EventCounts | None, *, objective: float) -> ErrorBudget | None:
    """Budget consumed over the SLO window: consumed = error_ratio(W) / b.

    No data in the window → None (an empty window neither spends nor saves budget).
    """
    if counts is None or counts.error_ratio is None:
        return None
    consumed = counts.error_ratio / (1.0 - objective)
    allowed = (1.0 - objective) * counts.total if counts.counted else None
    return ErrorBudget(remaining=1.0 - consumed, consumed=consumed, allowed_bad_events=allowed)


def time_to_exhaustion_s(
    remaining: float | None, *, window_s: int, burn_rate_1h: float | None
) -> float | None:
    """Seconds until the budget is gone at the last hour's burn: remaining × W / burn(1h).

    None unless both the remaining budget and the burn rate are positive: a spent budget is
    already exhausted, and a zero burn never exhausts it.
    """
    if remaining is None or burn_rate_1h is None or remaining <= 0 or burn_rate_1h <= 0:
        return None
    return remaining * window_s / burn_rate_1h


def timeslice_counts(
    slices: Sequence[EventCounts | None], *, slice_target: float | None, ratio: bool = False
) -> EventCounts:
    """Turn per-slice event counts into slice counts: good slices / slices with data.

    A slice is good when its own SLI ≥ `slice_target` (OpenSLO `timeSliceTarget`). Slices
    without events are left out, like windows without data. With `ratio=True` (OpenSLO
    RatioTimeslices) the result is the mean of the per-slice SLIs instead.
    """
    with_data = [s.sli for s in slices if s is not None and s.sli is not None]
    if ratio:
        return EventCounts(good=sum(with_data), total=float(len(with_data)), counted=False)
    if slice_target is None:
        raise ValueError("timeslice budgeting needs a slice target")
    good = sum(1 for sli in with_data if sli >= slice_target)
    return EventCounts(good=float(good), total=float(len(with_data)))
