"""The post-mortem edit file: what it changes, what it refuses (naming the file, the field and
what was expected), and the file `export --format yaml` writes reading back as what it shows."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from srekit.core.postmortem import (
    ActionItem,
    Impact,
    Postmortem,
    PostmortemSections,
    PostmortemState,
    TimelineItem,
    sections_document,
)
from srekit.errors import SpecError
from srekit.spec.postmortem import (
    edit_file_text,
    parse_sections_text,
    read_sections_file,
    sections_from_body,
)

T0 = datetime(2026, 11, 3, 14, 2, tzinfo=UTC)
CURRENT = PostmortemSections(
    summary="Payments failed.",
    impact=Impact(duration_s=2820.0, budget_consumed={"checkout/availability": None}),
    timeline=(TimelineItem(T0, "ana", "opened"),),
    root_cause="",
    action_items=(ActionItem("add a timeout", owner="bo", task_id=3),),
)
POSTMORTEM = Postmortem(
    incident_id=1,
    state=PostmortemState.DRAFT,
    sections=CURRENT,
    version=2,
    created_at=T0,
    created_by="ana",
    updated_at=T0,
    updated_by="ana",
)


def _parse(text: str) -> PostmortemSections:
    return parse_sections_text(text, file="pm.yaml").merged(CURRENT)


def test_given_sections_replace_and_the_others_stay() -> None:
    merged = _parse(
        "version: 2\n"
        "root_cause: |\n  Retries without a budget.\n  <script>alert(1)</script>\n"
        "impact:\n  affected_share: 0.125\n  budget_consumed: {checkout/availability: 0.4}\n"
        "timeline:\n"
        "  - {at: 2026-11-03T14:30:00Z, actor: bo, text: rolled back}\n"
        "  - {at: '2026-11-03T15:02:00+01:00', text: opened}\n"
    )
    assert merged.root_cause == "Retries without a budget.\n<script>alert(1)</script>\n"
    assert merged.summary == "Payments failed."  # not given: kept
    assert merged.action_items == CURRENT.action_items
    # within the impact too, what is left out stays: the duration the draft found
    assert merged.impact == Impact(
        duration_s=2820.0, affected_share=0.125, budget_consumed={"checkout/availability": 0.4}
    )
    cleared = _parse("impact: {duration_s: null, description: Slow pages.}").impact
    assert cleared == Impact(
        budget_consumed={"checkout/availability": None}, description="Slow pages."
    )
    # in time order, whatever the zone each was written in
    assert merged.timeline == (
        TimelineItem(T0, "", "opened"),
        TimelineItem(datetime(2026, 11, 3, 14, 30, tzinfo=UTC), "bo", "rolled back"),
    )
    assert parse_sections_text("version: 2\n", file="x").version == 2


def test_action_items_are_a_list_or_none() -> None:
    listed = _parse(
        "action_items:\n"
        "  - title: cap retries\n    owner: cy\n    due_at: 2026-12-01T00:00:00Z\n"
        "  - title: add a timeout\n    task: 3\n"
    )
    assert listed.action_items == (
        ActionItem("cap retries", owner="cy", due_at=datetime(2026, 12, 1, tzinfo=UTC)),
        ActionItem("add a timeout", task_id=3),
    )
    none = _parse("action_items: none\n")
    assert (none.action_items, none.no_action_items) == ((), True)
    again = parse_sections_text("action_items: []\n", file="x").merged(none)
    assert (again.action_items, again.no_action_items) == ((), False)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("root_cuse: x\n", "pm.yaml: root_cuse: unknown field"),
        ("summary: a\n---\nsummary: b\n", "pm.yaml: expected one YAML document (a post-mortem"),
        ("- a\n", "pm.yaml: expected a mapping of sections (summary, impact, timeline"),
        ("", "pm.yaml: expected a mapping of sections (summary, impact, timeline, root_cause,"),
        ("summary: [unclosed\n", "pm.yaml: invalid YAML at line 2, column 1"),
        ("impact: {affected_share: 1.5}\n", "pm.yaml: impact.affected_share: "),
        ("impact: {affected_share: .nan}\n", "pm.yaml: impact.affected_share: "),
        ("impact: {budget_consumed: {checkout: 0.4}}\n", "pm.yaml: impact.budget_consumed"),
        ("impact: {budget_consumed: {a/b: -1}}\n", "pm.yaml: impact.budget_consumed.a/b: "),
        ("impact: {duration_s: .inf}\n", "pm.yaml: impact.duration_s: "),
        ("timeline: [{at: 2026-11-03T14:30:00, text: x}]\n", "pm.yaml: timeline[0].at: "),
        ("timeline: [{at: yesterday, text: x}]\n", "pm.yaml: timeline[0].at: "),
        ("timeline: [{at: 2026-11-03T14:30:00Z}]\n", "pm.yaml: timeline[0].text: "),
        ("action_items: [{owner: bo}]\n", "pm.yaml: action_items[0].title: "),
        ("action_items: nothing\n", "pm.yaml: action_items: "),
        ('action_items: [{title: "two\\nlines"}]\n', "pm.yaml: action_items[0].title: "),
        ("action_items: [{title: x, task: 0}]\n", "pm.yaml: action_items[0].task: "),
        ('summary: "bell \\a"\n', "pm.yaml: summary: "),
        ("version: 0\n", "pm.yaml: version: "),
        ("summary: " + "x" * 40_000 + "\n", "pm.yaml: summary: "),
    ],
)
def test_a_bad_edit_file_is_named(text: str, message: str) -> None:
    with pytest.raises(SpecError) as refused:
        parse_sections_text(text, file="pm.yaml")
    assert str(refused.value).startswith(message), str(refused.value)


def test_reading_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(SpecError, match=f"^{missing}: no such file$"):
        read_sections_file(missing)
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(SpecError, match=r"binary\.yaml: cannot read: "):
        read_sections_file(binary)
    huge = tmp_path / "huge.yaml"
    huge.write_text("summary: " + "x" * (4 * 1024 * 1024) + "\n")
    with pytest.raises(SpecError, match=r"huge\.yaml: expected at most 4194304 bytes"):
        read_sections_file(huge)
    good = tmp_path / "pm.json"
    good.write_text('{"root_cause": "A retry storm."}')
    assert read_sections_file(good).root_cause == "A retry storm."


def test_the_export_reads_back_as_what_it_shows(tmp_path: Path) -> None:
    sections = replace(
        CURRENT,
        summary="Two lines:\nfirst, then second.",
        what_went_well="  indented first line\nand trailing spaces   \n",
        action_items=(*CURRENT.action_items, ActionItem("cap retries")),
    )
    postmortem = replace(POSTMORTEM, sections=sections)
    text = edit_file_text(postmortem, title="checkout\nerrors")
    assert text.startswith(
        "# The post-mortem of incident #1: checkout errors\n"
        "# (draft, version 2). Edit the sections, then:\n"
        "#   srekit postmortem edit 1 -f THIS_FILE\n"
    )
    assert "version: 2\n" in text
    assert "summary: |-\n  Two lines:\n  first, then second.\n" in text
    assert "# What helped: the alert that fired," in text
    assert "task: 3" in text
    assert text.count("task:") == 1  # an item without a task shows none
    path = tmp_path / "pm.yaml"
    path.write_text(text)
    spec = read_sections_file(path)
    assert spec.version == 2
    assert spec.merged(PostmortemSections()) == sections
    none_needed = replace(
        postmortem, sections=replace(sections, action_items=(), no_action_items=True)
    )
    assert "action_items: none\n" in edit_file_text(none_needed, title="x")


def test_the_stored_body_reads_back_without_intake_bounds() -> None:
    long = replace(CURRENT, root_cause="x" * 40_000, action_items=(), no_action_items=True)
    assert sections_from_body(sections_document(long)) == long
