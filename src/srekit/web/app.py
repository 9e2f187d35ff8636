"""The dashboard, mounted on the API's FastAPI app by `add_web` (called from `api.app`).

Pages live under `/ui/` (`/` redirects there); the API stays under `/api`. Each page is a
route module in `web/pages/` with one router, joined here in `_PAGES`; static files (the
vendored htmx and uPlot, srekit's CSS and script) are served from `/ui/static/` with a
year-long cache, since their URLs carry a digest of their content (`templating.static_url`).
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.staticfiles import StaticFiles

from srekit.api.deps import ApiState, Principal
from srekit.core.access import Role
from srekit.web.auth import LoginRequiredError, PageRefusedError
from srekit.web.lines import LineCache
from srekit.web.session import WEB_SESSION_SECRET, SessionSigner
from srekit.web.templating import PAGE_HEADERS, STATIC_DIR, STATIC_PREFIX, render

__all__ = ["WebState", "add_web"]

_YEAR_S = 365 * 86400


class WebState:
    """What the pages share: the API's state (statuses, tokens, store) and the session signer,
    whose secret is read from the store on first use."""

    def __init__(self, api: ApiState) -> None:
        self.api = api
        self.lines = LineCache()  # the SLO lines the Overview and the SLO list share
        self._signer: SessionSigner | None = None
        self._lock = asyncio.Lock()

    @property
    def session_ttl_s(self) -> float:
        return self.api.settings.web_session_ttl_s

    async def signer(self) -> SessionSigner:
        if self._signer is None:
            async with self._lock:
                if self._signer is None:
                    self._signer = SessionSigner(await run_in_threadpool(self._secret))
        return self._signer

    def _secret(self) -> bytes:
        from srekit.store.repo import server_secret

        with self.api.session() as session:
            return server_secret(session, name=WEB_SESSION_SECRET)

    def principal_by_hash(self, token_hash: str) -> Principal | None:
        from srekit.store.repo import active_token_by_hash

        with self.api.session(read_only=True) as session:
            row = active_token_by_hash(session, token_hash=token_hash)
            return None if row is None else Principal(row.name, Role(row.role))


class _CachedStatic(StaticFiles):
    """Static files with a year-long, immutable cache: their URLs change with their content."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = f"public, max-age={_YEAR_S}, immutable"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


async def _to_login(request: Request, error: Exception) -> Response:
    assert isinstance(error, LoginRequiredError)
    target = "/ui/login?next=" + quote(error.next_path, safe="/")
    if request.headers.get("hx-request"):  # htmx follows a redirect inside the page: reload
        return Response(status_code=401, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303, headers=PAGE_HEADERS)


async def _refused(request: Request, error: Exception) -> Response:
    assert isinstance(error, PageRefusedError)
    return render(
        request,
        "error.html",
        {"title": f"Error {error.status_code}", "message": error.message},
        status_code=error.status_code,
    )


def add_web(app: FastAPI, api: ApiState) -> None:
    """Mount the dashboard's pages and static files on `app`."""
    from srekit.web.pages import (
        audit,
        canary,
        capacity,
        chaos,
        deployments,
        incidents,
        load,
        login,
        oncall,
        overview,
        slo_detail,
        slos,
        status,
    )

    app.state.srekit_web = WebState(api)
    app.add_exception_handler(LoginRequiredError, _to_login)
    app.add_exception_handler(PageRefusedError, _refused)
    app.mount(STATIC_PREFIX, _CachedStatic(directory=STATIC_DIR), name="ui-static")
    for module in (
        login,
        overview,
        slos,
        slo_detail,
        incidents,
        oncall,
        deployments,
        capacity,
        load,
        canary,
        chaos,
        audit,
        status,
    ):
        app.include_router(module.router)

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/ui/", status_code=307)
