"""SLI events from Prometheus's HTTP API (and Thanos, Mimir, VictoriaMetrics, which speak it).

Every query passes `time=` (the window's end), so a status computed with `--at` can be
reproduced. Many SLOs cost few requests: per window end, the SLOs' expressions are joined with
`or`, each labelled with its SLO id and part, and sent as one POST (chunked). Windows of a day or
more are read from srekit's hourly recording rules (`srekit_slo:*_events:increase1h`) where they
cover the window, which is orders of magnitude cheaper than raw counters over 30 days. Rollups
end at the ruler's minute, not at the window's end: the raw events after the last rollup are
added, and those before the window that its first rollup counts are taken off, measured the
way the rollups measure them (`promql.counter_delta`), so the sum is exact.

Burn-rate windows of 5m to 6h are read, where srekit's rules record them, from
`srekit_slo:error_ratio:rate<w>`: one selector for every SLO and window at one end, one sample
per series instead of hours of raw samples. A burn rate needs only the ratio, so those readings
are `counted=False`; the SLO's own window keeps exact counts (the budget's event figures come
from it). A recorded value is the rules' latest evaluation (up to one evaluation interval
before the window's end), and only one at most Prometheus's lookback delta (5 minutes by
default) old comes back at all; SLOs or windows without one are read raw. Recordings are matched
by `srekit_service`/`srekit_slo`, so after changing an SLO's indicator, deploy regenerated rules
(or pass `use_recordings=False`) before trusting its short windows.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, Literal, Self

import httpx

from srekit.core import promql
from srekit.core.sli import EventCounts, WindowQuery
from srekit.core.slo import SLO, PromErrorRatio, PromLatency, PromRatio, PromThreshold
from srekit.core.window import format_duration, window_label
from srekit.errors import SourceUnavailable, SpecError

__all__ = ["PrometheusSource"]

Role = Literal["good", "bad", "total", "error_ratio"]
_Blame = SpecError | SourceUnavailable

_HOUR_MS = promql.ROLLUP_INTERVAL_S * 1000
# Prometheus refuses a query_range of more than 11,000 points per series.
_MAX_RANGE_POINTS = 10_000
# Go's ParseForm caps a form body at 10 MB; stay far below it.
_MAX_BODY_CHARS = 1_000_000


@dataclass(frozen=True)
class _Part:
    """One expression of one SLO over one window, and the spec field it comes from."""

    slo: SLO
    window: WindowQuery
    role: Role
    expr: str
    field: str
    kind: str = ""  # "gap<n>:" for the raw pieces that complete rollups

    @property
    def label(self) -> str:
        return f"{self.kind}{self.role}@{self.window.label}"

    def labelled(self) -> str:
        return promql.labelled(self.expr, self.slo.id, self.label)


class _QueryRefusedError(Exception):
    """Prometheus answered `status: error` for a query (bad syntax, failed execution)."""

    def __init__(self, error_type: str, error: str) -> None:
        super().__init__(f"{error_type}: {error}")
        self.error_type = error_type
        self.error = error


def _field(slo: SLO, role: Role) -> str:
    indicator = slo.indicator
    if isinstance(indicator, PromLatency):
        return "indicator.threshold" if role == "good" else "indicator.metric"
    if isinstance(indicator, PromErrorRatio):
        return "indicator.error_ratio"
    if isinstance(indicator, PromThreshold):
        return "indicator.query"
    return f"indicator.{role}"


def _parts(slo: SLO, window: WindowQuery) -> list[_Part]:
    """The expressions that give `slo`'s good and total events over `window`."""
    window_s = window.duration_s
    indicator = slo.indicator
    exprs: list[tuple[Role, str]]
    if isinstance(indicator, PromRatio):
        numerator, total = promql.ratio_exprs(indicator, window_s)
        exprs = [(_numerator_role(slo), numerator), ("total", total)]
    elif isinstance(indicator, PromLatency):
        good, total = promql.latency_exprs(indicator, window_s)
        exprs = [("good", good), ("total", total)]
    elif isinstance(indicator, PromErrorRatio):
        exprs = [("error_ratio", promql.error_ratio_expr(indicator, window_s))]
    elif isinstance(indicator, PromThreshold):
        good, total = promql.threshold_slice_exprs(indicator, window_s, slo.timeslice_s or 60)
        exprs = [("good", good), ("total", total)]
    else:
        raise SpecError(
            f"SLO {slo.id}: a {type(indicator).__name__} indicator is not read from Prometheus",
            file=slo.source_file,
            field="indicator",
        )
    return [_Part(slo, window, role, expr, _field(slo, role)) for role, expr in exprs]


