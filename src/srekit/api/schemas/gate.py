"""What Flagger posts to the gate's webhook (the gate's answer is `contracts.GateOut`)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["FlaggerPayload"]


class FlaggerPayload(BaseModel):
    """Flagger's webhook payload; `metadata` carries srekit's parameters (`service`,
    `change_type`, `version`, `commit_time`, `fail_open`), all strings as Flagger sends them."""

    model_config = ConfigDict(extra="allow")

    name: str = Field(max_length=253)
    namespace: str = Field("", max_length=253)
    phase: str = Field("", max_length=100)
    metadata: dict[str, str] = {}
