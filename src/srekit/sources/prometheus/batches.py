"""Many SLI parts in few queries: per window end, the parts joined with `or` in one POST.

Each part is labelled with its SLO id and part label (`promql.labelled`), so one answer carries
them all. Batches are cut at `batch_size` parts and far below the server's form body limit, and
run concurrently. A batch Prometheus refuses is split in halves until the one refused part is
found and blamed: a `SpecError` on its field for bad syntax, else `SourceUnavailable`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from srekit.core import promql
from srekit.errors import SourceUnavailable, SpecError
from srekit.sources.prometheus.client import PrometheusClient, QueryRefusedError
from srekit.sources.prometheus.parts import Part

__all__ = ["Values", "blame", "run_batch", "run_parts"]

#: Values per (slo id, part label).
Values = dict[tuple[str, str], float]

# Go's ParseForm caps a form body at 10 MB; stay far below it.
_MAX_BODY_CHARS = 1_000_000


def run_parts(
    client: PrometheusClient,
    parts: Sequence[Part],
    pool: ThreadPoolExecutor,
    *,
    batch_size: int,
) -> Values:
    """Every part evaluated at its window's end, in few concurrent batched queries."""
    by_end: dict[datetime, list[Part]] = defaultdict(list)
    for part in parts:
        by_end[part.window.end].append(part)
    jobs = [
        pool.submit(run_batch, client, chunk, end)
        for end, group in by_end.items()
        for chunk in _chunks(group, batch_size)
    ]
    values: Values = {}
    for job in jobs:
        values |= job.result()
    return values


def run_batch(client: PrometheusClient, parts: list[Part], at: datetime) -> Values:
    """Values per (slo id, part label); a refused batch is split to find the culprit."""
    query = promql.join_or([part.labelled() for part in parts])
    try:
        series = client.query(query, at, what=f"an instant query of {len(parts)} SLI parts")
    except QueryRefusedError as refused:
        if len(parts) > 1:
            middle = len(parts) // 2
            return run_batch(client, parts[:middle], at) | run_batch(client, parts[middle:], at)
        raise blame(client, parts[0], refused) from None
    values: Values = {}
    for item in series:
        metric = item["metric"]
        key = (metric.get(promql.BATCH_LABEL, ""), metric.get(promql.PART_LABEL, ""))
        values[key] = float(item["value"][1])
    return values


def blame(
    client: PrometheusClient, part: Part, refused: QueryRefusedError
) -> SpecError | SourceUnavailable:
    """The error a single refused expression stands for: the spec's, or the server's."""
    message = (
        f"SLO {part.slo.id}: Prometheus refused the query built from {part.field} "
        f"({refused.error_type}): {refused.error}; query: {part.expr}"
    )
    if refused.error_type == "bad_data":
        return SpecError(message, file=part.slo.source_file, field=part.field)
    return SourceUnavailable(f"Prometheus at {client.url}: {message}")


def _chunks(parts: Sequence[Part], size: int) -> Iterator[list[Part]]:
    """Runs of at most `size` parts whose joined query stays under the form body limit."""
    chunk: list[Part] = []
    chars = 0
    for part in parts:
        length = len(part.labelled()) + 4
        if chunk and (len(chunk) >= size or chars + length > _MAX_BODY_CHARS):
            yield chunk
            chunk, chars = [], 0
        chunk.append(part)
        chars += length
    if chunk:
        yield chunk
