"""`srekit postmortem …`: an incident's post-mortem from the terminal, from the draft to the
published document.

The loop: `draft` pre-fills it from the incident, `export --format yaml` writes the file to
edit, `edit -f` reads it back (sections left out keep their text), `review` submits it,
`return` sends it back to draft, `publish` makes it final and its action items follow-up
tasks, `export --format md|html` writes the document. Changes go to the state store under
`--actor`; a change the rules refuse (a second draft, publishing without a root cause) exits
2 saying why.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from srekit.cli.help import SrekitTyper, examples
from srekit.cli.options import (
    ActorOption,
    FormatOption,
    OutputFormat,
    abort,
    choice,
    console,
    emit,
    errors_to_exit_codes,
    plain_table,
)
from srekit.cli.remote import ServerOption, server_object
from srekit.cli.store_common import actor_or_user, open_engine

if TYPE_CHECKING:
    from srekit.core.postmortem import PostmortemView
    from srekit.store import StoreEngine

__all__ = ["app"]

app = SrekitTyper(
    help="Post-mortems: draft one from an incident, edit, review, publish, export.",
    epilog=examples(
        "srekit postmortem show 1",
        "srekit postmortem export 1 --format md",
    ),
    no_args_is_help=True,
)

IncidentArgument = Annotated[int, typer.Argument(metavar="INCIDENT", help="the incident's number")]
_FIELDS = frozenset({"incident", "title", "state", "version", "sections", "publish_problems"})


class DocumentFormat(StrEnum):
    MD = "md"
    HTML = "html"
    YAML = "yaml"


@contextmanager
def _engine(ctx: typer.Context) -> Iterator[StoreEngine]:
    from srekit.cli.context import settings_of

    with errors_to_exit_codes(), open_engine(settings_of(ctx)) as engine:
        yield engine


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


# --- output -------------------------------------------------------------------------------------


def _print(document: dict[str, Any]) -> None:
    """The post-mortem's facts, which sections are written, and what publishing still needs."""
    from rich.markup import escape

    console.print(
        f"[bold]post-mortem of incident #{document['incident']}[/] {escape(document['title'])}",
        highlight=False,
    )
    facts = plain_table("", "", fold="")
    facts.show_header = False
    sections = document["sections"]
    items = sections["action_items"]
    rows = [
        ("state", document["state"]),
        ("version", str(document["version"])),
        ("incident", document["incident_state"]),
        ("written by", f"{document['created_by']} at {document['created_at']}"),
        ("last changed", f"{document['updated_by']} at {document['updated_at']}"),
        ("published", _published(document)),
        ("timeline", f"{len(sections['timeline'])} entries"),
        ("action items", "none needed" if items == "none" else str(len(items))),
    ]
    for name in ("summary", "root_cause", "what_went_well", "what_went_wrong", "lessons_learned"):
        rows.append((name.replace("_", " "), "written" if sections[name].strip() else "-"))
    for name, value in rows:
        facts.add_row(name, value)
    console.print(facts)
    if document["publish_problems"] and document["state"] != "published":
        console.print("\n[bold]before it can be published[/]")
        for problem in document["publish_problems"]:
            console.print(f"- {escape(problem)}", highlight=False)


def _published(document: dict[str, Any]) -> str:
    if document["published_at"] is None:
        return "-"
    return f"{document['published_by']} at {document['published_at']}"


def _show(view: PostmortemView, output: OutputFormat) -> None:
    from srekit.contracts import postmortem_document

    document = postmortem_document(view)
    if output is OutputFormat.TABLE:
        _print(document)
    else:
        emit(document, output)


# --- commands -----------------------------------------------------------------------------------


def _consumed(values: list[str]) -> dict[str, float]:
    """`SERVICE/SLO=FRACTION` options as a mapping; exit 2 naming a malformed one."""
    import math

    found: dict[str, float] = {}
    for value in values:
        key, sep, number = value.partition("=")
        try:
            fraction = float(number)
        except ValueError:
            fraction = math.nan
        parts = key.split("/")
        if not sep or len(parts) != 2 or not all(parts) or not math.isfinite(fraction):
            abort(
                "--consumed: expected SERVICE/SLO=FRACTION like checkout/availability=0.4,"
                f" got {value!r}"
            )
        if fraction < 0:
            abort(f"--consumed: a fraction of the error budget is ≥ 0, got {value!r}")
        found[key] = fraction
    return found


@app.command(
    "draft",
    epilog=examples(
        "srekit postmortem draft 1",
        "srekit postmortem draft 2 \\\n  --consumed checkout/availability=0.4 --affected-share 0.1",
    ),
)
def draft_command(
    ctx: typer.Context,
    incident: IncidentArgument,
    consumed: Annotated[
        list[str] | None,
        typer.Option(
            "--consumed",
            metavar="SERVICE/SLO=FRACTION",
            help="the error budget the incident consumed, as a fraction (repeatable)",
        ),
    ] = None,
    affected_share: Annotated[
        float | None,
        typer.Option(
            metavar="FRACTION",
            min=0,
            max=1,
            help="the share of users (requests) it failed, from 0 to 1",
        ),
    ] = None,
    actor: ActorOption = None,
    output: FormatOption = OutputFormat.TABLE,
) -> None:
    """Draft an incident's post-mortem, pre-filled from its timeline, tasks, SLOs and the
    deploys before it; an incident has one post-mortem."""
    from srekit.flows.postmortems import draft

    impact = _consumed(consumed or [])
    with _engine(ctx) as engine:
        view = draft(
            engine,
            incident_id=incident,
            actor=actor_or_user(actor),
            now=_now(),
            impact=impact,
            affected_share=affected_share,
        )
    _show(view, output)


