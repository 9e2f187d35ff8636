"""Run every benchmark in turn (`make bench`); each prints figures and writes JSON to results/."""

from __future__ import annotations

from benchmarks import (
    bench_api,
    bench_canary,
    bench_capacity,
    bench_capacity_plan,
    bench_events,
    bench_history,
    bench_incident_stats,
    bench_load_accuracy,
    bench_load_gate,
    bench_oncall,
    bench_report,
    bench_rules,
    bench_specs,
    bench_status_prometheus,
    bench_web,
)


def main() -> None:
    bench_rules.main()
    bench_incident_stats.main()
    bench_oncall.main()
    bench_report.main()
    bench_specs.main([])
    bench_events.main([])
    bench_status_prometheus.main()
    bench_api.main()
    bench_history.main([])
    bench_web.main([])
    bench_capacity.main([])
    bench_canary.main()
    bench_capacity_plan.main([])
    bench_load_gate.main([])
    bench_load_accuracy.main([])


if __name__ == "__main__":
    main()
