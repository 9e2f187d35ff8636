"""The dashboard's session: a signed cookie, never a token in the browser.

Logging in exchanges an API token (`srekit token create`) for a cookie holding the token's
SHA-256 digest, a random session id and an expiry, signed with HMAC-SHA256 under the store's
`web-session` server secret (`store.repo.server_secret`, shared by every replica). The token
itself is never stored. Each request checks the signature and the expiry, then that the token
is still active (a revoked token ends its sessions within `core.access.TOKEN_CACHE_TTL_S`).

CSRF: every form carries `csrf_token`, an HMAC of the session id, checked on each POST beside
the Origin (or Referer) header. The login form, which has no session yet, is tied the same way
to a short-lived signed `srekit_login` cookie.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

__all__ = [
    "LOGIN_COOKIE",
    "LOGIN_TTL_S",
    "SESSION_COOKIE",
    "WEB_SESSION_SECRET",
    "Session",
    "SessionSigner",
]

#: The server secret (`store.repo.server_secret`) that signs sessions and CSRF tokens.
WEB_SESSION_SECRET = "web-session"
SESSION_COOKIE = "srekit_session"
LOGIN_COOKIE = "srekit_login"
LOGIN_TTL_S = 1800
_MAX_COOKIE = 1024  # characters: anything longer is not one of ours


@dataclass(frozen=True)
class Session:
    """A logged-in browser: which token opened it (its digest), its id, when it ends."""

    token_hash: str
    session_id: str
    expires_at: int  # Unix seconds


class SessionSigner:
    """Signs and reads sessions, login nonces and CSRF tokens under one secret."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _mac(self, purpose: str, text: str) -> str:
        message = f"{purpose}\x00{text}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def _sign(self, purpose: str, payload: dict[str, object]) -> str:
        text = base64.urlsafe_b64encode(
            json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
        ).decode()
        text = text.rstrip("=")  # a cookie value without `=`, so it is never quoted
        return f"{text}.{self._mac(purpose, text)}"

    def _read(self, purpose: str, value: str | None, *, now: float) -> dict[str, object] | None:
        if not value or len(value) > _MAX_COOKIE or value.count(".") != 1:
            return None
        text, mac = value.split(".")
        if not hmac.compare_digest(mac, self._mac(purpose, text)):
            return None
        try:
            payload = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        except ValueError:  # pragma: no cover - signed by us, so always readable
            return None
        expires = payload.get("exp") if isinstance(payload, dict) else None
        if not isinstance(expires, int) or expires <= now:
            return None
        found: dict[str, object] = payload
        return found

    def new_session(self, token_hash: str, *, now: float, ttl_s: float) -> tuple[Session, str]:
        """A new session for the token with `token_hash`, and its cookie value."""
        session = Session(
            token_hash=token_hash,
            session_id=secrets.token_urlsafe(16),
            expires_at=int(now + ttl_s),
        )
        value = self._sign(
            "session",
            {"tok": session.token_hash, "sid": session.session_id, "exp": session.expires_at},
        )
        return session, value

    def read_session(self, value: str | None, *, now: float) -> Session | None:
        """The session a cookie holds; None when absent, forged, malformed or expired."""
        payload = self._read("session", value, now=now)
        if payload is None:
            return None
        token_hash, session_id = payload.get("tok"), payload.get("sid")
        if not isinstance(token_hash, str) or not isinstance(session_id, str):
            return None  # pragma: no cover - signed by us, so always well formed
        return Session(token_hash, session_id, int(payload["exp"]))  # type: ignore[call-overload]

    def csrf_token(self, session_id: str) -> str:
        """The CSRF token of a session (or of a login nonce): the same for its whole life."""
        return self._mac("csrf", session_id)

    def csrf_ok(self, session_id: str, given: str | None) -> bool:
        return bool(given) and hmac.compare_digest(self.csrf_token(session_id), given or "")

    def new_login(self, *, now: float) -> tuple[str, str]:
        """A login nonce's cookie value and the CSRF token its form carries."""
        nonce = secrets.token_urlsafe(16)
        return self._sign("login", {"n": nonce, "exp": int(now + LOGIN_TTL_S)}), self.csrf_token(
            "login:" + nonce
        )

    def login_csrf_ok(self, cookie: str | None, given: str | None, *, now: float) -> bool:
        payload = self._read("login", cookie, now=now)
        nonce = payload.get("n") if payload else None
        return isinstance(nonce, str) and self.csrf_ok("login:" + nonce, given)