@dataclass(frozen=True)
class _Gap:
    """The raw pieces one (SLO, window) read from rollups needs: each a `counter_delta`.

    `pieces` pairs each expression with its sign: + for the events after the last rollup
    (`tail`), − for those before the window that its first rollup counts (`head`). Pieces are
    shared: every long window of an SLO has the same tail, SLOs with the same total counter and
    the same last rollup have the same pieces for it, and each distinct one is queried once.
    """

    numerator: list[tuple[int, str]]
    total: list[tuple[int, str]]


def _numerator_role(slo: SLO) -> Role:
    """What a ratio or latency SLO's numerator counts: bad events for a `bad` ratio, else good."""
    indicator = slo.indicator
    return "bad" if isinstance(indicator, PromRatio) and indicator.bad is not None else "good"


def _gap(slo: SLO, window: WindowQuery, span: promql.RollupSpan) -> _Gap:
    indicator = slo.indicator
    if not isinstance(indicator, PromRatio | PromLatency):  # only rollup SLOs get here
        raise TypeError(slo.id)
    gap = _Gap(numerator=[], total=[])
    if span.tail_ms:
        numerator, total = promql.rollup_delta_exprs(indicator, length_ms=span.tail_ms)
        gap.numerator.append((1, numerator))
        gap.total.append((1, total))
    if span.head_ms:
        numerator, total = promql.rollup_delta_exprs(
            indicator, length_ms=span.head_ms, offset_ms=window.duration_s * 1000
        )
        gap.numerator.append((-1, numerator))
        gap.total.append((-1, total))
    return gap


def _counts(slo: SLO, values: Mapping[Role, float]) -> EventCounts | None:
    """Good/total from the parts Prometheus returned; no total (or NaN) means no data."""
    if isinstance(slo.indicator, PromErrorRatio):
        ratio = values.get("error_ratio")
        if ratio is None or not math.isfinite(ratio):
            return None
        return EventCounts(good=1.0 - ratio, total=1.0, counted=False)
    total = values.get("total")
    if total is None or not math.isfinite(total):
        return None
    if isinstance(slo.indicator, PromRatio) and slo.indicator.bad is not None:
        return EventCounts(good=total - values.get("bad", 0.0), total=total)
    return EventCounts(good=values.get("good", 0.0), total=total)


def _ratio_counts(ratio: float) -> EventCounts | None:
    """A recorded error ratio as a reading; NaN (0/0: no events in the window) means no data."""
    if not math.isfinite(ratio):
        return None
    return EventCounts(good=1.0 - ratio, total=1.0, counted=False)


