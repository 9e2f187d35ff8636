"""Post-mortems: the blameless template's sections, their lifecycle, the draft an incident
pre-fills, and the Markdown a post-mortem reads as.

A post-mortem moves through

    draft → in_review → published

and a reviewer may send one back from in_review to draft. Its sections change only while it is
a draft (each change is a new `version`); publishing needs a root cause, at least one action
item (or the explicit statement that none is needed, `no_action_items`), and the incident no
longer open. Published is final. Every rule is a pure function with an explicit `now`; a change
the rules refuse raises `PostmortemRefusedError` saying why.

An incident closes when its post-mortem is published, or with a reason to waive it while it has
none published (`closing_note`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from srekit.core.incident import (
    Incident,
    IncidentView,
    PriorDeployment,
    TaskState,
    TimelineKind,
    TransitionRefusedError,
)
from srekit.core.instant import format_age, format_instant

__all__ = [
    "PROMPTS",
    "SECTION_NAMES",
    "ActionItem",
    "Impact",
    "Postmortem",
    "PostmortemRefusedError",
    "PostmortemSections",
    "PostmortemState",
    "PostmortemView",
    "TimelineItem",
    "closing_note",
    "draft_postmortem",
    "edit_postmortem",
    "next_postmortem_states",
    "publish_postmortem",
    "publish_problems",
    "render_markdown",
    "return_to_draft",
    "sections_document",
    "submit_postmortem",
]


class PostmortemState(StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    PUBLISHED = "published"


class PostmortemRefusedError(ValueError):
    """The post-mortem's rules refuse this change; the message says why and what would do."""


#: The sections of the blameless template, in the order a post-mortem shows them.
SECTION_NAMES: tuple[str, ...] = (
    "summary",
    "impact",
    "timeline",
    "root_cause",
    "what_went_well",
    "what_went_wrong",
    "action_items",
    "lessons_learned",
)

#: What each section asks of its authors: shown where a section is still empty, and as a
#: comment above it in the file people edit.
PROMPTS: Mapping[str, str] = {
    "summary": "What happened, to whom, for how long, and how it ended, in a few sentences.",
    "impact": (
        "Who noticed what: failed requests, slow pages, lost data, support tickets,"
        " money. Give numbers where you have them."
    ),
    "timeline": (
        "Add what the tools did not record: when someone noticed, decided, tried something,"
        " and what it changed."
    ),
    "root_cause": (
        "What in the system let this happen? Ask why until you reach something the system"
        " can change (a missing check, a misleading signal, an unsafe default), not a person."
    ),
    "what_went_well": "What helped: the alert that fired, the runbook that worked, the rollback.",
    "what_went_wrong": "What got in the way: slow detection, missing access, unclear ownership.",
    "action_items": (
        "What will be done so it does not happen again or hurts less, each with an owner and a"
        " due date; or write `none` when no action is needed."
    ),
    "lessons_learned": "What others should know, and where we were lucky.",
}

_BLAMELESS = (
    "_This post-mortem is blameless: it asks what in our systems and processes let this"
    " happen, not who is to blame._"
)


@dataclass(frozen=True)
class Impact:
    """What the incident cost: its duration (opened → resolved, seconds), the share of users
    (requests) it failed where an SLI gives it, the error budget it consumed per SLO (a fraction
    of the budget: 0.4 is 40 %, above 1 overspent; None: unknown), and the authors' words."""

    duration_s: float | None = None
    affected_share: float | None = None
    budget_consumed: Mapping[str, float | None] = field(default_factory=dict)
    description: str = ""

    def __post_init__(self) -> None:
        if self.duration_s is not None and not (
            math.isfinite(self.duration_s) and self.duration_s >= 0
        ):
            raise ValueError(f"impact.duration_s: expected seconds ≥ 0, got {self.duration_s}")
        if self.affected_share is not None and not 0 <= self.affected_share <= 1:
            raise ValueError(
                f"impact.affected_share: expected a fraction in [0, 1], got {self.affected_share}"
            )
        for slo, consumed in self.budget_consumed.items():
            if consumed is not None and not (math.isfinite(consumed) and consumed >= 0):
                raise ValueError(
                    f"impact.budget_consumed.{slo}: expected a fraction ≥ 0, got {consumed}"
                )


