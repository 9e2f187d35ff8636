"""PrometheusSource against a real Prometheus serving 30 days of generated history.

Expectations come from the generator's per-minute counts (`Dataset.increase`), never from
PromQL, so a wrong query shows up as a wrong number.
"""

from __future__ import annotations

import math
import socket
from collections.abc import Sequence
from datetime import datetime, timedelta

import httpx
import pytest

from srekit.core import promql
from srekit.core.sli import EventCounts, SourceSet, WindowQuery
from srekit.core.slo import SLO, PromErrorRatio, PromLatency, PromRatio
from srekit.errors import SourceUnavailable, SpecError
from srekit.flows.evaluate import evaluate_statuses
from srekit.sources.prometheus import PrometheusSource
from tests.integration.prometheus_fixture import (
    END,
    TEST_SERVICES,
    Backfilled,
    Dataset,
    Series,
)
from tests.integration.slos import (
    availability,
    error_ratio,
    latency,
    rate_template,
    recorded_slos,
    subquery,
    threshold,
)

pytestmark = pytest.mark.integration

WINDOWS_S = {"5m": 300, "1h": 3600, "6h": 21600, "1d": 86400, "30d": 30 * 86400}
RECORDED_S = {"5m": 300, "30m": 1800, "1h": 3600, "2h": 7200, "6h": 21600}
SERVICES = [spec.name for spec in TEST_SERVICES]


def _windows(at: datetime, labels: Sequence[str] = tuple(WINDOWS_S)) -> list[WindowQuery]:
    seconds = WINDOWS_S | RECORDED_S
    return [WindowQuery(label, at - timedelta(seconds=seconds[label]), at) for label in labels]


def _is_5xx(code: str) -> bool:
    return code.startswith("5")


def expected(dataset: Dataset, slo: SLO, at: datetime, window_s: int) -> EventCounts | None:
    """What Prometheus should answer, from the generated counts."""
    service = slo.service
    indicator = slo.indicator
    if isinstance(indicator, PromLatency):

        def at_threshold(le: str) -> bool:
            return le != "+Inf" and float(le) == indicator.threshold_s

        buckets = dataset.select(f"{indicator.metric}_bucket", service=service, le=at_threshold)
        total = dataset.increase(
            dataset.select(f"{indicator.metric}_count", service=service), at, window_s
        )
        good = dataset.increase(buckets, at, window_s)
        return None if total is None else EventCounts(good=good or 0.0, total=total)
    requests = dataset.select("http_requests_total", service=service)
    total = dataset.increase(requests, at, window_s)
    if total is None:
        return None
    errors = dataset.select("http_requests_total", service=service, code=_is_5xx)
    bad = dataset.increase(errors, at, window_s) or 0.0
    if isinstance(indicator, PromErrorRatio):
        return EventCounts(good=1.0 - bad / total, total=1.0, counted=False)
    scale = window_s if slo.name == "availability-rate" else 1
    return EventCounts(good=(total - bad) / scale, total=total / scale)


def assert_counts(actual: EventCounts | None, wanted: EventCounts | None, what: str) -> None:
    if wanted is None:
        assert actual is None, what
        return
    assert actual is not None, what
    assert actual.total == pytest.approx(wanted.total, rel=1e-9, abs=1e-9), what
    assert actual.good == pytest.approx(wanted.good, rel=1e-9, abs=1e-9), what
    assert actual.counted == wanted.counted, what
    if wanted.sli is not None:
        assert actual.sli == pytest.approx(wanted.sli, rel=1e-9, abs=1e-12), what


def _standard_slos() -> list[SLO]:
    slos = [availability(s) for s in SERVICES] + [latency(s) for s in SERVICES]
    slos += [rate_template(s) for s in SERVICES] + [error_ratio(s) for s in SERVICES]
    return slos


@pytest.mark.parametrize(
    "at",
    [END, END - timedelta(hours=5, seconds=17)],
    ids=["aligned", "unaligned-extrapolated"],
)
def test_counts_match_generated_history(prometheus: Backfilled, at: datetime) -> None:
    slos = _standard_slos()
    with PrometheusSource(prometheus.url, use_rollups=False) as source:
        counts = source.counts(slos, _windows(at))
    assert len(counts) == len(slos) * len(WINDOWS_S)
    for slo in slos:
        for label, window_s in WINDOWS_S.items():
            wanted = expected(prometheus.dataset, slo, at, window_s)
            assert_counts(counts[(slo.id, label)], wanted, f"{slo.id} over {label}")


