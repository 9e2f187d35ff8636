"""What the event store's modules share about talking to DuckDB: instants as epoch
microseconds (exact, whatever the session's time zone), and the line of a DuckDB error worth
showing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Final

__all__ = ["first_line", "from_us", "to_us"]

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


def to_us(moment: datetime) -> int:
    """Microseconds since the Unix epoch; a naive datetime is taken as UTC."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return (aware - _EPOCH) // timedelta(microseconds=1)


def from_us(micros: int) -> datetime:
    """The UTC instant `micros` microseconds after the Unix epoch."""
    return _EPOCH + timedelta(microseconds=micros)


def first_line(exc: BaseException) -> str:
    """The first line of an error's text (DuckDB appends context), or its type's name."""
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
