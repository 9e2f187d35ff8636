"""Teams as the API shows them."""

from __future__ import annotations

from srekit.contracts import ResponseModel, Time

__all__ = ["TeamOut"]


class TeamOut(ResponseModel):
    name: str
    services: list[str]
    created_at: Time