@dataclass(frozen=True)
class TimelineItem:
    """A line of the post-mortem's timeline: when, who (or which tool), what."""

    at: datetime
    actor: str
    text: str


@dataclass(frozen=True)
class ActionItem:
    """Something to be done; `task_id` is the follow-up task tracking it (None until the
    post-mortem is published, unless the item was an incident task already)."""

    title: str
    owner: str | None = None
    due_at: datetime | None = None
    task_id: int | None = None

    def __post_init__(self) -> None:
        if not self.title.strip():
            raise ValueError("an action item needs a title")


@dataclass(frozen=True)
class PostmortemSections:
    """The blameless template. Empty text means not written yet; `no_action_items` states that
    no action is needed (it excludes listing any)."""

    summary: str = ""
    impact: Impact = field(default_factory=Impact)
    timeline: tuple[TimelineItem, ...] = ()
    root_cause: str = ""
    what_went_well: str = ""
    what_went_wrong: str = ""
    action_items: tuple[ActionItem, ...] = ()
    no_action_items: bool = False
    lessons_learned: str = ""

    def __post_init__(self) -> None:
        if self.no_action_items and self.action_items:
            raise ValueError("action_items: either list action items or say none, not both")


@dataclass(frozen=True)
class Postmortem:
    """An incident's post-mortem: its state, sections, the version of its text (counting from
    1, one more per edit), and who changed it when."""

    incident_id: int
    state: PostmortemState
    sections: PostmortemSections
    version: int
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str
    published_at: datetime | None = None
    published_by: str | None = None


@dataclass(frozen=True)
class PostmortemView:
    """A post-mortem with the incident it is about, whose facts head its document."""

    postmortem: Postmortem
    incident: Incident


# --- the draft ----------------------------------------------------------------------------------


def draft_postmortem(
    view: IncidentView,
    *,
    now: datetime,
    by: str,
    impact: Mapping[str, float | None] | None = None,
    affected_share: float | None = None,
) -> Postmortem:
    """The first draft of an incident's post-mortem, version 1, pre-filled from `view`.

    - summary: the incident's severity, title, services, opening and resolution, and its summary;
    - impact: the duration opened → resolved (None while unresolved), `affected_share` when an SLI
      gives it, and the budget consumed per SLO: `impact[slo]` for each of the incident's SLOs
      (None: unknown) and any other SLO `impact` names;
    - timeline: the incident's timeline (without task entries: tasks are action items) and the
      deploys the gate was asked about on its services in the 24 h before, in time order;
    - action items: the incident's follow-up tasks that were not cancelled, linked to them.

    Root cause, what went well and wrong, and lessons learned are left for people to write.
    """
    incident = view.incident
    consumed: dict[str, float | None] = dict.fromkeys(incident.slos)
    consumed.update(impact or {})
    resolve = incident.time_to_resolve()
    timeline = [
        TimelineItem(at=entry.at, actor=entry.actor, text=entry.text)
        for entry in view.timeline
        # tasks are action items; deploys are written from `view.deployments` below
        if entry.kind not in {TimelineKind.TASK, TimelineKind.DEPLOYMENT}
    ]
    timeline.extend(_deploy_item(deploy) for deploy in view.deployments)
    timeline.sort(key=lambda item: item.at)
    sections = PostmortemSections(
        summary=_drafted_summary(view),
        impact=Impact(
            duration_s=None if resolve is None else resolve.total_seconds(),
            affected_share=affected_share,
            budget_consumed=dict(sorted(consumed.items())),
        ),
        timeline=tuple(timeline),
        action_items=tuple(
            ActionItem(title=task.title, owner=task.owner, due_at=task.due_at, task_id=task.id)
            for task in view.tasks
            if task.state is not TaskState.CANCELLED
        ),
    )
    return Postmortem(
        incident_id=incident.id,
        state=PostmortemState.DRAFT,
        sections=sections,
        version=1,
        created_at=now,
        created_by=by,
        updated_at=now,
        updated_by=by,
    )