def test_full_windows_count_every_generated_event(prometheus: Backfilled) -> None:
    """Where samples cover the window, Prometheus's increase is the exact sum of the counts."""
    dataset = prometheus.dataset
    slo = availability("checkout")
    with PrometheusSource(prometheus.url, use_rollups=False) as source:
        counts = source.counts([slo], _windows(END))
    for label, window_s in WINDOWS_S.items():
        start = END - timedelta(seconds=window_s)
        total = dataset.events(
            dataset.select("http_requests_total", service="checkout"), start, END
        )
        reading = counts[(slo.id, label)]
        assert reading is not None
        assert reading.total == total


def test_latency_threshold_matches_both_bound_spellings(prometheus: Backfilled) -> None:
    """checkout writes le="1", search le="1.0": threshold 1.0 finds both."""
    spelled = {s.name: s.le_style for s in TEST_SERVICES}
    assert spelled["checkout"] == "go"
    assert spelled["search"] == "python"
    slos = [latency("checkout"), latency("search"), latency("payments", 2.5, name="latency-2s")]
    with PrometheusSource(prometheus.url, use_rollups=False) as source:
        counts = source.counts(slos, _windows(END, ["1d"]))
    for slo in slos:
        reading = counts[(slo.id, "1d")]
        assert reading is not None
        assert 0 < reading.good < reading.total
        assert_counts(reading, expected(prometheus.dataset, slo, END, 86400), slo.id)


def test_latency_threshold_not_a_bound_lists_the_bounds(prometheus: Backfilled) -> None:
    slo = latency("checkout", 0.3, name="latency-300ms")
    with (
        PrometheusSource(prometheus.url, use_rollups=False) as source,
        pytest.raises(SpecError) as raised,
    ):
        source.counts([slo, availability("search")], _windows(END, ["1h"]))
    assert raised.value.field == "indicator.threshold"
    message = str(raised.value)
    assert "checkout-latency-300ms" in message
    assert "0.1, 0.25, 0.5, 1, 2.5, 5, +Inf" in message


def test_service_without_samples_has_no_data(prometheus: Backfilled) -> None:
    """batch's series stop 3 hours before the end: short windows are empty, not zero."""
    slos = [availability("batch"), latency("batch")]
    with PrometheusSource(prometheus.url, use_rollups=False) as source:
        counts = source.counts(slos, _windows(END))
    for slo in slos:
        assert counts[(slo.id, "5m")] is None
        assert counts[(slo.id, "1h")] is None
        six_hours = counts[(slo.id, "6h")]
        assert six_hours is not None
        assert six_hours.total > 0
        assert_counts(six_hours, expected(prometheus.dataset, slo, END, 21600), slo.id)


def test_counter_reset_counts_events_across_it(prometheus: Backfilled) -> None:
    dataset = prometheus.dataset
    spec = next(s for s in TEST_SERVICES if s.reset_day is not None)
    assert spec.reset_day is not None
    at = dataset.start + timedelta(days=spec.reset_day, minutes=30)
    slo = availability(spec.name)
    with PrometheusSource(prometheus.url, use_rollups=False) as source:
        reading = source.counts([slo], _windows(at, ["1h"]))[(slo.id, "1h")]
    series = dataset.select("http_requests_total", service=spec.name)
    assert reading is not None
    assert reading.total == dataset.events(series, at - timedelta(hours=1), at)
    assert 0 < reading.total < 2 * 60 * spec.rate_per_min


def test_subquery_fallback_matches_raw_counters(prometheus: Backfilled) -> None:
    slos = [subquery("search"), availability("search")]
    with PrometheusSource(prometheus.url, use_rollups=False) as source:
        counts = source.counts(slos, _windows(END, ["1h", "1d"]))
    for label in ("1h", "1d"):
        via_subquery = counts[(slos[0].id, label)]
        raw = counts[(slos[1].id, label)]
        assert via_subquery is not None
        assert raw is not None
        assert via_subquery.total == pytest.approx(raw.total, rel=1e-9)
        assert via_subquery.good == pytest.approx(raw.good, rel=1e-9)


