"""Probes an experiment calls by name: an SLO's figures, read from its own source (Prometheus
or the event store) with srekit's settings (SREKIT_PROMETHEUS_URL, SREKIT_HOME, ...).

`specs` names spec files or directories; without it the SLOs stored in the state store are
read. A probe that cannot read its SLO raises: the activity fails, and the steady state is
not met (no data is never a steady state)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from srekit.core.status import DataState, SloStatus

__all__ = ["error_budget_remaining", "slo_burn_rate"]


def _status(slo: str, specs: str | list[str] | None, prometheus_url: str | None) -> SloStatus:
    from srekit.config import Settings
    from srekit.errors import SourceUnavailable, SpecError
    from srekit.flows.evaluate import evaluate_statuses, stored_specs
    from srekit.sources.factory import build_sources, close_sources
    from srekit.spec.loader import load_specs
    from srekit.store.database import open_store

    settings = Settings()
    if specs is None:
        engine = open_store(settings.effective_database_url)
        try:
            spec_set = stored_specs(engine)
        finally:
            engine.dispose()
    else:
        paths = [specs] if isinstance(specs, str) else specs
        spec_set = load_specs([Path(path) for path in paths])
    found = [s for s in spec_set.slos if f"{s.service}/{s.name}" == slo]
    if not found:
        raise SpecError(f"no SLO {slo} in the specs", field="slo")
    sources = build_sources(settings, prometheus_url=prometheus_url)
    try:
        (status,) = evaluate_statuses(
            found, at=datetime.now(UTC), sources=sources, policies=spec_set.policies
        )
    finally:
        close_sources(sources)
    if status.data in (DataState.ERROR, DataState.STALE):
        raise SourceUnavailable(f"{slo} cannot be read: {status.detail or status.data.value}")
    return status


def slo_burn_rate(
    slo: str,
    window: str = "5m",
    specs: str | list[str] | None = None,
    prometheus_url: str | None = None,
) -> float:
    """How fast `slo` (service/name) burns its error budget over `window` now (1.0: exactly
    as fast as the budget allows); 0.0 when nothing was served in the window. A steady state
    of "burns under 10x": `tolerance: {type: range, range: [0, 10]}`."""
    status = _status(slo, specs, prometheus_url)
    if window not in status.burn_rates:
        from srekit.errors import SpecError

        raise SpecError(
            f"expected a window among {', '.join(status.burn_rates)}, got {window!r}",
            field="window",
        )
    rate = status.burn_rates[window]
    return 0.0 if rate is None else float(rate)


def error_budget_remaining(
    slo: str, specs: str | list[str] | None = None, prometheus_url: str | None = None
) -> float:
    """The share of `slo`'s error budget left now (1.0 whole, 0 spent, below 0 overspent). A
    steady state of "more than 25 % left": `tolerance: {type: range, range: [0.25, 1]}`."""
    status = _status(slo, specs, prometheus_url)
    if status.error_budget is None:
        from srekit.errors import SourceUnavailable

        raise SourceUnavailable(f"{slo} has no data in its window")
    return float(status.error_budget.remaining)
