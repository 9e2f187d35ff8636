"""Error-budget policies as the API shows them (their spec is `spec.model.PolicySpec`)."""

from __future__ import annotations

from typing import Any

from srekit.contracts import ResponseModel, Time

__all__ = ["PolicyOut"]


class PolicyOut(ResponseModel):
    name: str
    version: int
    created_at: Time
    updated_at: Time
    spec: dict[str, Any]
