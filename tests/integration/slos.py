"""SLOs over the generated history (`http_requests_total`, `http_request_duration_seconds`)."""

from __future__ import annotations

from srekit.core.slo import (
    SLO,
    BudgetingMethod,
    PromErrorRatio,
    PromLatency,
    PromRatio,
    PromThreshold,
)
from srekit.core.window import RollingWindow
from tests.integration.prometheus_fixture import TEST_SERVICES

__all__ = [
    "availability",
    "error_ratio",
    "latency",
    "rate_template",
    "recorded_slos",
    "rollup_slos",
    "subquery",
    "threshold",
]

_THIRTY_DAYS = RollingWindow(30 * 86400)


def _slo(service: str, name: str, indicator: PromRatio | PromLatency | PromErrorRatio) -> SLO:
    return SLO(service=service, name=name, objective=0.99, window=_THIRTY_DAYS, indicator=indicator)


def availability(service: str, name: str = "availability") -> SLO:
    """Bare selectors, counting bad (5xx) events."""
    return _slo(
        service,
        name,
        PromRatio(
            bad=f'http_requests_total{{service="{service}",code=~"5.."}}',
            total=f'http_requests_total{{service="{service}"}}',
        ),
    )


def latency(service: str, threshold_s: float = 1.0, name: str = "latency") -> SLO:
    return _slo(
        service,
        name,
        PromLatency("http_request_duration_seconds", threshold_s, f'service="{service}"'),
    )


def rate_template(service: str) -> SLO:
    """Sloth-style templates giving per-second rates."""
    return _slo(
        service,
        "availability-rate",
        PromRatio(
            good=f'sum(rate(http_requests_total{{service="{service}",code!~"5.."}}[{{{{.window}}}}]))',
            total=f'sum(rate(http_requests_total{{service="{service}"}}[{{{{.window}}}}]))',
        ),
    )


def subquery(service: str) -> SLO:
    """Expressions that are neither selectors nor templates: read through a subquery."""
    return _slo(
        service,
        "availability-subquery",
        PromRatio(
            good=f'sum(http_requests_total{{service="{service}",code="200"}})',
            total=f'sum(http_requests_total{{service="{service}"}})',
        ),
    )


def error_ratio(service: str) -> SLO:
    bad = f'sum(rate(http_requests_total{{service="{service}",code=~"5.."}}[{{{{.window}}}}]))'
    total = f'sum(rate(http_requests_total{{service="{service}"}}[{{{{.window}}}}]))'
    return _slo(service, "availability-raw", PromErrorRatio(f"{bad} / {total}"))


def threshold(service: str, *, max_errors_per_s: float, slice_s: int = 3600) -> SLO:
    """A slice is good while the 5xx rate stays under the value (timeslice budgeting)."""
    query = f'sum(rate(http_requests_total{{service="{service}",code=~"5.."}}[5m]))'
    return SLO(
        service=service,
        name="error-rate",
        objective=0.99,
        window=_THIRTY_DAYS,
        indicator=PromThreshold(query=query, op="lt", value=max_errors_per_s),
        budgeting=BudgetingMethod.TIMESLICES,
        timeslice_s=slice_s,
        timeslice_target=0.99,
    )


def rollup_slos() -> list[SLO]:
    """The SLOs the rollup server records: availability and 1 s latency of every service."""
    slos = [availability(spec.name) for spec in TEST_SERVICES]
    slos += [latency(spec.name) for spec in TEST_SERVICES if spec.histogram]
    return slos


def recorded_slos() -> list[SLO]:
    """The SLOs whose short-window error ratios are recorded: one of each indicator kind."""
    return [*rollup_slos(), error_ratio("checkout"), rate_template("search")]
