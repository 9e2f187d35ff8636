"""Post-mortems: draft one from an incident, edit it, submit it for review, send it back,
publish it, read and export it.

Each use case is one transaction: read the post-mortem (its row locked for a change), let
`core.postmortem` decide, store the result with its audit row. A change the rules refuse is a
Conflict (the CLI's exit 2 names it; the API answers 409); an edit that is not a valid set of
sections is a SpecError naming the field.

Action items become follow-up tasks (`source: postmortem`) when the post-mortem is published,
not while it is drafted: the draft's list changes with every edit, and only what the review
agreed on should land on someone's task list. Items that were incident tasks already (the draft
lists those, linked) are not created twice.

Exports: Markdown (`core.postmortem.render_markdown`), the YAML file people edit
(`spec.postmortem.edit_file_text`), and HTML: the same Markdown rendered by markdown-it with raw
HTML disabled, in a Jinja2 page with autoescape and a Content-Security-Policy that runs no
script, so no text a post-mortem holds can inject markup.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from srekit import __version__
from srekit.core.postmortem import (
    Postmortem,
    PostmortemRefusedError,
    PostmortemSections,
    PostmortemView,
    draft_postmortem,
    edit_postmortem,
    publish_postmortem,
    render_markdown,
    return_to_draft,
    submit_postmortem,
)
from srekit.errors import Conflict, SpecError
from srekit.flows.incidents import incident_view
from srekit.spec.postmortem import SectionsSpec, edit_file_text, read_sections_file
from srekit.store import StoreEngine, StoreSession
from srekit.store.database import transaction
from srekit.store.repo import (
    add_task,
    create_postmortem,
    find_postmortem,
    get_incident,
    get_postmortem,
    incident_of,
    list_tasks,
    postmortem_of,
    save_postmortem,
)

if TYPE_CHECKING:
    from jinja2 import Template
    from markdown_it import MarkdownIt

__all__ = [
    "EXPORT_FORMATS",
    "ExportFormat",
    "draft",
    "edit",
    "edit_from_file",
    "export",
    "postmortem_view",
    "publish",
    "render_html",
    "send_back",
    "submit",
]

ExportFormat = Literal["md", "html", "yaml"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = ("md", "html", "yaml")


def draft(
    engine: StoreEngine,
    *,
    incident_id: int,
    actor: str,
    now: datetime,
    impact: Mapping[str, float | None] | None = None,
    affected_share: float | None = None,
) -> PostmortemView:
    """Draft the incident's post-mortem, pre-filled from it (`core.postmortem.draft_postmortem`:
    `impact` gives the error budget each SLO consumed, when known). A Conflict when the incident
    has one already: there is one post-mortem per incident, edited rather than drafted again."""
    view = incident_view(engine, incident_id=incident_id)
    with transaction(engine) as session:
        existing = find_postmortem(session, incident_id=incident_id)
        if existing is not None:
            raise Conflict(
                f"incident {incident_id} has a post-mortem already ({existing.state},"
                f" version {existing.version}): show it or edit it"
            )
        drafted = draft_postmortem(
            view, now=now, by=actor, impact=impact, affected_share=affected_share
        )
        create_postmortem(session, postmortem=drafted, now=now)
        return _view_of(session, drafted)


def _view_of(session: StoreSession, postmortem: Postmortem) -> PostmortemView:
    incident = incident_of(get_incident(session, incident_id=postmortem.incident_id))
    return PostmortemView(postmortem=postmortem, incident=incident)


def postmortem_view(engine: StoreEngine, *, incident_id: int) -> PostmortemView:
    """The incident's post-mortem; NotFound when it has none (or there is no such incident)."""
    with transaction(engine, read_only=True) as session:
        row = get_postmortem(session, incident_id=incident_id)
        return _view_of(session, postmortem_of(row))


def _change(
    engine: StoreEngine,
    *,
    incident_id: int,
    action: str,
    decide: Callable[[StoreSession, Postmortem], Postmortem],
    now: datetime,
) -> PostmortemView:
    """Read the post-mortem (its row locked), let `decide` compute it after the change (core's
    refusals become Conflicts), and store it unless nothing changed."""
    with transaction(engine) as session:
        row = get_postmortem(session, incident_id=incident_id, for_update=True)
        current = postmortem_of(row)
        try:
            changed = decide(session, current)
        except PostmortemRefusedError as error:
            raise Conflict(str(error)) from None
        if changed != current:
            save_postmortem(session, row=row, postmortem=changed, action=action, now=now)
        return _view_of(session, changed)


