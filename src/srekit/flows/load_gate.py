"""Load-test results per service: import a run, judge it against the service's baseline,
make a run the new baseline, read runs and baselines back.

Every number comes from `core.load_gate`; files are read by `loadresults`; each use case is
one transaction on the store (`store.repo.load`). A judged run is stored with its verdict,
and a passed verdict is what the deployment gate's load-test requirement looks for.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from srekit.core.instant import format_instant
from srekit.core.load_gate import (
    DEFAULT_RULES,
    GateCheck,
    GateRules,
    LoadSummary,
    LoadVerdict,
    gate_load,
)
from srekit.errors import SpecError
from srekit.loadresults import summary_document, summary_from_document
from srekit.store import StoreEngine
from srekit.store.database import transaction
from srekit.store.repo.load import (
    get_load_baseline,
    list_load_runs,
    load_baselines,
    record_load_run,
    set_load_baseline,
)

__all__ = [
    "GatedRun",
    "StoredBaseline",
    "StoredRun",
    "baseline_document",
    "check_document",
    "gate_rules",
    "gate_run",
    "import_run",
    "judge",
    "make_baseline",
    "run_document",
    "service_baselines",
    "service_runs",
    "verdict_document",
]


def gate_rules(
    *,
    latency_increase: float = DEFAULT_RULES.latency_increase,
    noise_floor_ms: float = DEFAULT_RULES.latency_noise_floor_ms,
    max_p95_ms: float | None = DEFAULT_RULES.max_p95_ms,
    max_p99_ms: float | None = DEFAULT_RULES.max_p99_ms,
    max_error_rate: float = DEFAULT_RULES.max_error_rate,
    error_rate_increase: float = DEFAULT_RULES.error_rate_increase,
    throughput_drop: float = DEFAULT_RULES.throughput_drop,
    throughput_noise_floor: float = DEFAULT_RULES.throughput_noise_floor,
    min_samples: int = DEFAULT_RULES.min_samples,
    allow_inconclusive: bool = DEFAULT_RULES.allow_inconclusive,
) -> GateRules:
    """The gate's rules from the limits as the CLI's options and the API's query name them
    (`noise_floor_ms` is the latency noise floor); a limit that is not a finite number >= 0
    (NaN and infinity pass their bounds) is a SpecError naming it."""
    try:
        return GateRules(
            latency_increase=latency_increase,
            latency_noise_floor_ms=noise_floor_ms,
            max_p95_ms=max_p95_ms,
            max_p99_ms=max_p99_ms,
            max_error_rate=max_error_rate,
            error_rate_increase=error_rate_increase,
            throughput_drop=throughput_drop,
            throughput_noise_floor=throughput_noise_floor,
            min_samples=min_samples,
            allow_inconclusive=allow_inconclusive,
        )
    except ValueError as error:
        raise SpecError(str(error)) from None


@dataclass(frozen=True)
class StoredRun:
    """A stored run: its summary, and the gate's verdict when it was judged."""

    id: int
    service: str
    tool: str
    source: str
    recorded_at: datetime
    recorded_by: str
    summary: LoadSummary
    verdict: str | None
    passed: bool | None
    checks: tuple[dict[str, Any], ...]
    baseline_version: int | None


@dataclass(frozen=True)
class StoredBaseline:
    service: str
    version: int
    run_id: int
    created_at: datetime
    created_by: str


@dataclass(frozen=True)
class GatedRun:
    """What the gate decided, the run it stored (None when asked not to store) and the
    baseline version it compared with (None: absolute limits only)."""

    service: str
    verdict: LoadVerdict
    summary: LoadSummary
    baseline: StoredRun | None
    baseline_version: int | None
    run_id: int | None


def check_document(check: GateCheck) -> dict[str, Any]:
    """One row of the gate's table as JSON (ratios as fractions, latencies in ms)."""
    return {
        "check": check.check,
        "tags": check.tags,
        "outcome": check.outcome.value,
        "current": check.current,
        "baseline": check.baseline,
        "limit": check.limit,
        "reason": check.reason,
    }


def _stored(row: Any) -> StoredRun:
    return StoredRun(
        id=row.id,
        service=row.service,
        tool=row.tool,
        source=row.source,
        recorded_at=row.recorded_at,
        recorded_by=row.recorded_by,
        summary=summary_from_document(row.summary),
        verdict=row.verdict,
        passed=row.passed,
        checks=tuple(row.checks),
        baseline_version=row.baseline_version,
    )


