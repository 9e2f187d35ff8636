"""`srekit load gate|baseline|import|results`: judge a load-test run against a service's
baseline, keep baselines, import and list runs.

`add_gate_commands` registers the four commands on the `srekit load` app. Exit codes: 0 the
run passed (or the command did its job), 1 the gate failed (a regression, or an inconclusive
run that fails closed), 2 bad input (a file that is not k6's or Locust's results, an unknown
baseline version, a bad limit).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from srekit.cli.help import examples
from srekit.cli.load_rules import with_gate_rules
from srekit.cli.options import (
    ActorOption,
    FormatOption,
    OutputFormat,
    abort,
    check_name,
    console,
    emit,
    errors_to_exit_codes,
    plain_table,
)
from srekit.cli.store_common import actor_or_user, open_engine

# at run time, not only for mypy: `with_gate_rules` reads the commands' annotations
from srekit.core.load_gate import DEFAULT_RULES, GateRules

if TYPE_CHECKING:
    from srekit.core.load_gate import LoadSummary
    from srekit.store import StoreEngine

__all__ = ["EXAMPLES", "add_gate_commands", "print_recorded", "record_run"]

EXAMPLES = examples(
    "srekit load import --service checkout examples/load/baseline-summary.json",
    "srekit load baseline --service checkout --run 1",
    "srekit load gate --service checkout examples/load/k6-summary.json",
    "srekit load gate --service search examples/load/search_stats.csv \\\n"
    "  --no-baseline --max-p95-ms 250",
    "srekit load results --service checkout",
    "srekit load baseline --service checkout --format json",
)

ServiceOption = Annotated[
    str,
    typer.Option("--service", metavar="NAME", help="the service tested", callback=check_name),
]
ResultFile = Annotated[
    Path,
    typer.Argument(
        metavar="RESULT_FILE",
        help="k6 JSON (--summary-export or handleSummary data) or Locust's *_stats.csv",
        show_default=False,
    ),
]


@contextmanager
def _engine(ctx: typer.Context) -> Iterator[StoreEngine]:
    from srekit.cli.context import settings_of

    with errors_to_exit_codes(), open_engine(settings_of(ctx)) as engine:
        yield engine


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _read(path: Path) -> LoadSummary:
    from srekit.loadresults import read_results

    with errors_to_exit_codes():
        return read_results(path)


def _figure(check: str, value: float | None) -> str:
    if value is None:
        return "-"
    if check == "error_rate":
        return f"{value:.2%}"
    if check == "throughput":
        return f"{value:.4g}/s"
    if check.startswith("threshold"):
        return "-"
    return f"{value:.4g} ms"


def _print_verdict(document: dict[str, Any]) -> None:
    from rich.markup import escape

    baseline = document["baseline_version"]
    against = f"baseline v{baseline}" if baseline is not None else "absolute limits (no baseline)"
    colour = {"pass": "green", "fail": "red", "inconclusive": "yellow"}[document["outcome"]]
    summary = document["summary"]
    console.print(
        f"[bold]{escape(document['service'])}[/]: [{colour}]{document['outcome']}[/]"
        f" against {against}; {summary['requests']} requests ({escape(summary['tool'])})",
        highlight=False,
    )
    table = plain_table(
        "CHECK", "TAG", "OUTCOME", "CURRENT", "BASELINE", "LIMIT", "WHY", fold="WHY"
    )
    for row in document["checks"]:
        name = row["check"]
        table.add_row(
            escape(name),
            escape(row.get("tags") or "-"),
            row["outcome"],
            _figure(name, row["current"]),
            _figure(name, row["baseline"]),
            _figure(name, row["limit"]),
            escape(row["reason"]),
        )
    console.print(table)
    if document["run_id"] is not None:
        console.print(f"recorded as run {document['run_id']}", highlight=False)


def record_run(
    ctx: typer.Context,
    document: dict[str, Any],
    *,
    service: str,
    source: str,
    gate: bool,
    make_baseline: bool,
    actor: str | None,
    rules: GateRules | None = None,
) -> dict[str, Any]:
    """Store srekit's own run `document` (`srekit load run`) as `load import` stores a file:
    read by the same reader, stored by the same flow; with `gate`, judged against the service's
    newest baseline with `rules` (default: the gate's defaults) and stored with its verdict;
    with `make_baseline`, made the service's next baseline (with `gate`, only when it passed).

    Returns `{"run_id", "baseline_version", "gate"}` (`gate`: the verdict document or None).
    """
    from srekit.flows.load_gate import gate_rules, gate_run, import_run, verdict_document
    from srekit.flows.load_gate import make_baseline as make_it_baseline
    from srekit.loadresults import srekit_summary

    with errors_to_exit_codes():
        summary = srekit_summary(document, file=source)
    who, now = actor_or_user(actor), _now()
    verdict: dict[str, Any] | None = None
    with _engine(ctx) as engine:
        if gate:
            gated = gate_run(
                engine,
                service=service,
                summary=summary,
                source=source,
                rules=rules if rules is not None else gate_rules(),
                actor=who,
                now=now,
            )
            verdict = verdict_document(gated)
            run_id = gated.run_id
            passed = gated.verdict.passed
        else:
            run_id, passed = (
                import_run(
                    engine, service=service, summary=summary, source=source, actor=who, now=now
                ).id,
                True,
            )
        assert run_id is not None  # gate_run records by default
        version = None
        if make_baseline and passed:
            version = make_it_baseline(
                engine, service=service, run_id=run_id, actor=who, now=now
            ).version
    return {"service": service, "run_id": run_id, "baseline_version": version, "gate": verdict}


def print_recorded(stored: dict[str, Any]) -> None:
    """What `record_run` stored, under the run's table."""
    if stored["gate"] is not None:
        _print_verdict(stored["gate"])
    else:
        console.print(f"recorded as run {stored['run_id']}", highlight=False)
    if stored["baseline_version"] is not None:
        console.print(
            f"baseline v{stored['baseline_version']} of {stored['service']}"
            f" is run {stored['run_id']}",
            highlight=False,
        )


@with_gate_rules
def gate_command(
    ctx: typer.Context,
    result_file: ResultFile,
    service: ServiceOption,
    baseline: Annotated[
        int | None,
        typer.Option(
            "--baseline",
            metavar="VERSION",
            min=1,
            help="compare with this baseline version (default: the newest, if any)",
        ),
    ] = None,
    no_baseline: Annotated[
        bool, typer.Option("--no-baseline", help="absolute limits only, ignore baselines")
    ] = False,
    rules: GateRules = DEFAULT_RULES,
    record: Annotated[
        bool, typer.Option(help="store the run and its verdict (for readiness and deploys)")
    ] = True,
    actor: ActorOption = None,
    output: FormatOption = OutputFormat.TABLE,
) -> None:
    """Judge a load-test run against the service's baseline: exit 1 on a regression."""
    from srekit.flows.load_gate import gate_run, verdict_document

    if baseline is not None and no_baseline:
        abort("--baseline and --no-baseline contradict each other")
    summary = _read(result_file)
    with _engine(ctx) as engine:
        gated = gate_run(
            engine,
            service=service,
            summary=summary,
            source=result_file.name,
            rules=rules,
            actor=actor_or_user(actor),
            now=_now(),
            baseline_version=baseline,
            compare=not no_baseline,
            record=record,
        )
    document = verdict_document(gated)
    if output is OutputFormat.TABLE:
        _print_verdict(document)
    else:
        emit(document, output)
    if not gated.verdict.passed:
        raise typer.Exit(1)


def import_command(
    ctx: typer.Context,
    result_file: ResultFile,
    service: ServiceOption,
    actor: ActorOption = None,
    output: FormatOption = OutputFormat.TABLE,
) -> None:
    """Store a run's results for a service, unjudged (to make it a baseline)."""
    from srekit.flows.load_gate import import_run, run_document

    summary = _read(result_file)
    with _engine(ctx) as engine:
        run = import_run(
            engine,
            service=service,
            summary=summary,
            source=result_file.name,
            actor=actor_or_user(actor),
            now=_now(),
        )
    if output is OutputFormat.TABLE:
        console.print(
            f"imported run {run.id} of {service}: {run.summary.requests} requests"
            f" ({run.tool}); make it the baseline with"
            f" `srekit load baseline --service {service} --run {run.id}`",
            highlight=False,
        )
    else:
        emit(run_document(run), output)


def baseline_command(
    ctx: typer.Context,
    service: ServiceOption,
    run: Annotated[
        int | None,
        typer.Option("--run", metavar="ID", min=1, help="make this stored run the baseline"),
    ] = None,
    actor: ActorOption = None,
    output: FormatOption = OutputFormat.TABLE,
) -> None:
    """Make a stored run the service's next baseline version, or list its baselines."""
    from srekit.flows.load_gate import baseline_document, make_baseline, service_baselines

    with _engine(ctx) as engine:
        if run is not None:
            made = make_baseline(
                engine, service=service, run_id=run, actor=actor_or_user(actor), now=_now()
            )
            if output is OutputFormat.TABLE:
                console.print(
                    f"baseline v{made.version} of {service} is run {made.run_id}", highlight=False
                )
            else:
                emit(baseline_document(made), output)
            return
        baselines = service_baselines(engine, service=service)
    if output is not OutputFormat.TABLE:
        emit([baseline_document(b) for b in baselines], output)
        return
    if not baselines:
        console.print(f"{service} has no load-test baseline", highlight=False)
        return
    table = plain_table("VERSION", "RUN", "SET AT", "SET BY")
    for made in baselines:
        document = baseline_document(made)
        table.add_row(f"v{made.version}", str(made.run_id), document["created_at"], made.created_by)
    console.print(table)


def results_command(
    ctx: typer.Context,
    service: Annotated[
        str | None,
        typer.Option("--service", metavar="NAME", help="one service's runs", callback=check_name),
    ] = None,
    limit: Annotated[int, typer.Option(metavar="N", min=1, max=1000, help="at most N runs")] = 20,
    output: FormatOption = OutputFormat.TABLE,
) -> None:
    """The newest load-test runs, with their figures and verdicts."""
    from rich.markup import escape

    from srekit.flows.load_gate import run_document, service_runs

    with _engine(ctx) as engine:
        runs = service_runs(engine, service=service, limit=limit)
    documents = [run_document(run) for run in runs]
    if output is not OutputFormat.TABLE:
        emit(documents, output)
        return
    table = plain_table(
        "RUN", "SERVICE", "TOOL", "AT", "REQUESTS", "P95", "P99", "ERRORS", "REQ/S", "VERDICT"
    )
    for run, document in zip(runs, documents, strict=True):
        latency = run.summary.latency
        table.add_row(
            str(run.id),
            run.service,
            escape(run.tool),
            document["recorded_at"],
            str(run.summary.requests),
            _figure("p95", latency.p95 if latency else None),
            _figure("p99", latency.p99 if latency else None),
            _figure("error_rate", run.summary.error_rate),
            _figure("throughput", run.summary.throughput),
            run.verdict or "-",
        )
    console.print(table)


def add_gate_commands(app: typer.Typer) -> None:
    """Register `gate`, `baseline`, `import` and `results` on `app` (`srekit load`)."""
    app.command("gate", epilog=EXAMPLES)(gate_command)
    app.command("baseline", epilog=EXAMPLES)(baseline_command)
    app.command("import", epilog=EXAMPLES)(import_command)
    app.command("results", epilog=EXAMPLES)(results_command)
