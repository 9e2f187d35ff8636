"""The instant a request evaluates at: its `at` (RFC 3339) or now, never the future."""

from __future__ import annotations

from datetime import UTC, datetime

from srekit.core.instant import past_instant
from srekit.errors import SpecError

__all__ = ["at_or_now"]


def at_or_now(at: str | None) -> datetime:
    """`at` in UTC, or the current time (whole seconds) when None; malformed or future text is
    a SpecError on the field `at` (a 422), as `core.instant.past_instant` words it."""
    try:
        return past_instant(at, now=datetime.now(UTC).replace(microsecond=0))
    except ValueError as error:
        raise SpecError(str(error), field="at") from None
