"""Run a fault proxy: its registry, the proxies of a config file, and the REST API."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable
from typing import Any

import uvicorn

from srekit.core.faultproxy import parse_address
from srekit.faultproxy.api import api_app
from srekit.faultproxy.proxy import ProxyError, Registry

__all__ = ["serve", "start_api"]


async def start_api(registry: Registry, listen: str) -> tuple[uvicorn.Server, asyncio.Task[None]]:
    """Serve the API of `registry` on `listen` in the running loop, once it is listening."""
    host, port = parse_address(listen, "--listen", allow_remote=registry.allow_remote)
    config = uvicorn.Config(
        api_app(registry), host=host, port=port, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    task = asyncio.ensure_future(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise ProxyError(500, f"the API could not listen on {listen}")
        await asyncio.sleep(0.01)
    return server, task


async def serve(
    listen: str,
    proxies: list[Any],
    *,
    allow_remote: bool,
    ready: Callable[[str], None] = lambda _: None,
) -> None:
    """Create `proxies` (as /populate would), serve the API on `listen` until SIGINT/SIGTERM.

    Raises ToxicError or ProxyError before serving when an address or a proxy is refused.
    """
    registry = Registry(allow_remote=allow_remote)
    parse_address(listen, "--listen", allow_remote=allow_remote)
    try:
        await registry.populate(proxies)
        server, task = await start_api(registry, listen)
        ready(f"{server.config.host}:{server.servers[0].sockets[0].getsockname()[1]}")
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        done = asyncio.ensure_future(stop.wait())
        await asyncio.wait({task, done}, return_when=asyncio.FIRST_COMPLETED)
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await task
        done.cancel()
    finally:
        await registry.close()
