"""`srekit oncall handoff`: the on-call handoff checklist of a rotation at an instant.

It names, per layer, who hands to whom, and lists what the incoming on-call takes over on the
services the rotation's team owns: open incidents, post-mortems to publish, the deploys of the
last 24 hours, SLOs and error budgets, the outgoing shift's alerts, open follow-ups, planned
maintenance (Alertmanager's silences, with SREKIT_ALERTMANAGER_URL), and the checkboxes the
incoming on-call ticks. Markdown by default (paste it in the team's channel or ticket), JSON
for tools.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from srekit.cli.help import examples
from srekit.cli.options import AtOption, abort, at_or_now, choice, errors_to_exit_codes, print_json

if TYPE_CHECKING:
    from srekit.config import Settings
    from srekit.core.handoff import HandoffChecklist
    from srekit.core.rotation import RotationVersion

__all__ = ["EXAMPLES", "HandoffFormat", "handoff"]

EXAMPLES = examples(
    "srekit oncall handoff --rotation payments",
    "srekit oncall handoff --rotation payments --format json",
    "srekit oncall handoff -f examples/oncall/payments.yaml \\\n  --at 2026-03-30T07:00:00Z",
)


class HandoffFormat(StrEnum):
    MD = "md"
    JSON = "json"


def handoff(
    ctx: typer.Context,
    rotation: Annotated[
        str | None,
        typer.Option(
            "--rotation",
            "-r",
            metavar="NAME",
            help="a rotation in the state store",
            show_default=False,
        ),
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option(
            "--file",
            "-f",
            metavar="FILE",
            help="a rotation file (kind: Rotation) instead",
            show_default=False,
        ),
    ] = None,
    at: AtOption = None,
    output: Annotated[
        HandoffFormat,
        choice(HandoffFormat, "--format", metavar="FORMAT", help="output: {choices}"),
    ] = HandoffFormat.MD,
    send: Annotated[
        bool,
        typer.Option(
            "--send",
            help="also send it to the incoming primary's contact methods (exit 1 when none"
            " received it)",
        ),
    ] = False,
) -> None:
    """Print the handoff checklist of a rotation: who hands to whom, and what is going on;
    with --send, also send it to the incoming primary (each delivery is listed on stderr)."""
    from srekit.alertmanager import alertmanager_of
    from srekit.cli.context import settings_of
    from srekit.cli.store_common import open_engine
    from srekit.core.handoff import handoff_at_problem, handoff_document, render_markdown
    from srekit.flows.handoff import handoff_checklist, stored_rotation_versions

    if (rotation is None) == (file is None):
        abort("expected one of --rotation NAME (a stored rotation) or -f FILE (a rotation file)")
    moment = at_or_now(at)
    problem = handoff_at_problem(moment, now=datetime.now(UTC))
    if problem is not None:
        abort(f"--at: {problem}")
    settings = settings_of(ctx)
    with errors_to_exit_codes():
        silences = alertmanager_of(settings)
        try:
            with open_engine(settings) as engine:
                versions = (
                    stored_rotation_versions(engine, rotation=rotation)
                    if rotation is not None
                    else _file_versions(file)
                )
                checklist = handoff_checklist(
                    engine,
                    versions=versions,
                    at=moment,
                    max_status_age_s=settings.gate_max_status_age_s,
                    silences=silences,
                )
        finally:
            if silences is not None:
                silences.close()
    if output is HandoffFormat.JSON:
        print_json(handoff_document(checklist))
    else:
        typer.echo(render_markdown(checklist), nl=False)
    if send:
        _send(settings, checklist, stored=rotation is not None)


def _send(settings: Settings, checklist: HandoffChecklist, *, stored: bool) -> None:
    """Send the handoff to the incoming primary and list each delivery on stderr; exit 1
    unless one of their contact methods received it."""
    from srekit.cli.store_common import open_engine
    from srekit.flows.handoff import handoff_link, send_handoff
    from srekit.notifiers import notifiers_of

    link = (
        handoff_link(settings.public_url, rotation=checklist.rotation, at=checklist.at)
        if stored
        else None
    )
    with errors_to_exit_codes(), open_engine(settings) as engine, notifiers_of(settings) as sender:
        sent = send_handoff(engine, checklist=checklist, sender=sender, link=link)
    if sent.problem is not None:
        abort(f"--send: not sent: {sent.problem}", code=1)
    for delivery in sent.deliveries:
        tries = f"{delivery.attempts} attempt{'' if delivery.attempts == 1 else 's'}"
        typer.echo(
            f"{'delivered' if delivery.delivered else 'not delivered'} to {sent.person}"
            f" by {delivery.channel.value} ({delivery.target}), {tries}: {delivery.detail}",
            err=True,
        )
    if not sent.delivered:
        abort(f"--send: none of {sent.person}'s contact methods received the handoff", code=1)


def _file_versions(file: Path | None) -> list[RotationVersion]:
    """The rotation of a file, ruling from its `spec.effective_from` (or since ever), as
    `srekit oncall who -f` reads it."""
    from srekit.flows.oncall import file_versions
    from srekit.spec.document import read_documents
    from srekit.spec.loader import parse_spec_documents

    assert file is not None
    specs = parse_spec_documents(read_documents(file))
    if len(specs.rotations) != 1:
        abort(f"{file}: expected one kind: Rotation document, got {len(specs.rotations)}")
    return file_versions(next(iter(specs.rotations.values())))
