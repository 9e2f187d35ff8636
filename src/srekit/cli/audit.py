"""`srekit audit`: who changed what in the state store, newest first."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from srekit.cli.context import settings_of
from srekit.cli.help import examples
from srekit.cli.options import (
    FormatOption,
    OutputFormat,
    console,
    emit,
    errors_to_exit_codes,
    plain_table,
)
from srekit.cli.remote import ServerOption, nothing_to_read, reading_from, server_rows
from srekit.cli.store_common import existing_store, store_location, store_origin

if TYPE_CHECKING:
    from srekit.config import Settings

__all__ = ["EXAMPLES", "audit"]

EXAMPLES = examples(
    "srekit audit",
    "srekit audit --limit 10 --kind slo",
    "srekit audit --entity checkout/availability --format json",
)


_AUDIT_FIELDS = frozenset({"at", "actor", "action", "entity_id", "before", "after"})


def _summary(before: Any, after: Any) -> str:
    """A one-cell account of the change: created, deleted, or the fields that changed."""
    from srekit.core.specs import spec_diff

    if before is None:
        return "created"
    if after is None:
        return "deleted"
    if isinstance(before, dict) and isinstance(after, dict):
        return "\n".join(spec_diff(before, after))
    return "changed"


def audit(
    ctx: typer.Context,
    limit: Annotated[
        int, typer.Option(metavar="N", min=1, help="how many entries, newest first (at least 1)")
    ] = 50,
    kind: Annotated[
        str | None,
        typer.Option(
            metavar="KIND", help="only this kind of entity: slo, service, team, policy, routing"
        ),
    ] = None,
    entity: Annotated[
        str | None,
        typer.Option(metavar="NAME", help="only this entity (checkout/availability, team-x, ...)"),
    ] = None,
    output: FormatOption = OutputFormat.TABLE,
    server: ServerOption = None,
) -> None:
    """List the audit log: every change to stored SLOs, services, teams and policies (with
    --server, a running srekit's, read with the token in SREKIT_TOKEN). A state store that
    does not exist is exit 2, saying where else to look."""
    if server:
        reading_from(f"the server at {server}")
        params = {"limit": str(limit)}
        params.update({"entity_kind": kind} if kind else {})
        params.update({"entity_id": entity} if entity else {})
        entries = server_rows(server, "/api/v1/audit", params, _AUDIT_FIELDS)
    else:
        entries = _stored_entries(settings_of(ctx), limit, kind, entity)
    if output is not OutputFormat.TABLE:
        emit(entries, output)
        return
    table = plain_table("at", "actor", "action", "entity", "change", fold="change")
    for entry in entries:
        table.add_row(
            entry["at"],
            entry["actor"],
            entry["action"],
            entry["entity_id"],
            _summary(entry["before"], entry["after"]),
        )
    console.print(table)


def _stored_entries(
    settings: Settings, limit: int, kind: str | None, entity: str | None
) -> list[dict[str, Any]]:
    """The store's audit entries, said to come from it. A store that does not exist (srekit
    never stored anything there) is exit 2 saying where else to look; an empty log is []."""
    from srekit.core.instant import format_instant
    from srekit.store.database import transaction
    from srekit.store.repo import list_audit

    where = store_location(settings)
    with errors_to_exit_codes(), existing_store(settings) as engine:
        if engine is not None:
            with transaction(engine, read_only=True) as session:
                rows = list_audit(session, limit=limit, entity_kind=kind, entity_id=entity)
                reading_from(f"the store at {where}")
                return [
                    {
                        "id": row.id,
                        "at": format_instant(row.at),
                        "actor": row.actor,
                        "action": row.action,
                        "entity_kind": row.entity_kind,
                        "entity_id": row.entity_id,
                        "before": row.before,
                        "after": row.after,
                    }
                    for row in rows
                ]
    nothing_to_read(where, origin=store_origin(settings), holds="audit entry", takes_files=False)
