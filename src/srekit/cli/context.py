"""What one `srekit` invocation shares: the `CliContext` the main callback puts in
`typer.Context.obj`, and `settings_of`, how a command reaches srekit's settings through it.

The settings are read from the `SREKIT_*` environment once per invocation, when a command first
asks for them rather than when the callback runs: `srekit <noun> --help` runs the callback too,
and help must neither need a valid environment nor pay pydantic-settings' import.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from srekit.config import Settings

__all__ = ["CliContext", "settings_of"]


@dataclass(frozen=True)
class CliContext:
    """The composition root's state for one invocation; commands read it, never build it."""

    @cached_property
    def settings(self) -> Settings:
        """srekit's settings, built on first use and kept: a bad `SREKIT_*` variable raises
        pydantic's `ValidationError`, which `cli.main.main` turns into exit 2 naming it."""
        from srekit.config import Settings

        return Settings()


def settings_of(ctx: typer.Context) -> Settings:
    """The settings of this invocation. A command mounted outside `srekit`'s app (by
    `typer.run`, say) has no callback above it and gets a `CliContext` of its own."""
    return ctx.ensure_object(CliContext).settings
