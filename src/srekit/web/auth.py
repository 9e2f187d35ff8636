"""Who is looking at a page, and whether a form may be posted.

`PageViewer` is the dependency every page takes: the logged-in user, or a redirect to the login
page (`LoginRequiredError`). Roles are the API's (`core.access`): a `viewer` reads every page and
changes nothing; a page renders an action only when `user.may(Role.EDITOR)` (or the role the
action needs), and its POST route calls `posted_form`, then `require(user, role)`, which
refuses others with 403 whatever the page showed them.

`posted_form` reads a POSTed form (URL-encoded, at most `_FORM_FIELDS` fields) after checking
that the request comes from one of srekit's own pages: its Origin (or, without one, its
Referer) is this server's, and its `csrf_token` field is the session's.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated
from urllib.parse import parse_qsl, urlsplit

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from srekit.api.deps import Principal
from srekit.core.access import Role, grants
from srekit.web.session import SESSION_COOKIE, Session

if TYPE_CHECKING:
    from srekit.web.app import WebState

__all__ = [
    "LoginRequiredError",
    "PageRefusedError",
    "PageUser",
    "PageViewer",
    "page_user",
    "posted_form",
    "require",
    "same_origin",
    "web_state",
]

_FORM_FIELDS = 20


class LoginRequiredError(Exception):
    """No valid session: the answer is a redirect to the login page, back to `next_path`."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class PageRefusedError(Exception):
    """A page request refused: rendered as an HTML error page with `status_code`."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message


@dataclass(frozen=True)
class PageUser:
    """The logged-in user: the token's name and role, the session, its CSRF token."""

    name: str
    role: Role
    session: Session
    csrf_token: str

    def may(self, role: Role | str) -> bool:
        return grants(self.role, Role(role))


def web_state(request: Request) -> WebState:
    state: WebState = request.app.state.srekit_web
    return state


def _next_path(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


async def _principal(state: WebState, token_hash: str) -> Principal | None:
    """The active token's principal, from the API's token cache (shared, so a revocation
    through the API ends sessions too) or the store."""
    api = state.api
    found, principal = api.tokens.get(token_hash)
    if found:
        return principal
    generation = api.tokens.generation
    principal = await run_in_threadpool(state.principal_by_hash, token_hash)
    api.tokens.put(token_hash, principal, generation=generation)
    return principal


async def page_user(request: Request) -> PageUser:
    """The session's user (kept on `request.state.page_user` for the templates); raises
    LoginRequiredError without a valid session, and for tokens whose role cannot read pages."""
    state = web_state(request)
    signer = await state.signer()
    session = signer.read_session(request.cookies.get(SESSION_COOKIE), now=time.time())
    principal = None if session is None else await _principal(state, session.token_hash)
    if session is None or principal is None or not principal.may(Role.VIEWER):
        raise LoginRequiredError(_next_path(request))
    user = PageUser(
        name=principal.name,
        role=principal.role,
        session=session,
        csrf_token=signer.csrf_token(session.session_id),
    )
    request.state.page_user = user
    return user


PageViewer = Annotated[PageUser, Depends(page_user)]


def same_origin(request: Request) -> bool:
    """Whether the request says it comes from this server's own pages: its Origin header, or
    without one its Referer, names this server's scheme, host and port."""
    own = (request.url.scheme, request.url.netloc.lower())
    origin = request.headers.get("origin")
    if origin is not None:
        if origin == "null":
            return False
        parts = urlsplit(origin)
        return (parts.scheme, parts.netloc.lower()) == own
    referer = request.headers.get("referer")
    if referer is None:
        return False
    parts = urlsplit(referer)
    return (parts.scheme, parts.netloc.lower()) == own


async def read_form(request: Request) -> dict[str, str]:
    """A URL-encoded form's fields (the first value of each); PageRefusedError(400) otherwise."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        raise PageRefusedError(415, "expected a form (application/x-www-form-urlencoded)")
    try:
        text = (await request.body()).decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=_FORM_FIELDS)
    except (UnicodeDecodeError, ValueError):
        raise PageRefusedError(400, "the form could not be read") from None
    fields: dict[str, str] = {}
    for name, value in pairs:
        fields.setdefault(name, value)
    return fields


async def posted_form(request: Request, user: PageUser) -> dict[str, str]:
    """The form `user` posted, once it is shown to come from srekit's own page (Origin and
    CSRF token); PageRefusedError(403) otherwise."""
    if not same_origin(request):
        raise PageRefusedError(403, "refused: the form was not sent from this server's pages")
    fields = await read_form(request)
    signer = await web_state(request).signer()
    if not signer.csrf_ok(user.session.session_id, fields.get("csrf_token")):
        raise PageRefusedError(403, "refused: the form's CSRF token is missing or wrong; reload")
    return fields


def require(user: PageUser, role: Role) -> None:
    """PageRefusedError(403) unless `user`'s role grants `role`."""
    if not user.may(role):
        raise PageRefusedError(403, f"{user.name} ({user.role}) may not do this: it needs {role}")
