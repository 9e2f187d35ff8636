"""`srekit load run`: send a LoadTest's traffic, show it live, judge its thresholds.

Exits 0 when every threshold held, 99 when one failed (k6's code; an `abortOnFail` threshold
stops the run early; a threshold without data fails), 2 for bad input, 1 when the thresholds
held (or there were none) but no request succeeded: a run that measured nothing has passed
nothing. `--record`, `--baseline` and `--gate` store the run as `load import` stores its file
(`cli.load_gate.record_run`); with `--gate` the exit code is the gate's (0 pass, 1 regression),
judged with the rule options `load gate` takes (`cli.load_rules`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from srekit.cli.help import SrekitTyper, examples
from srekit.cli.load_gate import add_gate_commands, print_recorded, record_run
from srekit.cli.load_rules import rule_options_given, with_gate_rules
from srekit.cli.options import (
    ActorOption,
    FormatOption,
    OutputFormat,
    ServiceName,
    abort,
    console,
    emit,
    errors_to_exit_codes,
    plain_table,
)

# at run time, not only for mypy: `with_gate_rules` reads the command's annotations
from srekit.core.load_gate import DEFAULT_RULES, GateRules

if TYPE_CHECKING:
    from srekit.flows.load import LoadReport
    from srekit.loadgen.runner import RunState

__all__ = ["THRESHOLDS_FAILED", "app"]

#: k6's exit code when a threshold failed.
THRESHOLDS_FAILED = 99

app = SrekitTyper(
    help=(
        "Load tests: send a LoadTest's traffic and judge its thresholds (k6's syntax); "
        "import k6 and Locust results, keep baselines, gate regressions."
    ),
    epilog=examples(
        "srekit load run examples/load/checkout.yaml --dry-run",
        "srekit load run examples/load/checkout.yaml --rate 50 --duration 10s \\\n  --dry-run",
    ),
    no_args_is_help=True,
)


def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.2f}ms" if value < 100 else f"{value:.0f}ms"


def _print_plan_summary(report_plan: object) -> None:
    from srekit.core.load import ClosedModel, LoadPlan, expected_arrivals

    assert isinstance(report_plan, LoadPlan)
    plan = report_plan
    model = plan.model
    if isinstance(model, ClosedModel):
        if model.iterations and model.shared_iterations:
            length = f"{model.iterations} iterations between them"
        elif model.iterations:
            length = f"{model.iterations} iterations each"
        else:
            length = f"for {model.duration_s:g} s"
        shape = f"closed model: {model.vus} VUs {length}"
        if model.max_duration_s is not None:
            shape += f", none started after {model.max_duration_s:g} s (maxDuration)"
    else:
        total = expected_arrivals(start_rate=model.start_rate, stages=model.stages)
        shape = (
            f"open model: {len(model.stages)} stage(s) over {plan.duration_s:g} s, "
            f"about {total:.0f} iterations"
        )
    console.print(
        f"{plan.name}: {plan.target}, {len(plan.requests)} request(s), "
        f"{len(plan.journeys)} journey(s)",
        highlight=False,
    )
    console.print(shape, highlight=False)
    for threshold in plan.thresholds:
        abort_note = " (abortOnFail)" if threshold.abort_on_fail else ""
        console.print(f"threshold {threshold.key}: {threshold.source}{abort_note}", highlight=False)


class _LiveView:
    """Rich's live line on a terminal: rate, p50/p95/p99 and errors of the run so far."""

    def __init__(self) -> None:
        from rich.live import Live

        self.live = Live(console=console, transient=True, refresh_per_second=4)
        self.last_sends = 0
        self.last_elapsed = 0.0

    def __call__(self, state: RunState) -> None:
        from rich.text import Text

        summary = state.measured.summary(
            "http_req_duration", (), percentiles=(50, 95, 99), elapsed_s=state.elapsed_s, vus=0
        )
        interval = max(state.elapsed_s - self.last_elapsed, 1e-9)
        rate = (state.measured.sends - self.last_sends) / interval
        self.last_sends, self.last_elapsed = state.measured.sends, state.elapsed_s
        failed = sum(n for outcome, n in state.measured.outcomes.items() if outcome != "ok")
        p = summary.percentiles
        self.live.update(
            Text(
                f"{state.elapsed_s:6.1f} s  {rate:8.1f} req/s  "
                f"p50 {_ms(p.get(50))}  p95 {_ms(p.get(95))}  p99 {_ms(p.get(99))}  "
                f"errors {failed}"
            )
        )


def _render_table(report: LoadReport) -> None:
    table = plain_table("METRIC", "COUNT", "AVG", "MED", "P95", "P99", "MAX")
    for key, summary in report.summaries.items():
        if summary.metric_type != "trend" or summary.count == 0:
            continue
        p = summary.percentiles
        table.add_row(
            key,
            str(summary.count),
            _ms(summary.total / summary.count),
            _ms(p.get(50.0)),
            _ms(p.get(95.0)),
            _ms(p.get(99.0)),
            _ms(summary.maximum),
        )
    console.print(table)
    outcomes = report.state.measured.outcomes
    shown = ", ".join(f"{name} {count}" for name, count in sorted(outcomes.items())) or "none"
    achieved = "-" if report.achieved_rate is None else f"{report.achieved_rate:.1f}/s"
    asked = "" if report.asked_rate is None else f"; iterations asked {report.asked_rate:.1f}/s"
    console.print(f"requests: {shown}; sent {achieved}{asked}", highlight=False)
    dropped = report.summaries["dropped_iterations"].count
    if dropped:
        console.print(f"dropped iterations: {dropped}", highlight=False)
    iterations = report.iterations_document()
    if iterations is not None:
        cut = (
            f"; maxDuration ({iterations['max_duration_s']:g} s) ended the run"
            if iterations["cut_by_max_duration"]
            else ""
        )
        console.print(
            f"iterations: {iterations['done']} of {iterations['planned']} done{cut}",
            highlight=False,
        )
    for outcome, detail in sorted(report.state.errors.items()):
        console.print(f"first {outcome} error: {detail}", highlight=False)
    for verdict in report.verdicts:
        mark = "[green]✓[/]" if verdict.passed else "[red]✗[/]"
        observed = "no data" if verdict.observed is None else f"{verdict.observed:g}"
        console.print(
            f"{mark} {verdict.threshold.key}: {verdict.threshold.source} (observed {observed})",
            highlight=False,
        )
    if report.state.aborted:
        console.print("[red]stopped early: an abortOnFail threshold failed[/]")


