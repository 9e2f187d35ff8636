"""A running srekit server as the CLI's source: `--server URL` with the token in SREKIT_TOKEN.

Every failure is one line in the user's words and exit 2 (bad input: no token, a URL that is
not one) or 3 (the server could not answer), never a traceback; the server's own JSON errors
are passed on as it worded them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import typer

from srekit.cli.options import abort

__all__ = [
    "FilesOrServerOption",
    "ServerOption",
    "check_files_or_server",
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
        help="spec file or directory (repeatable); or --server",
        show_default=False,
    ),
]

_UNREACHABLE = 3  # the figures could not be had: as `srekit status` when a source is down


def check_files_or_server(files: list[Any] | None, server: str | None, at: str | None) -> None:
    """Exit 2 unless exactly one of --file and --server is given (--at only with --file)."""
    if server and files:
        abort("give --file (evaluate spec files here) or --server (ask a running srekit), not both")
    if not server and not files:
        abort("no spec given: pass --file PATH (a file or a directory), or --server URL")
    if server and at:
        abort("--at evaluates --file specs; a server answers from its latest statuses")


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
