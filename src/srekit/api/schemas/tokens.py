"""API tokens: creating one, and how they are listed (never the token itself)."""

from __future__ import annotations

from pydantic import Field

from srekit.api.schemas.base import Name, RequestModel
from srekit.contracts import ResponseModel, Time
from srekit.core.access import Role

__all__ = ["TokenCreate", "TokenCreatedOut", "TokenOut"]


class TokenCreate(RequestModel):
    role: Role
    name: Name | None = Field(None, description="default: `<role>-` and 8 random hex digits")


class TokenOut(ResponseModel):
    name: str
    role: Role
    prefix: str = Field(description="the token's first characters, to tell tokens apart")
    created_at: Time
    created_by: str
    last_used_at: Time | None
    revoked_at: Time | None


class TokenCreatedOut(TokenOut):
    token: str = Field(description="the token itself: shown this once, never stored")