def test_many_slos_cost_few_requests(prometheus: Backfilled) -> None:
    requests: list[httpx.Request] = []
    slos = [
        availability(service, name=f"availability-{n}") for n in range(10) for service in SERVICES
    ]
    assert len(slos) == 50
    with httpx.Client(event_hooks={"request": [requests.append]}) as client:
        source = PrometheusSource(
            prometheus.url, client=client, use_rollups=False, use_recordings=False
        )
        counts = source.counts(slos, _windows(END))
    # 50 SLOs × 5 windows × 2 expressions = 500, joined 200 per query.
    assert len(requests) == 3
    assert all(r.method == "POST" and r.url.path == "/api/v1/query" for r in requests)
    for slo in slos:
        for label, window_s in WINDOWS_S.items():
            assert_counts(
                counts[(slo.id, label)],
                expected(prometheus.dataset, slo, END, window_s),
                f"{slo.id} over {label}",
            )


def test_query_error_names_the_slo_and_field(prometheus: Backfilled) -> None:
    broken = SLO(
        service="search",
        name="broken",
        objective=0.99,
        window=availability("search").window,
        indicator=PromRatio(good="sum(rate(x[{{.window}}])", total="http_requests_total"),
        source_file="slos/search.yaml",
    )
    fine = [availability(s) for s in SERVICES]
    with (
        PrometheusSource(prometheus.url, use_rollups=False) as source,
        pytest.raises(SpecError) as raised,
    ):
        source.counts([*fine, broken, *fine[:2]], _windows(END, ["1h"]))
    assert raised.value.field == "indicator.good"
    assert raised.value.file == "slos/search.yaml"
    assert "search-broken" in str(raised.value)
    assert "parse error" in str(raised.value)


def test_prometheus_down_is_source_unavailable() -> None:
    with socket.socket() as sock:  # a port bound then released: nothing listens there
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    with (
        PrometheusSource(url, retries=3, backoff_s=0.01) as source,
        pytest.raises(SourceUnavailable) as raised,
    ):
        source.counts([availability("checkout")], _windows(END, ["1h"]))
    message = str(raised.value)
    assert url in message
    assert "3 attempts" in message
    assert "connect" in message


def _last_rollup(url: str, at: datetime) -> datetime:
    """When the rollup group last ran before `at` (its hourly offset is the ruler's choice)."""
    answer = httpx.post(
        f"{url}/api/v1/query",
        data={"query": "srekit_slo:total_events:increase1h[2h]", "time": at.timestamp()},
    ).json()
    latest = max(float(v[0]) for series in answer["data"]["result"] for v in series["values"])
    return datetime.fromtimestamp(latest, tz=at.tzinfo)


def exact_events(dataset: Dataset, slo: SLO, at: datetime, window_s: int) -> EventCounts:
    """Every event in (at − window, at], counted from the generated per-minute counts."""
    start = at - timedelta(seconds=window_s)
    indicator = slo.indicator
    if isinstance(indicator, PromLatency):

        def at_threshold(le: str) -> bool:
            return le != "+Inf" and float(le) == indicator.threshold_s

        metric = indicator.metric
        good_series = dataset.select(f"{metric}_bucket", service=slo.service, le=at_threshold)
        total_series = dataset.select(f"{metric}_count", service=slo.service)
        good = dataset.events(good_series, start, at)
        return EventCounts(good=good, total=dataset.events(total_series, start, at))
    requests = dataset.select("http_requests_total", service=slo.service)
    errors = dataset.select("http_requests_total", service=slo.service, code=_is_5xx)
    total = dataset.events(requests, start, at)
    return EventCounts(good=total - dataset.events(errors, start, at), total=total)


