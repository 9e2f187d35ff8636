"""Core SLOs, policies and burn-rate alerts as plain JSON-ready values, and back, so the store
can keep them.

SLOs and policies are written and read through the one spec model (`spec.model`): the stored
shape is `SloSpec`'s with the SLO's `service`, `name` and `source_file` added, and `PolicySpec`'s
with the policy's `name`. `CODEC_VERSION` is stored next to each encoded spec, so a later shape
can still read old rows. Reading is strict about types (no `"no"` for false) and leaves the API's
intake bounds to core (a row holds whatever core accepted); a row that does not decode raises a
SpecError naming the dotted field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from srekit.core.alerts import BurnRateAlert
from srekit.core.policy import BudgetPolicy, Decision
from srekit.core.slo import SLO
from srekit.errors import SpecError
from srekit.spec.model import NO_INTAKE_BOUNDS, PolicySpec, SloSpec
from srekit.spec.validation import dotted_field

__all__ = [
    "CODEC_VERSION",
    "alerts_from_list",
    "alerts_to_list",
    "policy_from_dict",
    "policy_to_dict",
    "slo_from_dict",
    "slo_to_dict",
]

CODEC_VERSION = 1

_Stored = TypeVar("_Stored", bound=BaseModel)
_QUOTED = re.compile(r"'([^']*)'")


class _StoredSlo(SloSpec):
    service: str
    name: str
    source_file: str | None = None


class _StoredPolicy(PolicySpec):
    name: str


def slo_to_dict(slo: SLO) -> dict[str, Any]:
    """Every field of `slo` as JSON-ready values; `slo_from_dict` gives back an equal SLO."""
    spec = SloSpec.from_slo(slo).model_dump()
    return {"service": slo.service, "name": slo.name, **spec, "source_file": slo.source_file}


def policy_to_dict(policy: BudgetPolicy) -> dict[str, Any]:
    """Every field of `policy` as JSON-ready values; `policy_from_dict` gives back an equal one.

    `no_data` is written only when it is not the default (deny): policies stored before it
    existed read as deny, and an unchanged policy keeps comparing equal to its stored JSON.
    """
    encoded = {"name": policy.name, **PolicySpec.from_policy(policy).model_dump()}
    if encoded["no_data"] == Decision.DENY.value:
        del encoded["no_data"]
    return encoded


def slo_from_dict(data: Mapping[str, Any]) -> SLO:
    """The SLO `slo_to_dict` encoded; a SpecError names the field when `data` is malformed."""
    stored = _read(_StoredSlo, data)
    return stored.to_slo(service=stored.service, name=stored.name, source_file=stored.source_file)


def policy_from_dict(data: Mapping[str, Any]) -> BudgetPolicy:
    """The policy `policy_to_dict` encoded; a SpecError names the field when `data` is malformed."""
    stored = _read(_StoredPolicy, data)
    return stored.to_policy(stored.name)


def _read(model: type[_Stored], data: Any) -> _Stored:
    try:
        return model.model_validate(data, strict=True, context=NO_INTAKE_BOUNDS)
    except ValidationError as error:
        problem = error.errors()[0]
        raise SpecError(_expected(problem), field=_field(problem, data)) from None


def _field(problem: ErrorDetails, data: Any) -> str | None:
    """The dotted path into `data`, without pydantic's labels (a tagged union's member, which
    is the `kind` there, and `[key]` for a mapping's key)."""
    parts: list[int | str] = []
    node = data
    for part in problem["loc"]:
        if part == "[key]" or (
            isinstance(node, Mapping) and part not in node and part == node.get("kind")
        ):
            continue
        parts.append(part)
        node = _child(node, part)
    if problem["type"] in ("union_tag_invalid", "union_tag_not_found"):
        parts.append("kind")
    return dotted_field(parts) or None


def _child(node: Any, part: int | str) -> Any:
    if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
        return node[part]
    if isinstance(node, Mapping):
        return node.get(part)
    return None


def _expected(problem: ErrorDetails) -> str:
    """What was expected, in the words srekit uses for a stored row."""
    kind = problem["type"]
    context = problem.get("ctx") or {}
    if kind in ("missing", "union_tag_not_found"):
        return "missing"
    if kind == "literal_error":
        choices = _QUOTED.findall(context["expected"])
        return f"expected one of {', '.join(choices)}, got {problem['input']!r}"
    if kind == "union_tag_invalid":
        choices = _QUOTED.findall(context["expected_tags"])
        return f"expected one of {', '.join(choices)}, got {context['tag']!r}"
    message = problem["msg"].removeprefix("Value error, ").removeprefix("Input should be ")
    return f"expected {message.replace('a valid ', 'a ')}, got {problem['input']!r}"


def alerts_to_list(alerts: Sequence[BurnRateAlert]) -> list[dict[str, Any]]:
    """Evaluated burn-rate alerts as JSON-ready objects; `alerts_from_list` reads them back."""
    return [
        {
            "severity": alert.severity,
            "long_window": alert.long_window,
            "short_window": alert.short_window,
            "long_window_s": alert.long_window_s,
            "short_window_s": alert.short_window_s,
            "factor": alert.factor,
            "firing": alert.firing,
        }
        for alert in alerts
    ]


def alerts_from_list(data: Sequence[Mapping[str, Any]]) -> tuple[BurnRateAlert, ...]:
    """The alerts `alerts_to_list` wrote (only srekit writes them: no field-by-field checks)."""
    return tuple(
        BurnRateAlert(
            severity=item["severity"],
            long_window=item["long_window"],
            short_window=item["short_window"],
            long_window_s=int(item["long_window_s"]),
            short_window_s=int(item["short_window_s"]),
            factor=float(item["factor"]),
            firing=item["firing"],
        )
        for item in data
    )