def _deploy_item(deploy: PriorDeployment) -> TimelineItem:
    version = f" {deploy.version}" if deploy.version else ""
    answer = "allowed" if deploy.allowed else "denied"
    return TimelineItem(
        at=deploy.requested_at,
        actor="deploy gate",
        text=f"deploy of {deploy.service}{version} ({deploy.change_type}): {answer}",
    )


def _drafted_summary(view: IncidentView) -> str:
    incident = view.incident
    where = f" on {', '.join(incident.services)}" if incident.services else ""
    text = (
        f"{incident.severity.value} incident #{incident.id}{where}: {incident.title}."
        f" Opened {format_instant(incident.opened_at)}"
    )
    resolve = incident.time_to_resolve()
    if incident.resolved_at is not None and resolve is not None:
        text += f", resolved {format_instant(incident.resolved_at)} ({format_age(resolve)} later)."
    else:
        text += ", not resolved when this draft was written."
    if view.summary:
        text += f"\n\n{view.summary.strip()}"
    return text


# --- the lifecycle ------------------------------------------------------------------------------


def next_postmortem_states(state: PostmortemState) -> tuple[PostmortemState, ...]:
    """A draft goes to review; a post-mortem in review is published or sent back to draft;
    a published one stays as it is."""
    return {
        PostmortemState.DRAFT: (PostmortemState.IN_REVIEW,),
        PostmortemState.IN_REVIEW: (PostmortemState.PUBLISHED, PostmortemState.DRAFT),
        PostmortemState.PUBLISHED: (),
    }[state]


def _moved(postmortem: Postmortem, to: PostmortemState, *, by: str, now: datetime) -> Postmortem:
    if to not in next_postmortem_states(postmortem.state):
        allowed = next_postmortem_states(postmortem.state)
        then = (
            f"it can move to {' or '.join(s.value for s in allowed)}" if allowed else "it is final"
        )
        raise PostmortemRefusedError(
            f"the post-mortem of incident {postmortem.incident_id} is"
            f" {postmortem.state.value}: {then}, not {to.value}"
        )
    return replace(postmortem, state=to, updated_at=now, updated_by=by)


def edit_postmortem(
    postmortem: Postmortem,
    *,
    sections: PostmortemSections,
    by: str,
    now: datetime,
    expected_version: int | None = None,
) -> Postmortem:
    """The post-mortem with `sections` as its text, one version later; unchanged (the same
    value) when the sections are the same. Only a draft changes; `expected_version`, when
    given, must be the current version (the one the editor started from), so an edit made
    from an older text does not silently undo a newer one."""
    if postmortem.state is not PostmortemState.DRAFT:
        raise PostmortemRefusedError(
            f"the post-mortem of incident {postmortem.incident_id} is"
            f" {postmortem.state.value}: only a draft is edited"
            + (
                " (send it back to draft first)"
                if postmortem.state is PostmortemState.IN_REVIEW
                else ""
            )
        )
    if expected_version is not None and expected_version != postmortem.version:
        raise PostmortemRefusedError(
            f"the edit was made from version {expected_version} of the post-mortem of incident"
            f" {postmortem.incident_id}, but version {postmortem.version} is stored:"
            " start again from the stored text"
        )
    if sections == postmortem.sections:
        return postmortem
    return replace(
        postmortem,
        sections=sections,
        version=postmortem.version + 1,
        updated_at=now,
        updated_by=by,
    )


def submit_postmortem(postmortem: Postmortem, *, by: str, now: datetime) -> Postmortem:
    """Draft → in review."""
    return _moved(postmortem, PostmortemState.IN_REVIEW, by=by, now=now)


def return_to_draft(postmortem: Postmortem, *, by: str, now: datetime) -> Postmortem:
    """In review → draft: the reviewers want changes."""
    return _moved(postmortem, PostmortemState.DRAFT, by=by, now=now)


