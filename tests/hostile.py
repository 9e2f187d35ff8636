"""Names no entry point may take: each breaks the one name rule (core.names) a different way.

Shared by the API and CLI tests, so both refuse the same list.
"""

from __future__ import annotations

__all__ = ["HOSTILE_NAMES"]

HOSTILE_NAMES = {
    "nul": "a\x00b",
    "tab": "a\tb",
    "rtl override": "\u202eab",
    "leading space": " api",
    "trailing space": "api ",
    "emoji": "api\U0001f600",
    "uppercase": "Checkout",
    "double quote": '"api"',
    "single quote": "it's",
    "dot dot": "..",
    "201 characters": "x" * 201,
}
