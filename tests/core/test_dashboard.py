"""The dashboard's health classes and burn grades, on hand-made statuses."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from srekit.core.alerts import BurnRateAlert
from srekit.core.budget import ErrorBudget
from srekit.core.dashboard import (
    AT_RISK_BELOW,
    BurnLevel,
    SloHealth,
    burn_level,
    health_counts,
    slo_health,
)
from srekit.core.slo import SLO, EventsRatio
from srekit.core.status import DataState, SloStatus, unavailable_status
from srekit.core.window import RollingWindow

AT = datetime(2026, 11, 1, tzinfo=UTC)


def _status(
    remaining: float | None, *, data: DataState = DataState.OK, firing: bool = False
) -> SloStatus:
    slo = SLO(
        service="checkout",
        name="availability",
        objective=0.999,
        window=RollingWindow(2592000),
        indicator=EventsRatio(good="status < 500"),
    )
    base = unavailable_status(slo, at=AT, detail="not read")
    alert = BurnRateAlert("page", "1h", "5m", 3600, 300, 14.4, firing=firing)
    budget = (
        None
        if remaining is None
        else ErrorBudget(remaining=remaining, consumed=1 - remaining, allowed_bad_events=None)
    )
    return replace(base, error_budget=budget, data=data, alerts=(alert,))


@pytest.mark.parametrize(
    ("remaining", "data", "firing", "expected"),
    [
        (0.9, DataState.OK, False, SloHealth.MET),
        (AT_RISK_BELOW, DataState.OK, False, SloHealth.MET),  # at the line: not below it
        (0.2499, DataState.OK, False, SloHealth.AT_RISK),
        (0.9, DataState.OK, True, SloHealth.AT_RISK),  # a firing alert, plenty left
        (0.0, DataState.OK, False, SloHealth.BREACHED),
        (-0.5, DataState.OK, True, SloHealth.BREACHED),  # overspent outranks the alert
        (None, DataState.NO_DATA, False, SloHealth.NO_DATA),
        (None, DataState.ERROR, False, SloHealth.NO_DATA),
        (0.9, DataState.STALE, False, SloHealth.NO_DATA),  # old figures are not trusted
    ],
)
def test_health_classes(
    remaining: float | None, data: DataState, firing: bool, expected: SloHealth
) -> None:
    assert slo_health(_status(remaining, data=data, firing=firing)) is expected


def test_at_risk_threshold_is_a_parameter() -> None:
    assert slo_health(_status(0.4), at_risk_below=0.5) is SloHealth.AT_RISK


def test_counts_name_every_class() -> None:
    statuses = [_status(0.9), _status(0.9), _status(0.1), _status(None, data=DataState.NO_DATA)]
    assert health_counts(statuses) == {
        SloHealth.MET: 2,
        SloHealth.AT_RISK: 1,
        SloHealth.BREACHED: 0,
        SloHealth.NO_DATA: 1,
    }
    assert health_counts([]) == dict.fromkeys(SloHealth, 0)


@pytest.mark.parametrize(
    ("burn", "expected"),
    [
        (None, BurnLevel.NONE),
        (0.0, BurnLevel.LOW),
        (0.999, BurnLevel.LOW),
        (1.0, BurnLevel.HIGH),
        (5.99, BurnLevel.HIGH),
        (6.0, BurnLevel.SEVERE),
        (1e6, BurnLevel.SEVERE),
    ],
)
def test_burn_levels(burn: float | None, expected: BurnLevel) -> None:
    assert burn_level(burn) is expected
