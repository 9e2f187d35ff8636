"""srekit's own Prometheus metrics, exposed at `/metrics`: is the evaluator running, and well?

Each `SrekitMetrics()` owns a fresh `CollectorRegistry` rather than the process-global one, so
tests (and a process embedding several apps) can build as many as they like without "duplicated
timeseries" errors. The server builds one per app, passes it to the `Evaluator`, registers its
own request metrics on `.registry`, and serves `.exposition()`.
"""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

__all__ = ["SrekitMetrics"]

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

    def exposition(self) -> tuple[bytes, str]:
        """The registry in Prometheus' text format, and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
