"""The JSONPath subset of Chaos Toolkit's jsonpath tolerances, against hand-read documents."""

from __future__ import annotations

from typing import Any

import pytest

from srekit.core.jsonpath import compile_json_path

DOCUMENT: dict[str, Any] = {
    "slideshow": {
        "author": "Yours Truly",
        "slides": [
            {"title": "Wake up", "type": "all", "count": 1},
            {"title": "Overview", "type": "all", "count": 3, "items": ["a", "b"]},
            {"title": "Flag", "type": "none", "ok": True},
        ],
    },
    "x-id": 7,
}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$", [DOCUMENT]),
        ("$.slideshow.author", ["Yours Truly"]),
        ("$['slideshow'][\"author\"]", ["Yours Truly"]),
        ("$.x-id", [7]),
        ("$.slideshow.slides[0].title", ["Wake up"]),
        ("$.slideshow.slides[-1].title", ["Flag"]),
        ("$.slideshow.slides[3]", []),
        ("$.slideshow.slides[*].title", ["Wake up", "Overview", "Flag"]),
        ("$.slideshow.slides.*.count", [1, 3]),
        ("$..title", ["Wake up", "Overview", "Flag"]),
        ("$..items..*", ["a", "b"]),
        ("$.slideshow.missing", []),
        ("$.slideshow.author[0]", []),
        ("$.slideshow.author.*", []),
        ("$.slideshow.slides[?(@.type == 'all')].title", ["Wake up", "Overview"]),
        ("$.slideshow.slides[?(@.type='none')].title", ["Flag"]),
        ('$.slideshow.slides[?(@.type != "all")].title', ["Flag"]),
        ("$.slideshow.slides[?(@.count > 1)].title", ["Overview"]),
        ("$.slideshow.slides[?(@.count >= 1)].title", ["Wake up", "Overview"]),
        ("$.slideshow.slides[?(@.count < 3)].title", ["Wake up"]),
        ("$.slideshow.slides[?(@.count <= 3.0)].title", ["Wake up", "Overview"]),
        ("$.slideshow.slides[?(@.count < 'z')].title", []),  # a number is not below a text
        ("$.slideshow.slides[?(@.title > 'P')].title", ["Wake up"]),
        ("$.slideshow.slides[?(@.ok == true)].title", ["Flag"]),
        ("$.slideshow.slides[?(@.count == true)].title", []),  # 1 is not true
        ("$.slideshow.slides[?(@.ok == false)].title", []),
        ("$.slideshow.slides[?(@.ok)].title", ["Flag"]),
        ("$.slideshow.slides[?(@.items[1] == 'b')].title", ["Overview"]),
        ("$.slideshow.slides[?(@['title'] == 'Flag')].type", ["none"]),
        ("$.slideshow.slides[?(@.count == 1e0)].title", ["Wake up"]),
        ("$.slideshow.slides[?(@.gone == null)].title", []),
    ],
)
def test_paths_match_what_a_reader_finds(path: str, expected: list[Any]) -> None:
    assert compile_json_path(path).find(DOCUMENT) == expected


@pytest.mark.parametrize(
    ("path", "said"),
    [
        ("slideshow", "starting with '$'"),
        ("$slideshow", "'.', '..' or '['"),
        ("$.", "a member name or '*' after '.'"),
        ("$..", "a member name or '*' after '..'"),
        ("$[", "an index, a quoted name"),
        ("$[1", "']'"),
        ("$[?(x)]", "'@' to start a filter"),
        ("$[?(@.)]", "a member name after '.'"),
        ("$[?(@[x])]", "an index or a quoted name"),
        ("$[?(@.a ~ 1)]", "an operator or ')]'"),
        ("$[?(@.a == zzz)]", "a number, a quoted string"),
        ("$[?(@.a == 1e999)]", "a finite number"),
    ],
)
def test_unsupported_paths_are_refused_saying_what_was_expected(path: str, said: str) -> None:
    with pytest.raises(ValueError, match="expected") as raised:
        compile_json_path(path)
    assert said in str(raised.value)
