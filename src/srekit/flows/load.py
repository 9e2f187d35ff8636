"""Run a load test: send the plan's traffic (`srekit.loadgen`), judge its thresholds
(`core.load`), and shape what it measured as srekit's JSON and k6's summary export.

srekit's JSON (`report_document`, documented in docs/load.md) carries every metric's figures
and, per series, the HDR histograms themselves as histoblobs, so a later tool can merge runs or
read any percentile exactly. `k6_summary_export` writes k6's `--summary-export` shape, for the
tools that read k6's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from srekit.core.load import (
    METRIC_TYPES,
    ClosedModel,
    LoadPlan,
    MetricSummary,
    ThresholdVerdict,
    evaluate_threshold,
    expected_arrivals,
    parse_metric_key,
    percentiles_needed,
    planned_iterations,
)
from srekit.loadgen.recorder import SeriesSet
from srekit.loadgen.runner import RunState, run_plan

__all__ = [
    "TREND_STATS",
    "LoadReport",
    "abort_due",
    "k6_summary_export",
    "report_document",
    "run_load_test",
    "summarize",
]

#: The percentiles every trend is reported at, as k6's summary names them.
TREND_STATS = (50.0, 90.0, 95.0, 99.0, 99.9)
_REPORTED = tuple(METRIC_TYPES)


@dataclass(frozen=True)
class LoadReport:
    """A finished run: its figures per metric key, the thresholds' verdicts, and the rates."""

    plan: LoadPlan
    state: RunState
    summaries: dict[str, MetricSummary]
    verdicts: tuple[ThresholdVerdict, ...]
    asked_rate: float | None
    achieved_rate: float | None

    @property
    def thresholds_passed(self) -> bool:
        return all(verdict.passed for verdict in self.verdicts)

    @property
    def succeeded(self) -> int:
        return self.state.measured.outcomes.get("ok", 0)

    @property
    def iterations_planned(self) -> int | None:
        """A count-bounded model's planned iterations (None: the run's length was time)."""
        return planned_iterations(self.plan.model)

    @property
    def iterations_done(self) -> int:
        """Iterations that ended, the warmup's included."""
        return self.state.measured.completed_iterations

    @property
    def cut_by_max_duration(self) -> bool:
        """Whether maxDuration ended a count-bounded run before its iterations were done (an
        abortOnFail stop is reported as `aborted`, not as this)."""
        planned = self.iterations_planned
        return planned is not None and not self.state.aborted and self.iterations_done < planned

    def iterations_document(self) -> dict[str, Any] | None:
        """`{planned, done, max_duration_s, cut_by_max_duration}` of a count-bounded run."""
        model = self.plan.model
        planned = self.iterations_planned
        if planned is None or not isinstance(model, ClosedModel):
            return None
        return {
            "planned": planned,
            "done": self.iterations_done,
            "max_duration_s": model.max_duration_s,
            "cut_by_max_duration": self.cut_by_max_duration,
        }


def _vus(plan: LoadPlan) -> int:
    return plan.model.vus if isinstance(plan.model, ClosedModel) else plan.model.max_in_flight


def summarize(plan: LoadPlan, measured: SeriesSet, elapsed_s: float) -> dict[str, MetricSummary]:
    """Every reported metric and every threshold's (sub-)metric, as core reads them."""
    keys = list(dict.fromkeys([*_REPORTED, *(t.key for t in plan.thresholds)]))
    summaries = {}
    for key in keys:
        metric, tags = parse_metric_key(key)
        wanted = sorted({*TREND_STATS, *percentiles_needed(plan.thresholds, key)})
        summaries[key] = measured.summary(
            metric, tags, percentiles=wanted, elapsed_s=elapsed_s, vus=_vus(plan)
        )
    return summaries


def abort_due(plan: LoadPlan, state: RunState) -> bool:
    """Whether an abortOnFail threshold fails on the run so far, its delay passed."""
    armed = [
        t for t in plan.thresholds if t.abort_on_fail and state.elapsed_s >= t.delay_abort_eval_s
    ]
    if not armed:
        return False
    summaries = summarize(plan, state.measured, state.elapsed_s)
    return any(not evaluate_threshold(t, summaries[t.key]).passed for t in armed)