def import_run(
    engine: StoreEngine,
    *,
    service: str,
    summary: LoadSummary,
    source: str,
    actor: str,
    now: datetime,
) -> StoredRun:
    """Store `summary` as a run of `service`, unjudged (a candidate baseline)."""
    with transaction(engine) as session:
        row = record_load_run(
            session,
            service=service,
            tool=summary.tool,
            source=source,
            summary=summary_document(summary),
            actor=actor,
            now=now,
        )
        return _stored(row)


def judge(
    engine: StoreEngine,
    *,
    service: str,
    summary: LoadSummary,
    rules: GateRules,
    baseline_version: int | None = None,
    compare: bool = True,
) -> GatedRun:
    """The gate's verdict on `summary` for `service`, without storing it.

    With `compare`, the run is compared with baseline `baseline_version` (NotFound when the
    service has no such version), or with the newest baseline when none is named (absolute
    limits only when the service has none).
    """
    baseline: StoredRun | None = None
    version: int | None = None
    if compare:
        with transaction(engine, read_only=True) as session:
            try:
                row = get_load_baseline(session, service=service, version=baseline_version)
            except LookupError:
                if baseline_version is not None:
                    raise
            else:
                baseline, version = _stored(row.run), row.version
    verdict = gate_load(summary, baseline=baseline.summary if baseline else None, rules=rules)
    return GatedRun(service, verdict, summary, baseline, version, None)


def gate_run(
    engine: StoreEngine,
    *,
    service: str,
    summary: LoadSummary,
    source: str,
    rules: GateRules,
    actor: str,
    now: datetime,
    baseline_version: int | None = None,
    compare: bool = True,
    record: bool = True,
) -> GatedRun:
    """Judge `summary` (see `judge`) and, with `record`, store it with its verdict."""
    gated = judge(
        engine,
        service=service,
        summary=summary,
        rules=rules,
        baseline_version=baseline_version,
        compare=compare,
    )
    if not record:
        return gated
    with transaction(engine) as session:
        row = record_load_run(
            session,
            service=service,
            tool=summary.tool,
            source=source,
            summary=summary_document(summary),
            actor=actor,
            verdict=gated.verdict.outcome.value,
            passed=gated.verdict.passed,
            checks=[check_document(check) for check in gated.verdict.checks],
            baseline_version=gated.baseline_version,
            now=now,
        )
        run_id = row.id
    return GatedRun(service, gated.verdict, summary, gated.baseline, gated.baseline_version, run_id)


def make_baseline(
    engine: StoreEngine, *, service: str, run_id: int, actor: str, now: datetime
) -> StoredBaseline:
    """Make stored run `run_id` of `service` its next baseline version (audited)."""
    with transaction(engine) as session:
        row = set_load_baseline(session, service=service, run_id=run_id, actor=actor, now=now)
        return StoredBaseline(row.service, row.version, row.run_id, row.created_at, row.created_by)


def service_runs(
    engine: StoreEngine, *, service: str | None = None, limit: int = 50
) -> list[StoredRun]:
    """The newest runs (of `service`, or of all services) first."""
    with transaction(engine, read_only=True) as session:
        return [_stored(row) for row in list_load_runs(session, service=service, limit=limit)]


def service_baselines(engine: StoreEngine, *, service: str) -> list[StoredBaseline]:
    """`service`'s baseline versions, newest (the one in force) first."""
    with transaction(engine, read_only=True) as session:
        return [
            StoredBaseline(row.service, row.version, row.run_id, row.created_at, row.created_by)
            for row in load_baselines(session, service=service)
        ]


def verdict_document(gated: GatedRun) -> dict[str, Any]:
    """The gate's answer as JSON: the CLI's `--format json` and the API's body alike."""
    return {
        "service": gated.service,
        "outcome": gated.verdict.outcome.value,
        "passed": gated.verdict.passed,
        "run_id": gated.run_id,
        "baseline_version": gated.baseline_version,
        "checks": [check_document(check) for check in gated.verdict.checks],
        "summary": summary_document(gated.summary),
    }


def run_document(run: StoredRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "service": run.service,
        "tool": run.tool,
        "source": run.source,
        "recorded_at": format_instant(run.recorded_at),
        "recorded_by": run.recorded_by,
        "verdict": run.verdict,
        "passed": run.passed,
        "baseline_version": run.baseline_version,
        "checks": list(run.checks),
        "summary": summary_document(run.summary),
    }


def baseline_document(baseline: StoredBaseline) -> dict[str, Any]:
    return {
        "service": baseline.service,
        "version": baseline.version,
        "run_id": baseline.run_id,
        "created_at": format_instant(baseline.created_at),
        "created_by": baseline.created_by,
    }
