"""`srekit report monthly|weekly` through CliRunner on the stored story: every format, the
same bytes twice, the PDF read back with pdftoppm (pages, not blank), exits 1 and 2."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from srekit.store.database import create_store_engine
from tests.cli.conftest import Cli
from tests.report_story import AT, MONTH, store_story

AT_TEXT = AT.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def story(cli: Cli) -> Cli:
    code, _, err = cli("db", "upgrade")
    assert code == 0, err
    engine = create_store_engine(cli.env["SREKIT_DATABASE_URL"])
    try:
        store_story(engine)
    finally:
        engine.dispose()
    return cli


def _report(cli: Cli, *args: str) -> str:
    code, out, err = cli("report", "monthly", "--month", MONTH, "--at", AT_TEXT, *args)
    assert code == 0, err
    return out


def test_json_holds_the_storys_figures(story: Cli) -> None:
    document = json.loads(_report(story, "--format", "json"))
    availability, latency = document["slos"]
    assert availability["sli"] == 0.994
    assert availability["met"] is False
    assert availability["compliance"] == pytest.approx(20 / 30, abs=1e-9)
    assert latency["error_budget"]["days_left"] == 10.0
    assert document["incidents"]["overall"]["mttr_s"] == 5400.0
    assert document["deployments"] == {"total": 4, "allowed": 3, "denied": 1, "rollbacks": 1}
    assert document["action_items"][0]["title"] == "rotate the pool"
    assert document["toil"] == {"tracked": False, "note": "Toil is not tracked yet."}


def test_markdown_has_every_section_and_the_summary(story: Cli) -> None:
    text = _report(story)
    for heading in (
        "# SRE report: November 2026", "## Executive summary", "## SLO performance",
        "## Error budget", "## Incidents", "## Deployments", "## Toil",
        "## SLO definition changes", "## Action items",
    ):  # fmt: skip
        assert f"\n{heading}\n" in f"\n{text}", heading
    assert "1 of 2 SLOs met their objective at the end of November 2026." in text
    assert "| checkout/availability | -20 % | 120 % | spent |" in text
    assert "| #2 | #1 | rotate the pool | - | 2026-11-25T00:00:00Z | **overdue** |" in text


@pytest.mark.parametrize("output", ["md", "html", "json"])
def test_the_same_data_gives_the_same_bytes(story: Cli, output: str, tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    _report(story, "--format", output, "-o", str(first))
    _report(story, "--format", output, "-o", str(second))
    assert first.read_bytes() == second.read_bytes()
    assert len(first.read_bytes()) > 1000


def test_html_is_self_contained_and_escaped(story: Cli) -> None:
    html = _report(story, "--format", "html")
    assert "<svg" in html
    assert "<style>" in html
    for outside in ("<script", "<link", "src=", "url(", "@import"):
        assert outside not in html, outside
    assert "&#34;Checkout within 300 ms.&#34;" in html  # a value is text, never markup


def test_the_pdf_prints_the_same_pages_every_time(story: Cli, tmp_path: Path) -> None:
    first, second = tmp_path / "first.pdf", tmp_path / "second.pdf"
    _report(story, "--format", "pdf", "-o", str(first))
    _report(story, "--format", "pdf", "-o", str(second))
    assert first.read_bytes().startswith(b"%PDF-")
    assert first.read_bytes() == second.read_bytes()
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(first), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) == 2
    for page in pages:
        with Image.open(page) as image:
            width, height = image.size
            body = image.convert("L").crop((0, 0, width, height * 85 // 100))  # no footer
            inked = sum(body.histogram()[:200])
        assert inked > 300, page  # text and tables, not a page with only its number


def test_the_weekly_review(story: Cli) -> None:
    code, out, err = story(
        "report", "weekly", "--week", "2026-W46", "--at", AT_TEXT, "--format", "json"
    )
    assert code == 0, err
    document = json.loads(out)
    assert document["period"]["kind"] == "weekly"
    assert document["period"]["start"] == "2026-11-09T00:00:00Z"
    assert len(document["slos"][0]["burn_down"]) == 7


def test_a_month_without_data_exits_1(story: Cli) -> None:
    code, out, err = story("report", "monthly", "--month", "2026-09", "--at", AT_TEXT)
    assert code == 1
    assert out == ""
    assert "no data for all services in September 2026" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("monthly", "--month", "2026-13"), "--month: expected a month as YYYY-MM"),
        (("weekly", "--week", "2026-W60"), "--week: 2026 has no ISO week 60"),
        (("monthly", "--month", "2026-11", "--team", "x", "--service", "y"), "not both"),
        (("monthly", "--month", "2026-11", "--team", "nobody"), "nobody"),
        (("monthly", "--month", "2026-11", "--format", "pdf"), "-o FILE"),
        (("monthly", "--month", "2026-11", "--format", "doc"), "--format"),
    ],
)
def test_bad_input_exits_2(story: Cli, args: tuple[str, ...], message: str) -> None:
    code, _, err = story("report", *args, "--at", AT_TEXT)
    assert code == 2
    assert message in err
    assert "Traceback" not in err
