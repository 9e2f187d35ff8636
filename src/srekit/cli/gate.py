"""`srekit gate`: may this change ship now? Exit 0 allowed, 1 denied (or review), 2 bad input."""

from __future__ import annotations

from typing import Annotated

import typer

from srekit.cli.help import examples
from srekit.cli.options import (
    AtOption,
    EventsOption,
    FilesOption,
    FormatOption,
    OutputFormat,
    PrometheusOption,
    at_or_now,
    check_name,
    console,
    errors_to_exit_codes,
    print_json,
)

EXAMPLES = examples(
    "srekit gate -f examples/slos --service checkout --change-type feature",
    "srekit gate -f examples/slos --service catalog --change-type rollback \\\n"
    "    --at 2026-11-20T00:00:00Z --format json",
)


def gate(
    ctx: typer.Context,
    files: FilesOption,
    service: Annotated[
        str,
        typer.Option(metavar="SERVICE", help="the service being deployed", callback=check_name),
    ],
    change_type: Annotated[
        str,
        typer.Option(
            metavar="TYPE",
            help="what ships: feature, config, security_fix, critical_bug, rollback, or a"
            " change type the service's policy names",
            show_default=False,
        ),
    ],
    fail_open: Annotated[
        bool, typer.Option("--fail-open", help="allow when SLI data cannot be read")
    ] = False,
    at: AtOption = None,
    output: FormatOption = OutputFormat.TABLE,
    prometheus_url: PrometheusOption = None,
    events_store: EventsOption = None,
) -> None:
    """Apply the error-budget policy to a deploy of SERVICE."""
    from srekit.cli.common import load_with_sources
    from srekit.contracts import gate_document
    from srekit.core.policy import FailMode
    from srekit.flows.gate import gate_specs

    when = at_or_now(at)
    with errors_to_exit_codes():
        specs, sources = load_with_sources(
            ctx, files, prometheus_url=prometheus_url, events_store=events_store
        )
        gated = gate_specs(
            specs,
            sources,
            service=service,
            change_type=change_type,
            at=when,
            fail_mode=FailMode.OPEN if fail_open else FailMode.CLOSED,
        )
    decision = gated.decision
    if output is OutputFormat.JSON:
        print_json(gate_document(decision, gated.statuses))
    else:
        verdict = "[bold green]ALLOWED[/]" if decision.allowed else "[bold red]DENIED[/]"
        console.print(
            f"{verdict} {change_type} deploy of {service}: state {decision.state}, "
            f"decision {decision.decision.value} (policy {gated.policy.name})",
            highlight=False,
        )
        for reason in decision.reasons:
            console.print(f"  - {reason}", highlight=False)
        for action in decision.actions:
            console.print(f"  action: {action}", highlight=False)
    raise typer.Exit(0 if decision.allowed else 1)
