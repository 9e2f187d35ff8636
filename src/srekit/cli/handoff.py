"""`srekit oncall handoff`: the on-call handoff checklist of a rotation at an instant.

It names, per layer, who hands to whom, and lists what the incoming on-call takes over on the
services the rotation's team owns: open incidents, post-mortems to publish, the deploys of the
last 24 hours, SLOs and error budgets, the outgoing shift's alerts, open follow-ups, planned
maintenance (Alertmanager's silences, with SREKIT_ALERTMANAGER_URL), and the checkboxes the
incoming on-call ticks. Markdown by default (paste it in the team's channel or ticket), JSON
for tools.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from srekit.cli.help import examples
from srekit.cli.options import AtOption, abort, at_or_now, choice, errors_to_exit_codes, print_json

if TYPE_CHECKING:
    from srekit.core.rotation import RotationVersion

__all__ = ["EXAMPLES", "HandoffFormat", "handoff"]

EXAMPLES = examples(
    "srekit oncall handoff --rotation payments",
    "srekit oncall handoff --rotation payments --at 2026-03-30T07:00:00Z --format json",
    "srekit oncall handoff --file rotations/payments.yaml",
)


class HandoffFormat(StrEnum):
    MD = "md"
    JSON = "json"


def handoff(
    ctx: typer.Context,
    rotation: Annotated[
        str | None,
        typer.Option("--rotation", metavar="NAME", help="the stored rotation", show_default=False),
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option(
            "--file",
            "-f",
            metavar="FILE",
            help="read the rotation from this kind: Rotation document instead of the store",
            show_default=False,
        ),
    ] = None,
    at: AtOption = None,
    output: Annotated[
        HandoffFormat,
        choice(HandoffFormat, "--format", metavar="FORMAT", help="output: {choices}"),
    ] = HandoffFormat.MD,
) -> None:
    """Print the handoff checklist of a rotation: who hands to whom, and what is going on."""
    from srekit.alertmanager import alertmanager_of
    from srekit.cli.context import settings_of
    from srekit.cli.store_common import open_engine
    from srekit.core.handoff import handoff_document, render_markdown
    from srekit.flows.handoff import handoff_checklist

    if file is None:
        abort(
            "--rotation: stored rotations are not readable in this build yet;"
            " give the rotation's document with --file FILE"
            if rotation is not None
            else "expected --file FILE (a kind: Rotation document)"
        )
    moment = at_or_now(at)
    settings = settings_of(ctx)
    with errors_to_exit_codes():
        versions = _file_versions(file)
        silences = alertmanager_of(settings)
        try:
            with open_engine(settings) as engine:
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


def _file_versions(file: Path) -> list[RotationVersion]:
    """The rotation a document describes, ruling since ever."""
    from datetime import UTC, datetime

    from srekit.core.rotation import RotationVersion
    from srekit.errors import SpecError
    from srekit.spec.rotation import parse_rotation

    try:
        text = file.read_text(encoding="utf-8")
    except OSError as error:
        raise SpecError(f"cannot read the file: {error.strerror}", file=str(file)) from None
    rotation = parse_rotation(text, source=str(file))
    return [RotationVersion(rotation, datetime.min.replace(tzinfo=UTC))]
