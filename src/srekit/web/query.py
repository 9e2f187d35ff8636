"""Reading a page's query values by hand: a value that is too long, holds control characters,
names nothing known or is not a number in range is ignored (None), never an error, so a page
answers 200 whatever its URL says (docs/architecture.md, "How a capability adds its page")."""

from __future__ import annotations

from collections.abc import Collection
from urllib.parse import urlencode

from fastapi import Request

__all__ = ["VALUE_LIMIT", "clean", "is_htmx", "one_of", "page_link", "whole_number"]

VALUE_LIMIT = 200


def clean(value: str | None) -> str | None:
    """A query value worth reading: present, not too long, without control characters."""
    if not value or len(value) > VALUE_LIMIT:
        return None
    if any(ord(char) < 0x20 or 0x7F <= ord(char) < 0xA0 for char in value):
        return None
    return value


def one_of(value: str | None, known: Collection[str]) -> str | None:
    """`value` when it is one of `known`, else None."""
    found = clean(value)
    return found if found is not None and found in known else None


def whole_number(value: str | None, *, low: int, high: int) -> int | None:
    """`value` as a plain decimal integer within [low, high], else None."""
    found = clean(value)
    if found is None or not found.isascii() or not found.isdigit() or len(found) > 12:
        return None
    number = int(found)
    return number if low <= number <= high else None


def page_link(path: str, values: dict[str, object]) -> str:
    """`path` with the values that are not None as its query string."""
    query = urlencode({key: str(value) for key, value in values.items() if value is not None})
    return f"{path}?{query}" if query else path


def is_htmx(request: Request) -> bool:
    """Whether htmx asks for the page's swappable part alone (not a history restore)."""
    return request.headers.get("hx-request") == "true" and not request.headers.get(
        "hx-history-restore-request"
    )