def _reset_tolerance(dataset: Dataset, series: list[Series], start: datetime, end: datetime) -> int:
    """Events a reset may cost a window holding it: rollups of the two hours around a reset fall
    back to `increase()`, which estimates one minute per hour (the busiest bounds it)."""
    resets = {one.reset_index for one in series if one.reset_index is not None}
    first = round((start.timestamp() - dataset.start_s) / dataset.step_s)
    last = min(round((end.timestamp() - dataset.start_s) / dataset.step_s), dataset.samples - 1)
    if not any(first < index <= last for index in resets):
        return 0
    busiest = max(sum(one.increments[i] for one in series) for i in range(first + 1, last + 1))
    return 2 * busiest + 1


@pytest.mark.parametrize("when", ["end", "within", "past-rollups"])
def test_rollups_count_windows_exactly(prometheus_rollups: Backfilled, when: str) -> None:
    """Rollups plus the raw minutes around them give every event of a long window, no more.

    A window whose first rollup reaches back before the history is left out: that rollup has
    no earlier sample to count from, so it is `increase()`'s estimate. At `past-rollups`, an
    hour after the last rollup (the ruler picks its minute), the 30-day window starts late
    enough to be checked too.
    """
    recorded = [availability(s) for s in SERVICES] + [latency(s) for s in SERVICES]
    not_recorded = [rate_template("checkout"), availability("checkout", name="unrecorded")]
    slos = recorded + not_recorded
    url = prometheus_rollups.url
    dataset = prometheus_rollups.dataset
    at = {
        "end": END,
        "within": END - timedelta(hours=5, minutes=17),
        "past-rollups": _last_rollup(url, END) + timedelta(hours=1, minutes=1),
    }[when]
    last = _last_rollup(url, at)
    assert last < min(at, END)  # the ruler's offset leaves minutes to add
    rollup_requests: list[httpx.Request] = []
    with httpx.Client(event_hooks={"request": [rollup_requests.append]}) as client:
        rolled = PrometheusSource(url, client=client, use_recordings=False).counts(
            slos, _windows(at)
        )
    with PrometheusSource(url, use_rollups=False, use_recordings=False) as source:
        raw = source.counts(slos, _windows(at))
    with PrometheusSource(url, use_recordings=False, rollup_windows="hourly") as source:
        hourly = source.counts(slos, _windows(at))
    checked = 0
    for slo in slos:
        for label, window_s in WINDOWS_S.items():
            key = (slo.id, label)
            if slo in not_recorded or window_s < 86400 or slo.service == "batch":
                # Short windows and unrecorded SLOs are read raw. So is batch: its series
                # stop 3 h before the end and it has no rollups for those hours.
                assert_counts(rolled[key], raw[key], f"{key} read raw")
                continue
            reading = rolled[key]
            assert reading is not None, key
            start = at - timedelta(seconds=window_s)
            hours_covered = math.ceil((last - start) / timedelta(hours=1))
            if last - timedelta(hours=hours_covered) < dataset.start:
                continue
            wanted = exact_events(dataset, slo, at, window_s)
            series = dataset.select("http_requests_total", service=slo.service)
            tolerance = _reset_tolerance(dataset, series, start, at)
            assert reading.total == pytest.approx(wanted.total, abs=tolerance or 1e-9), key
            assert reading.good == pytest.approx(wanted.good, abs=tolerance or 1e-9), key
            # `hourly`: the rollups alone, a window ending at the last rollup (if fresh).
            if at - last >= timedelta(hours=1):
                assert_counts(hourly[key], raw[key], f"{key} read raw: late rollups")
                checked += 1
                continue
            as_of_last = exact_events(dataset, slo, last, window_s)
            counted = hourly[key]
            assert counted is not None, key
            assert counted.total == pytest.approx(as_of_last.total, abs=tolerance or 1e-9)
            assert counted.good == pytest.approx(as_of_last.good, abs=tolerance or 1e-9)
            checked += 1
    assert checked == 2 * (len(SERVICES) - 1) * (2 if when == "past-rollups" else 1)
    # instants, one rollup query per long window, gap pieces, raw queries for the rest.
    rollup_queries = [r for r in rollup_requests if b"increase1h%5B" in r.content]
    assert len(rollup_queries) == 1 + 2
    assert len(rollup_requests) <= 1 + 2 + 1 + 2


