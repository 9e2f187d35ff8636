"""What several commands do the same way: load specs (from files, or the state store) and the
sources they read, evaluate."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import typer

from srekit.cli.context import settings_of
from srekit.core.sli import SourceSet
from srekit.core.status import SloStatus
from srekit.errors import SpecError
from srekit.flows.evaluate import evaluate_statuses
from srekit.spec.loader import SpecSet, load_specs

__all__ = ["evaluate", "load", "load_with_sources"]


def load(files: Sequence[Path], *, routings: bool = False) -> SpecSet:
    """Parse the spec files and check what their schema cannot (`flows.validate`); at least
    one path is required, and at least one SLO or policy (or, with `routings`, alert
    routing or rotation) found."""
    from srekit.cli.options import abort
    from srekit.cli.progress import spec_progress
    from srekit.flows.validate import check_slos

    if not files:
        abort("no spec given: pass --file PATH (a file or a directory)")
    with spec_progress(files) as progress:
        specs = load_specs(files, progress=progress)
    declared = specs.routings or specs.rotations
    if not specs.slos and not specs.policies and not (routings and declared):
        # an empty file or a directory of other files is a mistake, never "valid: 0 SLO(s)"
        what = "SLO, policy, alert routing or rotation" if routings else "SLO or policy"
        raise SpecError(
            f"no {what} found: expected at least one srekit/v1, openslo/v1 or Sloth"
            " (prometheus/v1) document in a .yaml, .yml or .json file",
            file=", ".join(str(path) for path in files),
        )
    check_slos(specs.slos)
    return specs


def evaluate(specs: SpecSet, sources: SourceSet, at: datetime) -> list[SloStatus]:
    """Every SLO of `specs` evaluated at `at`, each against its own policy."""
    return evaluate_statuses(
        specs.slos,
        at=at,
        sources=sources,
        policies=specs.policies,
    )


def load_with_sources(
    ctx: typer.Context,
    files: Sequence[Path],
    *,
    prometheus_url: str | None,
    events_store: Path | None,
    announce: bool = True,
) -> tuple[SpecSet, SourceSet]:
    """The specs of `files` (none: those of the state store, said on stderr when `announce`)
    and the SLI sources they read: the flags, else the settings."""
    from srekit.cli.store_common import stored_specs
    from srekit.sources.factory import build_sources

    specs = load(files) if files else stored_specs(ctx, announce=announce)
    settings = settings_of(ctx)
    return specs, build_sources(
        settings, prometheus_url=prometheus_url, events_store=events_store, name_paths=True
    )