@app.command(
    "show",
    epilog=examples("srekit postmortem show 1", "srekit postmortem show 1 --format json"),
)
def show_command(
    ctx: typer.Context,
    incident: IncidentArgument,
    output: FormatOption = OutputFormat.TABLE,
    server: ServerOption = None,
) -> None:
    """Show a post-mortem: its state, which sections are written, and what publishing it
    still needs (`export` prints the document)."""
    from srekit.contracts import postmortem_document
    from srekit.flows.postmortems import postmortem_view

    if server:
        document = server_object(server, f"/api/v1/incidents/{incident}/postmortem", _FIELDS)
    else:
        with _engine(ctx) as engine:
            document = postmortem_document(postmortem_view(engine, incident_id=incident))
    if output is OutputFormat.TABLE:
        _print(document)
    else:
        emit(document, output)


@app.command(
    "edit",
    epilog=examples(
        "srekit postmortem export 1 --format yaml -o pm.yaml",
        "srekit postmortem edit 1 -f pm.yaml",
        "srekit postmortem edit 1 -f examples/postmortems/checkout-errors.yaml",
    ),
)
def edit_command(
    ctx: typer.Context,
    incident: IncidentArgument,
    file: Annotated[
        Path,
        typer.Option(
            "--file",
            "-f",
            metavar="FILE",
            help="the sections, in YAML (as `export --format yaml` writes them) or JSON",
            show_default=False,
        ),
    ],
    actor: ActorOption = None,
    output: FormatOption = OutputFormat.TABLE,
) -> None:
    """Replace a draft's sections with those FILE gives (the others keep their text): a new
    version. FILE's `version`, when given, must still be the stored one."""
    from srekit.flows.postmortems import edit_from_file

    with _engine(ctx) as engine:
        view = edit_from_file(
            engine, incident_id=incident, path=file, actor=actor_or_user(actor), now=_now()
        )
    _show(view, output)


@app.command("review", epilog=examples("srekit postmortem review 1", "srekit postmortem review 2"))
def review_command(
    ctx: typer.Context,
    incident: IncidentArgument,
    actor: ActorOption = None,
    output: FormatOption = OutputFormat.TABLE,
) -> None:
    """Submit a draft for review."""
    from srekit.flows.postmortems import submit

    with _engine(ctx) as engine:
        view = submit(engine, incident_id=incident, actor=actor_or_user(actor), now=_now())
    _show(view, output)


@app.command("return", epilog=examples("srekit postmortem return 2"))
def return_command(
    ctx: typer.Context,
    incident: IncidentArgument,
    actor: ActorOption = None,
    output: FormatOption = OutputFormat.TABLE,
) -> None:
    """Send a post-mortem in review back to draft, for changes."""
    from srekit.flows.postmortems import send_back

    with _engine(ctx) as engine:
        view = send_back(engine, incident_id=incident, actor=actor_or_user(actor), now=_now())
    _show(view, output)


@app.command("publish", epilog=examples("srekit postmortem publish 1"))
def publish_command(
    ctx: typer.Context,
    incident: IncidentArgument,
    actor: ActorOption = None,
    output: FormatOption = OutputFormat.TABLE,
) -> None:
    """Publish a post-mortem in review: it needs a root cause, an action item (or `none`) and
    the incident resolved. Its action items become follow-up tasks (`srekit task list`), and
    the incident may close without a waiver."""
    from srekit.flows.postmortems import publish

    with _engine(ctx) as engine:
        view = publish(engine, incident_id=incident, actor=actor_or_user(actor), now=_now())
    _show(view, output)


@app.command(
    "export",
    epilog=examples(
        "srekit postmortem export 1 --format md",
        "srekit postmortem export 1 --format html -o postmortem-1.html",
    ),
)
def export_command(
    ctx: typer.Context,
    incident: IncidentArgument,
    document_format: Annotated[
        DocumentFormat,
        choice(
            DocumentFormat,
            "--format",
            metavar="FORMAT",
            help="md (Markdown), html (a page) or yaml (the file to edit)",
        ),
    ] = DocumentFormat.MD,
    output_file: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", metavar="FILE", help="write it to FILE instead of the terminal"
        ),
    ] = None,
) -> None:
    """Write a post-mortem as a document."""
    from srekit.flows.postmortems import export

    with _engine(ctx) as engine:
        text = export(engine, incident_id=incident, format=document_format.value)
    if output_file is None:
        typer.echo(text, nl=False)
        return
    try:
        output_file.write_text(text, encoding="utf-8")
    except OSError as error:
        abort(f"{output_file}: cannot write: {error.strerror or error}")
    console.print(
        f"wrote the post-mortem of incident #{incident} to {output_file}", highlight=False
    )
