"""The fault proxy's figures, counted as plain integers on the data path and read by a
Prometheus collector at scrape time.

Counting with prometheus_client's Counter would take a lock per chunk on the no-toxic path;
an integer added to per chunk costs next to nothing, and the collector turns them into
metric families only when scraped. A proxy's counters live as long as the proxy: deleted
and created again, they start from 0 (Prometheus's `rate` treats that as a reset).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

if TYPE_CHECKING:
    from srekit.faultproxy.proxy import Proxy

__all__ = ["FAULTS", "Flow", "ProxyStats", "metrics_registry"]

STREAMS = ("upstream", "downstream")
FAULTS = ("http_status", "http_abort", "packet_loss", "reset_peer", "timeout", "limit_data")


@dataclass(slots=True)
class Flow:
    """Bytes one direction of a proxy read from its source and wrote to its sink."""

    received: int = 0
    sent: int = 0


@dataclass(slots=True)
class ProxyStats:
    flows: dict[str, Flow] = field(default_factory=lambda: {s: Flow() for s in STREAMS})
    opened: int = 0
    closed: int = 0
    upstream_failures: int = 0
    toxics_applied: Counter[tuple[str, str]] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)


class _ProxyCollector(Collector):
    def __init__(self, proxies: Callable[[], Iterable[Proxy]]) -> None:
        self._proxies = proxies

    def collect(self) -> Iterator[Metric]:
        prefix = "srekit_faultproxy_"
        link = ["proxy", "listener", "upstream", "direction"]
        received = CounterMetricFamily(
            prefix + "received_bytes",
            "Bytes the proxy read from the sending side, per direction "
            "(upstream: client to server).",
            labels=link,
        )
        sent = CounterMetricFamily(
            prefix + "sent_bytes",
            "Bytes the proxy wrote to the receiving side, per direction, after the toxics.",
            labels=link,
        )
        opened = CounterMetricFamily(
            prefix + "connections_opened", "Client connections accepted.", labels=["proxy"]
        )
        closed = CounterMetricFamily(
            prefix + "connections_closed", "Client connections ended.", labels=["proxy"]
        )
        active = GaugeMetricFamily(
            prefix + "connections_active", "Client connections open now.", labels=["proxy"]
        )
        failures = CounterMetricFamily(
            prefix + "upstream_connect_failures",
            "Client connections closed because the upstream could not be reached.",
            labels=["proxy"],
        )
        applied = CounterMetricFamily(
            prefix + "toxics_applied",
            "Toxics drawn to act on a connection (the http toxic: on a request).",
            labels=["proxy", "type", "stream"],
        )
        faults = CounterMetricFamily(
            prefix + "faults_injected",
            "Faults that changed what a client saw: injected statuses, aborts, "
            "held-back chunks, resets, timeouts, data limits.",
            labels=["proxy", "fault"],
        )
        enabled = GaugeMetricFamily(
            prefix + "proxy_enabled",
            "1 while the proxy listens, 0 when disabled.",
            labels=["proxy"],
        )
        toxics = GaugeMetricFamily(
            prefix + "toxics", "Toxics in place on the proxy now.", labels=["proxy", "type"]
        )
        for proxy in self._proxies():
            stats = proxy.stats
            for stream, flow in stats.flows.items():
                labels = [proxy.name, proxy.listen, proxy.upstream, stream]
                received.add_metric(labels, flow.received)
                sent.add_metric(labels, flow.sent)
            opened.add_metric([proxy.name], stats.opened)
            closed.add_metric([proxy.name], stats.closed)
            active.add_metric([proxy.name], len(proxy.connections))
            failures.add_metric([proxy.name], stats.upstream_failures)
            for (kind, stream), count in sorted(stats.toxics_applied.items()):
                applied.add_metric([proxy.name, kind, stream], count)
            for fault in FAULTS:
                faults.add_metric([proxy.name, fault], stats.faults[fault])
            enabled.add_metric([proxy.name], 1 if proxy.enabled else 0)
            present = Counter(toxic.spec.type for toxic in proxy.toxics.values())
            for kind, count in sorted(present.items()):
                toxics.add_metric([proxy.name, kind], count)
        yield from (received, sent, opened, closed, active, failures, applied, faults)
        yield from (enabled, toxics)


def metrics_registry(proxies: Callable[[], Iterable[Proxy]]) -> CollectorRegistry:
    """A registry of its own (not prometheus_client's global one) over `proxies`."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_ProxyCollector(proxies))
    return registry
