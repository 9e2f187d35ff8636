"""Post-mortems: the draft an incident pre-fills, the lifecycle rule by rule, the closing rule,
the JSON sections and the Markdown, checked against hand-written expectations."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from srekit.core.incident import (
    FollowUpTask,
    Incident,
    IncidentRole,
    IncidentState,
    IncidentView,
    PriorDeployment,
    Severity,
    TaskState,
    TimelineEntry,
    TimelineKind,
    TransitionRefusedError,
)
from srekit.core.postmortem import (
    PROMPTS,
    SECTION_NAMES,
    ActionItem,
    Impact,
    Postmortem,
    PostmortemRefusedError,
    PostmortemSections,
    PostmortemState,
    TimelineItem,
    closing_note,
    draft_postmortem,
    edit_postmortem,
    next_postmortem_states,
    publish_postmortem,
    publish_problems,
    render_markdown,
    return_to_draft,
    sections_document,
    submit_postmortem,
)

T0 = datetime(2026, 11, 3, 14, 2, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
LATER = T0 + timedelta(days=1)
D = PostmortemState

INCIDENT = Incident(
    id=1,
    title="checkout errors",
    severity=Severity.P1,
    state=IncidentState.RESOLVED,
    opened_at=T0,
    services=("checkout",),
    slos=("checkout/availability", "checkout/latency"),
    acknowledged_at=T0 + 3 * MINUTE,
    mitigated_at=T0 + 20 * MINUTE,
    resolved_at=T0 + 47 * MINUTE,
    roles={IncidentRole.COMMANDER: "ana"},
)
VIEW = IncidentView(
    incident=INCIDENT,
    summary="Payments failed with HTTP 502.",
    created_by="ana",
    resolved_by="ana",
    timeline=(
        TimelineEntry(T0, TimelineKind.STATE_CHANGED, "ana", "P1 incident opened: checkout errors"),
        TimelineEntry(T0 + MINUTE, TimelineKind.TASK, "ana", "task 3 added: add a client timeout"),
        TimelineEntry(T0 + 20 * MINUTE, TimelineKind.NOTE, "bo", "rolled back v1.4.2"),
        TimelineEntry(T0 + 47 * MINUTE, TimelineKind.STATE_CHANGED, "ana", "resolved"),
    ),
    tasks=(
        FollowUpTask(3, 1, "add a client timeout", TaskState.OPEN, T0 + MINUTE, owner="bo"),
        FollowUpTask(4, 1, "page the vendor", TaskState.CANCELLED, T0 + 2 * MINUTE),
    ),
    deployments=(
        PriorDeployment("checkout", "v1.4.2", "feature", True, T0 - 22 * MINUTE),
        PriorDeployment("checkout", None, "config", False, T0 - 23 * 60 * MINUTE),
    ),
)


def _draft(**changes: object) -> Postmortem:
    drafted = draft_postmortem(
        VIEW, now=LATER, by="ana", impact={"checkout/availability": 0.4, "search/latency": 0.05}
    )
    return replace(drafted, **changes)  # type: ignore[arg-type]


# --- the draft ----------------------------------------------------------------------------------


def test_the_draft_is_prefilled_from_the_incident() -> None:
    drafted = _draft()
    assert (drafted.incident_id, drafted.state, drafted.version) == (1, D.DRAFT, 1)
    assert (drafted.created_at, drafted.created_by) == (LATER, "ana")
    assert (drafted.updated_at, drafted.updated_by) == (LATER, "ana")
    assert drafted.published_at is None
    sections = drafted.sections
    assert sections.summary == (
        "P1 incident #1 on checkout: checkout errors. Opened 2026-11-03T14:02:00Z,"
        " resolved 2026-11-03T14:49:00Z (47m later).\n\nPayments failed with HTTP 502."
    )
    # opened 14:02, resolved 14:49: 47 minutes
    assert sections.impact == Impact(
        duration_s=2820.0,
        budget_consumed={
            "checkout/availability": 0.4,
            "checkout/latency": None,  # an SLO of the incident nobody measured: unknown
            "search/latency": 0.05,  # named by the caller, kept
        },
    )
    # the deploys come first (in time order), the task entry is left out
    assert sections.timeline == (
        TimelineItem(T0 - 23 * 60 * MINUTE, "deploy gate", "deploy of checkout (config): denied"),
        TimelineItem(
            T0 - 22 * MINUTE, "deploy gate", "deploy of checkout v1.4.2 (feature): allowed"
        ),
        TimelineItem(T0, "ana", "P1 incident opened: checkout errors"),
        TimelineItem(T0 + 20 * MINUTE, "bo", "rolled back v1.4.2"),
        TimelineItem(T0 + 47 * MINUTE, "ana", "resolved"),
    )
    # the cancelled task is not an action item; the open one is, linked to its task
    assert sections.action_items == (ActionItem("add a client timeout", owner="bo", task_id=3),)
    assert (sections.root_cause, sections.what_went_well, sections.what_went_wrong) == ("", "", "")
    assert (sections.lessons_learned, sections.no_action_items) == ("", False)


def test_a_draft_of_an_open_incident_says_what_is_not_known_yet() -> None:
    open_incident = replace(
        INCIDENT, state=IncidentState.ACKNOWLEDGED, resolved_at=None, services=(), slos=()
    )
    view = IncidentView(incident=open_incident, summary=None, created_by="ana", resolved_by=None)
    drafted = draft_postmortem(view, now=LATER, by="bo", affected_share=0.125)
    assert drafted.sections.summary == (
        "P1 incident #1: checkout errors. Opened 2026-11-03T14:02:00Z,"
        " not resolved when this draft was written."
    )
    assert drafted.sections.impact == Impact(duration_s=None, affected_share=0.125)
    assert drafted.sections.timeline == ()
    assert drafted.sections.action_items == ()


# --- values that hold to their rules ------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Impact(duration_s=-1.0), "impact.duration_s: expected seconds ≥ 0, got -1.0"),
        (lambda: Impact(duration_s=float("nan")), "impact.duration_s"),
        (lambda: Impact(duration_s=float("inf")), "impact.duration_s"),
        (lambda: Impact(affected_share=1.5), "impact.affected_share: expected a fraction in"),
        (lambda: Impact(affected_share=-0.1), "impact.affected_share"),
        (lambda: Impact(affected_share=float("nan")), "impact.affected_share"),
        (
            lambda: Impact(budget_consumed={"a/b": -0.1}),
            "impact.budget_consumed.a/b: expected a fraction ≥ 0, got -0.1",
        ),
        (lambda: Impact(budget_consumed={"a/b": float("inf")}), "impact.budget_consumed.a/b"),
        (lambda: ActionItem("  "), "an action item needs a title"),
        (
            lambda: PostmortemSections(action_items=(ActionItem("x"),), no_action_items=True),
            "action_items: either list action items or say none, not both",
        ),
    ],
)
def test_values_refuse_what_cannot_be(build: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        build()


def test_values_at_their_bounds_are_fine() -> None:
    impact = Impact(duration_s=0.0, affected_share=1.0, budget_consumed={"a/b": 2.5, "c/d": None})
    assert impact.budget_consumed["a/b"] == 2.5  # overspent: reported, not hidden
    assert Impact(affected_share=0.0).affected_share == 0.0


# --- the lifecycle ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (D.DRAFT, (D.IN_REVIEW,)),
        (D.IN_REVIEW, (D.PUBLISHED, D.DRAFT)),
        (D.PUBLISHED, ()),
    ],
)
def test_next_states(state: PostmortemState, expected: tuple[PostmortemState, ...]) -> None:
    assert next_postmortem_states(state) == expected


_WRITTEN = replace(_draft().sections, root_cause="A retry storm.")
_SUBMIT = submit_postmortem
_RETURN = return_to_draft


def _publish(postmortem: Postmortem, *, by: str, now: datetime) -> Postmortem:
    return publish_postmortem(postmortem, incident=INCIDENT, by=by, now=now)


@pytest.mark.parametrize(
    ("start", "move", "expected"),
    [
        (D.DRAFT, _SUBMIT, D.IN_REVIEW),
        (D.IN_REVIEW, _RETURN, D.DRAFT),
        (D.IN_REVIEW, _publish, D.PUBLISHED),
        (D.DRAFT, _RETURN, "is draft: it can move to in_review, not draft"),
        (D.DRAFT, _publish, "is draft: it can move to in_review, not published"),
        (D.IN_REVIEW, _SUBMIT, "is in_review: it can move to published or draft, not in_review"),
        (D.PUBLISHED, _SUBMIT, "is published: it is final, not in_review"),
        (D.PUBLISHED, _RETURN, "is published: it is final, not draft"),
        (D.PUBLISHED, _publish, "is published: it is final, not published"),
    ],
)
def test_moves_through_the_lifecycle(
    start: PostmortemState,
    move: Callable[..., Postmortem],
    expected: PostmortemState | str,
) -> None:
    postmortem = _draft(state=start, sections=_WRITTEN)
    moment = LATER + MINUTE
    if not isinstance(expected, PostmortemState):
        with pytest.raises(PostmortemRefusedError, match=expected):
            move(postmortem, by="cy", now=moment)
        return
    moved = move(postmortem, by="cy", now=moment)
    assert moved.state is expected
    assert (moved.updated_at, moved.updated_by, moved.version) == (moment, "cy", 1)
    assert (moved.created_at, moved.created_by) == (LATER, "ana")
    published = expected is D.PUBLISHED
    assert (moved.published_at, moved.published_by) == (
        (moment, "cy") if published else (None, None)
    )


@pytest.mark.parametrize(
    ("sections", "incident", "problems"),
    [
        (_WRITTEN, INCIDENT, ()),
        (replace(_WRITTEN, action_items=(), no_action_items=True), INCIDENT, ()),
        (
            replace(_WRITTEN, root_cause=" \n", action_items=()),
            INCIDENT,
            (
                "root_cause: the root cause is not written yet",
                "action_items: list at least one action item, or say none is needed",
            ),
        ),
        (
            _WRITTEN,
            replace(INCIDENT, state=IncidentState.MITIGATED, resolved_at=None),
            ("incident 1 is mitigated: resolve it first",),
        ),
        (_WRITTEN, replace(INCIDENT, state=IncidentState.CLOSED, closed_at=LATER), ()),
    ],
)
def test_what_publishing_needs(
    sections: PostmortemSections, incident: Incident, problems: tuple[str, ...]
) -> None:
    postmortem = _draft(state=D.IN_REVIEW, sections=sections)
    assert publish_problems(postmortem, incident=incident) == problems
    if problems:
        with pytest.raises(PostmortemRefusedError) as refused:
            publish_postmortem(postmortem, incident=incident, by="cy", now=LATER)
        assert str(refused.value) == (
            "the post-mortem of incident 1 cannot be published: " + "; ".join(problems)
        )
    else:
        assert publish_postmortem(postmortem, incident=incident, by="cy", now=LATER).published_by


def test_an_edit_is_a_new_version_of_a_draft() -> None:
    drafted = _draft()
    edited = edit_postmortem(drafted, sections=_WRITTEN, by="bo", now=LATER + MINUTE)
    assert (edited.version, edited.updated_by, edited.updated_at) == (2, "bo", LATER + MINUTE)
    assert edited.sections == _WRITTEN
    assert (edited.created_by, edited.state) == ("ana", D.DRAFT)
    # the same text again changes nothing, not even the version
    assert edit_postmortem(edited, sections=_WRITTEN, by="cy", now=LATER, expected_version=2) is (
        edited
    )
    again = replace(_WRITTEN, lessons_learned="Retries need budgets.")
    assert edit_postmortem(edited, sections=again, by="cy", now=LATER, expected_version=2).version
    assert edit_postmortem(edited, sections=again, by="cy", now=LATER).version == 3


@pytest.mark.parametrize(
    ("state", "expected_version", "message"),
    [
        (D.DRAFT, 1, "the edit was made from version 1 of the post-mortem of incident 1, but"),
        (D.IN_REVIEW, None, "is in_review: only a draft is edited \\(send it back to draft"),
        (D.PUBLISHED, None, "is published: only a draft is edited$"),
    ],
)
def test_edits_that_are_refused(
    state: PostmortemState, expected_version: int | None, message: str
) -> None:
    postmortem = _draft(state=state, version=2)
    with pytest.raises(PostmortemRefusedError, match=message):
        edit_postmortem(
            postmortem, sections=_WRITTEN, by="bo", now=LATER, expected_version=expected_version
        )


# --- closing the incident -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "waiver", "expected"),
    [
        (D.PUBLISHED, None, "post-mortem published"),
        (D.PUBLISHED, "  ", "post-mortem published"),
        (D.PUBLISHED, "a flake", "incident 9's post-mortem is published: close it without"),
        (None, " a known flake ", "post-mortem waived: a known flake"),
        (D.DRAFT, "not worth it", "post-mortem waived: not worth it"),
        (None, None, "incident 9 closes when its post-mortem is published, or with a reason"),
        (None, " ", r"to waive it \(--waive-postmortem REASON\)$"),
        (D.IN_REVIEW, None, r"REASON\) \(its post-mortem is in_review\)$"),
    ],
)
def test_closing_needs_a_published_post_mortem_or_a_waiver(
    state: PostmortemState | None, waiver: str | None, expected: str
) -> None:
    if expected.startswith("post-mortem"):
        assert closing_note(9, postmortem=state, waiver=waiver) == expected
    else:
        with pytest.raises(TransitionRefusedError, match=expected):
            closing_note(9, postmortem=state, waiver=waiver)


def test_closing_as_noise_waives_the_postmortem_unless_it_is_published() -> None:
    assert closing_note(9, postmortem=None, waiver=None, noise=True) == (
        "post-mortem waived: a false alarm"
    )
    draft = PostmortemState.DRAFT
    assert closing_note(9, postmortem=draft, waiver="flaky probe", noise=True) == (
        "post-mortem waived: flaky probe"
    )
    published = PostmortemState.PUBLISHED
    assert closing_note(9, postmortem=published, waiver=None, noise=True) == (
        "post-mortem published"
    )


# --- documents ----------------------------------------------------------------------------------


def test_sections_document() -> None:
    sections = replace(
        _draft().sections,
        action_items=(
            ActionItem("add a client timeout", owner="bo", due_at=LATER, task_id=3),
            ActionItem("load-test the fix"),
        ),
    )
    document = sections_document(sections)
    assert list(document) == list(SECTION_NAMES)
    assert document["impact"] == {
        "duration_s": 2820.0,
        "affected_share": None,
        "budget_consumed": {
            "checkout/availability": 0.4,
            "checkout/latency": None,
            "search/latency": 0.05,
        },
        "description": "",
    }
    assert document["timeline"][2] == {
        "at": "2026-11-03T14:02:00Z",
        "actor": "ana",
        "text": "P1 incident opened: checkout errors",
    }
    assert document["action_items"] == [
        {
            "title": "add a client timeout",
            "owner": "bo",
            "due_at": "2026-11-04T14:02:00Z",
            "task": 3,
        },
        {"title": "load-test the fix", "owner": None, "due_at": None, "task": None},
    ]
    assert document["root_cause"] == ""
    none_needed = replace(sections, action_items=(), no_action_items=True)
    assert sections_document(none_needed)["action_items"] == "none"


_EXPECTED_MARKDOWN = """\
# Post-mortem: checkout errors

