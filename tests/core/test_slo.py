"""The SLO model's own rules: when a threshold slice is good."""

from __future__ import annotations

import pytest

from srekit.core.slo import PromThreshold, ThresholdOp


@pytest.mark.parametrize(
    ("op", "value", "passes"),
    [
        ("lt", 0.2, True),
        ("lt", 0.3, False),
        ("lt", 0.4, False),
        ("lte", 0.2, True),
        ("lte", 0.3, True),
        ("lte", 0.4, False),
        ("gt", 0.2, False),
        ("gt", 0.3, False),
        ("gt", 0.4, True),
        ("gte", 0.2, False),
        ("gte", 0.3, True),
        ("gte", 0.4, True),
    ],
)
def test_threshold_slice_passes(op: ThresholdOp, value: float, passes: bool) -> None:
    assert PromThreshold(query="latency_p99", op=op, value=0.3).passes(value) is passes
