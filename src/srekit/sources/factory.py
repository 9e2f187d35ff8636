"""The SLI sources named by the settings (or a command's flags), built for one use."""

from __future__ import annotations

from pathlib import Path

from srekit.config import Settings
from srekit.core.sli import SourceSet

__all__ = ["build_sources"]


def build_sources(
    settings: Settings, *, prometheus_url: str | None = None, events_store: Path | None = None
) -> SourceSet:
    """Sources from flags, falling back to settings (SREKIT_PROMETHEUS_URL, SREKIT_HOME).

    The event store is only opened when its directory exists: without it, event SLOs say so.
    """
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
    events = (
        EventStore(store_path, query_timeout_s=settings.events_query_timeout_s)
        if EventStore.exists(store_path)
        else None
    )
    return SourceSet(prometheus=prometheus, events=events)
