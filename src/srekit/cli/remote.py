"""Where the CLI reads SLOs from: spec files (`--file`), a running srekit server (`--server
URL`, or SREKIT_SERVER, with the token in SREKIT_TOKEN), or, given neither, the local state
store (`store_common.stored_specs`). Each command says on stderr which server or store it read;
when there is nothing to read it says how to reach the server `make run` starts.

Every failure is one line in the user's words and exit 2 (bad input: no token, a URL that is
not one) or 3 (the server could not answer), never a traceback; the server's own JSON errors
are passed on as it worded them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from srekit.cli.options import abort, error_console

__all__ = [
    "MAKE_RUN_URL",
    "FilesOrServerOption",
    "ServerOption",
    "check_files_or_server",
    "nothing_to_read",
    "reading_from",
    "server_get",
    "server_object",
    "server_rows",
]

ServerOption = Annotated[
    str | None,
    typer.Option(
        "--server",
        envvar="SREKIT_SERVER",
        metavar="URL",
        help="ask a running srekit (its stored SLOs and their latest statuses) instead of"
        " evaluating spec files; the token is read from SREKIT_TOKEN",
        show_default=False,
    ),
]

FilesOrServerOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--file",
        "-f",
        metavar="FILE",
        help="spec file or directory (repeatable); or --server; neither: the state store",
        show_default=False,
    ),
]

_UNREACHABLE = 3  # the figures could not be had: as `srekit status` when a source is down
MAKE_RUN_URL = "http://127.0.0.1:8000"  # where `make run` serves, by default


def check_files_or_server(
    ctx: typer.Context, files: list[Any] | None, server: str | None, at: str | None
) -> str | None:
    """The server to ask, or None: read the --file specs or, given neither, the local state
    store. --file beats a server set by SREKIT_SERVER (the variable is a default, the flag
    a choice); both flags, or --at with a server (which answers from its latest statuses),
    is exit 2."""
    source = ctx.get_parameter_source("server")
    if server and files and source is not None and source.name == "ENVIRONMENT":
        return None
    if server and files:
        abort("give --file (evaluate spec files here) or --server (ask a running srekit), not both")
    if server and at:
        abort("--at evaluates specs here; a server answers from its latest statuses")
    return server


def reading_from(source: str) -> None:
    """Say on stderr what a command reads (`the server at URL`, `the store at PATH`): stdout
    stays the data alone, for pipes."""
    error_console.print(
        f"from {source}", style="dim", highlight=False, markup=False, soft_wrap=True
    )


def nothing_to_read(
    store: str, *, origin: str, holds: str = "SLO", takes_files: bool = True
) -> NoReturn:
    """Exit 2: given neither --file (when the command `takes_files`) nor --server, the local
    store (at `store`, chosen by `origin`) holds nothing to read; say the ways to something
    that does."""
    given = "no spec given, and the" if takes_files else "the"
    files = "  - spec files: --file PATH (a file or a directory)\n" if takes_files else ""
    abort(
        f"{given} state store at {store} ({origin}) holds no {holds}. Read:\n"
        f"{files}"
        f"  - the server `make run` started: --server {MAKE_RUN_URL}, or export"
        f" SREKIT_SERVER={MAKE_RUN_URL}, with a token in SREKIT_TOKEN (`srekit token create"
        " --role viewer`, run in the project directory, gives one)\n"
        "  - its state store: run srekit in the project directory (it reads .srekit/ there),"
        " or export SREKIT_HOME=PROJECT/.srekit"
    )


def server_get(server: str, path: str, params: Mapping[str, str] | None = None) -> Any:
    """The JSON a srekit server answers to GET `path` (with the token in SREKIT_TOKEN)."""
    import httpx

    from srekit.sources.prometheus import transport_failure, url_problem

    problem = url_problem(server, example="http://srekit:8000")
    if problem is not None:
        abort(f"--server: {problem}")
    token = os.environ.get("SREKIT_TOKEN", "").strip()
    if not token:
        abort(
            "--server needs a token: set SREKIT_TOKEN (`srekit token create --role viewer`"
            " on the server's state gives one)"
        )
    url = server.rstrip("/") + path
    try:
        answer = httpx.get(
            url, params=params, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
    except httpx.TimeoutException:
        abort(f"srekit at {server} did not answer within 30 s", _UNREACHABLE)
    except httpx.TransportError as error:
        abort(f"cannot reach srekit at {server}: {transport_failure(error)}", _UNREACHABLE)
    try:
        body = answer.json()
    except ValueError:
        abort(
            f"{url} answered HTTP {answer.status_code} without JSON: is {server} a srekit server?",
            _UNREACHABLE,
        )
    if answer.status_code in (401, 403):
        abort(f"srekit at {server} refused the token in SREKIT_TOKEN: {_detail(body)}")
    if answer.status_code >= 400 and not _gate_answer(path, body):
        code = 2 if answer.status_code < 500 else _UNREACHABLE
        abort(f"srekit at {server} answered {answer.status_code}: {_detail(body)}", code)
    return body


def _gate_answer(path: str, body: Any) -> bool:
    return path.startswith("/api/v1/gate") and isinstance(body, dict) and "allowed" in body


def _detail(body: Any) -> str:
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, list):  # a 422: pydantic's list of problems
        return "; ".join(str(item.get("msg", item)) for item in detail if isinstance(item, dict))
    return str(detail if detail is not None else body)[:500]


def server_rows(
    server: str, path: str, params: Mapping[str, str] | None, fields: frozenset[str]
) -> list[dict[str, Any]]:
    """A list answer whose every item holds `fields` (exit 3 naming what is missing)."""
    answer = server_get(server, path, params)
    if not isinstance(answer, list):
        abort(f"srekit at {server} answered {path} with {type(answer).__name__}, not a list", 3)
    return [_checked(server, path, item, fields) for item in answer]


def server_object(server: str, path: str, fields: frozenset[str]) -> dict[str, Any]:
    """An object answer holding `fields` (exit 3 naming what is missing)."""
    return _checked(server, path, server_get(server, path), fields)


def _checked(server: str, path: str, item: Any, fields: frozenset[str]) -> dict[str, Any]:
    missing = fields - set(item) if isinstance(item, dict) else fields
    if missing:
        abort(
            f"srekit at {server} answered {path} without {', '.join(sorted(missing))}:"
            " is it an older or newer srekit?",
            3,
        )
    return dict(item)
