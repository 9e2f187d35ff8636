"""`/ui/login` and `/ui/logout`: an API token exchanged for a session cookie, and back.

The cookie is HttpOnly, SameSite=Strict, scoped to `/ui`, Secure when the request came over
https, and lasts `SREKIT_WEB_SESSION_TTL_S`. Failed logins count against the client's address
like failed API authentications do (429 past the limit). Only tokens whose role reads
(viewer, editor, admin) open a session; deploy and ingest tokens are for machines.
"""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from srekit.api.deps import client_address
from srekit.core.access import Role
from srekit.web.auth import (
    LoginRequiredError,
    PageViewer,
    page_user,
    posted_form,
    read_form,
    same_origin,
    web_state,
)
from srekit.web.session import LOGIN_COOKIE, LOGIN_TTL_S, SESSION_COOKIE
from srekit.web.templating import PAGE_HEADERS, render

router = APIRouter(prefix="/ui", include_in_schema=False)

_TOKEN_LIMIT = 200
_NEXT_LIMIT = 2000


def safe_next(value: str | None) -> str:
    """Where to go after logging in: a path of the dashboard, never another site."""
    if (
        not value
        or len(value) > _NEXT_LIMIT
        or not value.startswith("/ui")
        or value.startswith("//")
        or "\\" in value
        or any(ord(char) < 0x20 or ord(char) == 0x7F for char in value)
    ):
        return "/ui/"
    return value


def _cookie(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/ui",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


async def _form(
    request: Request, *, next_path: str, error: str | None = None, status_code: int = 200
) -> HTMLResponse:
    signer = await web_state(request).signer()
    cookie, csrf = signer.new_login(now=time.time())
    response = render(
        request,
        "login.html",
        {"title": "Log in", "csrf_token": csrf, "next_path": next_path, "error": error},
        status_code=status_code,
    )
    _cookie(response, request, LOGIN_COOKIE, cookie, LOGIN_TTL_S)
    return response


@router.get("/login", response_model=None)
async def login_form(request: Request, next: Annotated[str | None, Query()] = None) -> Response:
    """The login form; a browser already logged in goes straight on."""
    target = safe_next(next)
    try:
        await page_user(request)
    except LoginRequiredError:
        return await _form(request, next_path=target)
    return RedirectResponse(target, status_code=303, headers=PAGE_HEADERS)


@router.post("/login", response_model=None)
async def login(request: Request) -> Response:
    """Exchange the token for a session; the form again, saying why, when it is refused."""
    state = web_state(request)
    signer = await state.signer()
    if not same_origin(request):
        return await _form(
            request,
            next_path="/ui/",
            error="The form was not sent from this server's login page.",
            status_code=403,
        )
    fields = await read_form(request)
    target = safe_next(fields.get("next"))
    if not signer.login_csrf_ok(
        request.cookies.get(LOGIN_COOKIE), fields.get("csrf_token"), now=time.time()
    ):
        return await _form(
            request,
            next_path=target,
            error="The login form expired: it was open too long, or cookies are blocked."
            " Try again.",
            status_code=403,
        )
    token = fields.get("token", "").strip()
    principal = None
    if token and len(token) <= _TOKEN_LIMIT:
        principal = await run_in_threadpool(state.api.lookup_token, token)
    if principal is None:
        client = client_address(request)
        wait_s = state.api.auth_failures.fail(client) if client is not None else None
        if wait_s is not None:
            return await _form(
                request,
                next_path=target,
                error=f"Too many failed logins from this address: retry in {int(wait_s) + 1} s.",
                status_code=429,
            )
        return await _form(
            request,
            next_path=target,
            error="That token is unknown or revoked (srekit token create makes one).",
            status_code=401,
        )
    if not principal.may(Role.VIEWER):
        return await _form(
            request,
            next_path=target,
            error=f"Token {principal.name} has the {principal.role} role, which cannot read"
            " the dashboard: use a viewer, editor or admin token.",
            status_code=403,
        )
    from srekit.store.repo import hash_token

    ttl_s = state.session_ttl_s
    _, cookie = signer.new_session(hash_token(token), now=time.time(), ttl_s=ttl_s)
    response = RedirectResponse(target, status_code=303, headers=PAGE_HEADERS)
    _cookie(response, request, SESSION_COOKIE, cookie, int(ttl_s))
    response.delete_cookie(LOGIN_COOKIE, path="/ui")
    return response


@router.post("/logout", response_model=None)
async def logout(request: Request, user: PageViewer) -> Response:
    """End the session (the cookie is dropped) and show the login form."""
    await posted_form(request, user)
    response = RedirectResponse("/ui/login", status_code=303, headers=PAGE_HEADERS)
    response.delete_cookie(SESSION_COOKIE, path="/ui")
    return response