- Incident: #1, P1, resolved
- Services: checkout
- SLOs: checkout/availability, checkout/latency
- Opened: 2026-11-03T14:02:00Z
- Resolved: 2026-11-03T14:49:00Z
- Roles: commander ana
- Post-mortem: published, version 2, written by ana, last changed 2026-11-05T09:00:00Z by cy
- Published: 2026-11-05T09:00:00Z by cy

_This post-mortem is blameless: it asks what in our systems and processes let this happen, \
not who is to blame._

## Summary

P1 incident #1 on checkout: checkout errors. Opened 2026-11-03T14:02:00Z, resolved \
2026-11-03T14:49:00Z (47m later).

Payments failed with HTTP 502.

## Impact

- Duration: 47m (opened to resolved)
- Users affected: 12.50%
- Error budget consumed:
  - checkout/availability: 40.00%
  - checkout/latency: unknown
  - search/latency: 5.00%

About one payment in eight failed.

## Timeline

Times are UTC.

| Time | Who | What |
| --- | --- | --- |
| 2026-11-02T15:02:00Z | deploy gate | deploy of checkout (config): denied |
| 2026-11-03T13:40:00Z | deploy gate | deploy of checkout v1.4.2 (feature): allowed |
| 2026-11-03T14:02:00Z | ana | P1 incident opened: checkout errors |
| 2026-11-03T14:22:00Z | bo | rolled back v1.4.2 |
| 2026-11-03T14:49:00Z | ana | resolved |

