"""The forecast SVG: well-formed, with the bands, lines and positions asked for."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from srekit.capacity.plot import HEIGHT, Band, forecast_svg

NS = {"svg": "http://www.w3.org/2000/svg"}


def _svg() -> ET.Element:
    text = forecast_svg(
        title="checkout cpu <forecast>",
        history=([0, 100], [10, 20]),
        forecast_at=[200, 300],
        median=[30, 40],
        bands=[Band(80, [25, 30], [35, 50]), Band(95, [20, 25], [40, 60])],
        limit=100,
        headroom_level=70,
    )
    return ET.fromstring(text)


def test_svg_holds_bands_lines_and_title() -> None:
    root = _svg()
    assert root.find("svg:title", NS) is not None
    assert root.find("svg:title", NS).text == "checkout cpu <forecast>"  # type: ignore[union-attr]
    classes = [element.get("class") for element in root]
    assert classes == [None, "band-95", "band-80", "history", "median", "limit", "headroom"]


def test_limit_and_headroom_lines_at_their_heights() -> None:
    root = _svg()
    # y axis 0..105 (limit 100 × 1.05) over HEIGHT − 64 pixels from HEIGHT − 32
    limit = root.find("svg:line[@class='limit']", NS)
    headroom = root.find("svg:line[@class='headroom']", NS)
    assert limit is not None
    assert headroom is not None
    plot_height = HEIGHT - 64
    assert float(limit.get("y1", "")) == round(HEIGHT - 32 - 100 / 105 * plot_height, 1)
    assert float(headroom.get("y1", "")) == round(HEIGHT - 32 - 70 / 105 * plot_height, 1)


def test_median_starts_where_the_forecast_starts() -> None:
    median = _svg().find("svg:polyline[@class='median']", NS)
    assert median is not None
    first_x = float(median.get("points", "").split()[0].split(",")[0])
    # time 0..300 over 640 − 64 pixels from 32: t = 200 → 32 + 2/3 × 576 = 416
    assert first_x == 416
