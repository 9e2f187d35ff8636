"""Budget math against hand-computed numbers (objective 99.9 %, so b = 0.001)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from srekit.core.budget import burn_rate, error_budget, time_to_exhaustion_s, timeslice_counts
from srekit.core.sli import EventCounts, ratio_of_sums


@pytest.mark.parametrize(
    ("good", "total", "sli", "consumed", "allowed"),
    [
        (1_000_000, 1_000_000, 1.0, 0.0, 1000.0),
        (999_500, 1_000_000, 0.9995, 0.5, 1000.0),  # 500 bad of 1000 allowed
        (999_000, 1_000_000, 0.999, 1.0, 1000.0),  # exactly spent
        (998_000, 1_000_000, 0.998, 2.0, 1000.0),  # overspent twice
        (0, 10, 0.0, 1000.0, 0.01),
    ],
)
def test_error_budget_hand_checked(
    good: int, total: int, sli: float, consumed: float, allowed: float
) -> None:
    budget = error_budget(EventCounts(good, total), objective=0.999)
    assert budget is not None
    assert EventCounts(good, total).sli == pytest.approx(sli)
    assert budget.consumed == pytest.approx(consumed)
    assert budget.remaining == pytest.approx(1 - consumed)
    assert budget.allowed_bad_events == pytest.approx(allowed)


def test_no_data_is_neither_pass_nor_breach() -> None:
    assert EventCounts(0, 0).sli is None
    assert error_budget(EventCounts(0, 0), objective=0.99) is None
    assert error_budget(None, objective=0.99) is None
    assert burn_rate(None, objective=0.99) is None


def test_raw_ratio_reports_no_event_counts() -> None:
    budget = error_budget(EventCounts(0.995, 1, counted=False), objective=0.99)
    assert budget is not None
    assert budget.consumed == pytest.approx(0.5)
    assert budget.allowed_bad_events is None


def test_burn_rate_is_error_ratio_over_budget() -> None:
    assert burn_rate(0.0144, objective=0.999) == pytest.approx(14.4)
    assert burn_rate(0.001, objective=0.999) == pytest.approx(1.0)
    assert burn_rate(0.0, objective=0.95) == 0.0


def test_time_to_exhaustion() -> None:
    thirty_days = 30 * 86400
    # Half the budget left, burning at 2: the rest lasts a quarter of the window.
    assert time_to_exhaustion_s(0.5, window_s=thirty_days, burn_rate_1h=2.0) == pytest.approx(
        thirty_days / 4
    )
    assert time_to_exhaustion_s(0.5, window_s=thirty_days, burn_rate_1h=0.0) is None
    assert time_to_exhaustion_s(-0.1, window_s=thirty_days, burn_rate_1h=3.0) is None
    assert time_to_exhaustion_s(None, window_s=thirty_days, burn_rate_1h=3.0) is None


def test_ratio_of_sums_is_not_mean_of_ratios() -> None:
    quiet = EventCounts(good=1, total=2)  # 50 %
    busy = EventCounts(good=999, total=1000)  # 99.9 %
    combined = ratio_of_sums([quiet, busy])
    assert combined.sli == pytest.approx(1000 / 1002)
    assert combined.sli != pytest.approx((0.5 + 0.999) / 2)


def test_timeslices_count_good_slices_among_slices_with_data() -> None:
    slices = [
        EventCounts(99, 100),
        EventCounts(90, 100),
        None,
        EventCounts(0, 0),
        EventCounts(10, 10),
    ]
    counts = timeslice_counts(slices, slice_target=0.95)
    assert (counts.good, counts.total) == (2.0, 3.0)
    ratio = timeslice_counts(slices, slice_target=None, ratio=True)
    assert ratio.sli == pytest.approx((0.99 + 0.90 + 1.0) / 3)
    with pytest.raises(ValueError, match="slice target"):
        timeslice_counts(slices, slice_target=None)


@given(
    good=st.integers(min_value=0, max_value=10**9),
    extra=st.integers(min_value=0, max_value=10**9),
    objective=st.floats(min_value=0.5, max_value=0.99999),
)
def test_budget_identities(good: int, extra: int, objective: float) -> None:
    total = good + extra
    budget = error_budget(EventCounts(good, total), objective=objective)
    if total == 0:
        assert budget is None
        return
    assert budget is not None
    assert budget.consumed + budget.remaining == pytest.approx(1.0)
    bad_allowed = (1 - objective) * total
    assert budget.allowed_bad_events == pytest.approx(bad_allowed)
    # consumed is bad events over allowed bad events.
    assert budget.consumed == pytest.approx(extra / bad_allowed, rel=1e-9)
    assert math.isfinite(budget.remaining)
