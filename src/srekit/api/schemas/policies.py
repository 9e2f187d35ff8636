"""Error-budget policies: their spec and how they are shown."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from srekit.api.schemas.base import RequestModel
from srekit.contracts import ResponseModel, Time
from srekit.core.policy import DEFAULT_EXCEPTIONS

__all__ = ["PolicyLevelIn", "PolicyOut", "PolicySpecIn"]


class PolicyLevelIn(RequestModel):
    state: str = Field(min_length=1, max_length=40)
    floor: float | None = Field(
        None, ge=-10, le=1, description="applies while remaining > floor; null: the bottom level"
    )
    decision: Literal["allow", "review", "deny"]
    actions: list[str] = []
    change_types: dict[str, Literal["allow", "review", "deny"]] = {}


class PolicySpecIn(RequestModel):
    """An error-budget policy: levels highest floor first, the last one without a floor."""

    levels: list[PolicyLevelIn] = Field(min_length=1, max_length=50)
    exceptions: list[str] = list(DEFAULT_EXCEPTIONS)


class PolicyOut(ResponseModel):
    name: str
    version: int
    created_at: Time
    updated_at: Time
    spec: dict[str, Any]
