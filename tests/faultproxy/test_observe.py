"""`/metrics` and `/events` on real sockets: the counters equal what the test itself moved,
the faults it provoked; the events show what changed, and when, a ttl's expiry included."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from srekit.faultproxy.events import EventLog
from tests.faultproxy.conftest import FaultProxy
from tests.faultproxy.test_toxics import _connect, _get, _read_all, _round_trip
from tests.integration.prometheus_fixture import PrometheusServer, require_binary

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def _scrape(fault_proxy: FaultProxy) -> Samples:
    with fault_proxy.client() as http:
        answer = http.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def _value(samples: Samples, name: str, **labels: str) -> float:
    matching = [
        value
        for (sample, have), value in samples.items()
        if sample == name and set(labels.items()) <= have
    ]
    assert len(matching) == 1, (name, labels, matching)
    return matching[0]


def _eventually(scrape: Callable[[], Samples], check: Callable[[Samples], bool]) -> Samples:
    deadline = time.monotonic() + 5
    while True:
        samples = scrape()
        if check(samples) or time.monotonic() > deadline:
            return samples
        time.sleep(0.02)


def test_metrics_count_the_bytes_and_connections_moved(
    fault_proxy: FaultProxy, echo_port: int
) -> None:
    port = fault_proxy.proxy("echo", echo_port)
    first, second = bytes(range(256)) * 3000, b"x" * 777  # 768,000 and 777 bytes
    with _connect(port) as kept:
        _round_trip(kept, first)
        with _connect(port) as ended:
            _round_trip(ended, second)
        samples = _eventually(
            lambda: _scrape(fault_proxy),
            lambda s: _value(s, "srekit_faultproxy_connections_closed_total") == 1,
        )
        moved = 768_000 + 777
        for name in (
            "srekit_faultproxy_received_bytes_total",
            "srekit_faultproxy_sent_bytes_total",
        ):
            for direction in ("upstream", "downstream"):
                labels = {"proxy": "echo", "direction": direction}
                assert _value(samples, name, **labels) == moved
        link = {"listener": f"127.0.0.1:{port}", "upstream": f"127.0.0.1:{echo_port}"}
        assert _value(samples, "srekit_faultproxy_sent_bytes_total", direction="upstream", **link)
        assert _value(samples, "srekit_faultproxy_connections_opened_total", proxy="echo") == 2
        assert _value(samples, "srekit_faultproxy_connections_closed_total", proxy="echo") == 1
        assert _value(samples, "srekit_faultproxy_connections_active", proxy="echo") == 1
        assert _value(samples, "srekit_faultproxy_proxy_enabled", proxy="echo") == 1
    with fault_proxy.client() as http:
        http.post("/proxies/echo", json={"enabled": False})
    samples = _scrape(fault_proxy)
    assert _value(samples, "srekit_faultproxy_proxy_enabled", proxy="echo") == 0
    assert _value(samples, "srekit_faultproxy_connections_active", proxy="echo") == 0
    assert _value(samples, "srekit_faultproxy_connections_closed_total", proxy="echo") == 2


def test_a_swallowed_stream_is_received_but_not_sent(
    fault_proxy: FaultProxy, echo_port: int
) -> None:
    port = fault_proxy.proxy("echo", echo_port)
    fault_proxy.toxic("echo", type="timeout", attributes={"timeout": 0})
    with _connect(port) as sock:
        sock.sendall(b"ping")
        samples = _eventually(
            lambda: _scrape(fault_proxy),
            lambda s: (
                _value(s, "srekit_faultproxy_received_bytes_total", direction="downstream") == 4
            ),
        )
    assert _value(samples, "srekit_faultproxy_sent_bytes_total", direction="upstream") == 4
    assert _value(samples, "srekit_faultproxy_received_bytes_total", direction="downstream") == 4
    assert _value(samples, "srekit_faultproxy_sent_bytes_total", direction="downstream") == 0
    applied = _value(samples, "srekit_faultproxy_toxics_applied_total", type="timeout")
    assert applied == 1
    assert _value(samples, "srekit_faultproxy_toxics", proxy="echo", type="timeout") == 1
    assert _value(samples, "srekit_faultproxy_faults_injected_total", fault="timeout") == 0


def test_faults_are_counted_by_kind(
    fault_proxy: FaultProxy, echo_port: int, http_port: int
) -> None:
    port = fault_proxy.proxy("web", http_port)
    fault_proxy.toxic("web", type="http", attributes={"status": 503, "path_prefix": "/api"})
    statuses = [_get(port, path)[:12] for path in ("/api/a", "/health", "/api/b", "/api/c")]
    assert statuses.count(b"HTTP/1.1 503") == 3
    echo = fault_proxy.proxy("echo", echo_port)
    fault_proxy.toxic("echo", type="packet_loss", attributes={"loss": 1, "retransmit": 1})
    with _connect(echo) as sock:
        for _ in range(5):  # one echo, one chunk held back
            _round_trip(sock)
    fault_proxy.toxic("echo", type="timeout", attributes={"timeout": 50})
    with _connect(echo) as sock:
        assert _read_all(sock) == b""
    fault_proxy.toxic("echo", type="reset_peer", attributes={"timeout": 20})
    with _connect(echo) as sock, pytest.raises(ConnectionResetError):
        _read_all(sock)
    samples = _eventually(
        lambda: _scrape(fault_proxy),
        lambda s: (
            _value(s, "srekit_faultproxy_faults_injected_total", proxy="echo", fault="reset_peer")
            > 0
        ),
    )

    def faults(proxy: str, fault: str) -> float:
        return _value(samples, "srekit_faultproxy_faults_injected_total", proxy=proxy, fault=fault)

    assert faults("web", "http_status") == 3
    assert _value(samples, "srekit_faultproxy_toxics_applied_total", proxy="web", type="http") == 3
    assert faults("echo", "packet_loss") == 5
    assert faults("echo", "timeout") == 1
    assert faults("echo", "reset_peer") == 1
    assert faults("web", "http_abort") == faults("echo", "limit_data") == 0


def _events(fault_proxy: FaultProxy, since: int = 0) -> dict[str, Any]:
    with fault_proxy.client() as http:
        answer = http.get("/events", params={"since": since})
    assert answer.status_code == 200, answer.text
    document: dict[str, Any] = answer.json()
    return document


def test_events_show_what_changed_and_when_a_ttl_expired(
    fault_proxy: FaultProxy, echo_port: int
) -> None:
    fault_proxy.proxy("echo", echo_port)
    fault_proxy.toxic("echo", type="latency", attributes={"latency": 10, "ttl": 200})
    with fault_proxy.client() as http:
        assert len(http.get("/proxies/echo/toxics").json()) == 1  # in place before its ttl
    time.sleep(0.3)
    with fault_proxy.client() as http:
        http.post("/proxies/echo", json={"enabled": False})
        http.post("/reset")
        http.post("/populate", json=[{"name": "echo", "upstream": f"127.0.0.1:{echo_port}"}])
        http.delete("/proxies/echo")
    document = _events(fault_proxy)
    events = document["events"]
    assert [event["type"] for event in events] == [
        "proxy_created",
        "toxic_added",
        "toxic_expired",
        "proxy_updated",
        "reset",
        "populate",
        "proxy_deleted",
    ]
    assert [event["id"] for event in events] == list(range(1, 8))
    assert document["last_id"] == 7
    assert document["dropped"] == 0
    added, expired = events[1], events[2]
    assert (added["proxy"], added["toxic"]) == (expired["proxy"], expired["toxic"])
    assert expired["toxic"] == "latency_downstream"
    assert expired["detail"]["attributes"] == {"latency": 10, "jitter": 0, "ttl": 200}
    lived = datetime.fromisoformat(expired["time"]) - datetime.fromisoformat(added["time"])
    # the events' times are wall-clock milliseconds, which a clock adjustment can shift by a
    # few of them (a run once saw 185 ms for the 200 ms ttl timed on the monotonic clock)
    assert 0.15 <= lived.total_seconds() < 0.5, lived
    assert events[3]["detail"]["enabled"] is False
    assert events[4]["detail"] == {"toxics_removed": {}, "proxies_enabled": ["echo"]}
    assert events[5]["detail"] == {"proxies": ["echo"], "kept": ["echo"]}
    later = _events(fault_proxy, since=5)["events"]
    assert [event["id"] for event in later] == [6, 7]


@pytest.mark.parametrize("since", ["-1", "abc", "1e309", "1.5", "\x00", "9" * 19, "٣"])
def test_a_bad_since_gets_400(fault_proxy: FaultProxy, since: str) -> None:
    with fault_proxy.client() as http:
        answer = http.get("/events", params={"since": since})
    assert answer.status_code == 400
    assert answer.json()["error"].startswith("since:")


def test_the_event_log_keeps_the_last_events_only() -> None:
    clock = iter([0.0, 1.5, 2.25, 3.0, 86_400.001])
    log = EventLog(capacity=3, clock=lambda: next(clock))
    for name in "abcde":
        log.record("toxic_added", "db", name)
    kept = log.since(0)
    assert [event.toxic for event in kept] == ["c", "d", "e"]
    assert (log.last_id, log.dropped) == (5, 2)
    assert [event.id for event in log.since(4)] == [5]
    assert kept[0].document()["time"] == "1970-01-01T00:00:02.250Z"
    assert kept[2].document()["time"] == "1970-01-02T00:00:00.001Z"
    with pytest.raises(ValueError, match="unknown event type"):
        log.record("exploded")
    with pytest.raises(ValueError, match="capacity"):
        EventLog(capacity=0)


def test_a_real_prometheus_scrapes_the_proxy(
    fault_proxy: FaultProxy, echo_port: int, tmp_path: Path
) -> None:
    require_binary("prometheus")
    port = fault_proxy.proxy("echo", echo_port)
    with _connect(port) as sock:
        _round_trip(sock, b"z" * 1234)
    target = f"127.0.0.1:{fault_proxy.port}"
    job: dict[str, object] = {"job_name": "faultproxy", "static_configs": [{"targets": [target]}]}
    with PrometheusServer(
        tmp_path / "data", tmp_path, scrape_configs=[job], global_config={"scrape_interval": "1s"}
    ) as prometheus:
        query = 'srekit_faultproxy_received_bytes_total{proxy="echo",direction="upstream"}'
        deadline = time.monotonic() + 30
        result: list[dict[str, object]] = []
        while not result and time.monotonic() < deadline:
            answer = httpx.get(f"{prometheus.url}/api/v1/query", params={"query": query})
            result = answer.json()["data"]["result"]
            time.sleep(0.2)
    assert len(result) == 1, prometheus.log_tail()
    assert result[0]["value"][1] == "1234"  # type: ignore[index]


def test_metrics_with_no_proxy_answer_no_series(fault_proxy: FaultProxy) -> None:
    assert _scrape(fault_proxy) == {}
    with fault_proxy.client() as http:
        assert http.post("/metrics").status_code == 405
        assert http.delete("/events").status_code == 405


def test_an_unreachable_upstream_is_counted(fault_proxy: FaultProxy) -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        refused = probe.getsockname()[1]  # closed below: nothing listens there
    port = fault_proxy.proxy("gone", refused)
    for _ in range(2):
        with _connect(port) as sock:
            assert _read_all(sock) == b""
    samples = _eventually(
        lambda: _scrape(fault_proxy),
        lambda s: _value(s, "srekit_faultproxy_connections_closed_total") == 2,
    )
    assert _value(samples, "srekit_faultproxy_upstream_connect_failures_total") == 2
    assert _value(samples, "srekit_faultproxy_connections_opened_total") == 2
    assert _value(samples, "srekit_faultproxy_connections_active") == 0
