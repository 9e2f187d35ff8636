"""srekit's Prometheus metrics, exposed at `/metrics`: is the evaluator running, and well?
And what does it find: every SLO's figures from its latest status (`SloStatusCollector`).

Each `SrekitMetrics()` owns a fresh `CollectorRegistry` rather than the process-global one, so
tests (and a process embedding several apps) can build as many as they like without "duplicated
timeseries" errors. The server builds one per app, passes it to the `Evaluator`, registers its
own request metrics on `.registry`, and serves `.exposition()` followed by
`.slo_exposition(statuses)`, the SLOs' figures built at scrape time from the latest statuses.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from srekit.core.status import SloStatus

__all__ = ["SloStatusCollector", "SrekitMetrics"]

# Rounds query every SLO's sources: from well under a second to a Prometheus timeout (30 s).
_ROUND_BUCKETS_S = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)


class SrekitMetrics:
    """The evaluator's metrics on a registry of their own.

    - `srekit_evaluation_rounds_total{outcome}`: rounds that evaluated (`ok`), raised (`failed`)
      or left the work to the replica holding the lock (`skipped`).
    - `srekit_evaluation_round_duration_seconds`: how long evaluating rounds took.
    - `srekit_sli_source_failures_total{source}`: rounds in which a source could not answer.
    - `srekit_evaluation_slos{data}`: SLOs of the last round per data state (ok, stale, ...).
    - `srekit_evaluation_last_success_timestamp_seconds`: when a round last completed; alert
      on `time() - this` to catch an evaluator that stopped.
    - `srekit_evaluation_leader`: 1 while this replica holds the evaluation lock.
    """

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.rounds = Counter(
            "srekit_evaluation_rounds",
            "Evaluation rounds by outcome: ok, failed or skipped (another replica evaluates).",
            ["outcome"],
            registry=self.registry,
        )
        self.round_duration = Histogram(
            "srekit_evaluation_round_duration_seconds",
            "Duration of evaluation rounds that ran, in seconds.",
            buckets=_ROUND_BUCKETS_S,
            registry=self.registry,
        )
        self.source_failures = Counter(
            "srekit_sli_source_failures",
            "Evaluation rounds in which an SLI source could not be read, by source.",
            ["source"],
            registry=self.registry,
        )
        self.slos_evaluated = Gauge(
            "srekit_evaluation_slos",
            "SLOs evaluated in the last round, by data state.",
            ["data"],
            registry=self.registry,
        )
        self.last_success = Gauge(
            "srekit_evaluation_last_success_timestamp_seconds",
            "Unix time at which the last evaluation round completed.",
            registry=self.registry,
        )
        self.leader = Gauge(
            "srekit_evaluation_leader",
            "1 while this replica holds the evaluation lock (always 1 on SQLite).",
            registry=self.registry,
        )
        for outcome in ("ok", "failed", "skipped"):
            self.rounds.labels(outcome)  # exported as 0 before the first round, not absent
        self._slo_rendered: tuple[Sequence[SloStatus], bytes] | None = None

    def exposition(self) -> tuple[bytes, str]:
        """The registry in Prometheus' text format, and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST

    def cached_slo_exposition(self, statuses: Sequence[SloStatus] | None) -> bytes | None:
        """`slo_exposition(statuses)` when it was already rendered for this very list, else
        None: the statuses are reloaded only when an evaluation round stored new ones, and
        rendering a thousand SLOs' series costs tens of milliseconds."""
        rendered = self._slo_rendered
        return rendered[1] if rendered is not None and rendered[0] is statuses else None

    def slo_exposition(self, statuses: Sequence[SloStatus] | None) -> bytes:
        """`SloStatusCollector(statuses)` in Prometheus' text format, kept for the next scrape
        of the same list (which is kept with it, so its identity cannot be reused)."""
        cached = self.cached_slo_exposition(statuses)
        if cached is not None:
            return cached
        body = generate_latest(SloStatusCollector(statuses))
        if statuses is not None:
            self._slo_rendered = (statuses, body)
        return body


_SLO_LABELS = ("service", "slo")


class SloStatusCollector:
    """Every SLO's figures from the latest statuses, as gauges built at scrape time.

    Nothing is registered per SLO, so an SLO deleted from the store is absent from the next
    scrape and nothing grows with the SLOs ever seen. `statuses` is None when they could not
    be read: then only `srekit_slo_statuses_up 0` is exported, and the rest of `/metrics`
    still answers. A figure the status does not have (no data, no exhaustion in sight) has no
    sample, as in the status JSON where it is null.
    """

    def __init__(self, statuses: Sequence[SloStatus] | None) -> None:
        self.statuses = statuses

    def collect(self) -> Iterable[Metric]:
        up = GaugeMetricFamily(
            "srekit_slo_statuses_up",
            "1 when this scrape read the SLOs' latest statuses, 0 when it could not (the "
            "srekit_slo_* series are then absent; the server's log says why).",
            value=0 if self.statuses is None else 1,
        )
        yield up
        if self.statuses is None:
            return
        sli = _gauge("sli_ratio", "SLI over the SLO window: good / valid events (0 to 1).")
        objective = _gauge("objective_ratio", "The SLO's objective (target), 0 to 1.")
        remaining = _gauge(
            "error_budget_remaining_ratio",
            "Fraction of the error budget left over the SLO window: 1 untouched, 0 spent, "
            "below 0 overspent.",
        )
        burn = _gauge(
            "burn_rate_ratio",
            "Burn rate over `window`: the error ratio divided by the budgeted one "
            "(1 spends the budget exactly over the SLO window).",
            "window",
        )
        exhaustion = _gauge(
            "time_to_exhaustion_seconds",
            "Seconds until the error budget is spent at the 1h burn rate (absent when it is "
            "not being spent).",
        )
        policy = _gauge(
            "policy_state",
            "1 for the SLO's error-budget policy state (label `state`; `unknown` without a "
            "budget).",
            "state",
        )
        data = _gauge(
            "data_state",
            "1 for how far the SLO's figures can be trusted (label `state`: ok, no_data, "
            "stale, error).",
            "state",
        )
        evaluated = _gauge(
            "evaluation_timestamp_seconds",
            "Unix time the SLO's figures are for (the status' `at`).",
        )
        for status in self.statuses:
            key = [status.service, status.slo]
            objective.add_metric(key, status.objective)
            # the figures the status JSON shows (`contracts.figure`), not their float noise
            if status.sli is not None:
                sli.add_metric(key, _figure(status.sli))
            if status.error_budget is not None:
                remaining.add_metric(key, _figure(status.error_budget.remaining))
            for window, rate in status.burn_rates.items():
                if rate is not None:
                    burn.add_metric([*key, window], _figure(rate))  # keys are window names
            if status.time_to_exhaustion_s is not None:
                exhaustion.add_metric(key, _figure(status.time_to_exhaustion_s))
            policy.add_metric([*key, status.policy_state], 1)
            data.add_metric([*key, status.data.value], 1)
            evaluated.add_metric(key, status.at.timestamp())
        yield from (sli, objective, remaining, burn, exhaustion, policy, data, evaluated)


def _figure(value: float) -> float:
    from srekit.contracts import figure

    return figure(value) or 0.0


def _gauge(name: str, documentation: str, *extra_labels: str) -> GaugeMetricFamily:
    return GaugeMetricFamily(
        f"srekit_slo_{name}", documentation, labels=[*_SLO_LABELS, *extra_labels]
    )
