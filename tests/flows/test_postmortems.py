"""The post-mortem flows on SQLite and PostgreSQL: the loop from the draft to the published
post-mortem whose action items are tasks, the refusals on the way, what closing an incident
needs now, and the exports (no markup injected into the HTML)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from srekit.core.incident import IncidentState, Severity, TaskState
from srekit.core.policy import Decision, GateDecision
from srekit.core.postmortem import ActionItem, PostmortemState, PostmortemView, render_markdown
from srekit.errors import Conflict, NotFound, SpecError
from srekit.flows import incidents, postmortems
from srekit.spec.postmortem import parse_sections_text
from srekit.store import repo
from srekit.store.database import transaction

T0 = datetime(2026, 11, 3, 14, 2, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def _incident(engine: Engine) -> int:
    """A P1 on checkout with an SLO, a deploy 20 minutes before it, and a task."""
    with transaction(engine) as session:
        repo.record_deployment(
            session,
            service="checkout",
            change_type="feature",
            version="v1.4.2",
            decision=GateDecision(
                service="checkout",
                change_type="feature",
                allowed=True,
                decision=Decision.ALLOW,
                state="normal",
                reasons=(),
            ),
            now=T0 - 20 * MINUTE,
        )
    view = incidents.declare_incident(
        engine,
        title="checkout errors",
        severity=Severity.P1,
        actor="ana",
        now=T0,
        services=["checkout"],
        slos=["checkout/availability"],
    )
    number = view.incident.id
    incidents.new_task(
        engine, incident_id=number, title="add a client timeout", actor="ana", now=T0 + MINUTE
    )
    return number


def _edit(engine: Engine, number: int, text: str, *, at: datetime) -> PostmortemView:
    return postmortems.edit(
        engine,
        incident_id=number,
        sections=parse_sections_text(text, file="pm.yaml"),
        actor="bo",
        now=at,
        file="pm.yaml",
    )


def _tasks(engine: Engine, number: int) -> list[tuple[str, str, str | None]]:
    return [
        (task.title, task.source, task.owner)
        for task in incidents.list_follow_ups(engine, incident_id=number)
    ]


def test_from_the_draft_to_the_published_post_mortem(engine: Engine, tmp_path: Path) -> None:
    number = _incident(engine)
    drafted = postmortems.draft(
        engine,
        incident_id=number,
        actor="ana",
        now=T0 + 5 * MINUTE,
        impact={"checkout/availability": 0.25},
    )
    pm = drafted.postmortem
    assert (pm.state, pm.version, pm.created_by) == (PostmortemState.DRAFT, 1, "ana")
    assert pm.sections.impact.budget_consumed == {"checkout/availability": 0.25}
    assert pm.sections.impact.duration_s is None  # still open
    assert [item.text for item in pm.sections.timeline] == [
        "deploy of checkout v1.4.2 (feature): allowed",
        "P1 incident opened: checkout errors",
    ]
    (task,) = incidents.list_follow_ups(engine, incident_id=number)
    assert pm.sections.action_items == (ActionItem("add a client timeout", task_id=task.id),)

    with pytest.raises(Conflict, match=f"incident {number} has a post-mortem already"):
        postmortems.draft(engine, incident_id=number, actor="bo", now=T0 + 6 * MINUTE)

    # the edit file as exported, with the human sections written and an action item added
    exported = postmortems.export(engine, incident_id=number, format="yaml")
    edited_text = (
        exported.replace("root_cause: ''", "root_cause: |\n  Retries without a budget.\n").replace(
            "lessons_learned: ''", "lessons_learned: Retries need budgets.\n"
        )
        + "action_items:\n"
        f"  - {{title: add a client timeout, task: {task.id}}}\n"
        + ("  - {title: cap retries per client, owner: cy, due_at: 2026-12-01T00:00:00Z}\n")
    )
    path = tmp_path / "pm.yaml"
    path.write_text(edited_text)
    edited = postmortems.edit_from_file(
        engine, incident_id=number, path=path, actor="bo", now=T0 + 10 * MINUTE
    )
    assert edited.postmortem.version == 2
    assert edited.postmortem.sections.root_cause == "Retries without a budget.\n"
    assert edited.postmortem.sections.lessons_learned == "Retries need budgets."
    assert len(edited.postmortem.sections.action_items) == 2
    # the same file again: nothing changes, not even the version... but it was made from 1
    with pytest.raises(Conflict, match=r"made from version 1 .* but version 2 is stored"):
        postmortems.edit_from_file(
            engine, incident_id=number, path=path, actor="bo", now=T0 + 11 * MINUTE
        )
    same = _edit(engine, number, "lessons_learned: Retries need budgets.", at=T0 + 11 * MINUTE)
    assert (same.postmortem.version, same.postmortem.updated_at) == (2, T0 + 10 * MINUTE)
    with pytest.raises(SpecError, match=r"pm\.yaml: action_items\[0\]\.task: expected one of"):
        _edit(engine, number, "action_items: [{title: x, task: 999}]", at=T0 + 12 * MINUTE)

    submitted = postmortems.submit(engine, incident_id=number, actor="bo", now=T0 + 15 * MINUTE)
    assert submitted.postmortem.state is PostmortemState.IN_REVIEW
    with pytest.raises(Conflict, match="is in_review: only a draft is edited"):
        _edit(engine, number, "summary: x", at=T0 + 16 * MINUTE)
    with pytest.raises(Conflict, match=f"incident {number} is triggered: resolve it first"):
        postmortems.publish(engine, incident_id=number, actor="cy", now=T0 + 17 * MINUTE)
    back = postmortems.send_back(engine, incident_id=number, actor="cy", now=T0 + 18 * MINUTE)
    assert back.postmortem.state is PostmortemState.DRAFT
    postmortems.submit(engine, incident_id=number, actor="bo", now=T0 + 19 * MINUTE)
    incidents.change_incident_state(
        engine, incident_id=number, to=IncidentState.RESOLVED, actor="ana", now=T0 + 47 * MINUTE
    )
    published = postmortems.publish(engine, incident_id=number, actor="cy", now=T0 + 60 * MINUTE)
    pm = published.postmortem
    assert (pm.state, pm.published_by, pm.published_at) == (
        PostmortemState.PUBLISHED,
        "cy",
        T0 + 60 * MINUTE,
    )
    assert published.incident.state is IncidentState.RESOLVED
    # the new action item is a task now; the incident's task is not created twice
    assert _tasks(engine, number) == [
        ("cap retries per client", "postmortem", "cy"),
        ("add a client timeout", "incident", None),
    ]
    created = next(t for t in incidents.list_follow_ups(engine, incident_id=number) if t.owner)
    assert created.due_at == datetime(2026, 12, 1, tzinfo=UTC)
    assert [item.task_id for item in pm.sections.action_items] == [task.id, created.id]
    assert postmortems.postmortem_view(engine, incident_id=number) == published
    with pytest.raises(Conflict, match="is published: it is final"):
        postmortems.publish(engine, incident_id=number, actor="cy", now=T0 + 61 * MINUTE)
    assert len(_tasks(engine, number)) == 2
    _audited_and_closed(engine, number)


def _audited_and_closed(engine: Engine, number: int) -> None:
    """Every step of the loop above is in the audit log and on the incident's timeline; the
    published post-mortem closes the incident without a waiver."""
    with transaction(engine) as session:
        actions = [
            (row.action, row.actor)
            for row in reversed(repo.list_audit(session, entity_kind="postmortem"))
        ]
        texts = [e.text for e in repo.incident_events(session, incident_id=number)]
    assert actions == [
        ("postmortem.draft", "ana"),
        ("postmortem.edit", "bo"),
        ("postmortem.submit", "bo"),
        ("postmortem.return", "cy"),
        ("postmortem.submit", "bo"),
        ("postmortem.publish", "cy"),
    ]
    assert [t for t in texts if "post-mortem" in t] == [
        "post-mortem drafted",
        "post-mortem submitted for review",
        "post-mortem sent back to draft",
        "post-mortem submitted for review",
        "post-mortem published",
    ]

    # published: the incident closes without a waiver, and a waiver contradicts it
    with pytest.raises(Conflict, match="post-mortem is published: close it without a waiver"):
        incidents.change_incident_state(
            engine,
            incident_id=number,
            to=IncidentState.CLOSED,
            actor="ana",
            now=T0 + 70 * MINUTE,
            postmortem_waived="no need",
        )
    closed = incidents.change_incident_state(
        engine, incident_id=number, to=IncidentState.CLOSED, actor="ana", now=T0 + 70 * MINUTE
    )
    assert closed.incident.state is IncidentState.CLOSED
    assert closed.timeline[-1].text == "closed (post-mortem published)"


def test_closing_without_a_published_post_mortem_needs_a_waiver(engine: Engine) -> None:
    number = _incident(engine)
    postmortems.draft(engine, incident_id=number, actor="ana", now=T0 + MINUTE)
    incidents.change_incident_state(
        engine, incident_id=number, to=IncidentState.RESOLVED, actor="ana", now=T0 + 9 * MINUTE
    )
    with pytest.raises(Conflict, match=r"\(--waive-postmortem REASON\) \(its post-mortem is draft"):
        incidents.change_incident_state(
            engine, incident_id=number, to=IncidentState.CLOSED, actor="ana", now=T0 + 10 * MINUTE
        )
    closed = incidents.change_incident_state(
        engine,
        incident_id=number,
        to=IncidentState.CLOSED,
        actor="ana",
        now=T0 + 10 * MINUTE,
        postmortem_waived="a duplicate of #7",
    )
    assert closed.timeline[-1].text == "closed (post-mortem waived: a duplicate of #7)"
    # the lifecycle speaks first: an open incident does not close, waiver or not
    other = _incident(engine)
    with pytest.raises(Conflict, match="is triggered: it can move to"):
        incidents.change_incident_state(
            engine,
            incident_id=other,
            to=IncidentState.CLOSED,
            actor="ana",
            now=T0 + 10 * MINUTE,
            postmortem_waived="x",
        )


def test_exports_show_the_same_document(engine: Engine) -> None:
    number = _incident(engine)
    postmortems.draft(engine, incident_id=number, actor="ana", now=T0 + MINUTE)
    hostile = (
        "root_cause: |\n"
        "  <script>alert('root')</script> and <img src=x onerror=alert(1)>\n"
        "  [click](javascript:alert(2)) **bold**\n"
        "timeline: [{at: 2026-11-03T14:10:00Z, actor: '<b>eve</b>', text: 'a | b <i>c</i>'}]\n"
    )
    view = _edit(engine, number, hostile, at=T0 + 2 * MINUTE)
    markdown = postmortems.export(engine, incident_id=number, format="md")
    assert markdown == render_markdown(view.postmortem, incident=view.incident)
    assert "<script>alert('root')</script>" in markdown  # Markdown keeps what was written

    html = postmortems.export(engine, incident_id=number, format="html")
    assert html.startswith("<!doctype html>\n")
    assert "default-src 'none'" in html  # and even so, nothing below is markup
    for markup in ("<script", "<img", "<b>eve", "<i>c", 'href="javascript'):
        assert markup not in html, markup
    assert "<p>&lt;script&gt;alert('root')&lt;/script&gt; and &lt;img src=x" in html
    assert "<strong>bold</strong>" in html  # Markdown is rendered
    assert "<title>Post-mortem: checkout errors</title>" in html
    assert "<h1>Post-mortem: checkout errors</h1>" in html
    assert re.search(
        r"<td>&lt;b&gt;eve&lt;/b&gt;</td>\s*<td>a \| b &lt;i&gt;c&lt;/i&gt;</td>", html
    )
    assert "<h2>Root cause</h2>" in html


def test_what_is_missing_is_named(engine: Engine) -> None:
    number = _incident(engine)
    with pytest.raises(NotFound, match=f"incident {number} has no post-mortem yet"):
        postmortems.postmortem_view(engine, incident_id=number)
    with pytest.raises(NotFound, match="no incident 999"):
        postmortems.submit(engine, incident_id=999, actor="ana", now=T0)
    with pytest.raises(NotFound, match="no incident 999"):
        postmortems.draft(engine, incident_id=999, actor="ana", now=T0)
    assert incidents.list_follow_ups(engine, state=TaskState.DONE) == []


DOCS = Path(__file__).resolve().parents[2] / "docs" / "postmortems.md"
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "postmortems" / "checkout-errors.yaml"
_SAMPLE = re.compile(r"<!-- sample: .*? -->\n```markdown\n(.*?)```\n", re.DOTALL)


def _sample(engine: Engine) -> str:
    """The post-mortem of the example incident: declared, worked, resolved, then drafted,
    edited from the bundled example file, reviewed and published, at fixed instants."""
    number = _incident(engine)
    incidents.note_incident(
        engine,
        incident_id=number,
        text="error ratio at 38 %; the payment client times out",
        actor="ana",
        now=T0 + 6 * MINUTE,
    )
    incidents.change_incident_state(
        engine, incident_id=number, to=IncidentState.ACKNOWLEDGED, actor="ana", now=T0 + 4 * MINUTE
    )
    incidents.change_incident_state(
        engine,
        incident_id=number,
        to=IncidentState.MITIGATED,
        actor="bo",
        now=T0 + 20 * MINUTE,
        note="rolled back v1.4.2",
    )
    incidents.change_incident_state(
        engine, incident_id=number, to=IncidentState.RESOLVED, actor="ana", now=T0 + 47 * MINUTE
    )
    day = T0 + timedelta(days=1)
    postmortems.draft(
        engine,
        incident_id=number,
        actor="ana",
        now=day,
        impact={"checkout/availability": 0.42},
        affected_share=0.31,
    )
    postmortems.edit_from_file(engine, incident_id=number, path=EXAMPLE, actor="ana", now=day)
    postmortems.submit(engine, incident_id=number, actor="ana", now=day + MINUTE)
    postmortems.publish(engine, incident_id=number, actor="cy", now=day + 60 * MINUTE)
    return postmortems.export(engine, incident_id=number, format="md")


def test_the_sample_in_the_docs_is_what_srekit_writes(engine: Engine) -> None:
    found = _SAMPLE.findall(DOCS.read_text(encoding="utf-8"))
    assert len(found) == 1, "docs/postmortems.md shows one sample post-mortem"
    assert found[0] == _sample(engine)
