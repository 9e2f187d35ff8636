"""Audit-log entries as the API lists them."""

from __future__ import annotations

from typing import Any

from srekit.contracts import ResponseModel, Time

__all__ = ["AuditOut"]


class AuditOut(ResponseModel):
    id: int
    at: Time
    actor: str
    action: str
    entity_kind: str
    entity_id: str
    before: Any
    after: Any
