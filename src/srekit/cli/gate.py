"""`srekit gate`: may this change ship now? Exit 0 allowed, 1 denied (or review), 2 bad input."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from srekit.cli.help import examples
from srekit.cli.options import (
    AtOption,
    EventsOption,
    FormatOption,
    OutputFormat,
    PrometheusOption,
    abort,
    at_or_now,
    check_name,
    console,
    errors_to_exit_codes,
    print_json,
)
from srekit.cli.remote import (
    FilesOrServerOption,
    ServerOption,
    check_files_or_server,
    reading_from,
)

if TYPE_CHECKING:
    from datetime import datetime

    from srekit.core.load_gate import LoadTestPolicy
    from srekit.core.policy import GateDecision
    from srekit.core.status import SloStatus

EXAMPLES = examples(
    "srekit gate -f examples/slos --service checkout --change-type feature",
    "srekit gate -f examples/slos --service catalog --change-type rollback \\\n"
    "    --at 2026-11-20T00:00:00Z --format json",
)


def gate(
    ctx: typer.Context,
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
    files: FilesOrServerOption = None,
    fail_open: Annotated[
        bool, typer.Option("--fail-open", help="allow when SLI data cannot be read")
    ] = False,
    at: AtOption = None,
    output: FormatOption = OutputFormat.TABLE,
    prometheus_url: PrometheusOption = None,
    events_store: EventsOption = None,
    server: ServerOption = None,
) -> None:
    """Apply the error-budget policy to a deploy of SERVICE: from spec files evaluated here,
    with --server as a running srekit decides it (and records it; a deploy token), or with
    neither from the SLOs and policies of the state store, evaluated here."""
    from srekit.contracts import gate_document

    server = check_files_or_server(ctx, files, server, at)
    if server:
        reading_from(f"the server at {server}")
        document, policy = _asked(server, service, change_type, fail_open=fail_open)
    else:
        decision, statuses, policy = _decided(
            ctx, files or [], service, change_type, fail_open, at, prometheus_url, events_store
        )
        document = gate_document(decision, statuses)
    if output is OutputFormat.JSON:
        print_json(document)
    else:
        allowed = document["allowed"] is True
        verdict = "[bold green]ALLOWED[/]" if allowed else "[bold red]DENIED[/]"
        console.print(
            f"{verdict} {change_type} deploy of {service}: state {document['state']}, "
            f"decision {document['decision']}" + (f" (policy {policy})" if policy else ""),
            highlight=False,
        )
        for reason in document["reasons"]:
            console.print(f"  - {reason}", highlight=False, markup=False)
        for action in document["actions"]:
            console.print(f"  action: {action}", highlight=False, markup=False)
    raise typer.Exit(0 if document["allowed"] is True else 1)


def _open_severe_incidents(ctx: typer.Context, service: str) -> tuple[str, ...]:
    """The service's open P0/P1 incidents in the state store, when there is one (a store
    configured, or the SQLite file under SREKIT_HOME): a gate asked from spec files in a
    checkout without srekit's state has no incidents to consult. A store that cannot be read
    is bad input (exit 2), not a pass."""
    from srekit.cli.context import settings_of
    from srekit.cli.store_common import open_engine
    from srekit.flows.incidents import StoredIncidents

    settings = settings_of(ctx)
    if not settings.database_url and not (settings.home / "srekit.db").exists():
        return ()
    with open_engine(settings) as engine:
        return tuple(StoredIncidents(engine).open_severe_incidents(service))


def _load_test(
    ctx: typer.Context, service: str, at: datetime
) -> tuple[LoadTestPolicy, datetime | None]:
    """The load-test requirement the settings make (SREKIT_GATE_LOAD_TEST_FOR) and when the
    service last passed the load gate in the state store; without a store, never."""
    from srekit.cli.context import settings_of
    from srekit.cli.store_common import open_engine
    from srekit.core.load_gate import NO_LOAD_TEST
    from srekit.core.load_gate import LoadTestPolicy as Policy
    from srekit.store.database import transaction
    from srekit.store.repo.load import last_passed_load_test

    settings = settings_of(ctx)
    if not settings.gate_load_test_change_types:
        return NO_LOAD_TEST, None
    policy = Policy(
        required_for=settings.gate_load_test_change_types,
        max_age_days=settings.gate_load_test_max_age_days,
    )
    if not settings.database_url and not (settings.home / "srekit.db").exists():
        return policy, None
    with open_engine(settings) as engine, transaction(engine, read_only=True) as session:
        return policy, last_passed_load_test(session, service=service, until=at)


def _decided(
    ctx: typer.Context,
    files: list[Path],
    service: str,
    change_type: str,
    fail_open: bool,
    at: str | None,
    prometheus_url: str | None,
    events_store: Path | None,
) -> tuple[GateDecision, list[SloStatus], str]:
    from srekit.cli.common import load_with_sources
    from srekit.core.policy import FailMode
    from srekit.flows.gate import gate_specs
    from srekit.sources.factory import close_sources

    when = at_or_now(at)
    with errors_to_exit_codes():
        load_test, last_passed = _load_test(ctx, service, when)
        specs, sources = load_with_sources(
            ctx, files, prometheus_url=prometheus_url, events_store=events_store
        )
        try:
            gated = gate_specs(
                specs,
                sources,
                service=service,
                change_type=change_type,
                at=when,
                fail_mode=FailMode.OPEN if fail_open else FailMode.CLOSED,
                open_severe_incidents=() if at else _open_severe_incidents(ctx, service),
                load_test=load_test,
                last_load_test_passed=last_passed,
            )
        finally:  # a Prometheus client's sockets, an event store's DuckDB file
            close_sources(sources)
    return gated.decision, gated.statuses, gated.policy.name


def _asked(
    server: str, service: str, change_type: str, *, fail_open: bool
) -> tuple[dict[str, Any], str | None]:
    """The server's answer (the API's gate document) for this deploy."""
    from pydantic import ValidationError

    from srekit.cli.remote import server_get
    from srekit.contracts import GateOut

    params = {"service": service, "change_type": change_type}
    if fail_open:
        params["fail_open"] = "true"
    answer = server_get(server, "/api/v1/gate", params)
    try:
        GateOut.model_validate(answer)
    except ValidationError as error:
        abort(f"srekit at {server} answered a gate decision srekit cannot read: {error}", 3)
    return dict(answer), None
