"""`PrometheusSource`: the `SliSource` over Prometheus's HTTP API (and Thanos, Mimir,
VictoriaMetrics, which speak it).

Every query passes `time=` (the window's end), so a status computed with `--at` can be
reproduced. A call to `counts` reads what it can from srekit's recorded short-window ratios
(`recordings`) and hourly rollups (`rollups`), then everything else from raw expressions
(`parts`), joined into few queries (`batches`); `client` speaks HTTP. `slices` reads each
slice at its end with one range query.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from types import TracebackType
from typing import Literal, Self

import httpx

from srekit.core import promql
from srekit.core.sli import EventCounts, WindowQuery
from srekit.core.slo import SLO, PromLatency, PromThreshold
from srekit.core.window import format_duration
from srekit.errors import SpecError
from srekit.sources.prometheus.batches import blame, run_batch, run_parts
from srekit.sources.prometheus.client import PrometheusClient, QueryRefusedError
from srekit.sources.prometheus.parts import Part, Role, part_counts, sli_parts
from srekit.sources.prometheus.recordings import recorded_counts, start_recorded_jobs
from srekit.sources.prometheus.rollups import rollup_counts

__all__ = ["PrometheusSource"]

# Prometheus refuses a query_range of more than 11,000 points per series.
_MAX_RANGE_POINTS = 10_000


class PrometheusSource:
    """`SliSource` over Prometheus's HTTP API.

    Args:
        url: base URL of the API (`http://prometheus:9090`, a Thanos querier, `.../prometheus`).
        timeout_s: per request.
        retries: attempts per request; connect errors, timeouts and 5xx answers are retried
            with exponential backoff from `backoff_s`.
        token: bearer token; `basic_auth` a (user, password) pair; `headers` anything else.
        use_rollups: read windows of `rollup_min_window_s` or more from srekit's hourly
            recording rules where they cover the window.
        rollup_windows: `exact` completes a window read from rollups with the raw minutes
            after the last rollup and before the window (a few queries per 200 SLOs); `hourly`
            reads the rollups alone, so the window ends at the last rollup, less than an hour
            before its end (one query for every SLO; a later rollup is read raw).
        use_recordings: read the 5m, 30m, 1h, 2h and 6h windows (other than an SLO's own
            window) from srekit's recorded error ratios where they exist, as ratios only.
        batch_size: expressions per query; `max_workers` queries in flight.
        client: an httpx client to use (tests count requests with its event hooks); not closed.
    """

    def __init__(
        self,
        url: str,
        *,
        timeout_s: float = 30.0,
        retries: int = 3,
        backoff_s: float = 0.25,
        token: str | None = None,
        basic_auth: tuple[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        use_rollups: bool = True,
        rollup_windows: Literal["exact", "hourly"] = "exact",
        use_recordings: bool = True,
        rollup_min_window_s: int = 86_400,
        batch_size: int = 200,
        max_workers: int = 4,
        client: httpx.Client | None = None,
    ) -> None:
        self._client = PrometheusClient(
            url,
            timeout_s=timeout_s,
            retries=retries,
            backoff_s=backoff_s,
            token=token,
            basic_auth=basic_auth,
            headers=headers,
            client=client,
        )
        self.use_rollups = use_rollups
        self.rollup_windows = rollup_windows
        self.use_recordings = use_recordings
        self.rollup_min_window_s = rollup_min_window_s
        self.batch_size = batch_size
        self.max_workers = max_workers

    @property
    def url(self) -> str:
        """The API's base URL, without a trailing slash."""
        return self._client.url

    def close(self) -> None:
        """Close the HTTP client, unless it was given."""
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def range_series(
        self, query: str, *, start: datetime, end: datetime, step_s: int
    ) -> list[tuple[dict[str, str], list[tuple[float, float]]]]:
        """Every series a range query returns, as (labels, [(Unix seconds, value)]).

        Cut into queries of at most 10,000 points (Prometheus refuses 11,000). Values are
        parsed as Prometheus writes them ("NaN", "+Inf" included). Raises QueryRefusedError
        when Prometheus refuses the query, SourceUnavailable when it cannot answer.
        """
        found: dict[tuple[tuple[str, str], ...], list[tuple[float, float]]] = {}
        chunk = timedelta(seconds=step_s * _MAX_RANGE_POINTS)
        at = start
        while at <= end:
            until = min(end, at + chunk)
            for series in self._client.query_range(query, at, until, step_s):
                labels = tuple(sorted((series.get("metric") or {}).items()))
                samples = found.setdefault(labels, [])
                samples.extend((float(t), float(v)) for t, v in series.get("values") or [])
            at = until + timedelta(seconds=step_s)
        return [(dict(labels), samples) for labels, samples in found.items()]

    def instant_values(self, query: str, *, at: datetime) -> list[float]:
        """The value of each series an instant query returns at `at`."""
        return [
            float(series["value"][1])
            for series in self._client.query(query, at, what="an instant query")
        ]

    def counts(
        self,
        slos: Sequence[SLO],
        windows: Sequence[WindowQuery],
    ) -> Mapping[tuple[str, str], EventCounts | None]:
        """Good/total per (slo.id, window label); None where the window holds no events.

        Raises SourceUnavailable when Prometheus cannot answer, SpecError when it refuses an
        SLO's query or a latency threshold is not a bucket bound.
        """
        results: dict[tuple[str, str], EventCounts | None] = {
            (slo.id, window.label): None for slo in slos for window in windows
        }
        usable = [w for w in windows if w.duration_s >= 1]
        if not slos or not usable:
            return results
        with ThreadPoolExecutor(max_workers=self.max_workers) as pool:
            jobs = (
                start_recorded_jobs(self._client, slos, usable, pool) if self.use_recordings else []
            )
            rolled: dict[tuple[str, str], EventCounts] = {}
            if self.use_rollups:
                rolled = rollup_counts(
                    self._client,
                    slos,
                    usable,
                    pool,
                    min_window_s=self.rollup_min_window_s,
                    hourly=self.rollup_windows == "hourly",
                    batch_size=self.batch_size,
                )
            # Exact counts from rollups win over a ratio for the same window.
            known = recorded_counts(slos, jobs) | rolled
            parts = [
                part
                for slo in slos
                for window in usable
                if (slo.id, window.label) not in known
                for part in sli_parts(slo, window)
            ]
            values = (
                run_parts(self._client, parts, pool, batch_size=self.batch_size) if parts else {}
            )
        results.update(known)
        for slo in slos:
            for window in usable:
                key = (slo.id, window.label)
                if key in known:
                    continue
                found = {
                    part.role: values[(slo.id, part.label)]
                    for part in sli_parts(slo, window)
                    if (slo.id, part.label) in values
                }
                missing_bucket = "total" in found and "good" not in found
                if isinstance(slo.indicator, PromLatency) and missing_bucket:
                    raise _bucket_error(self._client, slo, window)
                results[key] = part_counts(slo, found)
        return results

    def slices(
        self, slo: SLO, *, start: datetime, end: datetime, slice_s: int
    ) -> Sequence[EventCounts | None]:
        """Per-slice good/total, oldest first, each slice read at its end with `query_range`.

        A threshold SLO's slice holds one event, good when the query's worst series compares
        to the value as asked; other indicators count their events within the slice.
        """
        if slice_s < 1:
            raise ValueError(f"expected a slice of at least 1 s, got {slice_s}")
        count = int((end - start).total_seconds()) // slice_s
        ends = [start + timedelta(seconds=slice_s * (i + 1)) for i in range(count)]
        if not ends:
            return []
        indicator = slo.indicator
        first = _slice_window(ends[0], slice_s)
        if isinstance(indicator, PromThreshold):
            aggregate = promql.threshold_aggregate(indicator)
            parts = [Part(slo, first, "good", aggregate, "indicator.query")]
            query = aggregate
        else:
            parts = sli_parts(slo, first)
            query = promql.join_or([part.labelled() for part in parts])
        points: dict[str, dict[int, float]] = defaultdict(dict)
        for offset in range(0, count, _MAX_RANGE_POINTS):
            chunk = ends[offset : offset + _MAX_RANGE_POINTS]
            try:
                matrix = self._client.query_range(query, chunk[0], chunk[-1], slice_s)
            except QueryRefusedError as refused:
                # Instant queries of each part tell which one Prometheus refuses.
                run_batch(self._client, parts, ends[0])
                raise blame(self._client, parts[0], refused) from None
            for item in matrix:
                label = item["metric"].get(promql.PART_LABEL, "value")
                role = label.partition("@")[0]
                for timestamp, value in item["values"]:
                    points[role][round(float(timestamp))] = float(value)
        readings: list[EventCounts | None] = []
        for slice_end in ends:
            stamp = round(slice_end.timestamp())
            if isinstance(indicator, PromThreshold):
                value = points["value"].get(stamp)
                readings.append(
                    None
                    if value is None or math.isnan(value)
                    else EventCounts(good=float(indicator.passes(value)), total=1.0)
                )
                continue
            found: dict[Role, float] = {
                role: points[role][stamp]
                for role in ("good", "bad", "total", "error_ratio")
                if stamp in points[role]
            }
            if isinstance(indicator, PromLatency) and "total" in found and "good" not in found:
                raise _bucket_error(self._client, slo, _slice_window(slice_end, slice_s))
            readings.append(part_counts(slo, found))
        return readings


def _bucket_error(client: PrometheusClient, slo: SLO, window: WindowQuery) -> SpecError:
    """The error for a latency threshold that is not a bucket bound, listing the bounds."""
    indicator = slo.indicator
    if not isinstance(indicator, PromLatency):  # only latency SLOs get here
        raise TypeError(slo.id)
    selector = promql.latency_bucket_selector(indicator)
    bounds = client.label_values(
        "le",
        match=selector,
        start=window.start,
        end=window.end,
        what=f"the bucket bounds of {selector}",
    )
    listed = ", ".join(sorted((str(b) for b in bounds), key=_bound_key))
    return SpecError(
        f"SLO {slo.id}: {indicator.threshold_s:g} is not a bucket bound of {selector}; "
        f"existing bounds (le): {listed or 'none found'}",
        file=slo.source_file,
        field="indicator.threshold",
    )


def _bound_key(bound: str) -> float:
    try:
        return float(bound)
    except ValueError:
        return math.inf


def _slice_window(end: datetime, slice_s: int) -> WindowQuery:
    return WindowQuery(format_duration(slice_s), end - timedelta(seconds=slice_s), end)
