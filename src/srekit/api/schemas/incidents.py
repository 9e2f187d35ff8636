"""What the incident routes take: strict bodies (unknown fields, NaN, control characters and
oversized texts refused). What they answer is `contracts.IncidentOut` and its kin."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import BeforeValidator, Field

from srekit.api.schemas.base import Name, RequestModel
from srekit.core.incident import Severity, TaskState
from srekit.core.instant import parse_instant

__all__ = [
    "AcknowledgeIn",
    "CloseIn",
    "DeclareIn",
    "NoteIn",
    "RoleIn",
    "TaskIn",
    "TaskUpdateIn",
    "TransitionIn",
]

_LINE = r"^[^\x00-\x1f\x7f]*$"  # one line: no control characters
_TEXT = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"  # may hold tabs and newlines


def _instant(value: object) -> datetime:
    if not isinstance(value, str) or len(value) > 64:
        raise ValueError("expected an RFC 3339 time like 2026-12-01T00:00:00Z")
    return parse_instant(value).astimezone(UTC)


Line = Annotated[str, Field(min_length=1, max_length=400, pattern=_LINE)]
Text = Annotated[str, Field(min_length=1, max_length=16_384, pattern=_TEXT)]
Person = Annotated[str, Field(min_length=1, max_length=200, pattern=_LINE)]
Instant = Annotated[datetime, BeforeValidator(_instant)]
SloKey = Annotated[str, Field(min_length=3, max_length=401, pattern=r"^[^/\s]+/[^/\s]+$")]


class DeclareIn(RequestModel):
    """Declare an incident by hand."""

    title: Line
    severity: Severity
    services: list[Name] = Field(default_factory=list, max_length=100)
    slos: list[SloKey] = Field(default_factory=list, max_length=100)
    summary: Text | None = None
    commander: Person | None = None


class TransitionIn(RequestModel):
    """An optional note for the timeline; closing needs the incident's post-mortem published,
    or a reason to waive it (`waive_postmortem`) while it has none published."""

    note: Text | None = None
    waive_postmortem: Line | None = None


class AcknowledgeIn(TransitionIn):
    """An acknowledgement: with `silence`, also one Alertmanager silence for the incident's
    firing alerts, until it resolves or closes (SREKIT_SILENCE_DURATION_S at most)."""

    silence: Annotated[bool, Field(strict=True)] = False


class CloseIn(TransitionIn):
    """A closing: with `noise`, the incident was a false alarm (its alerts count as false
    positives in the alert quality report, and no post-mortem is needed); `reason` says why,
    with `noise` only."""

    noise: Annotated[bool, Field(strict=True)] = False
    reason: Line | None = None


class NoteIn(RequestModel):
    text: Text


class RoleIn(RequestModel):
    person: Person


class TaskIn(RequestModel):
    title: Line
    owner: Person | None = None
    due_at: Instant | None = Field(None, description="RFC 3339")


class TaskUpdateIn(RequestModel):
    state: TaskState | None = None
    owner: Person | None = None
    due_at: Instant | None = Field(None, description="RFC 3339")
