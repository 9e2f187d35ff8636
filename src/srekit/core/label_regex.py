"""Label regular expressions as Alertmanager evaluates them: RE2 syntax, anchored at both ends,
in time linear in the value.

Python's `re` backtracks: a route's `match_re` such as `(a+)+$` would hold the intake's writer
for minutes on one long label value. RE2 (Go's regexp, which Alertmanager uses) cannot
backtrack, and refuses what Alertmanager refuses too (look-arounds, back-references).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import re2

__all__ = ["compile_label_regex", "label_regex_matches"]

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # the error is raised to the caller, not printed on stderr


@lru_cache(maxsize=1024)
def compile_label_regex(pattern: str) -> Any:
    """The compiled pattern; ValueError saying why when RE2 (and so Alertmanager) refuses it."""
    try:
        return re2.compile(pattern, _OPTIONS)
    except re2.error as error:
        reason = error.args[0] if error.args else "invalid"
        text = reason.decode(errors="replace") if isinstance(reason, bytes) else str(reason)
        raise ValueError(f"{text} (RE2 syntax, as Alertmanager's)") from None


def label_regex_matches(pattern: str, value: str) -> bool:
    """The whole value matches; a pattern RE2 refuses matches nothing."""
    try:
        compiled = compile_label_regex(pattern)
    except ValueError:
        return False
    return compiled.fullmatch(value) is not None
