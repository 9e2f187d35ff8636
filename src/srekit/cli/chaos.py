"""`srekit chaos validate|run|list|show`: Chaos Toolkit experiments, run with srekit's safety
(blast radius, SLO guard, TTL) and stored per service.

`run` exits as Chaos Toolkit's `chaos run` does: 0 when the run completed and its steady
state held, 1 when it failed, deviated, was interrupted or aborted, or was refused by the
SLO guard; 2 for a bad experiment. SIGTERM interrupts a run as Ctrl-C does: nothing more
starts, and the rollbacks still run.
"""

from __future__ import annotations

import json
import math
import signal
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from srekit.cli.chaos_proxy import add_proxy_command
from srekit.cli.help import SrekitTyper, examples
from srekit.cli.options import (
    EventsOption,
    FormatOption,
    OutputFormat,
    PrometheusOption,
    abort,
    console,
    emit,
    error_console,
    errors_to_exit_codes,
    plain_table,
)
from srekit.cli.store_common import store_session
from srekit.core.chaos import DryMode, RollbackStrategy

if TYPE_CHECKING:
    from srekit.core.chaos import Experiment
    from srekit.flows.chaos_guard import SloWatch

__all__ = ["app"]

EXAMPLE = "examples/chaos/checkout-latency.yaml"
SMOKE = "examples/chaos/smoke.yaml"
SREKIT_MODULES = ("srekit.chaos.probes", "srekit.chaos.actions")  # always allowed

app = SrekitTyper(
    help="Chaos experiments in Chaos Toolkit's format: validate, run, list and show runs.",
    epilog=examples(f"CHECKOUT_TOKEN= srekit chaos validate {EXAMPLE}", "srekit chaos list"),
    no_args_is_help=True,
)

FileArgument = Annotated[
    Path,
    typer.Argument(metavar="FILE", help="the experiment (.json, else YAML)", show_default=False),
]
VarOption = Annotated[
    list[str] | None,
    typer.Option(
        "--var",
        metavar="NAME=VALUE",
        help="set a configuration value (a JSON value, else text); repeatable",
        show_default=False,
    ),
]
VarFileOption = Annotated[
    Path | None,
    typer.Option(
        "--var-file",
        metavar="FILE",
        help="JSON or YAML with configuration (name: value) and secrets (scope: name: value)",
        show_default=False,
    ),
]


def _var(text: str) -> tuple[str, Any]:
    name, sign, value = text.partition("=")
    if not sign or not name.strip():
        abort(f"--var: expected NAME=VALUE, got {text!r}")
    try:
        parsed = json.loads(value, parse_constant=_not_finite)
    except ValueError:
        return name.strip(), value
    if isinstance(parsed, float) and not math.isfinite(parsed):
        return name.strip(), value  # 1e309: kept as the text written
    return name.strip(), parsed


def _not_finite(constant: str) -> Any:
    raise ValueError(constant)


