"""Who may do what: the roles an API token carries and what each one grants.

`viewer` reads; `editor` also changes SLOs, services and teams, and runs incidents; `admin`
also manages policies and tokens, and may ask the gate; `deploy` may only ask the gate (a CI
credential that can read nothing else); `ingest` may only deliver alerts (Alertmanager's
credential).
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["ROLE_NAMES", "TOKEN_CACHE_TTL_S", "Role", "grants"]

#: How long a server trusts a token look-up it cached: a token revoked elsewhere (another
#: process, another replica) stops working within this many seconds.
TOKEN_CACHE_TTL_S = 10.0


class Role(StrEnum):
    VIEWER = "viewer"
    EDITOR = "editor"
    ADMIN = "admin"
    DEPLOY = "deploy"
    INGEST = "ingest"


ROLE_NAMES: tuple[str, ...] = tuple(role.value for role in Role)

# Which roles each role's holder may act as.
_GRANTS: dict[Role, frozenset[Role]] = {
    Role.VIEWER: frozenset({Role.VIEWER}),
    Role.EDITOR: frozenset({Role.VIEWER, Role.EDITOR}),
    Role.ADMIN: frozenset(Role),
    Role.DEPLOY: frozenset({Role.DEPLOY}),
    Role.INGEST: frozenset({Role.INGEST}),
}


def grants(held: Role, needed: Role) -> bool:
    """Whether a holder of `held` may do what needs `needed` (admin may do everything)."""
    return needed in _GRANTS[held]
