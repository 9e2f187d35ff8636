"""SLI events from Prometheus's HTTP API: `PrometheusSource` and the pieces it composes.

`client` (HTTP, retries, errors), `parts` (an indicator's expressions per window), `batches`
(many parts in few `or`-joined queries), `rollups` (long windows from hourly rollups, made
exact), `recordings` (short windows from recorded error ratios), `source` (the `SliSource`).
"""

from srekit.sources.prometheus.client import QueryRefusedError, transport_failure, url_problem
from srekit.sources.prometheus.source import PrometheusSource

__all__ = ["PrometheusSource", "QueryRefusedError", "transport_failure", "url_problem"]