def test_partial_rollups_fall_back_to_raw(prometheus_rollups: Backfilled) -> None:
    """Rollups start with the history: a window reaching before it is read raw."""
    dataset = prometheus_rollups.dataset
    at = dataset.start + timedelta(days=1, hours=6)
    slo = availability("search")
    window = WindowQuery("2d", at - timedelta(days=2), at)
    with PrometheusSource(prometheus_rollups.url) as source:
        reading = source.counts([slo], [window])[(slo.id, "2d")]
    assert_counts(reading, expected(dataset, slo, at, window.duration_s), "2d")


def test_slices_count_each_slice(prometheus: Backfilled) -> None:
    dataset = prometheus.dataset
    slo = availability("checkout")
    start = END - timedelta(days=1)
    with PrometheusSource(prometheus.url) as source:
        slices = source.slices(slo, start=start, end=END, slice_s=3600)
    assert len(slices) == 24
    for index, reading in enumerate(slices):
        slice_end = start + timedelta(hours=index + 1)
        assert_counts(reading, expected(dataset, slo, slice_end, 3600), f"slice {index}")


def test_threshold_slices_and_counts_agree(prometheus: Backfilled) -> None:
    """The checkout incident at the end pushes the 5xx rate over 1/s in the last hour."""
    slo = threshold("checkout", max_errors_per_s=1.0)
    start = END - timedelta(days=1)
    with PrometheusSource(prometheus.url) as source:
        slices = source.slices(slo, start=start, end=END, slice_s=3600)
        counts = source.counts([slo], _windows(END, ["1d"]))[(slo.id, "1d")]
    assert len(slices) == 24
    assert all(s is not None and s.total == 1 for s in slices)
    good = sum(s.good for s in slices if s is not None)
    assert good == 23
    assert slices[-1] == EventCounts(good=0.0, total=1.0)
    assert counts == EventCounts(good=good, total=24)


# Recorded error ratios (srekit's own rules, backfilled by promtool for the last 7 hours)


def _evaluations(url: str, at: datetime) -> dict[tuple[str, str], datetime]:
    """When each SLO's rule group last ran at or before `at`, per (service, slo name).

    The ruler (and promtool, like it) offsets each group's evaluations within the interval by a
    hash of its name, so every SLO has its own evaluation instants.
    """
    query = f"timestamp({promql.error_ratio_metric(21600)})"
    answer = httpx.post(f"{url}/api/v1/query", data={"query": query, "time": at.timestamp()})
    return {
        (item["metric"]["srekit_service"], item["metric"]["srekit_slo"]): datetime.fromtimestamp(
            float(item["value"][1]), tz=at.tzinfo
        )
        for item in answer.json()["data"]["result"]
    }


def _error_ratio(reading: EventCounts | None) -> float | None:
    return None if reading is None else reading.error_ratio


def test_recorded_ratios_match_raw_at_the_evaluation(prometheus_recordings: Backfilled) -> None:
    """Read at END, a recording is the group's last evaluation: raw counters then give the same.

    The rule and the raw reading run the same increase() over the same samples at the same
    instant; they differ only in float rounding (bad/total against 1 - (total-bad)/total, a few
    ulps of a ratio ≤ 1), so 1e-12 on the error ratio is ample and still catches any window or
    instant mismatch, which moves ratios here by 1e-5 or more.
    """
    url = prometheus_recordings.url
    slos = recorded_slos()
    evaluations = _evaluations(url, END)
    assert len(evaluations) == len(slos)
    requests: list[httpx.Request] = []
    with httpx.Client(event_hooks={"request": [requests.append]}) as client:
        source = PrometheusSource(url, client=client, use_rollups=False)
        recorded = source.counts(slos, _windows(END, list(RECORDED_S)))
    assert len(requests) == 2  # the recordings, then raw counters where batch has none
    from_recordings = 0
    with PrometheusSource(url, use_rollups=False, use_recordings=False) as raw_source:
        for slo in slos:
            last = evaluations[(slo.service, slo.name)]
            assert END - timedelta(minutes=1) < last <= END, slo.id
            raw = raw_source.counts([slo], _windows(last, list(RECORDED_S)))
            with PrometheusSource(url, use_rollups=False) as at_last:
                again = at_last.counts([slo], _windows(last, list(RECORDED_S)))
            for label in RECORDED_S:
                key = (slo.id, label)
                reading, wanted = recorded[key], raw[key]
                if reading is not None and not reading.counted:
                    from_recordings += 1
                assert again[key] == reading, key
                want = _error_ratio(wanted)
                if want is None:
                    assert reading is None, key
                    continue
                assert reading is not None, key
                assert reading.error_ratio == pytest.approx(want, rel=0, abs=1e-12), key
    # batch's series stop 3 h before the end: its 5m-2h recordings are absent, read raw (None).
    assert from_recordings == len(slos) * len(RECORDED_S) - 2 * 4


