"""Multi-window, multi-burn-rate alerts (SRE Workbook ch. 5, "Alerting on SLOs").

For a 30-day window the Workbook pages when the burn over 1h and 5m both exceed 14.4, or over 6h
and 30m both exceed 6, and opens a ticket when 1d and 2h exceed 3, or 3d and 6h exceed 1. Those
thresholds spend 2 %, 5 %, 10 % and 10 % of the budget in their long window. For any other window
W the budget fractions are kept: factor = fraction × W / long_window, and the short window is 1/12
of the long one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cache
from typing import Literal

from srekit.core.window import format_duration

__all__ = [
    "DEFAULT_ALERT_WINDOWS",
    "AlertWindow",
    "BurnRateAlert",
    "Severity",
    "burn_rate_alerts",
    "evaluate_alerts",
]

Severity = Literal["page", "ticket"]


@dataclass(frozen=True)
class AlertWindow:
    """One long/short window pair and the share of the budget its threshold stands for."""

    severity: Severity
    long_window_s: int
    budget_fraction: float

    @property
    def short_window_s(self) -> int:
        return self.long_window_s // 12


DEFAULT_ALERT_WINDOWS: tuple[AlertWindow, ...] = (
    AlertWindow("page", 3600, 0.02),
    AlertWindow("page", 6 * 3600, 0.05),
    AlertWindow("ticket", 86400, 0.10),
    AlertWindow("ticket", 3 * 86400, 0.10),
)


@dataclass(frozen=True)
class BurnRateAlert:
    """A burn-rate condition for one SLO window; `firing` is None when either window lacks data."""

    severity: Severity
    long_window: str
    short_window: str
    long_window_s: int
    short_window_s: int
    factor: float
    firing: bool | None = None


@cache  # one SLO window length serves thousands of SLOs
def _alert_conditions(window_s: int, windows: tuple[AlertWindow, ...]) -> tuple[BurnRateAlert, ...]:
    return tuple(
        BurnRateAlert(
            severity=w.severity,
            long_window=format_duration(w.long_window_s),
            short_window=format_duration(w.short_window_s),
            long_window_s=w.long_window_s,
            short_window_s=w.short_window_s,
            factor=w.budget_fraction * window_s / w.long_window_s,
        )
        for w in windows
    )


def burn_rate_alerts(
    window_s: int, windows: tuple[AlertWindow, ...] = DEFAULT_ALERT_WINDOWS
) -> list[BurnRateAlert]:
    """Alert conditions for an SLO window of `window_s` seconds: factor = fraction × W / long."""
    return list(_alert_conditions(window_s, windows))


def evaluate_alerts(
    alerts: list[BurnRateAlert], burn_rates: Mapping[str, float | None]
) -> list[BurnRateAlert]:
    """Mark each condition firing when both its long- and short-window burn exceed the factor."""
    evaluated = []
    for alert in alerts:
        long_burn = burn_rates.get(alert.long_window)
        short_burn = burn_rates.get(alert.short_window)
        firing = (
            None
            if long_burn is None or short_burn is None
            else long_burn > alert.factor and short_burn > alert.factor
        )
        evaluated.append(replace(alert, firing=firing))
    return evaluated
