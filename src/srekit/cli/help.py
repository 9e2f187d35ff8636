"""How srekit's commands present themselves in `--help`: `SrekitTyper`, the Typer app every
noun uses, and `examples`, the Examples section each command ends its help with.

Typer shows each option's type as a placeholder (`<bool>`, `<list[Path]>`, `<int range>`);
srekit's options name theirs in user words instead (`metavar`: FILE, N, FORMAT, URL, TIME),
and flags, which take no value, show none. The Examples are real command lines that work on
the bundled `examples/` from the repository's root; `tests/cli/test_help.py` runs them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import typer
from rich.markup import escape
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption
from typer.models import CommandFunctionType

__all__ = ["SrekitTyper", "examples"]


def examples(*commands: str) -> str:
    """The Examples section of a command's help (its epilog): one command a line, each line
    short enough for 80 columns; a long command continues on the next with a trailing ` \\`
    (and a newline in the string), as a shell reads it."""
    lines = "\n".join("  $ " + escape(command).replace("\n", "\n  ") for command in commands)
    return f"[bold]Examples[/]\n{lines}"


def _no_range() -> None:
    return None


def _in_user_words(params: list[Any]) -> list[Any]:
    """Typer's help shows a type placeholder beside every parameter and a number's range as
    `[0<=x<=1]`; here a flag (it takes no value) shows no placeholder, a range is said in the
    option's help, and an argument named by its metavar (FILE) shows just that name, in
    the usage line too (Typer would write `FILE <path>` and `{FILE}`)."""
    for param in params:
        if isinstance(param, TyperOption):
            if param.is_flag and param.metavar is None:
                param.metavar = ""
            # the help text says the range in words ("at least 1"), not `[x>=1]`
            param._get_number_range_help_str = _no_range  # type: ignore[method-assign]
        elif isinstance(param, TyperArgument) and param.metavar is not None:
            name = param.metavar + ("..." if param.nargs != 1 else "")
            usage = name if param.required else f"[{name}]"
            param.display_type_rich = lambda ctx: None  # type: ignore[method-assign]
            param._usage_display_name = functools.partial(str, usage)  # type: ignore[method-assign]
    return params


class SrekitCommand(TyperCommand):
    """A command whose help names values in user words (`_in_user_words`)."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _in_user_words(super().get_params(ctx))


class SrekitGroup(TyperGroup):
    """A command group (`srekit`, `srekit slo`) with the same help conventions."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _in_user_words(super().get_params(ctx))


class SrekitTyper(typer.Typer):
    """`typer.Typer` whose groups and commands follow srekit's help conventions."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("cls", SrekitGroup)
        kwargs.setdefault("rich_markup_mode", "rich")
        super().__init__(**kwargs)

    def command(
        self, name: str | None = None, **kwargs: Any
    ) -> Callable[[CommandFunctionType], CommandFunctionType]:
        kwargs.setdefault("cls", SrekitCommand)
        return super().command(name, **kwargs)
