"""Multi-window multi-burn-rate factors and firing, checked against the SRE Workbook."""

from __future__ import annotations

import pytest

from srekit.core.alerts import burn_rate_alerts, evaluate_alerts


def test_thirty_day_window_gives_the_workbook_table() -> None:
    alerts = burn_rate_alerts(30 * 86400)
    table = [(a.severity, a.long_window, a.short_window, round(a.factor, 9)) for a in alerts]
    assert table == [
        ("page", "1h", "5m", 14.4),
        ("page", "6h", "30m", 6.0),
        ("ticket", "1d", "2h", 3.0),
        ("ticket", "3d", "6h", 1.0),
    ]


@pytest.mark.parametrize(
    ("days", "factors"),
    [
        (28, (13.44, 5.6, 2.8, 0.9333333333)),  # Sloth's 28-day catalog
        (7, (3.36, 1.4, 0.7, 0.2333333333)),
    ],
)
def test_other_windows_keep_budget_fractions(days: int, factors: tuple[float, ...]) -> None:
    alerts = burn_rate_alerts(days * 86400)
    assert [a.factor for a in alerts] == pytest.approx(factors)
    # Each condition still spends 2 %, 5 %, 10 %, 10 % of the budget in its long window.
    spent = [a.factor * a.long_window_s / (days * 86400) for a in alerts]
    assert spent == pytest.approx([0.02, 0.05, 0.10, 0.10])


def test_fires_only_when_both_windows_exceed() -> None:
    alerts = burn_rate_alerts(30 * 86400)
    burns = {
        "1h": 15.0,
        "5m": 20.0,
        "6h": 7.0,
        "30m": 5.0,
        "1d": 2.0,
        "2h": 9.0,
        "3d": None,
        "6h ": 0,
    }
    firing = {(a.long_window, a.firing) for a in evaluate_alerts(alerts, burns)}
    assert firing == {("1h", True), ("6h", False), ("1d", False), ("3d", None)}


def test_equal_to_factor_does_not_fire() -> None:
    alerts = burn_rate_alerts(30 * 86400)[:1]
    assert evaluate_alerts(alerts, {"1h": 14.4, "5m": 100.0})[0].firing is False
