"""Request metrics: a latency histogram by route template, method and status.

Pure ASGI (no BaseHTTPMiddleware): it adds one `perf_counter` pair and one histogram observation
to a request. Routes are labelled by template (`/api/v1/slos/{service}/{name}`), never by the
concrete path, so label values stay few; unmatched paths share the label `unmatched`.
"""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["RequestMetrics"]

# Fast endpoints (gate, status) answer in about a millisecond; store writes in tens. 0.2 s is
# the latency threshold of srekit's own SLO (examples/srekit), so it must be a bucket bound.
_BUCKETS_S = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.25, 0.5, 1.0, 2.5, 5.0)


class RequestMetrics:
    """ASGI middleware observing `srekit_http_request_duration_seconds{route,method,status}`."""

    def __init__(self, app: ASGIApp, *, registry: CollectorRegistry) -> None:
        self.app = app
        self.histogram = Histogram(
            "srekit_http_request_duration_seconds",
            "HTTP request latency in seconds, by route template, method and status code.",
            ["route", "method", "status"],
            buckets=_BUCKETS_S,
            registry=registry,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self.histogram.labels(template, scope["method"], str(status)).observe(
                time.perf_counter() - started
            )
