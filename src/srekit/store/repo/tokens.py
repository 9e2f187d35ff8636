"""API tokens of the srekit server: created with a role, kept only as a hash, revoked (kept,
marked revoked) rather than deleted. Creating and revoking are audited; the audit log never
holds a token or its hash."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from srekit.core.access import ROLE_NAMES
from srekit.errors import NotFound, SpecError
from srekit.store.repo._base import check_name, find_named, when
from srekit.store.repo.audit import audited_write
from srekit.store.tables import ApiTokenRow

__all__ = [
    "TOKEN_PREFIX",
    "active_token_by_hash",
    "authenticate_token",
    "create_token",
    "hash_token",
    "list_tokens",
    "revoke_token",
]

TOKEN_PREFIX = "srk_"
_LAST_USED_PRECISION = timedelta(minutes=5)  # how stale `last_used_at` may be: fewer writes


def hash_token(token: str) -> str:
    """The SHA-256 hex digest of `token`, as the store keeps it.

    A fast hash is right here, unlike for passwords: tokens are 32 random bytes (256 bits), so
    no dictionary or brute force can find one from its hash however fast the hash is, and a
    slow KDF (bcrypt, argon2) would cost milliseconds on every request of a server meant to
    answer thousands per second. An unsalted digest can also be looked up by index.
    """
    return hashlib.sha256(token.encode()).hexdigest()


def _token_state(row: ApiTokenRow) -> dict[str, Any]:
    """What the audit log keeps of a token: never the token or its hash."""
    return {"name": row.name, "role": row.role, "prefix": row.prefix}


def create_token(
    session: Session,
    *,
    role: str,
    actor: str,
    name: str | None = None,
    now: datetime | None = None,
) -> tuple[ApiTokenRow, str]:
    """A new token with `role`: the row and the token itself (`srk_` + 32 random bytes,
    URL-safe base64), which is returned this once and never stored."""
    if role not in ROLE_NAMES:
        raise SpecError(f"expected one of {', '.join(ROLE_NAMES)}, got {role!r}", field="role")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    prefix = token[: len(TOKEN_PREFIX) + 6]
    # not the prefix: URL-safe base64 has uppercase letters, and a name has none
    name = name if name is not None else f"{role}-{secrets.token_hex(4)}"
    check_name(name, "token")
    row = ApiTokenRow(
        name=name,
        role=role,
        token_hash=hash_token(token),
        prefix=prefix,
        created_at=when(now),
        created_by=actor,
    )
    session.add(row)
    audited_write(
        session,
        actor=actor,
        action="token.create",
        target=name,
        after=_token_state(row),
        refused=f"a token named {name!r} exists already",
        now=now,
    )
    return row, token


def authenticate_token(
    session: Session, *, token: str, now: datetime | None = None
) -> ApiTokenRow | None:
    """The active token row `token` belongs to, or None (unknown, malformed or revoked).

    Notes when it was last used, at most every few minutes so reads do not turn into writes.
    """
    if not token.startswith(TOKEN_PREFIX):
        return None
    row = session.scalars(
        select(ApiTokenRow).where(ApiTokenRow.token_hash == hash_token(token))
    ).one_or_none()
    if row is None or row.revoked_at is not None:
        return None
    at = when(now)
    if row.last_used_at is None or at - row.last_used_at >= _LAST_USED_PRECISION:
        row.last_used_at = at
        session.flush()
    return row


def list_tokens(session: Session, *, include_revoked: bool = False) -> list[ApiTokenRow]:
    """Tokens by name; revoked ones only when asked."""
    query = select(ApiTokenRow).order_by(ApiTokenRow.name)
    if not include_revoked:
        query = query.where(ApiTokenRow.revoked_at.is_(None))
    return list(session.scalars(query))


def revoke_token(
    session: Session, *, name: str, actor: str, now: datetime | None = None
) -> ApiTokenRow:
    """Revoke the token called `name` (kept, marked revoked, for the record); NotFound if no
    active token has that name."""
    row = find_named(session, ApiTokenRow, name)
    if row is None or row.revoked_at is not None:
        raise NotFound(f"no active token {name!r}")
    row.revoked_at = when(now)
    audited_write(
        session,
        actor=actor,
        action="token.revoke",
        target=name,
        before=_token_state(row),
        now=now,
    )
    return row


def active_token_by_hash(session: Session, *, token_hash: str) -> ApiTokenRow | None:
    """The active token whose SHA-256 digest is `token_hash`, or None (unknown or revoked): a
    dashboard session keeps the digest of the token it was opened with, never the token."""
    row = session.scalars(
        select(ApiTokenRow).where(ApiTokenRow.token_hash == token_hash)
    ).one_or_none()
    return None if row is None or row.revoked_at is not None else row
