"""The load gate's rule options (`--latency-increase`, `--noise-floor-ms`, ... `--min-samples`),
defined once for every command that judges a run: `srekit load gate` and `srekit load run
--gate`.

`with_gate_rules` puts the options into a command's signature in place of its `rules`
parameter, checks them and hands the command the gate's rules (`core.load_gate.GateRules`),
so a new rule is one option here and one limit in `flows.load_gate.gate_rules`, never an edit
in each command. A value the gate refuses (NaN, infinity, a negative) exits 2 naming the option.
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, get_type_hints

import typer

from srekit.cli.options import abort, errors_to_exit_codes
from srekit.core.load_gate import DEFAULT_RULES as DEFAULT

if TYPE_CHECKING:
    from srekit.core.load_gate import GateRules

__all__ = ["RULE_OPTIONS", "rule_options_given", "with_gate_rules"]

_FRACTION = {"min": 0.0, "max": 1e6}


def _rule_options(
    *,
    latency_increase: Annotated[
        float,
        typer.Option(
            metavar="FRACTION", help="p95/p99 increase that fails (0.2 = 20 %)", **_FRACTION
        ),
    ] = DEFAULT.latency_increase,
    noise_floor_ms: Annotated[
        float,
        typer.Option(metavar="MS", help="latency changes smaller than this never fail", min=0),
    ] = DEFAULT.latency_noise_floor_ms,
    max_p95_ms: Annotated[
        float | None, typer.Option(metavar="MS", help="absolute p95 limit", min=0)
    ] = None,
    max_p99_ms: Annotated[
        float | None, typer.Option(metavar="MS", help="absolute p99 limit", min=0)
    ] = None,
    max_error_rate: Annotated[
        float,
        typer.Option(metavar="FRACTION", help="error rate limit without a baseline", min=0, max=1),
    ] = DEFAULT.max_error_rate,
    error_rate_increase: Annotated[
        float,
        typer.Option(
            metavar="FRACTION",
            help="error-rate increase over the baseline that fails",
            min=0,
            max=1,
        ),
    ] = DEFAULT.error_rate_increase,
    throughput_drop: Annotated[
        float,
        typer.Option(metavar="FRACTION", help="throughput drop that fails", min=0, max=1),
    ] = DEFAULT.throughput_drop,
    throughput_noise_floor: Annotated[
        float,
        typer.Option(metavar="REQ/S", help="throughput drops smaller than this never fail", min=0),
    ] = DEFAULT.throughput_noise_floor,
    min_samples: Annotated[
        int,
        typer.Option(metavar="N", help="fewer requests than this is inconclusive", min=0),
    ] = DEFAULT.min_samples,
    allow_inconclusive: Annotated[
        bool,
        typer.Option(help="let an inconclusive run pass (it fails closed by default)"),
    ] = DEFAULT.allow_inconclusive,
) -> None:
    """The options' one definition; never called (the keyword names are `gate_rules`')."""


_OPTIONS = inspect.signature(_rule_options).parameters
_HINTS = get_type_hints(_rule_options, include_extras=True)

#: The rule options' parameter names, as `flows.load_gate.gate_rules` takes them.
RULE_OPTIONS: tuple[str, ...] = tuple(_OPTIONS)


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _rules(limits: dict[str, Any]) -> GateRules:
    """The gate's rules from the options' values; a non-finite number exits 2 naming its
    option (click's ranges let NaN and infinity through)."""
    from srekit.flows.load_gate import gate_rules

    for name, value in limits.items():
        if isinstance(value, float) and not math.isfinite(value):
            abort(f"{_flag(name)}: expected a finite number >= 0, got {value}")
    with errors_to_exit_codes():
        return gate_rules(**limits)


def with_gate_rules(command: Callable[..., None]) -> Callable[..., None]:
    """`command` with the rule options in place of its `rules` parameter (keyword-only, as
    Typer calls a command): it receives the checked `GateRules` as `rules`."""
    own = inspect.signature(command)
    hints = get_type_hints(command, include_extras=True)
    if "rules" not in own.parameters:
        raise TypeError(f"{command.__name__} takes no rules parameter")
    parameters: list[inspect.Parameter] = []
    for name, parameter in own.parameters.items():
        if name == "rules":
            parameters.extend(
                option.replace(annotation=_HINTS[option.name]) for option in _OPTIONS.values()
            )
        else:
            parameters.append(
                parameter.replace(kind=inspect.Parameter.KEYWORD_ONLY, annotation=hints[name])
            )

    @functools.wraps(command)
    def judged(**values: Any) -> None:
        limits = {name: values.pop(name) for name in RULE_OPTIONS}
        command(**values, rules=_rules(limits))

    signature = own.replace(parameters=parameters, return_annotation=None)
    judged.__signature__ = signature  # type: ignore[attr-defined]
    judged.__annotations__ = {p.name: p.annotation for p in parameters} | {"return": None}
    return judged


def rule_options_given(ctx: typer.Context) -> list[str]:
    """The rule options given on the command line (or by environment), as flags."""
    given = []
    for name in RULE_OPTIONS:
        source = ctx.get_parameter_source(name)
        if source is not None and source.name != "DEFAULT":
            given.append(_flag(name))
    return given
