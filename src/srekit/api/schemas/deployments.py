"""The deploys the gate was asked about, as the API lists them."""

from __future__ import annotations

from srekit.contracts import ResponseModel, Time

__all__ = ["DeploymentOut"]


class DeploymentOut(ResponseModel):
    id: int
    service: str
    version: str | None
    commit_time: Time | None
    change_type: str
    allowed: bool
    decision: str
    state: str
    reasons: list[str]
    requested_at: Time
    requested_by: str | None
    source: str