def _check_storing(ctx: typer.Context, *, service: str | None, recording: bool, gate: bool) -> None:
    """--service goes with --record, --baseline or --gate, and the rule options with --gate."""
    if recording and service is None:
        abort("--record, --baseline and --gate store the run: name its --service")
    if service is not None and not recording:
        abort("--service names the service of a stored run: add --record, --baseline or --gate")
    given = rule_options_given(ctx)
    if given and not gate:
        abort(f"{', '.join(given)} set the gate's rules: add --gate")


@app.command(
    epilog=examples(
        "srekit load run examples/load/checkout.yaml --dry-run",
        "srekit load run examples/load/checkout.yaml --vus 5 --duration 10s \\\n  --dry-run",
    )
)
@with_gate_rules
def run(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(metavar="FILE", help="a LoadTest spec file")],
    vus: Annotated[
        int | None, typer.Option(metavar="N", help="closed model: N users (k6's --vus)")
    ] = None,
    duration: Annotated[
        str | None, typer.Option(metavar="DURATION", help="how long: 30s, 10m, 1m30s")
    ] = None,
    rate: Annotated[
        float | None, typer.Option(metavar="N", help="open model: N iterations per second")
    ] = None,
    workers: Annotated[
        int | None, typer.Option(metavar="N", help="worker processes (default: one per core)")
    ] = None,
    output_format: FormatOption = OutputFormat.TABLE,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", metavar="FILE", help="srekit's JSON to FILE")
    ] = None,
    summary_export: Annotated[
        Path | None,
        typer.Option(metavar="FILE", help="k6's summary export (JSON) to FILE"),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="check the file and show the plan; send nothing")
    ] = False,
    record: Annotated[
        bool, typer.Option("--record", help="store the run as a run of --service")
    ] = False,
    service: ServiceName = None,
    make_baseline: Annotated[
        bool,
        typer.Option(
            "--baseline",
            help="store the run and make it --service's next baseline (with --gate: if it passed)",
        ),
    ] = False,
    gate: Annotated[
        bool,
        typer.Option(
            "--gate",
            help="store the run and judge it against --service's baseline: exit 1 on a regression",
        ),
    ] = False,
    rules: GateRules = DEFAULT_RULES,
    actor: ActorOption = None,
) -> None:
    """Send a LoadTest's traffic; exit 99 when a threshold fails (with --gate: the gate's
    exit code)."""
    from srekit.flows.load import k6_summary_export, report_document, run_load_test
    from srekit.loadgen.runner import default_workers
    from srekit.spec.load import LoadOverrides, load_load_test, load_plan

    with errors_to_exit_codes():
        parsed, document = load_load_test(file)
    try:
        plan = load_plan(parsed, document, LoadOverrides(vus=vus, duration=duration, rate=rate))
    except ValueError as error:
        abort(str(error))
    if workers is not None and not 1 <= workers <= 256:
        abort("--workers: expected 1 to 256")
    _check_storing(ctx, service=service, recording=record or make_baseline or gate, gate=gate)
    if dry_run:
        _print_plan_summary(plan)
        return
    view = _LiveView() if console.is_terminal and output_format is OutputFormat.TABLE else None
    try:
        if view is not None:
            with view.live:
                report = run_load_test(plan, workers=workers or default_workers(), on_progress=view)
        else:
            report = run_load_test(plan, workers=workers or default_workers())
    except RuntimeError as error:
        abort(str(error), code=1)
    document_out = report_document(report)
    stored: dict[str, Any] | None = None
    if service is not None and report.succeeded:
        stored = record_run(
            ctx,
            document_out,
            service=service,
            source=file.name,
            gate=gate,
            make_baseline=make_baseline,
            actor=actor,
            rules=rules,
        )
    for path, data in ((output, document_out), (summary_export, k6_summary_export(report))):
        if path is not None:
            try:
                path.write_text(json.dumps(data, indent=2) + "\n")
            except OSError as error:
                abort(f"cannot write {path}: {error}", code=1)
    if output_format is OutputFormat.TABLE:
        _render_table(report)
        if stored is not None:
            print_recorded(stored)
    else:
        emit(
            document_out if stored is None else {**document_out, "recorded": stored}, output_format
        )
    if stored is not None and stored["gate"] is not None:
        raise typer.Exit(0 if stored["gate"]["passed"] else 1)
    if not report.thresholds_passed:
        raise typer.Exit(THRESHOLDS_FAILED)
    if report.succeeded == 0:
        abort("no request succeeded" + ("; nothing stored" if service else ""), code=1)


# `srekit load gate|baseline|import|results`: the regression gate over stored runs
add_gate_commands(app)
