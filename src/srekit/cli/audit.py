"""`srekit audit`: who changed what in the state store, newest first."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from srekit.cli.help import examples
from srekit.cli.options import (
    FormatOption,
    OutputFormat,
    console,
    emit,
    errors_to_exit_codes,
    plain_table,
)
from srekit.cli.remote import ServerOption, server_rows
from srekit.cli.store_common import store_session

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
    --server, a running srekit's, read with the token in SREKIT_TOKEN)."""
    if server:
        params = {"limit": str(limit)}
        params.update({"entity_kind": kind} if kind else {})
        params.update({"entity_id": entity} if entity else {})
        entries = server_rows(server, "/api/v1/audit", params, _AUDIT_FIELDS)
    else:
        entries = _stored_entries(ctx, limit, kind, entity)
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
    ctx: typer.Context, limit: int, kind: str | None, entity: str | None
) -> list[dict[str, Any]]:
    from srekit.core.instant import format_instant
    from srekit.store.repo import list_audit

    with errors_to_exit_codes(), store_session(ctx, read_only=True) as session:
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
            for row in list_audit(session, limit=limit, entity_kind=kind, entity_id=entity)
        ]