def edit(
    engine: StoreEngine,
    *,
    incident_id: int,
    sections: SectionsSpec,
    actor: str,
    now: datetime,
    file: str | None = None,
) -> PostmortemView:
    """Replace the sections `sections` gives (the others keep their text), as a new version of
    the draft. `sections.version`, when given, must be the stored version. An action item's
    `task` must be one of the incident's tasks. `file` names the edit file in errors."""

    def decide(session: StoreSession, current: Postmortem) -> Postmortem:
        merged = _merged(sections, current.sections, file=file)
        known = {task.id for task in list_tasks(session, incident_id=incident_id, limit=None)}
        for index, item in enumerate(merged.action_items):
            if item.task_id is not None and item.task_id not in known:
                raise SpecError(
                    f"expected one of incident {incident_id}'s tasks"
                    f" ({', '.join(map(str, sorted(known))) or 'it has none'}),"
                    f" got {item.task_id}",
                    file=file,
                    field=f"action_items[{index}].task",
                )
        return edit_postmortem(
            current, sections=merged, by=actor, now=now, expected_version=sections.version
        )

    return _change(engine, incident_id=incident_id, action="edit", decide=decide, now=now)


def _merged(
    sections: SectionsSpec, current: PostmortemSections, *, file: str | None
) -> PostmortemSections:
    try:
        return sections.merged(current)
    except ValueError as error:  # a rule of core's values the model's bounds do not say
        raise SpecError(str(error), file=file) from None


def edit_from_file(
    engine: StoreEngine, *, incident_id: int, path: Path, actor: str, now: datetime
) -> PostmortemView:
    """`edit` with the sections of a YAML (or JSON) file (`spec.postmortem`)."""
    sections = read_sections_file(path)
    return edit(
        engine, incident_id=incident_id, sections=sections, actor=actor, now=now, file=str(path)
    )


def submit(engine: StoreEngine, *, incident_id: int, actor: str, now: datetime) -> PostmortemView:
    """Draft → in review."""
    return _change(
        engine,
        incident_id=incident_id,
        action="submit",
        decide=lambda _, current: submit_postmortem(current, by=actor, now=now),
        now=now,
    )


def send_back(
    engine: StoreEngine, *, incident_id: int, actor: str, now: datetime
) -> PostmortemView:
    """In review → draft: the reviewers want changes."""
    return _change(
        engine,
        incident_id=incident_id,
        action="return",
        decide=lambda _, current: return_to_draft(current, by=actor, now=now),
        now=now,
    )


def publish(engine: StoreEngine, *, incident_id: int, actor: str, now: datetime) -> PostmortemView:
    """In review → published (core's `publish_problems` must find none), and each action item
    not yet tracked becomes a follow-up task (`source: postmortem`), linked from the item."""

    def decide(session: StoreSession, current: Postmortem) -> Postmortem:
        incident = incident_of(get_incident(session, incident_id=incident_id))
        published = publish_postmortem(current, incident=incident, by=actor, now=now)
        items = []
        for item in published.sections.action_items:
            if item.task_id is None:
                task = add_task(
                    session,
                    incident_id=incident_id,
                    title=item.title,
                    actor=actor,
                    owner=item.owner,
                    due_at=item.due_at,
                    source="postmortem",
                    now=now,
                )
                item = replace(item, task_id=task.id)  # noqa: PLW2901
            items.append(item)
        return replace(published, sections=replace(published.sections, action_items=tuple(items)))

    return _change(engine, incident_id=incident_id, action="publish", decide=decide, now=now)


# --- exports -----------------------------------------------------------------------------------


def export(engine: StoreEngine, *, incident_id: int, format: ExportFormat) -> str:
    """The post-mortem as Markdown, HTML or the YAML file people edit."""
    view = postmortem_view(engine, incident_id=incident_id)
    if format == "yaml":
        return edit_file_text(view.postmortem, title=view.incident.title)
    if format == "html":
        return render_html(view)
    return render_markdown(view.postmortem, incident=view.incident)


_PAGE = """\
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" \
content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="srekit {{ version }}">
<title>Post-mortem: {{ title }}</title>
<style>
body { font: 16px/1.5 system-ui, sans-serif; max-width: 52rem; margin: 2rem auto;
  padding: 0 1rem; color: #1b1b1b; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { border: 1px solid #c8c8c8; padding: .25rem .5rem; text-align: left;
  vertical-align: top; }
code, pre { font-family: ui-monospace, monospace; }
</style>
</head>
<body>
<article>
{{ body }}
</article>
</body>
</html>
"""


@cache
def _page() -> Template:
    from jinja2 import Environment

    return Environment(autoescape=True, keep_trailing_newline=True).from_string(_PAGE)


@cache
def _markdown() -> MarkdownIt:
    from markdown_it import MarkdownIt

    # CommonMark with tables; raw HTML is shown as text, unsafe link schemes are not linked
    return MarkdownIt("commonmark", {"html": False}).enable("table")


def render_html(view: PostmortemView) -> str:
    """The post-mortem's Markdown as an HTML page (see the module's docstring)."""
    from markupsafe import Markup

    markdown = render_markdown(view.postmortem, incident=view.incident)
    # markdown-it escaped every text of the document: what it returns is markup to keep
    body = Markup(_markdown().render(markdown))
    return _page().render(
        title=" ".join(view.incident.title.split()), body=body, version=__version__
    )
