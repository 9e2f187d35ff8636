"""Rotations as the API shows them; the request body is the srekit/v1 document itself
(`spec.rotation.RotationDocument`, shared with spec files and the store)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from srekit.contracts import ResponseModel, Time
from srekit.spec.rotation import RotationDocument

__all__ = ["RotationAppliedOut", "RotationDocument", "RotationOut", "RotationVersionOut"]


class RotationOut(ResponseModel):
    name: str
    team: str | None
    version: int = Field(description="of the latest change")
    effective_from: Time = Field(description="when the latest change takes effect")
    created_at: Time
    updated_at: Time
    document: dict[str, Any] = Field(
        description="the srekit/v1 Rotation document of the latest change: PUT takes it back"
    )


class RotationVersionOut(ResponseModel):
    version: int
    effective_from: Time
    created_at: Time
    actor: str
    ruling: bool = Field(
        description="false: a later change taking effect at or before it superseded it"
    )
    document: dict[str, Any]


class RotationAppliedOut(ResponseModel):
    name: str
    result: str = Field(description="created, updated or unchanged")
    version: int
    effective_from: Time
    changes: list[str]