def _same_value(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def _chunks(parts: Sequence[_Part], size: int) -> Iterator[list[_Part]]:
    """Runs of at most `size` parts whose joined query stays under the form body limit."""
    chunk: list[_Part] = []
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


def _bound_key(bound: str) -> float:
    try:
        return float(bound)
    except ValueError:
        return math.inf


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
        if retries < 1:
            raise ValueError(f"expected at least one attempt, got retries={retries}")
        self.url = url.rstrip("/")
        self.retries = retries
        self.backoff_s = backoff_s
        self.use_rollups = use_rollups
        self.rollup_windows = rollup_windows
        self.use_recordings = use_recordings
        self.rollup_min_window_s = rollup_min_window_s
        self.batch_size = batch_size
        self.max_workers = max_workers
        self._headers = {"Accept": "application/json", **(headers or {})}
        if token:
            self._headers["Authorization"] = f"Bearer {token}"
        self._auth = basic_auth
        self._owns_client = client is None
        self._client = client or httpx.Client(timeout=timeout_s)

    def close(self) -> None:
        """Close the HTTP client, unless it was given."""
        if self._owns_client:
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

    # HTTP

    def _request(self, path: str, *, what: str, data: Mapping[str, str]) -> Any:
        """The `data` of a successful API answer; retries transient failures.

        Raises SourceUnavailable when Prometheus cannot be reached or fails, and _QueryRefusedError
        when it answers `status: error` for the query itself (400 bad_data, 422 execution).
        """
        url = f"{self.url}{path}"
        method = "GET" if path.startswith("/api/v1/label/") else "POST"
        failure = ""
        for attempt in range(self.retries):
            if attempt:
                time.sleep(self.backoff_s * 2 ** (attempt - 1))
            try:
                response = self._client.request(
                    method,
                    url,
                    params=data if method == "GET" else None,
                    data=data if method == "POST" else None,
                    headers=self._headers,
                    auth=self._auth or httpx.USE_CLIENT_DEFAULT,
                )
            except httpx.TimeoutException as error:
                failure = f"timed out ({type(error).__name__})"
                continue
            except httpx.TransportError as error:
                failure = f"could not connect: {error or type(error).__name__}"
                continue
            if response.status_code >= 500:
                failure = f"HTTP {response.status_code}: {self._error_text(response)}"
                continue
            return self._answer(response, url=url, what=what)
        raise SourceUnavailable(
            f"Prometheus at {url} failed {what} after {self.retries} attempts: {failure}"
        )

    @staticmethod
    def _error_text(response: httpx.Response) -> str:
        try:
            body = response.json()
        except ValueError:
            return response.text[:300].strip() or response.reason_phrase
        if isinstance(body, dict) and body.get("error"):
            return str(body["error"])
        return response.text[:300].strip()

    def _answer(self, response: httpx.Response, *, url: str, what: str) -> Any:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or "status" not in body:
            raise SourceUnavailable(
                f"Prometheus at {url} gave HTTP {response.status_code} to {what}, "
                f"not an API answer: {response.text[:300].strip()!r}"
            )
        if body["status"] != "success":
            error_type = str(body.get("errorType", "error"))
            error = str(body.get("error", "no error text"))
            if response.status_code in (400, 422):
                raise _QueryRefusedError(error_type, error)
            raise SourceUnavailable(
                f"Prometheus at {url} refused {what} (HTTP {response.status_code}, "
                f"{error_type}): {error}"
            )
        return body.get("data")

    # Instant queries, batched

    def _query(
        self,
        query: str,
        at: datetime,
        *,
        what: str,
        result_type: Literal["vector", "matrix"] = "vector",
    ) -> list[dict[str, Any]]:
        data = self._request(
            "/api/v1/query", what=what, data={"query": query, "time": _timestamp(at)}
        )
        if not isinstance(data, dict) or data.get("resultType") != result_type:
            raise SourceUnavailable(f"Prometheus at {self.url} gave no {result_type} for {what}")
        result: list[dict[str, Any]] = data["result"]
        return result

    def _run_batch(self, parts: list[_Part], at: datetime) -> dict[tuple[str, str], float]:
        """Values per (slo id, part label); a refused batch is split to find the culprit."""
        query = promql.join_or([part.labelled() for part in parts])
        try:
            series = self._query(query, at, what=f"an instant query of {len(parts)} SLI parts")
        except _QueryRefusedError as refused:
            if len(parts) > 1:
                middle = len(parts) // 2
                return self._run_batch(parts[:middle], at) | self._run_batch(parts[middle:], at)
            raise self._blame(parts[0], refused) from None
        values: dict[tuple[str, str], float] = {}
        for item in series:
            metric = item["metric"]
            key = (metric.get(promql.BATCH_LABEL, ""), metric.get(promql.PART_LABEL, ""))
            values[key] = float(item["value"][1])
        return values

    def _blame(self, part: _Part, refused: _QueryRefusedError) -> _Blame:
        """The error a single refused expression stands for: the spec's, or the server's."""
        message = (
            f"SLO {part.slo.id}: Prometheus refused the query built from {part.field} "
            f"({refused.error_type}): {refused.error}; query: {part.expr}"
        )
        if refused.error_type == "bad_data":
            return SpecError(message, file=part.slo.source_file, field=part.field)
        return SourceUnavailable(f"Prometheus at {self.url}: {message}")

    def _run_parts(
        self, parts: Sequence[_Part], pool: ThreadPoolExecutor
    ) -> dict[tuple[str, str], float]:
        """Every part evaluated at its window's end, in few concurrent batched queries."""
        by_end: dict[datetime, list[_Part]] = defaultdict(list)
        for part in parts:
            by_end[part.window.end].append(part)
        jobs = [
            pool.submit(self._run_batch, chunk, end)
            for end, group in by_end.items()
            for chunk in _chunks(group, self.batch_size)
        ]
        values: dict[tuple[str, str], float] = {}
        for job in jobs:
            values |= job.result()
        return values

    # Rollups

    def _rollup_counts(
        self,
        slos: Sequence[SLO],
        windows: Sequence[WindowQuery],
        pool: ThreadPoolExecutor,
    ) -> dict[tuple[str, str], EventCounts]:
        """Counts from hourly rollups for the (SLO, window) pairs they cover.

        Per window end: when each SLO's rollups last ran (one query), the rollups' sums over
        every long window (one query each), then, unless `rollup_windows` is `hourly`, the raw
        events after each SLO's last rollup and before the window's start that the rollups miss
        or hold too many (batched, each distinct piece once).
        """
        eligible = [
            slo
            for slo in slos
            if isinstance(slo.indicator, PromRatio | PromLatency)
            and promql.exact_rollups(slo.indicator)
        ]
        long_windows = [w for w in windows if w.duration_s >= self.rollup_min_window_s]
        if not eligible or not long_windows:
            return {}
        ends = sorted({w.end for w in long_windows})
        instant_jobs = {end: pool.submit(self._last_rollups, end) for end in ends}
        sum_jobs = [(w, pool.submit(self._rollup_window, w)) for w in long_windows]
        by_name = {(s.service, s.name): s for s in eligible}
        hourly = self.rollup_windows == "hourly"
        rolled: list[tuple[SLO, WindowQuery, EventCounts, _Gap]] = []
        for window, job in sum_jobs:
            last_rollups = instant_jobs[window.end].result()
            end_ms = _milliseconds(window.end)
            for name, (good, total, samples) in job.result().items():
                slo = by_name.get(name)
                last = last_rollups.get(name)
                if slo is None or last is None or not math.isfinite(total):
                    continue
                span = promql.rollup_span(
                    end_ms=end_ms, window_ms=window.duration_s * 1000, last_rollup_ms=last
                )
                if span is None or samples != span.rollups:
                    continue
                if hourly and span.tail_ms >= _HOUR_MS:
                    continue  # a late rollup: the window would lose an hour; read raw
                gap = _Gap(numerator=[], total=[]) if hourly else _gap(slo, window, span)
                rolled.append((slo, window, EventCounts(good=good, total=total), gap))
        pieces: dict[str, _Part] = {}
        for slo, window, _, gap in rolled:
            roles: tuple[tuple[Role, list[tuple[int, str]]], ...] = (
                (_numerator_role(slo), gap.numerator),
                ("total", gap.total),
            )
            for role, terms in roles:
                for _, expr in terms:
                    if expr not in pieces:
                        kind = f"gap{len(pieces)}:"
                        pieces[expr] = _Part(slo, window, role, expr, _field(slo, role), kind)
        values = self._run_parts(list(pieces.values()), pool) if pieces else {}

        def added(terms: list[tuple[int, str]]) -> float:
            found = ((sign, pieces[expr]) for sign, expr in terms)
            return sum(sign * values.get((p.slo.id, p.label), 0.0) for sign, p in found)

        counts: dict[tuple[str, str], EventCounts] = {}
        for slo, window, sums, gap in rolled:
            numerator, gap_total = added(gap.numerator), added(gap.total)
            gap_good = gap_total - numerator if _numerator_role(slo) == "bad" else numerator
            counts[(slo.id, window.label)] = EventCounts(
                good=sums.good + gap_good, total=sums.total + gap_total
            )
        return counts

    def _last_rollups(self, at: datetime) -> dict[tuple[str, str], int]:
        """Per (service, slo name), when its rollups last ran before `at`, in Unix ms.

        An SLO recorded by several rules (two rule files, unmerged replicas) is left out: its
        sums would count its events twice.
        """
        series = self._query(
            promql.rollup_instants_query(),
            at,
            what="the rollup instants query",
            result_type="matrix",
        )
        latest: dict[tuple[str, str], int] = {}
        seen: set[tuple[str, str]] = set()
        duplicated: set[tuple[str, str]] = set()
        for item in series:
            metric = item["metric"]
            name = (
                str(metric.get(promql.ROLLUP_SERVICE_LABEL, "")),
                str(metric.get(promql.ROLLUP_SLO_LABEL, "")),
            )
            if name in seen:
                duplicated.add(name)
            seen.add(name)
            if item["values"]:
                latest[name] = max(round(float(v[0]) * 1000) for v in item["values"])
        return {name: ms for name, ms in latest.items() if name not in duplicated}

    def _rollup_window(
        self, window: WindowQuery
    ) -> dict[tuple[str, str], tuple[float, float, float]]:
        """(good, total, rollup samples) per (service, slo name) over one window."""
        window_s = window.duration_s
        queries = {
            "good": promql.rollup_sum_query(promql.ROLLUP_GOOD_METRIC, window_s),
            "total": promql.rollup_sum_query(promql.ROLLUP_TOTAL_METRIC, window_s),
            "samples": promql.rollup_coverage_query(window_s),
        }
        query = promql.join_or(
            [
                f'label_replace({q}, "{promql.PART_LABEL}", "{k}", "", "")'
                for k, q in queries.items()
            ]
        )
        series = self._query(query, window.end, what=f"the {window.label} rollup query")
        found: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
        for item in series:
            metric = item["metric"]
            name = (
                metric.get(promql.ROLLUP_SERVICE_LABEL, ""),
                metric.get(promql.ROLLUP_SLO_LABEL, ""),
            )
            found[name][metric.get(promql.PART_LABEL, "")] = float(item["value"][1])
        return {
            name: (parts.get("good", 0.0), parts["total"], parts.get("samples", 0.0))
            for name, parts in found.items()
            if "total" in parts
        }

    # Recorded error ratios

    def _recording_plan(
        self, slos: Sequence[SLO], windows: Sequence[WindowQuery]
    ) -> dict[datetime, list[WindowQuery]]:
        """Per window end, the windows srekit's rules record a ratio for (exact label, length)."""
        plan: dict[datetime, list[WindowQuery]] = defaultdict(list)
        if not any(isinstance(s.indicator, PromRatio | PromLatency | PromErrorRatio) for s in slos):
            return plan
        for window in windows:
            seconds = window.duration_s
            if seconds in promql.RECORDED_RATIO_WINDOWS_S and window.label == format_duration(
                seconds
            ):
                plan[window.end].append(window)
        return plan

    def _read_recordings(
        self, windows: Sequence[WindowQuery], end: datetime, services: Sequence[str]
    ) -> dict[tuple[str, str, str], float]:
        """Recorded ratios at `end` per (service, slo name, window label), in one query.

        Several series for one key (a second rule file, unmerged replicas) that disagree are
        dropped: which is right cannot be told, and the raw series can. A server that refuses
        the selector leaves every window to the raw queries.
        """
        query = promql.recorded_ratio_query([w.duration_s for w in windows], services)
        try:
            series = self._query(query, end, what="the recorded error-ratio query")
        except _QueryRefusedError:
            return {}
        found: dict[tuple[str, str, str], float] = {}
        conflicting: set[tuple[str, str, str]] = set()
        for item in series:
            metric = item["metric"]
            name = str(metric.get("__name__", ""))
            if not name.startswith(promql.ERROR_RATIO_METRIC_PREFIX):
                continue
            key = (
                str(metric.get(promql.ROLLUP_SERVICE_LABEL, "")),
                str(metric.get(promql.ROLLUP_SLO_LABEL, "")),
                name.removeprefix(promql.ERROR_RATIO_METRIC_PREFIX),
            )
            value = float(item["value"][1])
            if not _same_value(found.setdefault(key, value), value):
                conflicting.add(key)
        for key in conflicting:
            del found[key]
        return found

    def _recorded_jobs(
        self, slos: Sequence[SLO], windows: Sequence[WindowQuery], pool: ThreadPoolExecutor
    ) -> list[tuple[list[WindowQuery], Future[dict[tuple[str, str, str], float]]]]:
        """The recorded-ratio queries, started: one per window end, for every SLO at once."""
        plan = self._recording_plan(slos, windows)
        services = sorted({slo.service for slo in slos})
        return [
            (group, pool.submit(self._read_recordings, group, end, services))
            for end, group in plan.items()
        ]

    @staticmethod
    def _recorded_counts(
        slos: Sequence[SLO],
        jobs: Sequence[tuple[list[WindowQuery], Future[dict[tuple[str, str, str], float]]]],
    ) -> dict[tuple[str, str], EventCounts | None]:
        """Readings from the recorded ratios, for the SLOs and windows that have one.

        An SLO's own window is left out: its exact counts give the budget's event figures.
        """
        readings: dict[tuple[str, str], EventCounts | None] = {}
        for group, job in jobs:
            found = job.result()
            if not found:
                continue
            for slo in slos:
                if not isinstance(slo.indicator, PromRatio | PromLatency | PromErrorRatio):
                    continue
                own = window_label(slo.window)
                for window in group:
                    ratio = found.get((slo.service, slo.name, window.label))
                    if ratio is not None and window.label != own:
                        readings[(slo.id, window.label)] = _ratio_counts(ratio)
        return readings

    # Histogram bounds

    def _check_buckets(self, slo: SLO, window: WindowQuery) -> SpecError:
        """The error for a latency threshold that is not a bucket bound, listing the bounds."""
        indicator = slo.indicator
        if not isinstance(indicator, PromLatency):  # only latency SLOs get here
            raise TypeError(slo.id)
        selector = promql.latency_bucket_selector(indicator)
        bounds = self._request(
            "/api/v1/label/le/values",
            what=f"the bucket bounds of {selector}",
            data={
                "match[]": selector,
                "start": _timestamp(window.start),
                "end": _timestamp(window.end),
            },
        )
        listed = ", ".join(sorted((str(b) for b in bounds or []), key=_bound_key))
        return SpecError(
            f"SLO {slo.id}: {indicator.threshold_s:g} is not a bucket bound of {selector}; "
            f"existing bounds (le): {listed or 'none found'}",
            file=slo.source_file,
            field="indicator.threshold",
        )

    # SliSource

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
            jobs = self._recorded_jobs(slos, usable, pool) if self.use_recordings else []
            rolled: dict[tuple[str, str], EventCounts] = {}
            if self.use_rollups:
                rolled = self._rollup_counts(slos, usable, pool)
            # Exact counts from rollups win over a ratio for the same window.
            known = self._recorded_counts(slos, jobs) | rolled
            parts = [
                part
                for slo in slos
                for window in usable
                if (slo.id, window.label) not in known
                for part in _parts(slo, window)
            ]
            values = self._run_parts(parts, pool) if parts else {}
        results.update(known)
        for slo in slos:
            for window in usable:
                key = (slo.id, window.label)
                if key in known:
                    continue
                found = {
                    part.role: values[(slo.id, part.label)]
                    for part in _parts(slo, window)
                    if (slo.id, part.label) in values
                }
                missing_bucket = "total" in found and "good" not in found
                if isinstance(slo.indicator, PromLatency) and missing_bucket:
                    raise self._check_buckets(slo, window)
                results[key] = _counts(slo, found)
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
            parts = [_Part(slo, first, "good", aggregate, "indicator.query")]
            query = aggregate
        else:
            parts = _parts(slo, first)
            query = promql.join_or([part.labelled() for part in parts])
        points: dict[str, dict[int, float]] = defaultdict(dict)
        for offset in range(0, count, _MAX_RANGE_POINTS):
            chunk = ends[offset : offset + _MAX_RANGE_POINTS]
            try:
                matrix = self._query_range(query, chunk[0], chunk[-1], slice_s)
            except _QueryRefusedError as refused:
                # Instant queries of each part tell which one Prometheus refuses.
                self._run_batch(parts, ends[0])
                raise self._blame(parts[0], refused) from None
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
                    else EventCounts(good=float(_passes(indicator, value)), total=1.0)
                )
                continue
            found: dict[Role, float] = {
                role: points[role][stamp]
                for role in ("good", "bad", "total", "error_ratio")
                if stamp in points[role]
            }
            if isinstance(indicator, PromLatency) and "total" in found and "good" not in found:
                raise self._check_buckets(slo, _slice_window(slice_end, slice_s))
            readings.append(_counts(slo, found))
        return readings

    def _query_range(
        self, query: str, start: datetime, end: datetime, step_s: int
    ) -> list[dict[str, Any]]:
        data = self._request(
            "/api/v1/query_range",
            what=f"a range query ({start.isoformat()} to {end.isoformat()}, step {step_s}s)",
            data={
                "query": query,
                "start": _timestamp(start),
                "end": _timestamp(end),
                "step": str(step_s),
            },
        )
        if not isinstance(data, dict) or data.get("resultType") != "matrix":
            raise SourceUnavailable(f"Prometheus at {self.url} gave no matrix for a range query")
        result: list[dict[str, Any]] = data["result"]
        return result


def _slice_window(end: datetime, slice_s: int) -> WindowQuery:
    return WindowQuery(format_duration(slice_s), end - timedelta(seconds=slice_s), end)


def _passes(indicator: PromThreshold, value: float) -> bool:
    if indicator.op == "lt":
        return value < indicator.value
    if indicator.op == "lte":
        return value <= indicator.value
    if indicator.op == "gt":
        return value > indicator.value
    return value >= indicator.value


def _milliseconds(at: datetime) -> int:
    """Unix milliseconds of `at` as `_timestamp` sends it (Prometheus rounds to the ms)."""
    return round(float(_timestamp(at)) * 1000)


def _timestamp(at: datetime) -> str:
    """Unix seconds, as Prometheus takes them; naive datetimes are refused (ambiguous)."""
    if at.tzinfo is None:
        raise ValueError(f"expected a timezone-aware datetime, got {at.isoformat()}")
    return f"{at.timestamp():.3f}"
