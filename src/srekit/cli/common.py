"""What several commands do the same way: load specs, build SLI sources, evaluate."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from srekit.config import Settings
from srekit.core.policy import DEFAULT_POLICY
from srekit.core.status import SloStatus
from srekit.evaluation import SourceSet, evaluate_statuses
from srekit.spec.loader import SpecSet, load_specs

__all__ = ["build_sources", "evaluate", "load"]


def load(files: Sequence[Path]) -> SpecSet:
    """Parse the spec files; at least one path is required."""
    from srekit.cli.options import abort

    if not files:
        abort("no spec given: pass --file PATH (a file or a directory)")
    return load_specs(files)


def build_sources(
    settings: Settings, *, prometheus_url: str | None, events_store: Path | None
) -> SourceSet:
    """Sources from flags, falling back to settings (SREKIT_PROMETHEUS_URL, SREKIT_HOME)."""
    from srekit.sources.events import EventStore
    from srekit.sources.prometheus import PrometheusSource

    url = prometheus_url or settings.prometheus_url
    prometheus = (
        PrometheusSource(
            url,
            timeout_s=settings.prometheus_timeout_s,
            token=settings.prometheus_token,
            rollup_windows=settings.prometheus_rollup_windows,
        )
        if url
        else None
    )
    store_path = events_store or settings.events_path
    events = EventStore(store_path) if EventStore.exists(store_path) else None
    return SourceSet(prometheus=prometheus, events=events)


def evaluate(specs: SpecSet, sources: SourceSet, at: datetime) -> list[SloStatus]:
    """Every SLO of `specs` evaluated at `at`, each against its own policy."""
    return evaluate_statuses(
        specs.slos,
        at=at,
        sources=sources,
        policies=specs.policies,
        default_policy=specs.policies.get("default", DEFAULT_POLICY),
    )
