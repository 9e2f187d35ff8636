"""A canary's history for the canary analysis tests: two hours of 15-second samples of
`http_requests_total{app="shop",track=...,code=...}` and the latency histogram
`http_request_duration_seconds`, for several tracks, backfilled into a real Prometheus.

Tracks: `stable` (the baseline: 600 requests a minute, 0.5 % errors, fast), `same` (the
same traffic drawn afresh: a canary that is no worse), `worse` (5 % errors and slow),
`trickle` (3 requests a minute, too few to judge).

The expected per-interval values are computed here from the generated counts, never by
Prometheus: `error_rates` (errors / requests per minute) and `quantiles` (the percentile
interpolated within its bucket, as `histogram_quantile` does).
"""

from __future__ import annotations

import math
import random
from array import array
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.integration.prometheus_fixture import Backfilled, Dataset, Series, serve

__all__ = [
    "AT",
    "BOUNDS",
    "STEP_S",
    "TRACKS",
    "Track",
    "canary_history",
    "error_rates",
    "quantiles",
    "serve_canary_history",
]

AT = datetime(2026, 11, 1, tzinfo=UTC)
STEP_S = 15
HOURS = 2
BOUNDS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


@dataclass(frozen=True)
class Track:
    name: str
    per_minute: float
    error_ratio: float
    cdf: tuple[float, ...]  # share of requests at or below each bound


FAST = (0.3, 0.7, 0.9, 0.97, 0.995, 0.999)
SLOW = (0.05, 0.2, 0.5, 0.8, 0.95, 0.99)
TRACKS = {
    track.name: track
    for track in (
        Track("stable", 600, 0.005, FAST),
        Track("same", 600, 0.005, FAST),
        Track("worse", 600, 0.05, SLOW),
        Track("trickle", 3, 0.005, FAST),
    )
}


def _poisson(rng: random.Random, mean: float) -> int:
    if mean < 30:
        limit, draws, product = math.exp(-mean), 0, rng.random()
        while product > limit:
            draws += 1
            product *= rng.random()
        return draws
    return max(0, round(rng.gauss(mean, math.sqrt(mean))))


def canary_history(seed: int = 20261203) -> Dataset:
    """Every track's counters, one sample every 15 s for two hours ending at `AT`."""
    rng = random.Random(seed)
    samples = HOURS * 3600 // STEP_S + 1
    start = AT - timedelta(hours=HOURS)
    present = bytearray(b"\x01") * samples
    series: list[Series] = []
    for track in TRACKS.values():
        labels = {"app": "shop", "track": track.name}
        ok, errors = array("q", bytes(8 * samples)), array("q", bytes(8 * samples))
        buckets = [array("q", bytes(8 * samples)) for _ in (*BOUNDS, math.inf)]
        for i in range(1, samples):
            requests = _poisson(rng, track.per_minute * STEP_S / 60)
            failed = sum(rng.random() < track.error_ratio for _ in range(requests))
            ok[i], errors[i] = requests - failed, failed
            for _ in range(requests):
                draw = rng.random()
                index = next((b for b, share in enumerate(track.cdf) if draw < share), len(BOUNDS))
                for bucket in range(index, len(BOUNDS) + 1):  # cumulative buckets
                    buckets[bucket][i] += 1
        series.append(Series("http_requests_total", {**labels, "code": "200"}, ok, present))
        series.append(Series("http_requests_total", {**labels, "code": "500"}, errors, present))
        for bound, counts in zip((*BOUNDS, math.inf), buckets, strict=True):
            le = "+Inf" if bound == math.inf else format(bound, "g")
            metric = "http_request_duration_seconds_bucket"
            series.append(Series(metric, {**labels, "le": le}, counts, present))
        total = buckets[-1]
        series.append(Series("http_request_duration_seconds_count", labels, total, present))
        zeros = array("q", bytes(8 * samples))
        series.append(Series("http_request_duration_seconds_sum", labels, zeros, present))
    return Dataset(start=start, end=AT, services=(), series=series, step_s=STEP_S)


def _per_interval(dataset: Dataset, one: Series, window_s: int, step_s: int) -> list[int]:
    """Events in each `step_s` interval of the window ending at `AT`, oldest first."""
    per_sample = step_s // STEP_S
    last = dataset.samples - 1
    first = last - window_s // STEP_S
    return [
        sum(one.increments[end - per_sample + 1 : end + 1])
        for end in range(first + per_sample, last + 1, per_sample)
    ]


def _one(dataset: Dataset, metric: str, track: str, **labels: str) -> Series:
    (found,) = dataset.select(metric, app="shop", track=track, **labels)
    return found


def error_rates(dataset: Dataset, track: str, window_s: int, step_s: int) -> list[float | None]:
    """errors / requests in each interval (None without requests)."""
    ok = _per_interval(
        dataset, _one(dataset, "http_requests_total", track, code="200"), window_s, step_s
    )
    bad = _per_interval(
        dataset, _one(dataset, "http_requests_total", track, code="500"), window_s, step_s
    )
    return [b / (o + b) if o + b else None for o, b in zip(ok, bad, strict=True)]


def quantiles(
    dataset: Dataset, track: str, q: float, window_s: int, step_s: int
) -> list[float | None]:
    """The q-quantile of each interval's histogram, interpolated linearly within the bucket
    it falls in (from 0 for the first), the highest finite bound when in +Inf; None when empty."""
    counts = [
        _per_interval(
            dataset,
            _one(dataset, "http_request_duration_seconds_bucket", track, le=le),
            window_s,
            step_s,
        )
        for le in (*(format(bound, "g") for bound in BOUNDS), "+Inf")
    ]
    values: list[float | None] = []
    for interval in range(len(counts[0])):
        cumulative = [bucket[interval] for bucket in counts]
        total = cumulative[-1]
        if not total:
            values.append(None)
            continue
        rank = q * total
        index = next(b for b, count in enumerate(cumulative) if count >= rank)
        if index == len(BOUNDS):
            values.append(BOUNDS[-1])
            continue
        lower = 0.0 if index == 0 else BOUNDS[index - 1]
        below = 0 if index == 0 else cumulative[index - 1]
        inside = cumulative[index] - below
        values.append(lower + (BOUNDS[index] - lower) * (rank - below) / inside)
    return values


@contextmanager
def serve_canary_history(workdir: Path) -> Iterator[Backfilled]:
    """A real Prometheus on 127.0.0.1 serving `canary_history()`."""
    backfilled = serve(canary_history(), workdir)
    try:
        yield backfilled
    finally:
        backfilled.server.stop()
