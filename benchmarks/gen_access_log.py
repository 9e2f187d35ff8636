"""Deterministic nginx access logs (combined format + `$request_time`) with a visible incident.

Used to build the bundled example logs (`examples/logs/`), and by the event-store benchmark to
produce millions of lines. The same seed gives the same bytes, so the example files can be
regenerated and diffed instead of trusted.

    python benchmarks/gen_access_log.py            # rewrite examples/logs/*.access.log.gz
"""

from __future__ import annotations

import argparse
import gzip
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

__all__ = ["EXAMPLE_END", "EXAMPLE_SERVICES", "Incident", "ServiceProfile", "generate", "main"]

EXAMPLE_END = datetime(2026, 11, 20, tzinfo=UTC)

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_AGENTS = (
    "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 Version/18.1 Safari/605.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36",
    "okhttp/4.12.0",
    "checkout-mobile/5.3.1 (iOS 18.1)",
    "curl/8.5.0",
)
_REFERERS = ("-", "-", "-", "https://shop.example.com/", "https://www.google.com/")


@dataclass(frozen=True)
class Incident:
    """A stretch of time where a fraction of requests fail (5xx) and latency is multiplied."""

    start: datetime
    end: datetime
    error_ratio: float
    slowdown: float = 1.0


@dataclass(frozen=True)
class ServiceProfile:
    """What one service's traffic looks like: rate, paths, error and latency baseline."""

    name: str
    requests_per_minute: float
    paths: tuple[tuple[str, str, float], ...]  # (method, path, weight)
    utc_offset_minutes: int = 0
    error_ratio: float = 0.0005
    not_found_ratio: float = 0.01
    median_latency_s: float = 0.08
    incidents: tuple[Incident, ...] = field(default_factory=tuple)


EXAMPLE_SERVICES = (
    ServiceProfile(
        name="checkout",
        requests_per_minute=3.5,
        paths=(
            ("GET", "/api/cart", 5.0),
            ("POST", "/api/cart/items", 2.0),
            ("POST", "/api/checkout", 1.0),
            ("GET", "/api/orders/{id}", 1.5),
            ("GET", "/healthz", 0.5),
        ),
        incidents=(
            Incident(
                start=datetime(2026, 11, 18, 14, 0, tzinfo=UTC),
                end=datetime(2026, 11, 18, 14, 40, tzinfo=UTC),
                error_ratio=0.25,
                slowdown=12.0,
            ),
        ),
    ),
    ServiceProfile(
        name="catalog",
        requests_per_minute=4.0,
        utc_offset_minutes=60,
        median_latency_s=0.05,
        paths=(
            ("GET", "/api/products", 4.0),
            ("GET", "/api/products/{id}", 6.0),
            ("GET", "/api/search?q={q}", 2.0),
            ("GET", "/static/app.{id}.js", 1.0),
        ),
        incidents=(
            Incident(
                start=datetime(2026, 11, 16, 9, 0, tzinfo=UTC),
                end=datetime(2026, 11, 16, 10, 30, tzinfo=UTC),
                error_ratio=0.02,
                slowdown=8.0,
            ),
        ),
    ),
)


def _time_local(moment: datetime, offset_minutes: int) -> str:
    """nginx `$time_local`: `20/Nov/2026:13:05:09 +0100`, in the server's own offset."""
    local = moment.astimezone(timezone(timedelta(minutes=offset_minutes)))
    sign = "+" if offset_minutes >= 0 else "-"
    hours, minutes = divmod(abs(offset_minutes), 60)
    return (
        f"{local.day:02d}/{_MONTHS[local.month - 1]}/{local.year}:"
        f"{local.hour:02d}:{local.minute:02d}:{local.second:02d} {sign}{hours:02d}{minutes:02d}"
    )


def _rate_factor(moment: datetime) -> float:
    """Diurnal traffic: busiest at 15:00 UTC, quietest at 03:00, never below a fifth."""
    hour = moment.hour + moment.minute / 60
    return 0.6 + 0.4 * math.sin((hour - 9) / 24 * 2 * math.pi)


def generate(
    profile: ServiceProfile,
    *,
    start: datetime,
    end: datetime,
    seed: int = 1,
    malformed_every: int = 0,
) -> Iterator[str]:
    """nginx lines for `profile` from `start` to `end` (UTC), oldest first, without newlines.

    Arrivals are a Poisson process thinned by the diurnal factor; each line's `$request_time`
    is log-normal around the profile's median. `malformed_every` > 0 cuts every n-th line short,
    as a crashed writer would, to exercise rejection.
    """
    rng = random.Random(f"{profile.name}:{seed}")
    weights = [weight for _, _, weight in profile.paths]
    peak_rate_s = profile.requests_per_minute / 60 / 0.6
    clients = [
        f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}" for _ in range(300)
    ]
    moment = start
    count = 0
    while True:
        moment += timedelta(seconds=rng.expovariate(peak_rate_s))
        if moment >= end:
            return
        if rng.random() > _rate_factor(moment):
            continue
        incident = next((i for i in profile.incidents if i.start <= moment < i.end), None)
        method, template, _ = rng.choices(profile.paths, weights)[0]
        path = template.format(id=rng.randrange(1, 5000), q=rng.choice(("shoes", "hat", "lamp")))
        latency = rng.lognormvariate(math.log(profile.median_latency_s), 0.6)
        error_ratio = profile.error_ratio
        if incident is not None:
            latency *= incident.slowdown
            error_ratio = incident.error_ratio
        draw = rng.random()
        if draw < error_ratio:
            status = rng.choice((500, 502, 503, 504))
        elif draw < error_ratio + profile.not_found_ratio:
            status = 404
        elif method == "POST":
            status = 201
        else:
            status = 200
        size = 0 if status >= 500 else int(rng.lognormvariate(7, 1))
        line = (
            f"{rng.choice(clients)} - - [{_time_local(moment, profile.utc_offset_minutes)}] "
            f'"{method} {path} HTTP/1.1" {status} {size} "{rng.choice(_REFERERS)}" '
            f'"{rng.choice(_AGENTS)}" {latency:.3f}'
        )
        count += 1
        if malformed_every and count % malformed_every == 0:
            line = line[: len(line) // 2]
        yield line


def write_log(lines: Iterator[str], path: Path) -> int:
    """Write lines to `path` (gzip when it ends in .gz, with a fixed mtime so bytes are stable)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    if path.suffix == ".gz":
        with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as out:
            for line in lines:
                out.write(line.encode() + b"\n")
                written += 1
    else:
        with path.open("w", encoding="ascii") as text:
            for line in lines:
                text.write(line + "\n")
                written += 1
    return written


def main(argv: list[str] | None = None) -> None:
    """Regenerate the example logs: 7 days per example service ending at EXAMPLE_END."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=Path("examples/logs"))
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    start = EXAMPLE_END - timedelta(days=args.days)
    for profile in EXAMPLE_SERVICES:
        target = args.out / f"{profile.name}.access.log.gz"
        # Two truncated lines in checkout show how `srekit events ingest` reports rejects.
        every = 15_000 if profile.name == "checkout" else 0
        lines = generate(
            profile, start=start, end=EXAMPLE_END, seed=args.seed, malformed_every=every
        )
        written = write_log(lines, target)
        print(f"{target}: {written} lines, {target.stat().st_size} bytes")


if __name__ == "__main__":
    main()
