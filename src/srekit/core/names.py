"""The one rule for the names srekit keeps: services, SLOs, teams, policies and API tokens.

A name is 1 to 200 characters of lowercase ASCII letters, digits, `-`, `_` and `.`, starting and
ending with a letter or digit: `checkout`, `web-shop.v2`, `team_payments`. Such a name reads
the same everywhere it appears (URL paths, Prometheus label values, the audit log, a terminal),
so nothing that looks alike but differs (uppercase, a trailing space, U+202E, a lookalike
letter) can be two entities, or hide one. Every surface checks names with `name_problem`; the
spec formats, the API, the CLI and the store all refuse what it refuses.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["NAME_MAX_LENGTH", "NAME_PATTERN", "NAME_RULE", "name_problem"]

NAME_MAX_LENGTH: Final = 200
# A JSON schema (ECMA-262) pattern; Python checks it with fullmatch, as `$` alone would also
# match before a final newline.
NAME_PATTERN: Final = r"^[a-z0-9]([-a-z0-9_.]*[a-z0-9])?$"
NAME_RULE: Final = (
    "lowercase letters, digits, '-', '_' and '.', starting and ending with a letter or digit,"
    f" at most {NAME_MAX_LENGTH} characters"
)
_NAME = re.compile(r"[a-z0-9](?:[-a-z0-9_.]*[a-z0-9])?")
_ALLOWED = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_.")
_SHOWN = 40


def _shown(value: str) -> str:
    text = value if len(value) <= _SHOWN else value[:_SHOWN] + "..."
    return repr(text)


def name_problem(value: str) -> str | None:
    """What is wrong with `value` as a name, in words for the person who chose it; None when
    it is a good name.

    The message states the rule and then what was found: the length when too long, else the
    first character that is not allowed (escaped, so NUL or U+202E are visible), else the
    character it starts or ends with.
    """
    if _NAME.fullmatch(value) and len(value) <= NAME_MAX_LENGTH:
        return None
    if not value:
        found = "an empty name"
    elif len(value) > NAME_MAX_LENGTH:
        found = f"{len(value)} characters: {_shown(value)}"
    else:
        bad = next((char for char in value if char not in _ALLOWED), None)
        if bad is not None:
            found = f"{_shown(value)}, where {bad!r} is not allowed"
        else:
            # every character is allowed, so the first or the last is '-', '_' or '.'
            where, edge = ("starts", value[0]) if value[0] in "-_." else ("ends", value[-1])
            found = f"{_shown(value)}, which {where} with {edge!r}"
    return f"expected a name of {NAME_RULE}; got {found}"
