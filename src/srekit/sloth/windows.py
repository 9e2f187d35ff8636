"""Sloth's SLO periods and alert windows: the `AlertWindows` catalogs and their defaults.

Alert windows come from catalogs keyed by SLO period; the Google SRE Workbook catalogs for 30
and 28 days are built in, and a user catalog replaces them (as Sloth's
`--slo-period-windows-path` does). Durations are read and printed as Prometheus spells them
(`4w`, `30d`, `1h30m`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from srekit.errors import SpecError
from srekit.sloth.gonum import go_hours
from srekit.spec.document import Document, read_documents

__all__ = [
    "DEFAULT_SLO_PERIOD_S",
    "GOOGLE_28D",
    "GOOGLE_30D",
    "AlertWindows",
    "BurnWindow",
    "catalog_by_period",
    "load_alert_windows",
    "parse_alert_windows",
    "prom_duration",
]

DEFAULT_SLO_PERIOD_S = 30 * 86400


@dataclass(frozen=True)
class BurnWindow:
    """One alert of a severity: spend `error_budget_percent` of the budget in `long_window_s`."""

    error_budget_percent: float
    short_window_s: int
    long_window_s: int


@dataclass(frozen=True)
class AlertWindows:
    """Sloth's `AlertWindows` catalog: the four multi-window alerts for one SLO period."""

    slo_period_s: int
    page_quick: BurnWindow
    page_slow: BurnWindow
    ticket_quick: BurnWindow
    ticket_slow: BurnWindow

    def burn_rate_factor(self, window: BurnWindow) -> float:
        """percent × period / 100 / long window, in hours and in Sloth's operation order."""
        hours_to_consume = window.error_budget_percent * go_hours(self.slo_period_s) / 100
        return hours_to_consume / go_hours(window.long_window_s)

    def windows_s(self) -> list[int]:
        """Every distinct short and long window, ascending (the SLI recording windows)."""
        alerts = (self.page_quick, self.page_slow, self.ticket_quick, self.ticket_slow)
        return sorted({w for a in alerts for w in (a.short_window_s, a.long_window_s)})


def _google(period_days: int) -> AlertWindows:
    # SRE Workbook, "Alerting on SLOs", recommended parameters: 2 %, 5 %, 10 %, 10 %.
    return AlertWindows(
        slo_period_s=period_days * 86400,
        page_quick=BurnWindow(2, 300, 3600),
        page_slow=BurnWindow(5, 1800, 6 * 3600),
        ticket_quick=BurnWindow(10, 2 * 3600, 86400),
        ticket_slow=BurnWindow(10, 6 * 3600, 3 * 86400),
    )


GOOGLE_30D = _google(30)
GOOGLE_28D = _google(28)

_PROM_DURATION = re.compile(
    r"^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$"
)
_PROM_UNITS_MS = (365 * 86400_000, 7 * 86400_000, 86400_000, 3600_000, 60_000, 1000, 1)
# Years and weeks are only used when they divide the duration (Prometheus prints 90d, not 12w6d).
_PROM_DURATION_UNITS = tuple(
    zip(
        ("y", "w", "d", "h", "m", "s", "ms"),
        _PROM_UNITS_MS,
        (True, True, False, False, False, False, False),
        strict=True,
    )
)


def _parseprom_duration(doc: Document, value: object, where: str) -> int:
    text = value if isinstance(value, str) else ""
    match = _PROM_DURATION.match(text)
    if not text or match is None:
        raise doc.error(where, f"expected a Prometheus duration like 5m, 1h or 30d, got {value!r}")
    total_ms = sum(
        int(part or 0) * unit for part, unit in zip(match.groups(), _PROM_UNITS_MS, strict=True)
    )
    if total_ms <= 0 or total_ms % 1000:
        raise doc.error(where, f"expected a positive whole number of seconds, got {value!r}")
    return total_ms // 1000


def _burn_window(doc: Document, spec: Mapping[str, Any], severity: str, speed: str) -> BurnWindow:
    where = f"spec.{severity}.{speed}"
    severity_body = spec.get(severity)
    body = severity_body.get(speed) if isinstance(severity_body, Mapping) else None
    if not isinstance(body, Mapping):
        raise doc.error(where, "expected errorBudgetPercent, shortWindow and longWindow")
    percent = body.get("errorBudgetPercent")
    if isinstance(percent, bool) or not isinstance(percent, int | float) or percent <= 0:
        raise doc.error(f"{where}.errorBudgetPercent", f"expected a percent > 0, got {percent!r}")
    return BurnWindow(
        error_budget_percent=float(percent),
        short_window_s=_parseprom_duration(doc, body.get("shortWindow"), f"{where}.shortWindow"),
        long_window_s=_parseprom_duration(doc, body.get("longWindow"), f"{where}.longWindow"),
    )


def parse_alert_windows(documents: Iterable[Document]) -> list[AlertWindows]:
    """`apiVersion: sloth.slok.dev/v1`, `kind: AlertWindows` documents as catalogs."""
    catalogs: list[AlertWindows] = []
    for doc in documents:
        if doc.data.get("apiVersion") != "sloth.slok.dev/v1":
            raise doc.error("apiVersion", "expected sloth.slok.dev/v1 for an AlertWindows catalog")
        if doc.data.get("kind") != "AlertWindows":
            raise doc.error("kind", f"expected AlertWindows, got {doc.data.get('kind')!r}")
        spec = doc.data.get("spec")
        if not isinstance(spec, Mapping):
            raise doc.error("spec", "expected a mapping with sloPeriod, page and ticket")
        catalogs.append(
            AlertWindows(
                slo_period_s=_parseprom_duration(doc, spec.get("sloPeriod"), "spec.sloPeriod"),
                page_quick=_burn_window(doc, spec, "page", "quick"),
                page_slow=_burn_window(doc, spec, "page", "slow"),
                ticket_quick=_burn_window(doc, spec, "ticket", "quick"),
                ticket_slow=_burn_window(doc, spec, "ticket", "slow"),
            )
        )
    return catalogs


def load_alert_windows(path: Path) -> list[AlertWindows]:
    """Every catalog in a file or below a directory (Sloth's `--slo-period-windows-path`)."""
    return parse_alert_windows(read_documents(path))


def catalog_by_period(catalogs: Sequence[AlertWindows]) -> dict[int, AlertWindows]:
    by_period: dict[int, AlertWindows] = {}
    for catalog in catalogs:
        if catalog.slo_period_s in by_period:
            period = prom_duration(catalog.slo_period_s)
            raise SpecError(f"two alert window catalogs for the SLO period {period}")
        by_period[catalog.slo_period_s] = catalog
    return by_period


def prom_duration(seconds: int) -> str:
    """prometheus/common model.Duration.String(): `4w`, `30d`, `1h30m` (y and w only if exact)."""
    remaining_ms = seconds * 1000
    if remaining_ms == 0:
        return "0s"
    parts: list[str] = []
    for unit, size, exact in _PROM_DURATION_UNITS:
        if exact and remaining_ms % size:
            continue
        count = remaining_ms // size
        if count > 0:
            parts.append(f"{count}{unit}")
            remaining_ms -= count * size
    return "".join(parts)
