"""What the repo modules share: the default clock, the check on name lengths, constraint
refusals turned into Conflict, and `Applied`, what applying one versioned spec did."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Generic, NamedTuple, TypeVar

from sqlalchemy.exc import IntegrityError

from srekit.errors import Conflict, SpecError

__all__ = ["Applied", "check_name", "refused_as_conflict", "when"]

RowT = TypeVar("RowT")
NAME_LIMIT = 200  # the width of the name columns


class Applied(NamedTuple, Generic[RowT]):
    """What applying one spec did: the row, whether a new version was written, and how it differs.

    `diff` is empty when nothing changed, `("created",)` for a first version.
    """

    row: RowT
    changed: bool
    diff: tuple[str, ...]

    @property
    def created(self) -> bool:
        return self.changed and self.diff == ("created",)


def when(now: datetime | None) -> datetime:
    """`now`, or the current time when the caller gave none."""
    return now if now is not None else datetime.now(UTC)


@contextmanager
def refused_as_conflict(what: str) -> Iterator[None]:
    """Turn a constraint violation at flush into a Conflict that says what was refused."""
    try:
        yield
    except IntegrityError as error:
        raise Conflict(f"{what}: {error.orig}".strip()) from error


def check_name(value: str, what: str, *, file: str | None = None) -> None:
    """Refuse names the columns cannot hold, the same way on SQLite (which would not) and
    PostgreSQL (which would fail with a driver error)."""
    if not value or len(value) > NAME_LIMIT:
        raise SpecError(
            f"expected a {what} name of 1 to {NAME_LIMIT} characters, got {len(value)}: "
            f"{value[:40]!r}{'...' if len(value) > 40 else ''}",
            file=file,
            field=what,
        )
