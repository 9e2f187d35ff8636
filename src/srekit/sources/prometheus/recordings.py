"""Burn-rate windows from srekit's recorded error ratios (`srekit_slo:error_ratio:rate<w>`).

Where srekit's rules record them, the 5m to 6h windows are read with one selector for every
SLO and window at one end: one sample per series instead of hours of raw samples. A burn rate
needs only the ratio, so these readings are `counted=False`; the SLO's own window keeps exact
counts (the budget's event figures come from it). A recorded value is the rules' latest
evaluation (up to one evaluation interval before the window's end), and only one at most
Prometheus's lookback delta (5 minutes by default) old comes back at all; SLOs or windows
without one are read raw. Recordings are matched by `srekit_service`/`srekit_slo`, so after
changing an SLO's indicator, deploy regenerated rules (or pass `use_recordings=False` to
`PrometheusSource`) before trusting its short windows.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime

from srekit.core import promql
from srekit.core.sli import EventCounts, WindowQuery, error_ratio_counts
from srekit.core.slo import SLO, PromErrorRatio, PromLatency, PromRatio
from srekit.core.window import format_duration, window_label
from srekit.sources.prometheus.client import PrometheusClient, QueryRefusedError

__all__ = ["RecordedJob", "recorded_counts", "start_recorded_jobs"]

#: Recorded ratios per (service, slo name, window label).
_Recorded = dict[tuple[str, str, str], float]
#: The windows of one end and the query reading their recorded ratios, running.
RecordedJob = tuple[list[WindowQuery], Future[_Recorded]]


def start_recorded_jobs(
    client: PrometheusClient,
    slos: Sequence[SLO],
    windows: Sequence[WindowQuery],
    pool: ThreadPoolExecutor,
) -> list[RecordedJob]:
    """The recorded-ratio queries, started: one per window end, for every SLO at once."""
    plan = _recording_plan(slos, windows)
    services = sorted({slo.service for slo in slos})
    return [
        (group, pool.submit(_read_recordings, client, group, end, services))
        for end, group in plan.items()
    ]


def recorded_counts(
    slos: Sequence[SLO], jobs: Sequence[RecordedJob]
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
                    readings[(slo.id, window.label)] = error_ratio_counts(ratio)
    return readings


def _recording_plan(
    slos: Sequence[SLO], windows: Sequence[WindowQuery]
) -> dict[datetime, list[WindowQuery]]:
    """Per window end, the windows srekit's rules record a ratio for (exact label, length)."""
    plan: dict[datetime, list[WindowQuery]] = defaultdict(list)
    if not any(isinstance(s.indicator, PromRatio | PromLatency | PromErrorRatio) for s in slos):
        return plan
    for window in windows:
        seconds = window.duration_s
        if seconds in promql.RECORDED_RATIO_WINDOWS_S and window.label == format_duration(seconds):
            plan[window.end].append(window)
    return plan


def _read_recordings(
    client: PrometheusClient,
    windows: Sequence[WindowQuery],
    end: datetime,
    services: Sequence[str],
) -> _Recorded:
    """Recorded ratios at `end` per (service, slo name, window label), in one query.

    Several series for one key (a second rule file, unmerged replicas) that disagree are
    dropped: which is right cannot be told, and the raw series can. A server that refuses
    the selector leaves every window to the raw queries.
    """
    query = promql.recorded_ratio_query([w.duration_s for w in windows], services)
    try:
        series = client.query(query, end, what="the recorded error-ratio query")
    except QueryRefusedError:
        return {}
    found: _Recorded = {}
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


def _same_value(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))