def test_recorded_nan_means_no_data(prometheus_recordings: Backfilled) -> None:
    """auth has minutes without requests: a 5-minute ratio of 0/0 is recorded as NaN."""
    url = prometheus_recordings.url
    slo = availability("auth")
    selector = f'{promql.error_ratio_metric(300)}{{srekit_service="auth",srekit_slo="{slo.name}"}}'
    answer = httpx.post(
        f"{url}/api/v1/query", data={"query": f"{selector}[6h]", "time": END.timestamp()}
    ).json()
    (series,) = answer["data"]["result"]
    empty = [float(t) for t, value in series["values"] if value == "NaN"]
    assert empty
    at = datetime.fromtimestamp(empty[-1], tz=END.tzinfo)
    requests: list[httpx.Request] = []
    with httpx.Client(event_hooks={"request": [requests.append]}) as client:
        source = PrometheusSource(url, client=client, use_rollups=False)
        reading = source.counts([slo], _windows(at, ["5m"]))[(slo.id, "5m")]
    assert reading is None
    assert len(requests) == 1  # answered by the recording, not by raw counters
    with PrometheusSource(url, use_rollups=False, use_recordings=False) as raw_source:
        raw = raw_source.counts([slo], _windows(at, ["5m"]))[(slo.id, "5m")]
    assert _error_ratio(raw) is None


def test_recordings_older_than_the_lookback_are_not_used(
    prometheus_recordings: Backfilled,
) -> None:
    """Six minutes after the last evaluation Prometheus returns no recorded sample: read raw."""
    url = prometheus_recordings.url
    slos = recorded_slos()
    at = END + timedelta(minutes=6)
    windows = _windows(at, list(RECORDED_S))
    with PrometheusSource(url, use_rollups=False) as source:
        counts = source.counts(slos, windows)
    with PrometheusSource(url, use_rollups=False, use_recordings=False) as raw_source:
        raw = raw_source.counts(slos, windows)
    assert counts == raw
    reading = counts[(availability("checkout").id, "6h")]
    assert reading is not None
    assert reading.counted


def test_full_status_reads_recordings_and_rollups(prometheus_recordings: Backfilled) -> None:
    """`srekit status`'s eight windows in a handful of requests, the budget still from counts."""
    url = prometheus_recordings.url
    slos = recorded_slos()
    requests: list[httpx.Request] = []
    statuses = {}
    for recordings in (True, False):
        with httpx.Client(event_hooks={"request": [requests.append]}) as client:
            source = PrometheusSource(url, client=client, use_recordings=recordings)
            requests.clear()
            statuses[recordings] = evaluate_statuses(
                slos,
                at=END,
                sources=SourceSet(prometheus=source),
                policies={},
            )
            if recordings:
                # recordings, rollup instants, rollups for 1d 3d 30d, one batch of the raw
                # minutes around the rollups, and one raw batch for what neither covers
                # (batch's short windows, the SLOs without rollups).
                assert len(requests) == 1 + 1 + 3 + 1 + 1
    evaluations = _evaluations(url, END)
    for slo, fast, slow in zip(slos, statuses[True], statuses[False], strict=True):
        assert fast.counts == slow.counts
        if not isinstance(slo.indicator, PromErrorRatio):  # a ratio-only indicator
            assert fast.counts is not None
            assert fast.counts.counted
        assert fast.error_budget == slow.error_budget
        for label in ("1d", "3d", "30d"):
            assert fast.burn_rates[label] == slow.burn_rates[label]
        if (fast.service, fast.slo) in evaluations and fast.service != "batch":
            assert all(fast.burn_rates[label] is not None for label in RECORDED_S)
