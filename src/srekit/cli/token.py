"""`srekit token create|list|revoke`: API tokens for the server (`Authorization: Bearer ...`).

A token is printed once, when created; the store keeps only its SHA-256 hash
(`store.repo.tokens.hash_token` says why a fast hash is right for random tokens).
"""

from __future__ import annotations

from typing import Annotated

import typer

from srekit.cli.help import SrekitTyper, examples
from srekit.cli.options import (
    ActorOption,
    FormatOption,
    OutputFormat,
    check_name,
    choice,
    console,
    emit,
    error_console,
    errors_to_exit_codes,
    plain_table,
)
from srekit.cli.store_common import actor_or_user, store_session
from srekit.core.access import Role

__all__ = ["app"]

app = SrekitTyper(
    help="API tokens for `srekit serve`.",
    epilog=examples("srekit token create --role admin --name alice", "srekit token list"),
    no_args_is_help=True,
)


@app.command(
    "create",
    epilog=examples(
        "srekit token create --role admin --name alice",
        "TOKEN=$(srekit token create --role deploy --name ci)",
        "srekit token create --role viewer --format json",
    ),
)
def create(
    ctx: typer.Context,
    role: Annotated[
        Role,
        choice(
            Role,
            "--role",
            metavar="ROLE",
            help="viewer reads; editor changes SLOs; admin all; deploy: the gate; ingest: alerts",
        ),
    ],
    name: Annotated[
        str | None,
        typer.Option(
            metavar="NAME",
            help="a unique name, the audit log's actor (default: generated)",
            callback=check_name,
        ),
    ] = None,
    actor: ActorOption = None,
    output: FormatOption = OutputFormat.TABLE,
) -> None:
    """Create a token and print it: it is shown this once.

    The token alone goes to stdout, the rest to stderr, so that
    `TOKEN=$(srekit token create ...)` keeps just the token."""
    from srekit.contracts import token_document
    from srekit.store.repo import create_token

    with errors_to_exit_codes(), store_session(ctx) as session:
        row, token = create_token(session, role=role.value, name=name, actor=actor_or_user(actor))
        document = {**token_document(row), "token": token}
    if output is not OutputFormat.TABLE:
        emit(document, output)
        return
    error_console.print(
        f"created token [bold]{document['name']}[/] ({document['role']}); it is shown only now:",
        highlight=False,
    )
    typer.echo(token)


@app.command(
    "list",
    epilog=examples("srekit token list", "srekit token list --all --format json"),
)
def list_(
    ctx: typer.Context,
    include_revoked: Annotated[bool, typer.Option("--all", help="include revoked tokens")] = False,
    output: FormatOption = OutputFormat.TABLE,
) -> None:
    """List tokens (names, roles, prefixes; never the tokens)."""
    from srekit.contracts import token_document
    from srekit.store.repo import list_tokens

    with errors_to_exit_codes(), store_session(ctx, read_only=True) as session:
        rows = [
            token_document(row) for row in list_tokens(session, include_revoked=include_revoked)
        ]
    if output is not OutputFormat.TABLE:
        emit(rows, output)
        return
    table = plain_table("name", "role", "prefix", "created", "by", "last used", "revoked")
    for row in rows:
        table.add_row(
            *(
                str(row[key] or "-")
                for key in (
                    "name",
                    "role",
                    "prefix",
                    "created_at",
                    "created_by",
                    "last_used_at",
                    "revoked_at",
                )
            )
        )
    console.print(table)


@app.command("revoke", epilog=examples("srekit token revoke alice --actor bob"))
def revoke(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME", help="the token's name")],
    actor: ActorOption = None,
) -> None:
    """Revoke a token; servers stop accepting it within seconds (their token caches expire)."""
    from srekit.core.access import TOKEN_CACHE_TTL_S
    from srekit.store.repo import revoke_token

    with errors_to_exit_codes(), store_session(ctx) as session:
        revoke_token(session, name=name, actor=actor_or_user(actor))
    console.print(
        f"revoked token {name}; a running server stops accepting it within"
        f" {TOKEN_CACHE_TTL_S:g} s (at once on a revocation through its API)",
        highlight=False,
    )
