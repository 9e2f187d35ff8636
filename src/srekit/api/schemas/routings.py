"""Alert routings as the API shows them; the request body is the srekit/v1 document itself
(`spec.routing.AlertRoutingDocument`, shared with spec files and the store)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from srekit.contracts import ResponseModel, Time
from srekit.spec.routing import AlertRoutingDocument

__all__ = ["AlertRoutingDocument", "RoutingOut"]


class RoutingOut(ResponseModel):
    name: str
    built_in: bool = Field(
        description="the built-in routing, in force while no routing named default is stored"
    )
    version: int | None = Field(description="null for the built-in routing")
    created_at: Time | None
    updated_at: Time | None
    document: dict[str, Any] = Field(
        description="the srekit/v1 AlertRouting document: PUT takes it back as it is"
    )
