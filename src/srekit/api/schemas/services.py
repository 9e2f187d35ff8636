"""Services: what a write takes and a read gives."""

from __future__ import annotations

from pydantic import Field

from srekit.api.schemas.base import Name, RequestModel
from srekit.contracts import ResponseModel, Time

__all__ = ["ServiceOut", "ServiceWrite"]


class ServiceWrite(RequestModel):
    """`PUT /api/v1/services/{name}`: create the service, or move it to `team`."""

    team: Name | None = Field(None, description="the owning team (created when missing)")


class ServiceOut(ResponseModel):
    name: str
    team: str | None
    slos: list[str]
    created_at: Time
    updated_at: Time
