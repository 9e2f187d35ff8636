"""Label regexes as Alertmanager reads them: RE2 syntax, anchored, linear in the value."""

from __future__ import annotations

import pytest

from srekit.core.label_regex import compile_label_regex, label_regex_matches
from srekit.core.routing import AlertRoute


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("checkout|search", "search", True),
        ("check", "checkout", False),  # anchored at both ends, as Alertmanager's
        ("out", "checkout", False),
        (".*out", "checkout", True),
        ("a.*", "a\nb", False),  # `.` does not cross a newline, as in Go
        ("(?s)a.*", "a\nb", True),
        ("ü+", "üü", True),
        ("", "", True),
        ("|ops", "", True),
    ],
)
def test_matching_is_anchored_re2(pattern: str, value: str, expected: bool) -> None:
    assert label_regex_matches(pattern, value) is expected


def test_a_catastrophic_pattern_answers_at_once() -> None:
    """Python's backtracking `re` spends about 2**40 steps on this; RE2 one pass."""
    value = "a" * 40 + "b"
    assert label_regex_matches("(a+)+", value) is False
    assert label_regex_matches("(a|aa)+c", "a" * 10_000) is False
    assert label_regex_matches("(a+)+b", value) is True


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("(", r"missing \)"),
        ("(?=x)", "invalid perl operator"),
        ("(a)\\1", "invalid escape sequence"),
        ("a{2,1}", "invalid repetition size"),
    ],
)
def test_what_alertmanager_refuses_is_refused_with_re2s_reason(pattern: str, reason: str) -> None:
    with pytest.raises(ValueError, match=rf"{reason}.*RE2 syntax"):
        compile_label_regex(pattern)
    assert label_regex_matches(pattern, "x") is False  # and matches nothing
    with pytest.raises(ValueError, match=rf"match_re\.team: not a regular expression.*{reason}"):
        AlertRoute(match_re={"team": pattern})
