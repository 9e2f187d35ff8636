"""The fault proxy's rules: toxic validation (Toxiproxy's defaults), and the arithmetic."""

from __future__ import annotations

import math
from typing import Any

import pytest

from srekit.core.faultproxy import (
    BandwidthClock,
    RequestHead,
    ToxicError,
    applies,
    expires_at,
    http_fault_response,
    http_matches,
    jittered_delay_s,
    limit_allowance,
    parse_address,
    parse_toxic,
    request_head,
    slice_sizes,
)


def test_defaults_are_toxiproxys() -> None:
    toxic = parse_toxic({"type": "latency", "attributes": {"latency": 100}})
    assert (toxic.name, toxic.stream, toxic.toxicity) == ("latency_downstream", "downstream", 1.0)
    assert toxic.attributes == {"latency": 100, "jitter": 0, "ttl": 0}
    assert toxic.document() == {
        "name": "latency_downstream",
        "type": "latency",
        "stream": "downstream",
        "toxicity": 1.0,
        "attributes": {"latency": 100, "jitter": 0, "ttl": 0},
    }
    assert parse_toxic({"type": "timeout", "attributes": None}).number("timeout") == 0


def test_an_update_keeps_what_it_does_not_name() -> None:
    first = parse_toxic(
        {"type": "bandwidth", "name": "slow", "stream": "upstream", "attributes": {"rate": 5}}
    )
    second = parse_toxic({"toxicity": 0.5}, previous=first)
    assert (second.name, second.stream, second.toxicity) == ("slow", "upstream", 0.5)
    assert second.number("rate") == 5
    third = parse_toxic({"attributes": {"rate": 7}}, previous=second)
    assert (third.number("rate"), third.toxicity) == (7, 0.5)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([], "toxic: expected a JSON object"),
        ({"type": "earthquake"}, "type: expected one of"),
        ({}, "type: expected one of"),
        ({"type": "latency", "stream": "sideways"}, "stream: expected upstream or downstream"),
        ({"type": "latency", "toxicity": 1.5}, "toxicity: expected at most 1"),
        ({"type": "latency", "toxicity": "1"}, "toxicity: expected a number, got str"),
        ({"type": "latency", "toxicity": True}, "toxicity: expected a number, got bool"),
        ({"type": "latency", "name": ""}, "name: expected a non-empty name"),
        ({"type": "latency", "name": "a\x00b"}, "name: expected at most 200 printable"),
        ({"type": "latency", "name": 3}, "name: expected a string, got int"),
        ({"type": "latency", "attributes": []}, "attributes: expected a JSON object"),
        (
            {"type": "latency", "attributes": {"latency": -1}},
            "attributes.latency: expected a number ≥ 0",
        ),
        (
            {"type": "latency", "attributes": {"latency": math.nan}},
            "expected a finite number, got nan",
        ),
        (
            {"type": "latency", "attributes": {"latency": 1e309}},
            "expected a finite number, got inf",
        ),
        (
            {"type": "latency", "attributes": {"latency": 1e300}},
            "attributes.latency: expected at most",
        ),
        (
            {"type": "latency", "attributes": {"rate": 1}},
            "attributes.rate: not an attribute of latency",
        ),
        (
            {"type": "http", "attributes": {"status": 42}},
            "attributes.status: expected an HTTP status",
        ),
        ({"type": "http", "attributes": {"method": 1}}, "attributes.method: expected a string"),
        ({"type": "http", "attributes": {"path_prefix": "x" * 201}}, "at most 200 printable"),
    ],
)
def test_bad_toxics_are_refused_by_field(document: Any, message: str) -> None:
    with pytest.raises(ToxicError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_toxic(document)


def test_an_update_cannot_change_the_type() -> None:
    first = parse_toxic({"type": "latency"})
    with pytest.raises(ToxicError, match="type cannot change"):
        parse_toxic({"type": "bandwidth"}, previous=first)


def test_toxicity_draws() -> None:
    assert [applies(1.0, d) for d in (0.0, 0.5, 0.999999)] == [True, True, True]
    assert [applies(0.0, d) for d in (0.0, 0.5, 0.999999)] == [False, False, False]
    assert (applies(0.3, 0.29), applies(0.3, 0.3)) == (True, False)


def test_ttl_sets_an_expiry_in_seconds() -> None:
    assert (
        expires_at(parse_toxic({"type": "latency", "attributes": {"ttl": 1500}}), added_at=10)
        == 11.5
    )
    assert expires_at(parse_toxic({"type": "latency"}), added_at=10) is None


@pytest.mark.parametrize(
    ("latency", "jitter", "draw", "seconds"),
    [
        (100, 0, 0.7, 0.1),
        (100, 10, 0.0, 0.09),
        (100, 10, 0.5, 0.1),
        (100, 10, 0.75, 0.105),
        (5, 10, 0.0, 0.0),
    ],
)
def test_jitter_is_uniform_around_the_latency(
    latency: float, jitter: float, draw: float, seconds: float
) -> None:
    assert jittered_delay_s(latency, jitter, draw) == pytest.approx(seconds)


def test_bandwidth_clock_paces_at_the_rate() -> None:
    clock = BandwidthClock(10)  # 10 KB/s = 10,000 bytes/s
    assert clock.piece_size() == 1000  # 100 ms worth
    assert BandwidthClock(0.001).piece_size() == 1
    first, clock = clock.send(1000, now=5.0)
    second, clock = clock.send(1000, now=5.0)
    third, clock = clock.send(500, now=5.0)
    assert (first, second) == (5.0, 5.1)
    assert third == pytest.approx(5.2)
    assert clock.free_at == pytest.approx(5.25)
    later, clock = clock.send(1000, now=9.0)  # idle time is not banked
    assert later == 9.0
    assert clock.free_at == pytest.approx(9.1)


def test_slicer_cuts_average_plus_minus_variation() -> None:
    assert slice_sizes(10, 3, 0, []) == [3, 3, 3, 1]
    assert slice_sizes(10, 4, 2, [0.0, 0.99]) == [2, 6, 2]  # 4-2=2, round(4-2+4*0.99)=6
    assert slice_sizes(10, 0, 0, [0.1]) == [10]
    assert slice_sizes(0, 3, 1, [0.1]) == []
    assert slice_sizes(3, 1, 5, [0.0]) == [1, 1, 1]  # never below one byte


def test_limit_data_lets_through_up_to_the_limit() -> None:
    assert limit_allowance(10, 0, 4) == (4, False)
    assert limit_allowance(10, 4, 6) == (6, True)
    assert limit_allowance(10, 8, 6) == (2, True)
    assert limit_allowance(10, 10, 6) == (0, True)


def test_fault_response_is_a_whole_http_response() -> None:
    response = http_fault_response(503)
    head, _, body = response.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 503 Service Unavailable\r\n")
    assert f"content-length: {len(body)}".encode() in head
    assert b"connection: close" in head
    assert http_fault_response(418).startswith(b"HTTP/1.1 418 Injected Fault\r\n")


def test_request_heads() -> None:
    assert request_head(b"GET / HTTP/1.1\r\nHost: x\r\n") is None
    head = request_head(b"POST /a/b HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello")
    assert head == RequestHead("POST", "/a/b", 41, 5)
    assert request_head(b"GET / HTTP/1.1\r\nbare\r\n\r\n") == RequestHead("GET", "/", 24, 0)
    chunked = request_head(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n")
    assert chunked is not None
    assert chunked.body is None
    with pytest.raises(ToxicError, match=r"not an HTTP/1\.x request line"):
        request_head(b"\x16\x03\x01 hello\r\n\r\n")
    with pytest.raises(ToxicError, match="larger than 64 KiB"):
        request_head(b"GET / HTTP/1.1\r\n" + b"x" * 70_000)


def test_http_toxics_match_method_and_path_prefix() -> None:
    head = RequestHead("GET", "/api/orders", 0, 0)
    everything = parse_toxic({"type": "http", "attributes": {"status": 503}})
    orders = parse_toxic({"type": "http", "attributes": {"path_prefix": "/api/o", "method": "get"}})
    posts = parse_toxic({"type": "http", "attributes": {"method": "POST"}})
    assert (http_matches(everything, head), http_matches(orders, head)) == (True, True)
    assert http_matches(posts, head) is False
    assert http_matches(orders, RequestHead("GET", "/health", 0, 0)) is False


@pytest.mark.parametrize(
    ("value", "allow", "expected"),
    [
        ("127.0.0.1:8474", False, ("127.0.0.1", 8474)),
        ("localhost:0", False, ("localhost", 0)),
        ("[::1]:80", False, ("::1", 80)),
        (":9000", False, ("127.0.0.1", 9000)),
        (":9000", True, ("0.0.0.0", 9000)),
        ("10.0.0.1:80", True, ("10.0.0.1", 80)),
    ],
)
def test_addresses(value: str, allow: bool, expected: tuple[str, int]) -> None:
    assert parse_address(value, "listen", allow_remote=allow) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0.0.0.0:80", "0.0.0.0 is not a loopback address"),
        ("127.0.0.1.example.com:80", "not a loopback address"),
        ("8474", "expected host:port"),
        (8474, "expected host:port"),
        ("127.0.0.1:http", "expected a port 0-65535"),
        ("127.0.0.1:70000", "expected a port 0-65535"),
        ("a b:80", "expected a host name"),
    ],
)
def test_bad_addresses(value: object, message: str) -> None:
    with pytest.raises(ToxicError, match=message):
        parse_address(value, "listen", allow_remote=False)
