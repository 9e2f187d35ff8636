"""The API documentation pages, `/docs` (Swagger UI) and `/redoc` (ReDoc), served with their
scripts, stylesheets and icon from the installed `fastapi-offline` package rather than a CDN,
so they work on a machine without internet (FastAPI's own pages load them from jsDelivr).

The assets are mounted at `/docs/assets/`; like the pages and `/openapi.json`, they are public
(they describe the API, never data). Paths are relative to the server's `root_path`, so the
pages work behind a proxy that mounts srekit under a prefix.

ReDoc's bundle credits Redocly in its side menu with a logo it fetches from Redocly's CDN; the
bundle is served with that one image swapped for an empty inline one, so `/redoc` asks no
other host for anything (`tests/api/test_docs_browser.py` watches a real browser load both
pages).
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

__all__ = ["ASSETS_URL", "add_docs"]

ASSETS_URL = "/docs/assets"
_REDOC_BUNDLE = "redoc.standalone.js"
_REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
_NO_IMAGE = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'/%3E"


def _assets_directory() -> Path:
    """fastapi-offline's `static/`: Swagger UI 5's bundle and CSS, ReDoc's standalone bundle
    and a favicon, as their projects publish them."""
    return Path(str(files("fastapi_offline") / "static"))


@cache
def _redoc_bundle() -> bytes:
    """ReDoc's standalone bundle with its one outside image (Redocly's logo) made inline."""
    bundle = (_assets_directory() / _REDOC_BUNDLE).read_text(encoding="utf-8")
    return bundle.replace(_REDOC_LOGO, _NO_IMAGE).encode("utf-8")


def add_docs(app: FastAPI, *, docs_url: str = "/docs", redoc_url: str = "/redoc") -> None:
    """Serve Swagger UI at `docs_url` and ReDoc at `redoc_url` from local assets; the app must
    have been built with `docs_url=None, redoc_url=None` (FastAPI's CDN pages off)."""
    openapi_url = app.openapi_url or "/openapi.json"

    # before the mount of the other assets, which would otherwise answer for this one
    @app.get(f"{ASSETS_URL}/{_REDOC_BUNDLE}", include_in_schema=False)
    async def redoc_bundle() -> Response:
        return Response(_redoc_bundle(), media_type="text/javascript; charset=utf-8")

    app.mount(ASSETS_URL, StaticFiles(directory=_assets_directory()), name="docs-assets")

    @app.get(docs_url, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{openapi_url}",
            title=f"{app.title} API",
            swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            swagger_ui_parameters=app.swagger_ui_parameters,
        )

    @app.get(redoc_url, include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(
            openapi_url=f"{root}{openapi_url}",
            title=f"{app.title} API",
            redoc_js_url=f"{root}{ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            with_google_fonts=False,
        )
