"""`srekit slo validate|list|apply|show|delete`: check and show SLO specs, and keep them in the
state store.

`validate` and `list` read spec files; `apply`, `show`, `delete` and `list --stored` work on the
state store, where every change is one transaction: a spec set that fails part-way stores
nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from srekit.cli.apply import DryRunOption
from srekit.cli.context import settings_of
from srekit.cli.help import SrekitTyper, examples
from srekit.cli.options import (
    ActorOption,
    FilesOption,
    FormatOption,
    OutputFormat,
    abort,
    console,
    emit,
    error_console,
    errors_to_exit_codes,
    indicator_kind,
    percent,
    plain_table,
    print_json,
)
from srekit.cli.remote import (
    ServerOption,
    check_files_or_server,
    nothing_to_read,
    reading_from,
    server_object,
    server_rows,
)
from srekit.cli.store_common import (
    actor_or_user,
    existing_store,
    store_location,
    store_origin,
    store_session,
)
from srekit.errors import SrekitError

if TYPE_CHECKING:
    from srekit.config import Settings
    from srekit.store.repo import SloRow, SloVersionRow

__all__ = ["STORED_FIELDS", "app", "print_stored", "served_slo", "stored_rows", "summary_row"]

app = SrekitTyper(
    help="Validate and list SLO specs (native, OpenSLO, Sloth).",
    epilog=examples(
        "srekit slo validate -f examples/slos",
        "srekit slo apply -f examples/slos",
        "srekit slo show checkout/availability",
    ),
    no_args_is_help=True,
)

SloArgument = Annotated[str, typer.Argument(metavar="SERVICE/NAME", help="the stored SLO")]


@app.command(
    epilog=examples(
        "srekit slo validate -f examples/slos",
        "srekit slo validate -f examples/slos/checkout.yaml -f examples/sloth",
        "srekit slo validate -f examples/slos -f examples/routing.yaml",
    )
)
def validate(files: FilesOption) -> None:
    """Parse every spec; exit 2 naming the file, field and expectation at the first problem."""
    from srekit.cli.common import load

    with errors_to_exit_codes():
        specs = load(files, routings=True)
    console.print(
        f"[green]valid:[/] {len(specs.slos)} SLO(s) for {len(specs.services())} service(s) "
        f"in {len(specs.files)} file(s)"
        + (f", {len(specs.policies)} policy(ies)" if specs.policies else "")
        + (f", {len(specs.routings)} alert routing(s)" if specs.routings else "")
        + (f", {len(specs.rotations)} rotation(s)" if specs.rotations else "")
        + (
            f", {len(specs.escalation_policies)} escalation policy(ies)"
            if specs.escalation_policies
            else ""
        )
        + (f", {len(specs.capacity_plans)} capacity plan(s)" if specs.capacity_plans else ""),
        highlight=False,
    )


@app.command(
    "list",
    epilog=examples(
        "srekit slo list -f examples/slos",
        "srekit slo list -f examples/slos --format json",
        "srekit slo list --stored --service checkout",
    ),
)
def list_slos(
    ctx: typer.Context,
    files: Annotated[
        list[Path] | None,
        typer.Option("--file", "-f", metavar="FILE", help="spec file or directory (repeatable)"),
    ] = None,
    output: FormatOption = OutputFormat.TABLE,
    stored: Annotated[
        bool, typer.Option("--stored", help="list the SLOs in the state store")
    ] = False,
    service: Annotated[
        str | None,
        typer.Option(metavar="SERVICE", help="with --stored or --server: only this service"),
    ] = None,
    server: ServerOption = None,
) -> None:
    """List the SLOs the specs declare (or, with --stored, those in the state store; with
    --server, those a running srekit stores, read with the token in SREKIT_TOKEN). Given
    neither --file nor --server, the state store's, and exit 2 saying where to look when it
    holds none."""
    from srekit.cli.common import load
    from srekit.core.window import window_label

    server = check_files_or_server(ctx, files, server, None)
    if server:
        reading_from(f"the server at {server}")
        params = {"service": service} if service else None
        rows = server_rows(server, "/api/v1/slos", params, STORED_FIELDS)
        print_stored(rows, output=output)
        return
    if stored or not files:
        print_stored(stored_rows(settings_of(ctx), service=service, stored=stored), output=output)
        return

    with errors_to_exit_codes():
        specs = load(files)
    rows = [
        {
            "service": slo.service,
            "slo": slo.name,
            "objective": slo.objective,
            "window": window_label(slo.window),
            "budgeting": slo.budgeting.value,
            "indicator": indicator_kind(slo.indicator),
            "file": slo.source_file,
        }
        for slo in specs.slos
    ]
    if output is not OutputFormat.TABLE:
        if output is OutputFormat.JSON:
            print_json(rows)
        else:
            import yaml

            typer.echo(yaml.safe_dump(rows, sort_keys=False), nl=False)
        return
    table = plain_table(
        "service", "slo", "objective", "window", "budgeting", "indicator", "file", fold="file"
    )
    for row in rows:
        table.add_row(
            str(row["service"]),
            str(row["slo"]),
            percent(float(str(row["objective"]))),
            str(row["window"]),
            str(row["budgeting"]),
            str(row["indicator"]),
            str(row["file"]),
        )
    console.print(table)


@app.command(
    epilog=examples(
        "srekit slo apply -f examples/slos",
        "srekit slo apply -f examples/slos --actor alice --format json",
        "srekit slo apply -f examples/slos --dry-run",
    )
)
def apply(
    ctx: typer.Context,
    files: FilesOption,
    actor: ActorOption = None,
    output: FormatOption = OutputFormat.TABLE,
    dry_run: DryRunOption = False,
) -> None:
    """Store the SLOs and policies of the specs: each is created, updated (a new version) or
    unchanged. Services and their teams (an SLO's owner) are created as needed. `srekit apply`
    also stores alert routings."""
    from srekit.cli.apply import print_applied, store_specs
    from srekit.cli.common import load

    who = actor_or_user(actor)
    with errors_to_exit_codes():
        specs = load(files)
        done = store_specs(ctx, specs, actor=who, dry_run=dry_run, routings=False)
    print_applied(done, output)
    if specs.routings:
        error_console.print(
            f"note: alert routing(s) {', '.join(sorted(specs.routings))} not stored:"
            " `srekit apply -f` stores them",
            highlight=False,
            markup=False,
        )


def _version_document(version: SloVersionRow) -> dict[str, Any]:
    from srekit.core.instant import format_instant

    return {
        "version": version.version,
        "applied_at": format_instant(version.applied_at),
        "applied_by": version.applied_by,
        "source_format": version.source_format,
        "source_file": version.source_file,
        "changes": list(version.changes),
        "spec": version.spec(),
    }


_SHOWN_FIELDS = frozenset(
    {"service", "slo", "team", "version", "source_format", "source_file", "spec", "versions"}
)


def served_slo(server: str, service: str, name: str) -> dict[str, Any]:
    """A server's SLO (`GET /api/v1/slos/{service}/{name}`) with its srekit/v1 `document`."""
    from pydantic import ValidationError

    from srekit.spec.model import SloSpec
    from srekit.spec.native import slo_document

    document = server_object(server, f"/api/v1/slos/{service}/{name}", _SHOWN_FIELDS)
    fields = {k: v for k, v in dict(document["spec"]).items() if k not in ("service", "name")}
    try:
        slo = SloSpec.model_validate(fields).to_slo(service=service, name=name)
    except (ValidationError, SrekitError) as error:
        abort(f"srekit at {server} answered a spec srekit cannot read: {error}", 3)
    document["document"] = slo_document(slo)
    return document


def _slo_document(row: SloRow, versions: Sequence[SloVersionRow]) -> dict[str, Any]:
    from srekit.core.instant import format_instant
    from srekit.spec.native import slo_document
    from srekit.store.repo import readable_spec

    return {
        "service": row.service.name,
        "slo": row.name,
        "team": row.service.team.name if row.service.team else None,
        "version": row.version,
        "source_format": row.source_format,
        "source_file": row.source_file,
        "created_at": format_instant(row.created_at),
        "updated_at": format_instant(row.updated_at),
        "document": slo_document(row.to_slo()),  # as srekit/v1 is written
        "spec": readable_spec(row),  # as stored; its file is shown on its own
        "versions": [_version_document(v) for v in versions],
    }


@app.command(
    epilog=examples(
        "srekit slo show checkout/availability",
        "srekit slo show checkout/availability --normalized",
        "srekit slo show checkout/latency --format yaml",
    )
)
def show(
    ctx: typer.Context,
    slo: SloArgument,
    output: FormatOption = OutputFormat.TABLE,
    normalized: Annotated[
        bool,
        typer.Option(
            "--normalized",
            help="the spec as srekit stores it (every field, objective as a fraction)",
        ),
    ] = False,
    server: ServerOption = None,
) -> None:
    """Show a stored SLO's current spec, as srekit/v1 is written, and every version applied
    to it (with --server, as a running srekit stores it). `--format json` carries both forms:
    `document` (as written) and `spec` (stored)."""
    from srekit.store.repo import split_slo_key

    with errors_to_exit_codes():
        service, name = split_slo_key(slo)
        if server:
            reading_from(f"the server at {server}")
            document = served_slo(server, service, name)
        else:
            document = _stored_slo(settings_of(ctx), service, name)
    if output is not OutputFormat.TABLE:
        emit(document, output)
        return
    import yaml

    console.print(
        f"[bold]{service}/{name}[/] version {document['version']}"
        f" · team {document['team'] or '-'} · {document['source_format'] or 'format unknown'}"
        f" · {document['source_file'] or 'no file'}",
        highlight=False,
    )
    shown = document["spec"] if normalized else document["document"]
    console.print(
        yaml.safe_dump(shown, sort_keys=False, allow_unicode=True).rstrip(),
        highlight=False,
        markup=False,
    )
    console.print("history", highlight=False)
    history = plain_table("version", "applied at", "by", "what changed", fold="what changed")
    for version in reversed(document["versions"]):
        history.add_row(
            str(version["version"]),
            version["applied_at"],
            version["applied_by"],
            "\n".join(version["changes"]),
        )
    console.print(history)


def _stored_slo(settings: Settings, service: str, name: str) -> dict[str, Any]:
    """A stored SLO's document, said to come from the store; a store without any SLO is exit 2
    saying where else to look (one without this SLO, NotFound)."""
    from srekit.errors import NotFound
    from srekit.store.database import transaction
    from srekit.store.repo import get_slo, list_slos, slo_versions

    where = store_location(settings)
    with existing_store(settings) as engine:
        if engine is not None:
            with transaction(engine, read_only=True) as session:
                try:
                    row = get_slo(session, service=service, name=name)
                except NotFound:
                    if list_slos(session):
                        raise
                else:
                    reading_from(f"the store at {where}")
                    return _slo_document(row, slo_versions(session, service=service, name=name))
    nothing_to_read(where, origin=store_origin(settings), takes_files=False)


@app.command(epilog=examples("srekit slo delete catalog/good-minutes --actor alice"))
def delete(ctx: typer.Context, slo: SloArgument, actor: ActorOption = None) -> None:
    """Delete a stored SLO and its versions; the audit log keeps its last spec."""
    from srekit.store.repo import delete_slo, get_slo, split_slo_key

    who = actor_or_user(actor)
    with errors_to_exit_codes():
        service, name = split_slo_key(slo)
        with store_session(ctx) as session:
            version = get_slo(session, service=service, name=name).version
            delete_slo(session, service=service, name=name, actor=who)
    console.print(f"deleted {service}/{name} (was version {version})", highlight=False)


STORED_FIELDS = frozenset(
    {"service", "slo", "team", "objective", "window", "version", "source_format", "updated_at"}
)


def summary_row(row: SloRow) -> dict[str, Any]:
    """A stored SLO as `slo list --stored` (and `srekit get slos`) lists it."""
    from srekit.core.instant import format_instant
    from srekit.core.window import window_label

    return {
        "service": row.service.name,
        "slo": row.name,
        "team": row.service.team.name if row.service.team else None,
        "objective": row.spec()["objective"],
        "window": window_label(row.to_slo().window),
        "version": row.version,
        "source_format": row.source_format,
        "updated_at": format_instant(row.updated_at),
    }


def stored_rows(
    settings: Settings, *, service: str | None, stored: bool = True
) -> list[dict[str, Any]]:
    """The stored SLOs (of `service`), said to come from the store. Asked for (`stored`), a
    store without SLOs is an empty list; read in place of missing --file, it is exit 2 with
    where else to look."""
    from srekit.store.database import transaction
    from srekit.store.repo import list_slos

    where = store_location(settings)
    held = False
    documents: list[dict[str, Any]] = []
    with errors_to_exit_codes(), existing_store(settings) as engine:
        if engine is not None:
            with transaction(engine, read_only=True) as session:
                rows = list_slos(session, service=service)
                held = bool(rows) or (service is not None and bool(list_slos(session)))
                documents = [summary_row(row) for row in rows]
    if not held and not stored:
        nothing_to_read(where, origin=store_origin(settings))
    reading_from(f"the store at {where}")
    return documents


def print_stored(rows: list[dict[str, Any]], *, output: OutputFormat) -> None:
    """The stored SLOs' list: what `srekit slo list --stored` (or `--server`) prints."""
    if output is not OutputFormat.TABLE:
        emit(rows, output)
        return
    table = plain_table(
        "service",
        "slo",
        "team",
        "objective",
        "window",
        "version",
        "format",
        "updated",
        fold="window",
    )
    for row in rows:
        table.add_row(
            str(row["service"]),
            str(row["slo"]),
            str(row["team"] or "-"),
            percent(float(row["objective"])),
            str(row["window"]),
            str(row["version"]),
            str(row["source_format"] or "-"),
            str(row["updated_at"]),
        )
    console.print(table)
