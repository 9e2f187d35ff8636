"""The fault proxy's rules: Toxiproxy's toxics, their attributes and the arithmetic they do.

A toxic is a fault applied to one direction (`stream`) of every connection through a proxy:
`upstream` is client → server, `downstream` server → client. Toxiproxy's names and units are
kept so its clients work unchanged: durations in milliseconds (the slicer's `delay` in
microseconds), `bandwidth`'s `rate` in KB/s (1 KB = 1000 bytes), sizes in bytes. `toxicity`
is the probability, drawn once per connection, that the toxic applies to that connection.

srekit's extensions: every toxic may carry `ttl` (milliseconds, 0 = none) after which it
removes itself; `packet_loss` (a share of chunks held back for a retransmission delay: TCP
never loses bytes, it resends them late); `http` (per request: a status code, an abort, or
added latency, for requests matching a method and a path prefix).

Nothing here reads a clock or draws a random number: callers pass `now` and draws.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "STREAMS",
    "TOXIC_ATTRIBUTES",
    "BandwidthClock",
    "RequestHead",
    "ToxicError",
    "ToxicSpec",
    "applies",
    "expires_at",
    "http_fault_response",
    "http_matches",
    "jittered_delay_s",
    "limit_allowance",
    "parse_address",
    "parse_toxic",
    "request_head",
    "slice_sizes",
]

STREAMS = ("upstream", "downstream")

# Each toxic type's attributes with their defaults; every value is a number but
# the `http` toxic's `method` and `path_prefix`.
TOXIC_ATTRIBUTES: Mapping[str, Mapping[str, float | str]] = {
    "latency": {"latency": 0, "jitter": 0},
    "bandwidth": {"rate": 0},
    "slow_close": {"delay": 0},
    "timeout": {"timeout": 0},
    "reset_peer": {"timeout": 0},
    "slicer": {"average_size": 0, "size_variation": 0, "delay": 0},
    "limit_data": {"bytes": 0},
    "packet_loss": {"loss": 0, "retransmit": 200},
    "http": {"status": 0, "abort": 0, "latency": 0, "method": "", "path_prefix": ""},
}
_TEXT_LIMIT = 200
# Upper bounds that keep the arithmetic in range and catch unit mistakes: a day in ms.
_MAX_MS = 86_400_000
_BOUNDS: Mapping[str, float] = {
    "latency": _MAX_MS,
    "jitter": _MAX_MS,
    "delay": _MAX_MS,
    "timeout": _MAX_MS,
    "retransmit": _MAX_MS,
    "ttl": _MAX_MS * 30,
    "rate": 1e12,
    "average_size": 1 << 30,
    "size_variation": 1 << 30,
    "bytes": 1 << 62,
    "loss": 1,
    "abort": 1,
    "status": 599,
}


class ToxicError(ValueError):
    """A toxic that cannot be: the message names the field and what was expected."""


@dataclass(frozen=True, slots=True)
class ToxicSpec:
    """One toxic as Toxiproxy's API shows it, with srekit's `ttl` among its attributes."""

    name: str
    type: str
    stream: str
    toxicity: float
    attributes: Mapping[str, float | str]

    def number(self, key: str) -> float:
        value = self.attributes[key]
        assert isinstance(value, (int, float))
        return float(value)

    @property
    def ttl_ms(self) -> float:
        return self.number("ttl")

    def document(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "stream": self.stream,
            "toxicity": self.toxicity,
            "attributes": dict(self.attributes),
        }


def _finite_number(value: object, field: str, bound: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ToxicError(f"{field}: expected a number, got {type(value).__name__}")
    if not math.isfinite(value):
        raise ToxicError(f"{field}: expected a finite number, got {value}")
    if value < 0:
        raise ToxicError(f"{field}: expected a number ≥ 0, got {value}")
    if value > bound:
        raise ToxicError(f"{field}: expected at most {bound:g}, got {value:g}")
    return value


def _text(value: object, field: str) -> str:
    if not isinstance(value, str):
        raise ToxicError(f"{field}: expected a string, got {type(value).__name__}")
    if len(value) > _TEXT_LIMIT or any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ToxicError(f"{field}: expected at most {_TEXT_LIMIT} printable characters")
    return value


def parse_toxic(document: object, *, previous: ToxicSpec | None = None) -> ToxicSpec:
    """A toxic from its JSON `document`, with Toxiproxy's defaults.

    Defaults: `stream` downstream, `toxicity` 1, `name` `<type>_<stream>`, each attribute
    its type's default (`TOXIC_ATTRIBUTES`) and `ttl` 0. With `previous` (an update) the
    fields absent from `document` keep their values and `type` cannot change. Unknown
    attributes are refused, as is any value that is not a finite number ≥ 0 in range.
    """
    if not isinstance(document, dict):
        raise ToxicError("toxic: expected a JSON object")
    kind = document.get("type", previous.type if previous else None)
    if not isinstance(kind, str) or kind not in TOXIC_ATTRIBUTES:
        known = ", ".join(sorted(TOXIC_ATTRIBUTES))
        raise ToxicError(f"type: expected one of {known}, got {kind!r}")
    if previous is not None and kind != previous.type:
        raise ToxicError(f"type: a toxic's type cannot change ({previous.type} → {kind})")
    stream = document.get("stream", previous.stream if previous else "downstream")
    if stream not in STREAMS:
        raise ToxicError(f"stream: expected upstream or downstream, got {stream!r}")
    toxicity = _finite_number(
        document.get("toxicity", previous.toxicity if previous else 1.0), "toxicity", 1
    )
    name = _text(document.get("name", previous.name if previous else f"{kind}_{stream}"), "name")
    if not name:
        raise ToxicError("name: expected a non-empty name")
    given = document.get("attributes", {})
    if given is None:
        given = {}
    if not isinstance(given, dict):
        raise ToxicError("attributes: expected a JSON object")
    defaults = dict(TOXIC_ATTRIBUTES[kind]) | {"ttl": 0}
    attributes: dict[str, float | str] = dict(previous.attributes) if previous else defaults
    for key, value in given.items():
        if key not in defaults:
            raise ToxicError(
                f"attributes.{key}: not an attribute of {kind} "
                f"(expected {', '.join(sorted(defaults))})"
            )
        if isinstance(defaults[key], str):
            attributes[key] = _text(value, f"attributes.{key}")
        else:
            attributes[key] = _finite_number(value, f"attributes.{key}", _BOUNDS[key])
    if kind == "http" and attributes["status"] and not 100 <= float(attributes["status"]) <= 599:
        raise ToxicError("attributes.status: expected an HTTP status code 100-599, or 0")
    return ToxicSpec(name, kind, str(stream), float(toxicity), attributes)


def applies(toxicity: float, draw: float) -> bool:
    """Whether a toxic applies to a connection: `draw` is uniform in [0, 1).

    Toxicity 1 always applies and 0 never does, whatever the draw.
    """
    return draw < toxicity


def expires_at(toxic: ToxicSpec, *, added_at: float) -> float | None:
    """When (on the caller's monotonic clock, seconds) a toxic with a `ttl` removes itself."""
    return added_at + toxic.ttl_ms / 1000 if toxic.ttl_ms > 0 else None


def jittered_delay_s(latency_ms: float, jitter_ms: float, draw: float) -> float:
    """Toxiproxy's latency: `latency ± jitter` ms, uniform, never below 0; in seconds.

    `draw` in [0, 1) maps linearly onto [latency − jitter, latency + jitter).
    """
    return max(0.0, latency_ms + jitter_ms * (2 * draw - 1)) / 1000


@dataclass(frozen=True, slots=True)
class BandwidthClock:
    """When each piece may leave under a `rate` in KB/s (1 KB = 1000 bytes).

    `free_at` is when the link is next free. A piece leaves at `max(now, free_at)` and keeps
    the link busy for `size / (rate × 1000)` s, so bytes sent from an idle start to time t
    never exceed `rate × 1000 × t` plus one piece; idle time is not banked as credit.
    """

    rate_kbps: float
    free_at: float = -math.inf

    def send(self, size: int, *, now: float) -> tuple[float, BandwidthClock]:
        """(when the piece of `size` bytes leaves, the clock after it)."""
        leaves = max(now, self.free_at)
        busy = size / (self.rate_kbps * 1000)
        return leaves, BandwidthClock(self.rate_kbps, leaves + busy)

    def piece_size(self) -> int:
        """Pieces of at most 100 ms worth (as Toxiproxy splits them), and at least a byte."""
        return max(1, int(self.rate_kbps * 100))


def slice_sizes(total: int, average: int, variation: int, draws: list[float]) -> list[int]:
    """Toxiproxy's slicer: cut `total` bytes into pieces of `average ± variation` bytes.

    `draws` (uniform in [0, 1), one per piece, recycled when short) choose each size in
    [average − variation, average + variation], at least 1 byte; the last piece is what is
    left. An `average` of 0 leaves the chunk whole.
    """
    if average <= 0 or total <= 0:
        return [total] if total > 0 else []
    sizes: list[int] = []
    left = total
    index = 0
    while left > 0:
        draw = draws[index % len(draws)] if draws else 0.5
        size = max(1, round(average - variation + 2 * variation * draw))
        sizes.append(min(size, left))
        left -= sizes[-1]
        index += 1
    return sizes


def limit_allowance(limit: int, sent: int, size: int) -> tuple[int, bool]:
    """limit_data: (bytes of a chunk of `size` that may pass, whether to close after them).

    The connection closes once `limit` bytes have passed in the toxic's direction.
    """
    allowed = max(0, min(size, limit - sent))
    return allowed, sent + allowed >= limit


_REASONS = {
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    408: "Request Timeout",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def http_fault_response(status: int) -> bytes:
    """The whole HTTP/1.1 response the `http` toxic answers with; it closes the connection."""
    reason = _REASONS.get(status, "Injected Fault")
    body = f"srekit fault proxy: injected {status}\n".encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: text/plain\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    )
    return head.encode() + body


@dataclass(frozen=True, slots=True)
class RequestHead:
    """An HTTP/1.x request's head as the `http` toxic needs it.

    `length` is the head's size in bytes and `body` the body's (Content-Length), or None
    when the body's end cannot be known (chunked): then the toxic stops reading the
    connection's requests and lets the rest through untouched.
    """

    method: str
    path: str
    length: int
    body: int | None


_HEAD_LIMIT = 65_536


def request_head(buffer: bytes) -> RequestHead | None:
    """The request head at the start of `buffer`, or None while it is incomplete.

    Raises ToxicError when the bytes are not an HTTP/1.x request (or the head exceeds
    64 KiB): the toxic then passes the connection through.
    """
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        if len(buffer) > _HEAD_LIMIT:
            raise ToxicError("request: head larger than 64 KiB")
        return None
    lines = buffer[:end].decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise ToxicError("request: not an HTTP/1.x request line")
    body: int | None = 0
    for line in lines[1:]:
        key, _, value = line.partition(":")
        key = key.strip().lower()
        if key == "content-length" and value.strip().isdigit():
            body = int(value.strip())
        elif key == "transfer-encoding":
            body = None
            break
    return RequestHead(parts[0], parts[1], end + 4, body)


def http_matches(toxic: ToxicSpec, head: RequestHead) -> bool:
    """Whether a request falls under an `http` toxic: its method (any if empty), path prefix."""
    method = str(toxic.attributes["method"])
    return (not method or method.upper() == head.method) and head.path.startswith(
        str(toxic.attributes["path_prefix"])
    )


def parse_address(value: object, field: str, *, allow_remote: bool) -> tuple[str, int]:
    """`host:port` as (host, port). A listen address must be loopback unless `allow_remote`.

    Toxiproxy's `localhost:` prefix-less forms are accepted as written (`:8080` means
    127.0.0.1 here, never all interfaces, unless allowed).
    """
    if not isinstance(value, str) or ":" not in value:
        raise ToxicError(f"{field}: expected host:port, got {value!r}")
    host, _, port_text = value.rpartition(":")
    host = host.strip("[]") or ("0.0.0.0" if allow_remote else "127.0.0.1")
    if not port_text.isdigit() or int(port_text) > 65535:
        raise ToxicError(f"{field}: expected a port 0-65535, got {port_text!r}")
    if any(ord(c) < 33 for c in host) or len(host) > 253:
        raise ToxicError(f"{field}: expected a host name, got {host!r}")
    if not allow_remote and not _loopback(host):
        raise ToxicError(
            f"{field}: {host} is not a loopback address (allow others with --allow-remote)"
        )
    return host, int(port_text)


def _loopback(host: str) -> bool:
    return host in ("localhost", "::1") or (
        host.startswith("127.") and host.replace(".", "").isdigit()
    )
