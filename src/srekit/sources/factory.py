"""The SLI sources named by the settings (or a command's flags), built for one use."""

from __future__ import annotations

from pathlib import Path

from srekit.config import Settings
from srekit.core.sli import SourceSet

__all__ = ["build_sources", "close_sources", "prometheus_url_of"]


def prometheus_url_of(settings: Settings, prometheus_url: str | None = None) -> str | None:
    """The Prometheus URL to read (the flag, else SREKIT_PROMETHEUS_URL), checked: one that is
    not a URL is bad input (a SpecError naming where it came from), not a source to retry."""
    from srekit.errors import SpecError
    from srekit.sources.prometheus import url_problem

    url = prometheus_url or settings.prometheus_url
    problem = url_problem(url) if url else None
    if problem is not None:
        raise SpecError(
            problem, field="--prometheus-url" if prometheus_url else "SREKIT_PROMETHEUS_URL"
        )
    return url


def build_sources(
    settings: Settings,
    *,
    prometheus_url: str | None = None,
    events_store: Path | None = None,
    name_paths: bool = False,
) -> SourceSet:
    """Sources from flags, falling back to settings (SREKIT_PROMETHEUS_URL, SREKIT_HOME).

    The event store is only opened when its directory exists: without it, event SLOs say so.
    A Prometheus URL that is not one is bad input (a SpecError naming where it came from), not
    a source to retry.
    With `name_paths` (the CLI, read by the operator) messages name the event store's path;
    without it (the server, whose statuses any token holder reads) they name no directory.
    """
    from srekit.sources.events import EventStore
    from srekit.sources.prometheus import PrometheusSource

    url = prometheus_url_of(settings, prometheus_url)
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
        EventStore(
            store_path,
            query_timeout_s=settings.events_query_timeout_s,
            name_directories=name_paths,
        )
        if EventStore.exists(store_path)
        else None
    )
    if not name_paths:
        missing = "no event store yet: ingest events first (srekit events ingest)"
    elif events_store is not None:
        missing = f"no event store at {EventStore.file_of(store_path)} (--events-store)"
    else:
        missing = (
            f"no event store at {EventStore.file_of(store_path)} (the state directory is from"
            f" {settings.home_origin}): ingest events first (srekit events ingest), or set"
            " SREKIT_HOME to the state directory that holds them (`srekit config` shows where"
            " srekit looks)"
        )
    return SourceSet(prometheus=prometheus, events=events, missing_events=missing)


def close_sources(sources: SourceSet) -> None:
    """Close what `build_sources` opened: an event store must not keep its DuckDB file locked
    (`srekit events ingest` writes to it), nor a source its sockets. A failure to close is
    logged, not raised: the work is done by then."""
    import logging

    for source in (sources.prometheus, sources.events):
        close = getattr(source, "close", None)
        if callable(close):
            try:
                close()
            except Exception:
                logging.getLogger(__name__).exception("closing an SLI source failed")
