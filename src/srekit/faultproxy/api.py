"""Toxiproxy's REST API over a `Registry`, on Starlette, so Toxiproxy's clients drive it.

Starlette rather than FastAPI: the API's shapes are Toxiproxy's, not srekit's models, and
its errors must be Toxiproxy's `{"error": ..., "status": ...}`, not FastAPI's 422s.
Bodies are read up to 1 MiB (413 beyond), NaN and Infinity are refused, as is nesting
deeper than JSON's parser allows (400). Beside Toxiproxy's paths: `/metrics` (Prometheus
text, from a registry of the app's own) and `/events` (the registry's event log).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from srekit.faultproxy.metrics import metrics_registry
from srekit.faultproxy.proxy import ProxyError, Registry

__all__ = ["MAX_BODY", "VERSION", "api_app"]

MAX_BODY = 1 << 20
VERSION = "2.12.0-srekit"


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message, "status": status}, status_code=status)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


async def _body(request: Request) -> Any:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise ProxyError(413, f"request body larger than {MAX_BODY} bytes")
    chunks = bytearray()
    async for chunk in request.stream():
        chunks += chunk
        if len(chunks) > MAX_BODY:
            raise ProxyError(413, f"request body larger than {MAX_BODY} bytes")
    if not chunks.strip():
        return {}
    try:
        return json.loads(chunks, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as error:
        raise ProxyError(400, f"bad request body: {str(error)[:200]}") from None


Handler = Callable[[Request, Registry], Awaitable[Response]]


def _route(path: str, handler: Handler, methods: list[str], registry: Registry) -> Route:
    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request, registry)
        except ProxyError as error:
            return _error(error.status, error.message)

    return Route(path, endpoint, methods=methods)


async def _proxies(request: Request, registry: Registry) -> Response:
    if request.method == "GET":
        return JSONResponse({name: p.document() for name, p in registry.proxies.items()})
    proxy = await registry.create(await _body(request))
    return JSONResponse(proxy.document(), status_code=201)


async def _proxy(request: Request, registry: Registry) -> Response:
    name = request.path_params["name"]
    if request.method == "DELETE":
        await registry.delete(name)
        return Response(status_code=204)
    proxy = registry.get(name)
    if request.method == "POST":
        await proxy.update(await _body(request))
    return JSONResponse(proxy.document())


async def _toxics(request: Request, registry: Registry) -> Response:
    proxy = registry.get(request.path_params["name"])
    if request.method == "GET":
        return JSONResponse([toxic.spec.document() for toxic in proxy.toxics.values()])
    return JSONResponse(proxy.add_toxic(await _body(request)).document())


async def _toxic(request: Request, registry: Registry) -> Response:
    proxy = registry.get(request.path_params["name"])
    name = request.path_params["toxic"]
    if request.method == "DELETE":
        proxy.remove_toxic(name)
        return Response(status_code=204)
    if request.method == "POST":
        return JSONResponse(proxy.update_toxic(name, await _body(request)).document())
    return JSONResponse(proxy.toxic(name).document())


async def _populate(request: Request, registry: Registry) -> Response:
    body = await _body(request)
    proxies = await registry.populate(body if body != {} else [])
    return JSONResponse({"proxies": [p.document() for p in proxies]}, status_code=201)


async def _reset(request: Request, registry: Registry) -> Response:
    await registry.reset()
    return Response(status_code=204)


async def _version(request: Request, registry: Registry) -> Response:
    return JSONResponse({"version": VERSION})


async def _events(request: Request, registry: Registry) -> Response:
    since = request.query_params.get("since", "0")
    if not since.isascii() or not since.isdigit() or len(since) > 18:
        raise ProxyError(400, "since: expected an event id, a whole number ≥ 0")
    log = registry.events
    return JSONResponse(
        {
            "events": [event.document() for event in log.since(int(since))],
            "last_id": log.last_id,
            "dropped": log.dropped,
        }
    )


def api_app(registry: Registry) -> Starlette:
    """The REST API of `registry`, Toxiproxy's paths, status codes and error shape."""
    scraped = metrics_registry(lambda: list(registry.proxies.values()))

    async def metrics(request: Request, registry: Registry) -> Response:
        return Response(generate_latest(scraped), media_type=CONTENT_TYPE_LATEST)

    routes = [
        _route("/proxies", _proxies, ["GET", "POST"], registry),
        _route("/proxies/{name}", _proxy, ["GET", "POST", "DELETE"], registry),
        _route("/proxies/{name}/toxics", _toxics, ["GET", "POST"], registry),
        _route("/proxies/{name}/toxics/{toxic}", _toxic, ["GET", "POST", "DELETE"], registry),
        _route("/populate", _populate, ["POST"], registry),
        _route("/reset", _reset, ["POST"], registry),
        _route("/version", _version, ["GET"], registry),
        _route("/metrics", metrics, ["GET"], registry),
        _route("/events", _events, ["GET"], registry),
    ]
    return Starlette(routes=routes)