## Root cause

Retries | without a budget.

## What went well

_To write: What helped: the alert that fired, the runbook that worked, the rollback._

## What went wrong

_To write: What got in the way: slow detection, missing access, unclear ownership._

## Action items

| # | Action | Owner | Due | Task |
| --- | --- | --- | --- | --- |
| 1 | add a client timeout | bo | - | #3 |
| 2 | cap retries \\| per client | - | 2026-12-01T00:00:00Z | #9 |

## Lessons learned

_To write: What others should know, and where we were lucky._
"""


def test_markdown_has_a_stable_layout() -> None:
    published_at = datetime(2026, 11, 5, 9, 0, tzinfo=UTC)
    due = datetime(2026, 12, 1, tzinfo=UTC)
    drafted = _draft()
    sections = replace(
        drafted.sections,
        impact=replace(
            drafted.sections.impact,
            affected_share=0.125,
            description="About one payment in eight failed.",
        ),
        root_cause="Retries | without a budget.\n",
        action_items=(
            *drafted.sections.action_items,
            ActionItem("cap retries |\nper client", due_at=due, task_id=9),
        ),
    )
    postmortem = replace(
        drafted,
        sections=sections,
        state=D.PUBLISHED,
        version=2,
        updated_at=published_at,
        updated_by="cy",
        published_at=published_at,
        published_by="cy",
    )
    assert render_markdown(postmortem, incident=INCIDENT) == _EXPECTED_MARKDOWN


def test_an_empty_post_mortem_shows_its_prompts() -> None:
    bare = replace(
        INCIDENT, state=IncidentState.TRIGGERED, resolved_at=None, services=(), slos=(), roles={}
    )
    postmortem = Postmortem(
        incident_id=1,
        state=D.IN_REVIEW,
        sections=PostmortemSections(),
        version=1,
        created_at=LATER,
        created_by="ana",
        updated_at=LATER,
        updated_by="ana",
    )
    text = render_markdown(postmortem, incident=replace(bare, title="two\n  lines"))
    assert text.startswith("# Post-mortem: two lines\n\n- Incident: #1, P1, triggered\n")
    assert "- Services: -\n- SLOs: -\n- Opened: 2026-11-03T14:02:00Z\n- Resolved: not yet\n" in text
    assert "- Post-mortem: in review, version 1, written by ana," in text
    assert "Roles" not in text
    assert "Published" not in text
    assert "- Duration: unknown\n- Users affected: unknown\n" in text
    assert "- Error budget consumed: unknown (no SLO named)\n" in text
    for section in SECTION_NAMES:
        assert f"_To write: {PROMPTS[section]}_" in text, section
    none_needed = replace(postmortem, sections=PostmortemSections(no_action_items=True))
    assert "## Action items\n\nNone: no action is needed.\n" in render_markdown(
        none_needed, incident=bare
    )
