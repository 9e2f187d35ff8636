"""SLI readings: an error ratio alone, read as events."""

from __future__ import annotations

import math

import pytest

from srekit.core.sli import EventCounts, error_ratio_counts


@pytest.mark.parametrize(
    ("ratio", "expected"),
    [
        (0.0, EventCounts(good=1.0, total=1.0, counted=False)),
        (0.25, EventCounts(good=0.75, total=1.0, counted=False)),
        (1.0, EventCounts(good=0.0, total=1.0, counted=False)),
        (math.nan, None),  # 0/0: no events in the window
        (math.inf, None),
        (-math.inf, None),
    ],
)
def test_error_ratio_counts(ratio: float, expected: EventCounts | None) -> None:
    assert error_ratio_counts(ratio) == expected


def test_error_ratio_counts_keep_the_ratio_and_show_no_events() -> None:
    counts = error_ratio_counts(0.002)
    assert counts is not None
    assert counts.error_ratio == pytest.approx(0.002)
    assert not counts.counted


def test_bad_events_are_total_minus_good() -> None:
    assert EventCounts(9_990, 10_000).bad == 10
    assert EventCounts(0, 0).bad == 0


def test_a_tiny_error_ratio_keeps_its_digits() -> None:
    """5 bad in 957,808,000: 1 - good/total gives 5.220252896620536e-09, off from the 9th digit."""
    counts = EventCounts(957_807_995, 957_808_000)
    assert counts.error_ratio == 5 / 957_808_000
    assert EventCounts(0, 10).error_ratio == 1.0
    assert EventCounts(11, 10).error_ratio == 0.0  # counters scraped apart: clamped
    assert EventCounts(0, 0).error_ratio is None
