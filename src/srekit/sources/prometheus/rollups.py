"""Long windows from srekit's hourly rollups (`srekit_slo:*_events:increase1h`), made exact.

Summing a day or a month of hourly rollups is orders of magnitude cheaper than raw counters
over the window. Rollups end at the ruler's minute, not at the window's end: the raw events
after the last rollup are added, and those before the window that its first rollup counts are
taken off, measured the way the rollups measure them (`promql.counter_delta`), so the sum is
exact. Only SLOs whose sums are exact (`promql.exact_rollups`) and windows whose every hour has
its rollup are read this way; the rest are left to the raw queries.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from srekit.core import promql
from srekit.core.sli import EventCounts, WindowQuery
from srekit.core.slo import SLO, PromLatency, PromRatio
from srekit.sources.prometheus.batches import run_parts
from srekit.sources.prometheus.client import PrometheusClient, milliseconds
from srekit.sources.prometheus.parts import Part, Role, numerator_role, part_field

__all__ = ["rollup_counts"]

_HOUR_MS = promql.ROLLUP_INTERVAL_S * 1000


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


def rollup_counts(
    client: PrometheusClient,
    slos: Sequence[SLO],
    windows: Sequence[WindowQuery],
    pool: ThreadPoolExecutor,
    *,
    min_window_s: int,
    hourly: bool,
    batch_size: int,
) -> dict[tuple[str, str], EventCounts]:
    """Counts from hourly rollups for the (SLO, window) pairs they cover.

    Per window end: when each SLO's rollups last ran (one query), the rollups' sums over
    every window of `min_window_s` or more (one query each), then, unless `hourly`, the raw
    events after each SLO's last rollup and before the window's start that the rollups miss
    or hold too many (batched, each distinct piece once).
    """
    eligible = [
        slo
        for slo in slos
        if isinstance(slo.indicator, PromRatio | PromLatency)
        and promql.exact_rollups(slo.indicator)
    ]
    long_windows = [w for w in windows if w.duration_s >= min_window_s]
    if not eligible or not long_windows:
        return {}
    ends = sorted({w.end for w in long_windows})
    instant_jobs = {end: pool.submit(_last_rollups, client, end) for end in ends}
    sum_jobs = [(w, pool.submit(_rollup_window, client, w)) for w in long_windows]
    by_name = {(s.service, s.name): s for s in eligible}
    rolled: list[tuple[SLO, WindowQuery, EventCounts, _Gap]] = []
    for window, job in sum_jobs:
        last_rollups = instant_jobs[window.end].result()
        end_ms = milliseconds(window.end)
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
    pieces: dict[str, Part] = {}
    for slo, window, _, gap in rolled:
        roles: tuple[tuple[Role, list[tuple[int, str]]], ...] = (
            (numerator_role(slo), gap.numerator),
            ("total", gap.total),
        )
        for role, terms in roles:
            for _, expr in terms:
                if expr not in pieces:
                    kind = f"gap{len(pieces)}:"
                    pieces[expr] = Part(slo, window, role, expr, part_field(slo, role), kind)
    values = run_parts(client, list(pieces.values()), pool, batch_size=batch_size) if pieces else {}

    def added(terms: list[tuple[int, str]]) -> float:
        found = ((sign, pieces[expr]) for sign, expr in terms)
        return sum(sign * values.get((p.slo.id, p.label), 0.0) for sign, p in found)

    counts: dict[tuple[str, str], EventCounts] = {}
    for slo, window, sums, gap in rolled:
        numerator, gap_total = added(gap.numerator), added(gap.total)
        gap_good = gap_total - numerator if numerator_role(slo) == "bad" else numerator
        counts[(slo.id, window.label)] = EventCounts(
            good=sums.good + gap_good, total=sums.total + gap_total
        )
    return counts


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


def _last_rollups(client: PrometheusClient, at: datetime) -> dict[tuple[str, str], int]:
    """Per (service, slo name), when its rollups last ran before `at`, in Unix ms.

    An SLO recorded by several rules (two rule files, unmerged replicas) is left out: its
    sums would count its events twice.
    """
    series = client.query(
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
    client: PrometheusClient, window: WindowQuery
) -> dict[tuple[str, str], tuple[float, float, float]]:
    """(good, total, rollup samples) per (service, slo name) over one window."""
    window_s = window.duration_s
    queries = {
        "good": promql.rollup_sum_query(promql.ROLLUP_GOOD_METRIC, window_s),
        "total": promql.rollup_sum_query(promql.ROLLUP_TOTAL_METRIC, window_s),
        "samples": promql.rollup_coverage_query(window_s),
    }
    query = promql.join_or(
        [f'label_replace({q}, "{promql.PART_LABEL}", "{k}", "", "")' for k, q in queries.items()]
    )
    series = client.query(query, window.end, what=f"the {window.label} rollup query")
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
