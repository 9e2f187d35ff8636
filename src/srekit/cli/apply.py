"""`srekit apply -f FILE|DIR`: store every document of the specs, as `kubectl apply` does.

SLOs (srekit/v1, OpenSLO, Sloth), srekit/v1 policies, alert routings and on-call rotations, in
one transaction: each is created, updated (a new version, with what changed) or left unchanged,
and a set that fails part-way stores nothing. `srekit slo apply` stores the SLOs and policies
the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from srekit.cli.help import examples
from srekit.cli.options import (
    ActorOption,
    FilesOption,
    FormatOption,
    OutputFormat,
    console,
    emit,
    errors_to_exit_codes,
)
from srekit.cli.store_common import actor_or_user, store_session

if TYPE_CHECKING:
    from srekit.core.specs import SpecSet
    from srekit.store.repo import Applied

__all__ = ["EXAMPLES", "DryRunOption", "apply", "print_applied", "store_specs"]

EXAMPLES = examples(
    "srekit apply -f examples/routing.yaml",
    "srekit apply -f examples/oncall/payments.yaml",
    "srekit apply -f examples/slos -f examples/routing.yaml --dry-run",
    "srekit apply -f examples/slos --format json",
)

DryRunOption = Annotated[
    bool,
    typer.Option(
        "--dry-run", help="show what would be created, updated or left, and store nothing"
    ),
]


def _outcome(applied: Applied[Any]) -> str:
    if not applied.changed:
        return "unchanged"
    return "created" if applied.created else "updated"


def _applied_document(kind: str, name: str, applied: Applied[Any]) -> dict[str, Any]:
    return {
        kind: name,
        "result": _outcome(applied),
        "version": applied.row.version,
        "changes": [] if applied.created else list(applied.diff),
    }


class _DryRun(Exception):  # noqa: N818 (not an error: it ends a dry run's transaction)
    """Raised inside a dry run's transaction so that it rolls back."""


def store_specs(
    ctx: typer.Context,
    specs: SpecSet,
    *,
    actor: str,
    dry_run: bool,
    routings: bool,
) -> dict[str, Any]:
    """Store the policies and SLOs of `specs` (and, with `routings`, its alert routings and
    on-call rotations) in one
    transaction; a dry run makes the very same changes, then rolls them back, audit rows and
    all. What each did, as `--format json` prints it."""
    from srekit.cli.progress import stored_progress
    from srekit.store.repo import apply_rotation, apply_routing, apply_specs

    try:
        with (
            store_session(ctx) as session,
            stored_progress(len(specs.slos), description="storing SLOs") as progress,
        ):
            result = apply_specs(
                session,
                specs=specs,
                actor=actor,
                source_formats=specs.formats,
                progress=progress,
            )
            done: dict[str, Any] = {
                "actor": actor,
                "dry_run": dry_run,
                "slos": [_applied_document("slo", a.row.key, a) for a in result.slos],
                "policies": [_applied_document("policy", a.row.name, a) for a in result.policies],
            }
            if routings:
                done["routings"] = [
                    _applied_document(
                        "routing", name, apply_routing(session, routing=routing, actor=actor)
                    )
                    for name, routing in specs.routings.items()
                ]
                done["rotations"] = [
                    _applied_document(
                        "rotation",
                        name,
                        apply_rotation(
                            session,
                            rotation=change.rotation,
                            effective_from=change.effective_from,
                            actor=actor,
                        ),
                    )
                    for name, change in specs.rotations.items()
                ]
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return done


_COLOURS = {"created": "green", "updated": "yellow", "unchanged": "dim"}


def print_applied(done: dict[str, Any], output: OutputFormat) -> None:
    """One line per document (`created checkout/availability (version 1)`), or the JSON/YAML."""
    if output is not OutputFormat.TABLE:
        emit(done, output)
        return
    named = [
        *((f"policy {item['policy']}", item) for item in done["policies"]),
        *((f"routing {item['routing']}", item) for item in done.get("routings", [])),
        *((f"rotation {item['rotation']}", item) for item in done.get("rotations", [])),
        *((str(item["slo"]), item) for item in done["slos"]),
    ]
    for name, item in named:
        outcome = f"would be {item['result']}" if done["dry_run"] else item["result"]
        line = f"[{_COLOURS[item['result']]}]{outcome}[/] {name} (version {item['version']})"
        if item["changes"]:
            line += ": " + "; ".join(item["changes"])
        console.print(line, highlight=False)


def apply(
    ctx: typer.Context,
    files: FilesOption,
    actor: ActorOption = None,
    output: FormatOption = OutputFormat.TABLE,
    dry_run: DryRunOption = False,
) -> None:
    """Store every document of the specs: SLOs (srekit/v1, OpenSLO, Sloth), srekit/v1 policies,
    alert routings and on-call rotations. Each is created, updated (a new version) or
    unchanged; all or nothing."""
    from srekit.cli.common import load

    who = actor_or_user(actor)
    with errors_to_exit_codes():
        specs = load(files, routings=True)
        done = store_specs(ctx, specs, actor=who, dry_run=dry_run, routings=True)
    print_applied(done, output)
