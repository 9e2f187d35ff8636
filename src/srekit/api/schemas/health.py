"""The health probes' answers."""

from __future__ import annotations

from typing import Literal

from srekit.contracts import ResponseModel

__all__ = ["HealthOut"]


class HealthOut(ResponseModel):
    status: Literal["ok", "ready", "unavailable"]
    detail: str | None = None
    revision: str | None = None
