"""The one name rule: what it accepts, and what it says about what it refuses."""

from __future__ import annotations

import re

import pytest

from srekit.core.names import NAME_MAX_LENGTH, NAME_PATTERN, NAME_RULE, name_problem

RULE = (
    "expected a name of lowercase letters, digits, '-', '_' and '.', starting and ending with a"
    " letter or digit, at most 200 characters; got "
)

# Names the tests, docs and examples use must stay good.
GOOD = [
    "a",
    "7",
    "checkout",
    "web-shop",
    "team-payments",
    "team_x",
    "api.v2",
    "a..b",
    "k8s-apiserver",
    "x" * 200,
]

HOSTILE = {
    "nul": ("a\x00b", "'a\\x00b', where '\\x00' is not allowed"),
    "tab": ("a\tb", "'a\\tb', where '\\t' is not allowed"),
    "rtl override": ("\u202eab", "'\\u202eab', where '\\u202e' is not allowed"),
    "leading space": (" api", "' api', where ' ' is not allowed"),
    "trailing space": ("api ", "'api ', where ' ' is not allowed"),
    "emoji": ("api\U0001f600", "'api\U0001f600', where '\U0001f600' is not allowed"),
    "uppercase": ("Checkout", "'Checkout', where 'C' is not allowed"),
    "double quote": ('"api"', "'\"api\"', where '\"' is not allowed"),
    "single quote": ("it's", '"it\'s", where "\'" is not allowed'),
    "dot dot": ("..", "'..', which starts with '.'"),
    "leading dash": ("-api", "'-api', which starts with '-'"),
    "trailing underscore": ("api_", "'api_', which ends with '_'"),
    "final newline": ("api\n", "'api\\n', where '\\n' is not allowed"),
    "slash": ("a/b", "'a/b', where '/' is not allowed"),
    "arabic-indic digit": ("api\u0669", "'api\u0669', where '\u0669' is not allowed"),
    "empty": ("", "an empty name"),
    "201 characters": ("x" * 201, "201 characters: '" + "x" * 40 + "...'"),
}


@pytest.mark.parametrize("name", GOOD)
def test_good_names_have_no_problem(name: str) -> None:
    assert name_problem(name) is None
    assert re.fullmatch(NAME_PATTERN.strip("^$"), name)


@pytest.mark.parametrize(("name", "found"), HOSTILE.values(), ids=list(HOSTILE))
def test_a_refused_name_states_the_rule_and_what_was_found(name: str, found: str) -> None:
    assert name_problem(name) == RULE + found


@pytest.mark.parametrize(("name", "found"), HOSTILE.values(), ids=list(HOSTILE))
def test_the_schema_pattern_refuses_what_the_rule_refuses(name: str, found: str) -> None:
    # JSON schema readers (ECMA-262) see `$` as the end of the text; fullmatch is the same
    assert not (re.fullmatch(NAME_PATTERN.strip("^$"), name) and len(name) <= NAME_MAX_LENGTH)


def test_the_rule_in_words_names_the_limit() -> None:
    assert NAME_RULE.endswith(f"at most {NAME_MAX_LENGTH} characters")