def publish_problems(postmortem: Postmortem, *, incident: Incident) -> tuple[str, ...]:
    """What stops the post-mortem from being published, besides its state: an empty root
    cause, no action item and no statement that none is needed, an incident still open."""
    sections = postmortem.sections
    problems: list[str] = []
    if not sections.root_cause.strip():
        problems.append("root_cause: the root cause is not written yet")
    if not sections.action_items and not sections.no_action_items:
        problems.append("action_items: list at least one action item, or say none is needed")
    if incident.open:
        problems.append(f"incident {incident.id} is {incident.state.value}: resolve it first")
    return tuple(problems)


def publish_postmortem(
    postmortem: Postmortem, *, incident: Incident, by: str, now: datetime
) -> Postmortem:
    """In review → published, when `publish_problems` finds none (else refused, naming them
    all). Published is final."""
    published = _moved(postmortem, PostmortemState.PUBLISHED, by=by, now=now)
    problems = publish_problems(postmortem, incident=incident)
    if problems:
        raise PostmortemRefusedError(
            f"the post-mortem of incident {incident.id} cannot be published: " + "; ".join(problems)
        )
    return replace(published, published_at=now, published_by=by)


def closing_note(
    incident_id: int,
    *,
    postmortem: PostmortemState | None,
    waiver: str | None,
    noise: bool = False,
) -> str:
    """What closing the incident records, given its post-mortem's state (None: it has none)
    and the reason given to waive the post-mortem, if any.

    A published post-mortem closes it, and then a waiver contradicts it: refused. Otherwise a
    reason to waive is needed, and recorded; closing as `noise` (a false alarm) is that reason
    when none is given, as a false alarm has nothing to learn from in a post-mortem. Raises
    TransitionRefusedError (the lifecycle's refusal) saying what would do.
    """
    reason = (waiver or "").strip()
    if postmortem is PostmortemState.PUBLISHED:
        if reason:
            raise TransitionRefusedError(
                f"incident {incident_id}'s post-mortem is published: close it without a waiver"
            )
        return "post-mortem published"
    if noise and not reason:
        return "post-mortem waived: a false alarm"
    if not reason:
        pending = "" if postmortem is None else f" (its post-mortem is {postmortem.value})"
        raise TransitionRefusedError(
            f"incident {incident_id} closes when its post-mortem is published, or with a"
            f" reason to waive it (--waive-postmortem REASON){pending}"
        )
    return f"post-mortem waived: {reason}"


# --- documents ----------------------------------------------------------------------------------


def _instant(moment: datetime | None) -> str | None:
    return None if moment is None else format_instant(moment)


def sections_document(sections: PostmortemSections) -> dict[str, Any]:
    """The sections as JSON-ready data: what the store keeps, the API and the CLI show, and
    (without `task`s) what an edit file or request gives. Instants are RFC 3339 in UTC;
    `action_items` is the list, or `"none"` when no action is needed."""
    impact = sections.impact
    action_items: list[dict[str, Any]] | str = (
        "none"
        if sections.no_action_items
        else [
            {
                "title": item.title,
                "owner": item.owner,
                "due_at": _instant(item.due_at),
                "task": item.task_id,
            }
            for item in sections.action_items
        ]
    )
    return {
        "summary": sections.summary,
        "impact": {
            "duration_s": impact.duration_s,
            "affected_share": impact.affected_share,
            "budget_consumed": dict(impact.budget_consumed),
            "description": impact.description,
        },
        "timeline": [
            {"at": format_instant(item.at), "actor": item.actor, "text": item.text}
            for item in sections.timeline
        ],
        "root_cause": sections.root_cause,
        "what_went_well": sections.what_went_well,
        "what_went_wrong": sections.what_went_wrong,
        "action_items": action_items,
        "lessons_learned": sections.lessons_learned,
    }


# --- Markdown -----------------------------------------------------------------------------------


def _cell(text: str) -> str:
    """Text in one cell of a Markdown table: one line, its pipes escaped."""
    return " ".join(text.split()).replace("|", "\\|") or "-"


def _prose(text: str, section: str) -> str:
    """A section's text as its authors wrote it (Markdown), or its prompt while empty."""
    return text.strip() if text.strip() else f"_To write: {PROMPTS[section]}_"


