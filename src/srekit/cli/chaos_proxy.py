"""`srekit chaos proxy`: run the fault proxy, a Toxiproxy-compatible TCP proxy and API.

The chaos CLI joins it with `add_proxy_command(app)`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from srekit.cli.help import examples
from srekit.cli.options import abort, error_console

__all__ = ["add_proxy_command"]

EXAMPLES = examples(
    "srekit chaos proxy --listen 127.0.0.1:8474 --config proxies.json",
)
_CONFIG_LIMIT = 1 << 20


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _read_config(path: Path | None) -> list[Any]:
    """The proxies of a Toxiproxy config file (a JSON array of proxies), or exit 2."""
    if path is None:
        return []
    try:
        if path.stat().st_size > _CONFIG_LIMIT:
            abort(f"{path}: larger than {_CONFIG_LIMIT} bytes")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        abort(f"{path}: cannot be read ({error})")
    try:
        document = json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as error:
        abort(f"{path}: not JSON ({str(error)[:200]})")
    if not isinstance(document, list):
        abort(f"{path}: expected a JSON array of proxies (Toxiproxy's config file)")
    return document


def proxy(
    listen: Annotated[
        str, typer.Option(metavar="HOST:PORT", help="where the Toxiproxy API listens")
    ] = "127.0.0.1:8474",
    config: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE.json", help="proxies to create at start (Toxiproxy's config file)"
        ),
    ] = None,
    allow_remote: Annotated[
        bool,
        typer.Option("--allow-remote", help="allow the API and proxies to listen beyond loopback"),
    ] = False,
) -> None:
    """Run the fault proxy until interrupted: Toxiproxy's API, toxics and status codes."""
    import asyncio

    from srekit.core.faultproxy import ToxicError
    from srekit.faultproxy import ProxyError, serve

    proxies = _read_config(config)

    def ready(address: str) -> None:
        error_console.print(f"fault proxy API listening on {address}", highlight=False)

    try:
        import uvloop  # uvicorn[standard]'s loop: a lower p99 than asyncio's own (benchmarks)

        run: Any = uvloop.run
    except ImportError:  # pragma: no cover - uvloop is part of srekit's dependencies
        run = asyncio.run
    try:
        run(serve(listen, proxies, allow_remote=allow_remote, ready=ready))
    except ToxicError as error:
        abort(str(error))
    except ProxyError as error:
        where = f"{config}: " if config is not None else ""
        abort(f"{where}{error.message}", 2 if error.status < 500 else 1)


def add_proxy_command(app: typer.Typer) -> None:
    """Register `proxy` on the chaos CLI's Typer app."""
    app.command("proxy", epilog=EXAMPLES)(proxy)
