"""The dashboard's SVG: parsed back as XML, geometry checked against hand-computed numbers."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import pytest

from srekit.web import svg

NS = {"s": "http://www.w3.org/2000/svg"}


def _only(element: ET.Element, path: str) -> ET.Element:
    """The first element at `path` below `element`, which must be there."""
    found = element.find(path, NS)
    assert found is not None, path
    return found


def _parse(text: str) -> ET.Element:
    root = ET.fromstring(text)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("role") == "img"
    assert root.find("s:title", NS) is not None
    return root


def _rects(root: ET.Element) -> list[dict[str, str]]:
    return [dict(rect.attrib) for rect in root.iter("{http://www.w3.org/2000/svg}rect")]


def test_sparkline_maps_the_range_and_breaks_at_gaps() -> None:
    # min 0, max 1, 4 points over 30 units: x step 10; y = 12 − 1 − share × (12 − 2)
    root = _parse(svg.sparkline([0, 1, None, 0.5], width=30, height=12, label="t"))
    assert root.get("viewBox") == "0 0 30 12"
    lines = root.findall("s:polyline", NS)
    assert [line.get("points") for line in lines] == ["0,11 10,1"]
    dots = root.findall("s:circle", NS)
    assert [(dot.get("cx"), dot.get("cy")) for dot in dots] == [("30", "6")]


def test_sparkline_with_fixed_bounds_and_flat_or_empty_series() -> None:
    root = _parse(svg.sparkline([0.5, 2.0], width=10, height=12, low=0, high=1))
    assert _only(root, "s:polyline").get("points") == "0,6 10,1"  # 2.0 is clamped to the top
    flat = _parse(svg.sparkline([3, 3, 3], width=20, height=12))
    assert _only(flat, "s:polyline").get("points") == "0,6 10,6 20,6"
    empty = _parse(svg.sparkline([None, math.nan, math.inf], width=20, height=12))
    assert empty.find("s:polyline", NS) is None
    assert empty.find("s:circle", NS) is None
    single = _parse(svg.sparkline([0.7], width=20, height=12))
    assert (_only(single, "s:circle").get("cx"), _only(single, "s:circle").get("cy")) == (
        "10",
        "6",
    )


@pytest.mark.parametrize(
    ("remaining", "width", "colour"),
    [
        (0.3, "30", svg.COLOURS["warn"]),  # 0.25 < 0.3 ≤ 0.5
        (0.75, "75", svg.COLOURS["good"]),
        (0.5, "50", svg.COLOURS["warn"]),  # the floor itself is not above it
        (0.1, "10", svg.COLOURS["bad"]),
        (1.7, "100", svg.COLOURS["good"]),  # clamped to the whole bar
        (-0.2, "0", svg.COLOURS["bad"]),  # overspent: an empty bar, coloured bad
    ],
)
def test_budget_bar_fills_the_remaining_share(remaining: float, width: str, colour: str) -> None:
    rects = _rects(_parse(svg.budget_bar(remaining, width=100, height=10)))
    assert rects[0] == {
        "x": "0",
        "y": "0",
        "width": "100",
        "height": "10",
        "fill": svg.COLOURS["track"],
    }
    assert (rects[1]["width"], rects[1]["fill"]) == (width, colour)


def test_budget_bar_without_a_figure_is_the_track_alone() -> None:
    root = _parse(svg.budget_bar(None))
    assert len(_rects(root)) == 1
    assert root.get("aria-label") == "no budget figure"
    assert _parse(svg.budget_bar(0.123)).get("aria-label") == "12.3% of budget left"


def test_day_bars_split_the_width_and_colour_by_objective() -> None:
    # 3 bars, 2 gaps of 1 over 32 units: each (32 − 2) / 3 = 10 wide, at x 0, 11, 22
    root = _parse(
        svg.day_bars(
            [0.9995, 0.998, None], objective=0.999, width=32, height=8, titles=["a", "b", "c"]
        )
    )
    rects = _rects(root)
    assert [(r["x"], r["width"], r["height"]) for r in rects] == [
        ("0", "10", "8"),
        ("11", "10", "8"),
        ("22", "10", "8"),
    ]
    assert [r["fill"] for r in rects] == [
        svg.COLOURS["good"],
        svg.COLOURS["bad"],
        svg.COLOURS["none"],
    ]
    titles = [_only(rect, "s:title").text for rect in root.iter(f"{{{NS['s']}}}rect")]
    assert titles == ["a", "b", "c"]
    assert _rects(_parse(svg.day_bars([], objective=0.9))) == []


def test_heatmap_grid_geometry() -> None:
    # labels "a" (6.2) and "bb" (13.8) at 11 px: left = ceil(13.8) + 6 = 20; cells 12 + gap 2
    cells = [svg.HeatCell("good", "x"), svg.HeatCell("bad", "y")]
    root = _parse(svg.heatmap([("a", cells), ("bb", [svg.HeatCell("none", "z")])]))
    assert root.get("viewBox") == "0 0 48 28"
    rects = _rects(root)
    assert [(r["x"], r["y"]) for r in rects] == [("20", "0"), ("34", "0"), ("20", "14")]
    assert [r["fill"] for r in rects] == [
        svg.COLOURS["good"],
        svg.COLOURS["bad"],
        svg.COLOURS["none"],
    ]
    labels = [text.text for text in root.iter(f"{{{NS['s']}}}text")]
    assert labels == ["a", "bb"]
    assert _parse(svg.heatmap([])).get("viewBox") == "0 0 1 1"


def test_badge_widths_come_from_the_character_table() -> None:
    # "slo": s 5.8 + l 3.1 + o 6.9 = 15.8 → 16 + 2 × 6 = 28; "99.9%": 3 × 7 + 4 + 12 = 37 → 49
    assert svg.text_width("slo") == pytest.approx(15.8)
    assert svg.text_width("99.9%") == pytest.approx(37.0)
    root = _parse(svg.badge("slo", "99.9%", colour="good"))
    assert (root.get("width"), root.get("viewBox")) == ("77", "0 0 77 20")
    rects = _rects(root)
    assert [(r.get("x", "0"), r["width"], r["fill"]) for r in rects] == [
        ("0", "28", svg.COLOURS["label"]),
        ("28", "49", svg.COLOURS["good"]),
    ]
    texts = [(t.get("x"), t.text) for t in root.iter(f"{{{NS['s']}}}text")]
    assert texts == [("14", "slo"), ("52.5", "99.9%")]
    assert root.get("aria-label") == "slo: 99.9%"


def test_badge_colour_is_a_palette_name_or_a_hex_colour() -> None:
    assert _rects(_parse(svg.badge("a", "b", colour="#123abc")))[1]["fill"] == "#123abc"
    hostile = svg.badge("a", "b", colour='red" onload="alert(1)')
    assert _rects(_parse(hostile))[1]["fill"] == svg.COLOURS["none"]


def test_text_is_escaped_everywhere() -> None:
    nasty = '<script>alert("x")</script> & ]]>'
    for text in (
        svg.sparkline([1, 2], label=nasty),
        svg.budget_bar(0.5, label=nasty),
        svg.day_bars([1.0], objective=0.5, titles=[nasty], label=nasty),
        svg.heatmap([(nasty, [svg.HeatCell("good", nasty)])], label=nasty),
        svg.badge(nasty, nasty, colour="bad"),
    ):
        root = _parse(text)  # well-formed XML: nothing broke out
        assert "<script>" not in text
        assert _only(root, "s:title").text in {nasty, f"{nasty}: {nasty}"}
        assert root.find(".//s:script", NS) is None


def test_output_is_deterministic() -> None:
    values = [0.1 * i for i in range(30)]
    assert svg.sparkline(values) == svg.sparkline(list(values))
    assert svg.badge("availability", "99.95%", colour="good") == svg.badge(
        "availability", "99.95%", colour="good"
    )