def _percent(fraction: float | None) -> str:
    return "unknown" if fraction is None else f"{fraction:.2%}"


def render_markdown(postmortem: Postmortem, *, incident: Incident) -> str:
    """The post-mortem as a Markdown document, in a stable layout: a title, the incident's
    facts, the blameless statement, then one `## ` heading per section in `SECTION_NAMES`
    order. Empty sections show their prompt; single-line values in tables are kept on one
    line with `|` escaped; the text ends with one newline."""
    sections = postmortem.sections
    facts = [
        f"- Incident: #{incident.id}, {incident.severity.value}, {incident.state.value}",
        f"- Services: {', '.join(incident.services) or '-'}",
        f"- SLOs: {', '.join(incident.slos) or '-'}",
        f"- Opened: {format_instant(incident.opened_at)}",
        f"- Resolved: {_instant(incident.resolved_at) or 'not yet'}",
    ]
    if incident.roles:
        roles = ", ".join(f"{role.value} {person}" for role, person in incident.roles.items())
        facts.append(f"- Roles: {roles}")
    facts.append(
        f"- Post-mortem: {postmortem.state.value.replace('_', ' ')}, version"
        f" {postmortem.version}, written by {postmortem.created_by},"
        f" last changed {format_instant(postmortem.updated_at)} by {postmortem.updated_by}"
    )
    if postmortem.published_at is not None:
        facts.append(
            f"- Published: {format_instant(postmortem.published_at)} by {postmortem.published_by}"
        )
    parts = [
        f"# Post-mortem: {' '.join(incident.title.split())}",
        "\n".join(facts),
        _BLAMELESS,
        "## Summary",
        _prose(sections.summary, "summary"),
        "## Impact",
        _impact_lines(sections.impact),
        _prose(sections.impact.description, "impact"),
        "## Timeline",
        _timeline_lines(sections.timeline),
        "## Root cause",
        _prose(sections.root_cause, "root_cause"),
        "## What went well",
        _prose(sections.what_went_well, "what_went_well"),
        "## What went wrong",
        _prose(sections.what_went_wrong, "what_went_wrong"),
        "## Action items",
        _action_lines(sections),
        "## Lessons learned",
        _prose(sections.lessons_learned, "lessons_learned"),
    ]
    return "\n\n".join(parts) + "\n"


def _impact_lines(impact: Impact) -> str:
    duration = (
        "unknown"
        if impact.duration_s is None
        else f"{format_age(timedelta(seconds=impact.duration_s))} (opened to resolved)"
    )
    lines = [
        f"- Duration: {duration}",
        f"- Users affected: {_percent(impact.affected_share)}",
    ]
    if impact.budget_consumed:
        lines.append("- Error budget consumed:")
        lines.extend(
            f"  - {slo}: {_percent(consumed)}" for slo, consumed in impact.budget_consumed.items()
        )
    else:
        lines.append("- Error budget consumed: unknown (no SLO named)")
    return "\n".join(lines)


def _timeline_lines(timeline: tuple[TimelineItem, ...]) -> str:
    if not timeline:
        return f"_To write: {PROMPTS['timeline']}_"
    rows = ["Times are UTC.", "", "| Time | Who | What |", "| --- | --- | --- |"]
    rows.extend(
        f"| {format_instant(item.at)} | {_cell(item.actor)} | {_cell(item.text)} |"
        for item in sorted(timeline, key=lambda item: item.at)
    )
    return "\n".join(rows)


def _action_lines(sections: PostmortemSections) -> str:
    if sections.no_action_items:
        return "None: no action is needed."
    if not sections.action_items:
        return f"_To write: {PROMPTS['action_items']}_"
    rows = ["| # | Action | Owner | Due | Task |", "| --- | --- | --- | --- | --- |"]
    rows.extend(
        f"| {number} | {_cell(item.title)} | {_cell(item.owner or '')}"
        f" | {_instant(item.due_at) or '-'}"
        f" | {'-' if item.task_id is None else f'#{item.task_id}'} |"
        for number, item in enumerate(sections.action_items, start=1)
    )
    return "\n".join(rows)
