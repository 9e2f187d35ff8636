"""PrometheusSource over httpx.MockTransport: SLOs, windows and answers the tests share."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import httpx

from srekit.core.sli import WindowQuery
from srekit.core.slo import SLO, PromErrorRatio, PromLatency, PromRatio
from srekit.core.window import RollingWindow
from srekit.sources.prometheus import PrometheusSource

AT = datetime(2026, 11, 1, tzinfo=UTC)


def make_slo(name: str, indicator: PromRatio | PromLatency | PromErrorRatio) -> SLO:
    return SLO("api", name, 0.99, RollingWindow(2592000), indicator, source_file="api.yaml")


def make_window(label: str = "1h", seconds: int = 3600) -> WindowQuery:
    return WindowQuery(label, AT - timedelta(seconds=seconds), AT)


Handler = Callable[[httpx.Request], httpx.Response]


def make_source(handler: Handler, **options: object) -> PrometheusSource:
    """A source over `handler`; recordings off unless asked, so raw-path tests see raw queries."""
    options.setdefault("use_recordings", False)
    client = httpx.Client(transport=httpx.MockTransport(handler))
    return PrometheusSource(
        "http://prometheus.test/",
        client=client,
        backoff_s=0.0,
        **options,  # type: ignore[arg-type]
    )


def form_of(request: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.content.decode()).items()}


def vector(*series: tuple[str, str, float]) -> httpx.Response:
    result = [
        {"metric": {"srekit_slo": slo, "srekit_part": part}, "value": [AT.timestamp(), str(v)]}
        for slo, part, v in series
    ]
    return httpx.Response(
        200, json={"status": "success", "data": {"resultType": "vector", "result": result}}
    )