def run_load_test(
    plan: LoadPlan, *, workers: int, on_progress: Callable[[RunState], None] | None = None
) -> LoadReport:
    """Send `plan`'s traffic on `workers` processes and judge it."""

    def tick(state: RunState) -> bool:
        if on_progress is not None:
            on_progress(state)
        return abort_due(plan, state)

    state = run_plan(plan, workers=workers, on_tick=tick)
    summaries = summarize(plan, state.measured, state.elapsed_s)
    verdicts = tuple(evaluate_threshold(t, summaries[t.key]) for t in plan.thresholds)
    asked: float | None = None
    if not isinstance(plan.model, ClosedModel) and plan.duration_s:
        asked = expected_arrivals(start_rate=plan.model.start_rate, stages=plan.model.stages)
        asked /= plan.duration_s
    measured = state.measured
    achieved: float | None = None
    if measured.first_send is not None and measured.last_send is not None and measured.sends > 1:
        span = measured.last_send - measured.first_send
        achieved = (measured.sends - 1) / span if span > 0 else None
    return LoadReport(
        plan=plan,
        state=state,
        summaries=summaries,
        verdicts=verdicts,
        asked_rate=asked,
        achieved_rate=achieved,
    )


def _stat_name(percentile: float) -> str:
    return "med" if percentile == 50 else f"p({percentile:g})"


def _figures(summary: MetricSummary) -> dict[str, float | int | None]:
    if summary.metric_type == "trend":
        if summary.count == 0:
            return {"count": 0}
        figures: dict[str, float | int | None] = {
            "count": summary.count,
            "avg": summary.total / summary.count,
            "min": summary.minimum,
            "max": summary.maximum,
        }
        figures.update({_stat_name(p): v for p, v in sorted(summary.percentiles.items())})
        return figures
    if summary.metric_type == "rate":
        rate = summary.hits / summary.count if summary.count else None
        return {"rate": rate, "passes": summary.hits, "fails": summary.count - summary.hits}
    if summary.metric_type == "counter":
        per_s = summary.count / summary.elapsed_s if summary.elapsed_s > 0 else None
        return {"count": summary.count, "rate": per_s}
    return {"value": summary.value}


def report_document(report: LoadReport) -> dict[str, Any]:
    """srekit's JSON of a run (docs/load.md): figures in ms, thresholds, histoblobs."""
    plan = report.plan
    measured = report.state.measured.encode()
    return {
        "name": plan.name,
        "target": plan.target,
        "model": "closed" if isinstance(plan.model, ClosedModel) else "open",
        "duration_s": report.state.elapsed_s,
        "warmup_s": plan.warmup_s,
        "workers": report.state.workers,
        "aborted": report.state.aborted,
        "iterations": report.iterations_document(),
        "rate": {
            "iterations_asked_per_s": report.asked_rate,
            "requests_sent_per_s": report.achieved_rate,
        },
        "outcomes": measured["outcomes"],
        "errors": dict(report.state.errors),
        "metrics": {
            key: {"type": summary.metric_type, **_figures(summary)}
            for key, summary in report.summaries.items()
        },
        "thresholds": [
            {
                "metric": verdict.threshold.key,
                "threshold": verdict.threshold.source,
                "observed": verdict.observed,
                "passed": verdict.passed,
                "abort_on_fail": verdict.threshold.abort_on_fail,
            }
            for verdict in report.verdicts
        ],
        "passed": report.thresholds_passed,
        "histogram_unit": "us",
        "series": measured["series"],
    }


def k6_summary_export(report: LoadReport) -> dict[str, Any]:
    """k6's `--summary-export` shape: metrics by key, trends' `avg min med max p(90) p(95)`,
    rates' `passes fails value`, counters' `count rate`, and each threshold mapped to whether
    it *failed* (as k6 writes it)."""
    metrics: dict[str, dict[str, Any]] = {}
    for key, summary in report.summaries.items():
        figures = _figures(summary)
        shown: dict[str, Any]
        if summary.metric_type == "trend":
            shown = {
                name: figures.get(name, 0) or 0
                for name in ("avg", "min", "med", "max", "p(90)", "p(95)")
            }
        elif summary.metric_type == "rate":
            shown = {
                "passes": figures["passes"],
                "fails": figures["fails"],
                "value": figures["rate"] or 0,
            }
        elif summary.metric_type == "counter":
            shown = {"count": figures["count"], "rate": figures["rate"] or 0}
        else:
            shown = {"value": figures["value"], "min": figures["value"], "max": figures["value"]}
        metrics[key] = shown
    for verdict in report.verdicts:
        entry = metrics[verdict.threshold.key]
        entry.setdefault("thresholds", {})[verdict.threshold.source] = not verdict.passed
    return {
        "root_group": {
            "name": "",
            "path": "",
            "id": "d41d8cd98f00b204e9800998ecf8427e",
            "groups": {},
            "checks": {},
        },
        "options": {
            "summaryTrendStats": ["avg", "min", "med", "max", "p(90)", "p(95)"],
            "summaryTimeUnit": "",
            "noColor": False,
        },
        "state": {
            "isStdOutTTY": False,
            "isStdErrTTY": False,
            "testRunDurationMs": report.state.elapsed_s * 1000,
        },
        "metrics": metrics,
    }
