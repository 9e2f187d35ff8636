"""What a run measured: HDR histograms per metric per tag set, merged losslessly across workers.

Samples are kept per *series*, one per distinct tag set (`name`, `method`, `status`,
`expected_response` and the request's own tags), as k6 keeps them; a sub-metric such as
`http_req_duration{name:login}` is the merge of every series carrying its tags. Values are
recorded in microseconds, 1 µs to 1 hour at 3 significant digits (HdrHistogram's model: each
value is counted in a bucket at most 0.1 % wide, so any percentile is within 0.1 % of the
truth), and travel between processes as histoblobs (HdrHistogram's compressed, base64 V2
encoding), which add up exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hdrh.histogram import HdrHistogram

from srekit.core.load import MetricSummary, Outcome

__all__ = ["HIGHEST_US", "Series", "SeriesSet", "new_histogram"]

HIGHEST_US = 3_600_000_000
SIGNIFICANT_DIGITS = 3
Tags = tuple[tuple[str, str], ...]
_TRENDS = ("http_req_duration", "http_req_service_time", "iteration_duration")


def new_histogram() -> HdrHistogram:
    return HdrHistogram(1, HIGHEST_US, SIGNIFICANT_DIGITS)


@dataclass
class Series:
    """One tag set's samples: trends as histograms, requests and failures as counts.

    Values wait in plain dicts (µs → count) and reach the histograms in bulk when the series
    is encoded: a dict increment costs a tenth of HdrHistogram's `record_value`."""

    histograms: dict[str, HdrHistogram] = field(default_factory=dict)
    pending: dict[str, dict[int, int]] = field(default_factory=dict)
    requests: int = 0
    failed: int = 0
    iterations: int = 0

    def record(self, metric: str, seconds: float) -> None:
        micros = min(max(int(seconds * 1_000_000), 1), HIGHEST_US)
        counts = self.pending.setdefault(metric, {})
        counts[micros] = counts.get(micros, 0) + 1

    def flush(self) -> None:
        for metric, counts in self.pending.items():
            histogram = self.histograms.get(metric)
            if histogram is None:
                histogram = self.histograms[metric] = new_histogram()
            for micros, count in counts.items():
                histogram.record_value(micros, count)
        self.pending.clear()

    def encode(self) -> dict[str, Any]:
        self.flush()
        return {
            "requests": self.requests,
            "failed": self.failed,
            "iterations": self.iterations,
            "histograms": {
                metric: histogram.encode().decode("ascii")
                for metric, histogram in sorted(self.histograms.items())
            },
        }

    def add_encoded(self, data: Mapping[str, Any]) -> None:
        self.requests += int(data["requests"])
        self.failed += int(data["failed"])
        self.iterations += int(data["iterations"])
        for metric, blob in data["histograms"].items():
            histogram = self.histograms.get(metric)
            if histogram is None:
                histogram = self.histograms[metric] = new_histogram()
            histogram.decode_and_add(blob)


@dataclass
class SeriesSet:
    """Every series of a run (or of one interval of one worker), with the run-wide counts.

    `completed_iterations` counts every iteration that ended, the warmup's too (the
    `iterations` metric counts only measured ones): what a count-bounded model did of its plan."""

    series: dict[Tags, Series] = field(default_factory=dict)
    outcomes: dict[str, int] = field(default_factory=dict)
    dropped_iterations: int = 0
    completed_iterations: int = 0
    first_send: float | None = None
    last_send: float | None = None
    sends: int = 0

    def of(self, tags: Tags) -> Series:
        found = self.series.get(tags)
        if found is None:
            found = self.series[tags] = Series()
        return found

    def count_outcome(self, outcome: Outcome) -> None:
        self.outcomes[outcome.value] = self.outcomes.get(outcome.value, 0) + 1

    def sent(self, at: float) -> None:
        if self.first_send is None:
            self.first_send = at
        self.last_send = at
        self.sends += 1

    def encode(self) -> dict[str, Any]:
        """This set as plain data (for a pipe between processes or the JSON output)."""
        return {
            "series": [
                {"tags": dict(tags), **series.encode()} for tags, series in self.series.items()
            ],
            "outcomes": dict(self.outcomes),
            "dropped_iterations": self.dropped_iterations,
            "completed_iterations": self.completed_iterations,
            "first_send": self.first_send,
            "last_send": self.last_send,
            "sends": self.sends,
        }

    def add_encoded(self, data: Mapping[str, Any]) -> None:
        """Add another set's encoding to this one: counts add, histograms merge exactly."""
        for item in data["series"]:
            self.of(tuple(sorted(item["tags"].items()))).add_encoded(item)
        for outcome, count in data["outcomes"].items():
            self.outcomes[outcome] = self.outcomes.get(outcome, 0) + count
        self.dropped_iterations += data["dropped_iterations"]
        self.completed_iterations += data["completed_iterations"]
        if data["first_send"] is not None:
            first = data["first_send"]
            self.first_send = first if self.first_send is None else min(self.first_send, first)
        if data["last_send"] is not None:
            last = data["last_send"]
            self.last_send = last if self.last_send is None else max(self.last_send, last)
        self.sends += data["sends"]

    def matching(self, tags: Tags) -> Iterable[Series]:
        """The series carrying every tag of `tags` (all of them for no tags)."""
        for own, series in self.series.items():
            if all(pair in own for pair in tags):
                yield series

    def histogram(self, metric: str, tags: Tags) -> HdrHistogram | None:
        merged: HdrHistogram | None = None
        for series in self.matching(tags):
            series.flush()
            histogram = series.histograms.get(metric)
            if histogram is None:
                continue
            if merged is None:
                merged = new_histogram()
            merged.add(histogram)
        return merged

    def summary(
        self,
        metric: str,
        tags: Tags,
        *,
        percentiles: Iterable[float],
        elapsed_s: float,
        vus: int,
    ) -> MetricSummary:
        """The metric over the series matching `tags`, as core's thresholds read it."""
        if metric in _TRENDS:
            histogram = self.histogram(metric, tags)
            if histogram is None or histogram.get_total_count() == 0:
                return MetricSummary(metric_type="trend")
            count = histogram.get_total_count()
            return MetricSummary(
                metric_type="trend",
                count=count,
                total=histogram.get_mean_value() * count / 1000,
                minimum=histogram.get_min_value() / 1000,
                maximum=histogram.get_max_value() / 1000,
                percentiles={p: histogram.get_value_at_percentile(p) / 1000 for p in percentiles},
            )
        matched = list(self.matching(tags))
        if metric == "http_req_failed":
            return MetricSummary(
                metric_type="rate",
                count=sum(s.requests for s in matched),
                hits=sum(s.failed for s in matched),
            )
        if metric == "vus":
            return MetricSummary(metric_type="gauge", value=float(vus))
        if metric == "dropped_iterations":
            count = self.dropped_iterations if not tags else 0
        elif metric == "iterations":
            count = sum(s.iterations for s in matched)
        else:
            count = sum(s.requests for s in matched)
        return MetricSummary(metric_type="counter", count=count, elapsed_s=elapsed_s)