def _variables(
    variables: list[str] | None, var_file: Path | None
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Configuration overrides and secret overrides (by scope): the file's, then `--var`."""
    configuration: dict[str, Any] = {}
    secrets: dict[str, dict[str, Any]] = {}
    if var_file is not None:
        data = _var_file(var_file)
        configuration.update(data.get("configuration", {}))
        secrets.update({scope: dict(values) for scope, values in data.get("secrets", {}).items()})
    configuration.update(_var(text) for text in variables or ())
    return configuration, secrets


def _var_file(path: Path) -> Mapping[str, Any]:
    from srekit.errors import SpecError
    from srekit.spec.chaos import FILE_BYTES

    try:
        raw = path.read_bytes()[: FILE_BYTES + 1]
    except OSError as error:
        raise SpecError(f"cannot read: {error.strerror or error}", file=str(path)) from None
    if len(raw) > FILE_BYTES:
        raise SpecError(f"expected a file of at most {FILE_BYTES} bytes", file=str(path))
    import yaml

    try:
        data = yaml.safe_load(raw.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError, RecursionError) as error:
        raise SpecError(f"expected JSON or YAML: {error}", file=str(path)) from None
    shape = "expected {configuration: {name: value}, secrets: {scope: {name: value}}}"
    if not isinstance(data, dict) or not set(data) <= {"configuration", "secrets"}:
        raise SpecError(shape, file=str(path))
    secrets = data.get("secrets", {})
    if not isinstance(data.get("configuration", {}), dict) or not (
        isinstance(secrets, dict) and all(isinstance(scope, dict) for scope in secrets.values())
    ):
        raise SpecError(shape, file=str(path))
    return data


def _load(file: Path, variables: list[str] | None, var_file: Path | None) -> Experiment:
    import os

    from srekit.spec.chaos import load_experiment

    configuration, secrets = _variables(variables, var_file)
    return load_experiment(
        file, environ=os.environ, variables=configuration, secret_variables=secrets
    )


@app.command(
    "validate",
    epilog=examples(
        f"srekit chaos validate {SMOKE}",
        f"CHECKOUT_TOKEN= srekit chaos validate {EXAMPLE}",
    ),
)
def validate(
    file: FileArgument,
    var: VarOption = None,
    var_file: VarFileOption = None,
) -> None:
    """Read an experiment as `run` would, check its blast radius, and say what it holds."""
    from srekit.flows.chaos import check_blast_radius

    with errors_to_exit_codes():
        experiment = _load(file, var, var_file)
        check_blast_radius(experiment)
    runtime = experiment.runtime
    radius = experiment.srekit.allowed_targets
    console.print(f"valid: {experiment.title}", highlight=False, markup=False)
    console.print(
        f"  {len(experiment.probes)} steady-state probe(s), {len(experiment.method)} method"
        f" activities, {len(experiment.rollbacks)} rollback(s); hypothesis"
        f" {runtime.hypothesis_strategy}, rollbacks {runtime.rollback_strategy}",
        highlight=False,
        markup=False,
    )
    if radius:
        console.print(f"  blast radius: {', '.join(radius)}", highlight=False, markup=False)
    else:
        error_console.print("warning: no blast radius declared (extensions: srekit)")


@contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """SIGTERM stops the run as Ctrl-C does, so a stopped container still rolls back."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@app.command(
    "run",
    epilog=examples(
        f"srekit chaos run {SMOKE} --journal journal.json",
        f"srekit chaos run {SMOKE} --var greeting=hello --no-store",
    ),
)
def run(
    ctx: typer.Context,
    file: FileArgument,
    var: VarOption = None,
    var_file: VarFileOption = None,
    journal: Annotated[
        Path | None,
        typer.Option(metavar="PATH", help="write the journal (JSON) here", show_default=False),
    ] = None,
    trust: Annotated[
        bool, typer.Option("--trust", help="let python providers call any module")
    ] = False,
    allow_python: Annotated[
        list[str] | None,
        typer.Option(
            "--allow-python",
            metavar="MODULE",
            help="a module python providers may call (repeatable; srekit.chaos.* always)",
            show_default=False,
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="run even when the SLO guard refuses to start")
    ] = False,
    rollback_strategy: Annotated[
        RollbackStrategy | None,
        typer.Option(
            "--rollback-strategy",
            metavar="STRATEGY",
            help="always, default, deviated or never (default: the experiment's)",
            show_default=False,
        ),
    ] = None,
    service: Annotated[
        str | None,
        typer.Option(
            metavar="NAME",
            help="store the run under this service (default: the experiment's)",
            show_default=False,
        ),
    ] = None,
    store: Annotated[bool, typer.Option("--store/--no-store", help="store the run")] = True,
    dry: Annotated[
        DryMode | None,
        typer.Option(
            "--dry",
            metavar="MODE",
            help=(
                "probes, actions, activities: walk through those without calling them;"
                " pause: call everything, skip the pauses (Chaos Toolkit's --dry; never stored)"
            ),
            show_default=False,
        ),
    ] = None,
    files: Annotated[
        list[Path] | None,
        typer.Option(
            "--file",
            "-f",
            metavar="FILE",
            help="SLO specs the SLO guard reads (repeatable; default: the state store's)",
            show_default=False,
        ),
    ] = None,
    prometheus_url: PrometheusOption = None,
    events_store: EventsOption = None,
    output: FormatOption = OutputFormat.TABLE,
) -> None:
    """Run an experiment: steady state, method, rollbacks, with srekit's safety.

    Refused before anything runs: an activity aimed outside the blast radius (exit 2), a
    guarded SLO already in a freeze (exit 1, unless --force). The run stops and rolls back
    when a guarded SLO burns too fast, at its TTL, or on Ctrl-C or SIGTERM."""
    from dataclasses import replace

    from srekit.core.chaos import exit_code
    from srekit.flows.chaos import check_blast_radius, run_experiment

    if dry is not None and store:
        # a run that skipped its faults or its probes proves nothing about the service: kept,
        # it would pass the readiness check "a chaos experiment passed within N days"
        source = ctx.get_parameter_source("store")
        if source is not None and source.name == "COMMANDLINE":
            abort("--store: a dry run is never stored (it proves nothing about the service)")
        store = False
    with errors_to_exit_codes():
        experiment = _load(file, var, var_file)
        if rollback_strategy is not None:
            runtime = replace(experiment.runtime, rollback_strategy=rollback_strategy)
            experiment = replace(experiment, runtime=runtime)
        check_blast_radius(experiment)
        watch = _slo_watch(ctx, experiment, files, prometheus_url, events_store)
    try:
        if store:  # a store that cannot take the run refuses it before anything runs
            with errors_to_exit_codes(), store_session(ctx, read_only=True):
                pass
        if not experiment.srekit.allowed_targets:
            error_console.print("warning: no blast radius declared (extensions: srekit)")
        if watch is not None:
            with errors_to_exit_codes():
                refusal = watch.refusal()
            if refusal is not None and not force:
                abort(f"refused: {refusal}", code=1)
            if refusal is not None:
                error_console.print(f"warning: --force: {refusal}", markup=False)
        with _sigterm_interrupts():
            result = run_experiment(
                experiment,
                python_allowed=(*SREKIT_MODULES, *(allow_python or ())),
                trusted=trust,
                guard=watch.breach if watch is not None else None,
                dry=dry,
            )
        consumed = watch.consumed() if watch is not None else None
        if journal is not None:
            journal.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
        run_id = None
        if store:
            run_id = _store(ctx, result, service or experiment.srekit.service, consumed)
        if output is not OutputFormat.TABLE:
            emit(result, output)
        else:
            _print_journal(result, run_id=run_id, consumed=consumed)
        from srekit.core.chaos import RunStatus

        raise typer.Exit(exit_code(RunStatus(result["status"]), deviated=result["deviated"]))
    finally:  # the guard's sources (a Prometheus client, an event store) are closed
        if watch is not None:
            from srekit.sources.factory import close_sources

            close_sources(watch.sources)


def _slo_watch(
    ctx: typer.Context,
    experiment: Experiment,
    files: list[Path] | None,
    prometheus_url: str | None,
    events_store: Path | None,
) -> SloWatch | None:
    """The SLO guard's watch over the SLOs' own sources, when the experiment has a guard."""
    guard = experiment.srekit.slo_guard
    if guard is None:
        return None
    from srekit.cli.common import load_with_sources
    from srekit.flows.chaos_guard import SloWatch
    from srekit.sources.factory import close_sources

    specs, sources = load_with_sources(
        ctx, files or [], prometheus_url=prometheus_url, events_store=events_store
    )
    try:
        return SloWatch(guard, specs, sources)
    except BaseException:
        close_sources(sources)
        raise


def _store(
    ctx: typer.Context, journal: dict[str, Any], service: str | None, consumed: float | None
) -> int:
    from srekit.store.repo.chaos import record_chaos_run

    with errors_to_exit_codes(), store_session(ctx) as session:
        return record_chaos_run(
            session, journal=journal, service=service, budget_consumed=consumed
        ).id


def _print_journal(
    journal: Mapping[str, Any], *, run_id: int | None, consumed: float | None = None
) -> None:
    from srekit.core.chaos import deviations_of

    status = journal["status"]
    colour = "green" if status == "completed" and not journal["deviated"] else "red"
    stored = f" (run {run_id})" if run_id is not None else ""
    console.print(
        f"[bold {colour}]{status}[/]{' · deviated' if journal['deviated'] else ''}{stored}:"
        f" {journal['experiment'].get('title', '')}",
        highlight=False,
    )
    table = plain_table("PHASE", "ACTIVITY", "STATUS", "TOLERANCE MET")
    states = journal["steady_states"]
    for probe in (states["before"] or {}).get("probes", []):
        table.add_row(
            "before", probe["activity"]["name"], probe["status"], str(probe["tolerance_met"])
        )
    for number, result in enumerate(states.get("during") or []):
        met = result["steady_state_met"] if result else None
        table.add_row(f"during[{number}]", "steady state", "", str(met))
    for run in journal["run"]:
        table.add_row("method", run["activity"]["name"], run["status"], "")
    for probe in (states["after"] or {}).get("probes", []):
        table.add_row(
            "after", probe["activity"]["name"], probe["status"], str(probe["tolerance_met"])
        )
    for run in journal["rollbacks"]:
        table.add_row("rollback", run["activity"]["name"], run["status"], "")
    console.print(table)
    for deviation in deviations_of(journal):
        console.print(f"deviated: {deviation}", highlight=False, markup=False)
    for extension in journal.get("extensions", []):
        if "stopped_because" in extension:
            console.print(f"stopped: {extension['stopped_because']}", highlight=False, markup=False)
        if "dry" in extension:
            console.print(
                f"dry run (--dry {extension['dry']}): not stored", highlight=False, markup=False
            )
    if consumed is not None:
        console.print(f"error budget consumed during the run: {consumed:.4%}", highlight=False)


@app.command("list", epilog=examples("srekit chaos list", "srekit chaos list --service checkout"))
def list_runs(
    ctx: typer.Context,
    service: Annotated[
        str | None,
        typer.Option(metavar="NAME", help="only this service's runs", show_default=False),
    ] = None,
    limit: Annotated[int, typer.Option(metavar="N", min=1, max=10_000, help="at most N runs")] = 50,
    output: FormatOption = OutputFormat.TABLE,
) -> None:
    """The stored runs, newest first."""
    from srekit.contracts import chaos_run_document
    from srekit.store.repo.chaos import chaos_runs

    with errors_to_exit_codes(), store_session(ctx, read_only=True) as session:
        documents = [
            chaos_run_document(row) for row in chaos_runs(session, service=service, limit=limit)
        ]
    if output is not OutputFormat.TABLE:
        emit(documents, output)
        return
    if not documents:
        error_console.print("no chaos runs stored")
        return
    table = plain_table(
        "ID", "SERVICE", "STARTED", "STATUS", "DEVIATIONS", "BUDGET USED", "TITLE", fold="TITLE"
    )
    for document in documents:
        used = document["budget_consumed"]
        table.add_row(
            str(document["id"]),
            document["service"] or "-",
            document["started_at"],
            document["status"] + (" (deviated)" if document["deviated"] else ""),
            str(len(document["deviations"])),
            "-" if used is None else f"{used:.4%}",
            document["title"],
        )
    console.print(table)


@app.command("show", epilog=examples("srekit chaos show 1", "srekit chaos show 1 --format json"))
def show(
    ctx: typer.Context,
    run_id: Annotated[int, typer.Argument(metavar="RUN_ID", help="a run's id (chaos list)")],
    output: FormatOption = OutputFormat.TABLE,
) -> None:
    """One stored run: its outcome, deviations and activities; its journal as JSON/YAML."""
    from srekit.contracts import chaos_run_document
    from srekit.store.repo.chaos import chaos_run

    with errors_to_exit_codes(), store_session(ctx, read_only=True) as session:
        row = chaos_run(session, run_id=run_id)
        document, journal = chaos_run_document(row), row.journal
    if output is not OutputFormat.TABLE:
        emit({**document, "journal": journal}, output)
        return
    console.print(
        f"service {document['service'] or '-'}, started {document['started_at']}",
        highlight=False,
        markup=False,
    )
    _print_journal(journal, run_id=run_id, consumed=document["budget_consumed"])


@app.command("scenarios", epilog=examples("srekit chaos scenarios"))
def scenarios() -> None:
    """The scenario library: what `chaos new --scenario` writes, and its parameters."""
    from srekit.core.chaos_scenarios import SCENARIOS

    for scenario in SCENARIOS:
        console.print(f"[bold]{scenario.name}[/]: {scenario.summary}", highlight=False)
        console.print(f"  --target: {scenario.target}", highlight=False, markup=False)
        for parameter in scenario.parameters:
            default = f" (default {parameter.default})" if parameter.default else ""
            console.print(
                f"  --param {parameter.name}=...: {parameter.help}{default}",
                highlight=False,
                markup=False,
            )


@app.command(
    "new",
    epilog=examples(
        "srekit chaos new --scenario network --target payments",
        "srekit chaos new --scenario resource --target cpu -o hog.yaml",
        "srekit chaos new --scenario dependency --target db --param mode=error",
    ),
)
def new(
    scenario: Annotated[
        str,
        typer.Option(metavar="NAME", help="network, dependency, process or resource"),
    ],
    target: Annotated[
        str, typer.Option(metavar="TARGET", help="what the scenario hits (chaos scenarios)")
    ],
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param",
            metavar="NAME=VALUE",
            help="a scenario parameter; repeatable",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="write here (default: stdout)",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Write an experiment from the scenario library: steady state, fault, rollbacks, blast
    radius and TTL, ready for `chaos validate` and `chaos run`."""
    import shutil

    import yaml

    from srekit.core.chaos import ExperimentError
    from srekit.core.chaos_scenarios import build_scenario

    parameters: dict[str, str] = {}
    for text in param or ():
        name, sign, value = text.partition("=")
        if not sign:
            abort(f"--param: expected NAME=VALUE, got {text!r}")
        parameters[name] = value
    tools = [tool for tool in ("kubectl", "stress-ng") if shutil.which(tool)]
    try:
        experiment = build_scenario(scenario, target=target, parameters=parameters, tools=tools)
    except ExperimentError as error:
        abort(f"{error.field}: {error.detail}" if error.field else error.detail)
    text = yaml.safe_dump(experiment, sort_keys=False, allow_unicode=True)
    if out is None:
        typer.echo(text, nl=False)
        return
    try:
        out.write_text(text)
    except OSError as error:
        abort(f"{out}: cannot write: {error.strerror or error}")
    error_console.print(f"wrote {out}", markup=False, highlight=False)


# `srekit chaos proxy`: the Toxiproxy-compatible fault proxy the scenarios drive
add_proxy_command(app)
