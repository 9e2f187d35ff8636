"""Core SLOs, policies and burn-rate alerts as plain JSON-ready values, and back, so the store
can keep them.

The shape is srekit's own (not a spec format): every core field, tagged unions for windows
(`kind: rolling|calendar`) and indicators (`kind: prom_ratio|...`), durations in seconds.
`CODEC_VERSION` is stored next to each encoded spec, so a later shape can still read old rows.
Decoding errors are SpecErrors naming the dotted field, as a future API will accept this shape.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from enum import StrEnum
from typing import Any, TypeVar, cast

from srekit.core.alerts import BurnRateAlert
from srekit.core.policy import DEFAULT_EXCEPTIONS, BudgetPolicy, Decision, PolicyLevel
from srekit.core.slo import (
    SLO,
    Alerting,
    AlertSpec,
    BudgetingMethod,
    EventsRatio,
    Indicator,
    PromErrorRatio,
    PromLatency,
    PromRatio,
    PromThreshold,
    ThresholdOp,
)
from srekit.core.window import CalendarUnit, CalendarWindow, RollingWindow, Window
from srekit.errors import SpecError

__all__ = [
    "CODEC_VERSION",
    "alerts_from_list",
    "alerts_to_list",
    "canonical_json",
    "policy_from_dict",
    "policy_to_dict",
    "slo_from_dict",
    "slo_to_dict",
    "spec_diff",
]

CODEC_VERSION = 1

_T = TypeVar("_T")
_E = TypeVar("_E", bound=StrEnum)

_INDICATOR_KINDS: dict[type[Any], str] = {
    PromRatio: "prom_ratio",
    PromErrorRatio: "prom_error_ratio",
    PromLatency: "prom_latency",
    PromThreshold: "prom_threshold",
    EventsRatio: "events_ratio",
}


def canonical_json(data: Any) -> str:
    """One spelling per value (sorted keys, no spaces), so equal specs compare equal as text."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _window_to_dict(window: Window) -> dict[str, Any]:
    if isinstance(window, RollingWindow):
        return {"kind": "rolling", "duration_s": window.duration_s}
    return {
        "kind": "calendar",
        "unit": window.unit,
        "count": window.count,
        "time_zone": window.time_zone,
    }


def _indicator_to_dict(indicator: Indicator) -> dict[str, Any]:
    kind = _INDICATOR_KINDS[type(indicator)]
    if isinstance(indicator, PromRatio):
        fields: dict[str, Any] = {
            "total": indicator.total,
            "good": indicator.good,
            "bad": indicator.bad,
        }
    elif isinstance(indicator, PromErrorRatio):
        fields = {"error_ratio": indicator.error_ratio}
    elif isinstance(indicator, PromLatency):
        fields = {
            "metric": indicator.metric,
            "threshold_s": float(indicator.threshold_s),
            "selector": indicator.selector,
        }
    elif isinstance(indicator, PromThreshold):
        fields = {"query": indicator.query, "op": indicator.op, "value": float(indicator.value)}
    else:
        fields = {"good": indicator.good, "total": indicator.total, "stream": indicator.stream}
    return {"kind": kind, **fields}


def _alert_spec_to_dict(spec: AlertSpec) -> dict[str, Any]:
    return {
        "disabled": spec.disabled,
        "labels": dict(spec.labels),
        "annotations": dict(spec.annotations),
    }


def slo_to_dict(slo: SLO) -> dict[str, Any]:
    """Every field of `slo` as JSON-ready values; `slo_from_dict` gives back an equal SLO."""
    return {
        "service": slo.service,
        "name": slo.name,
        "objective": float(slo.objective),
        "window": _window_to_dict(slo.window),
        "indicator": _indicator_to_dict(slo.indicator),
        "budgeting": slo.budgeting.value,
        "timeslice_s": slo.timeslice_s,
        "timeslice_target": (None if slo.timeslice_target is None else float(slo.timeslice_target)),
        "labels": dict(slo.labels),
        "alerting": {
            "name": slo.alerting.name,
            "labels": dict(slo.alerting.labels),
            "annotations": dict(slo.alerting.annotations),
            "page": _alert_spec_to_dict(slo.alerting.page),
            "ticket": _alert_spec_to_dict(slo.alerting.ticket),
        },
        "policy": slo.policy,
        "description": slo.description,
        "owner": slo.owner,
        "runbook_url": slo.runbook_url,
        "source_file": slo.source_file,
    }


def policy_to_dict(policy: BudgetPolicy) -> dict[str, Any]:
    """Every field of `policy` as JSON-ready values; `policy_from_dict` gives back an equal one."""
    return {
        "name": policy.name,
        "levels": [
            {
                "state": level.state,
                "floor": None if level.floor is None else float(level.floor),
                "decision": level.decision.value,
                "actions": list(level.actions),
                "change_types": {k: v.value for k, v in level.change_types.items()},
            }
            for level in policy.levels
        ],
        "exceptions": list(policy.exceptions),
    }


class _Reader:
    """Typed access to one JSON object, naming the dotted field of whatever is wrong."""

    def __init__(self, data: Any, path: str) -> None:
        if not isinstance(data, Mapping):
            raise SpecError(f"expected an object, got {type(data).__name__}", field=path or None)
        self.data: Mapping[str, Any] = data
        self.path = path

    def field(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def _typed(self, key: str, kinds: tuple[type[Any], ...], what: str, value: Any) -> Any:
        # bool is an int to Python, never a number in a spec
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            raise SpecError(f"expected {what}, got {value!r}", field=self.field(key))
        return value

    def required(self, key: str, kinds: tuple[type[Any], ...], what: str) -> Any:
        if key not in self.data:
            raise SpecError(f"missing; expected {what}", field=self.field(key))
        return self._typed(key, kinds, what, self.data[key])

    def optional(self, key: str, kinds: tuple[type[Any], ...], what: str, default: Any) -> Any:
        value = self.data.get(key)
        return default if value is None else self._typed(key, kinds, what, value)

    def text(self, key: str) -> str:
        return cast(str, self.required(key, (str,), "a string"))

    def maybe_text(self, key: str) -> str | None:
        return cast(str | None, self.optional(key, (str,), "a string", None))

    def number(self, key: str) -> float:
        return float(self.required(key, (int, float), "a number"))

    def maybe_number(self, key: str) -> float | None:
        value = self.optional(key, (int, float), "a number", None)
        return None if value is None else float(value)

    def integer(self, key: str, default: int | None = None) -> int:
        if default is not None and self.data.get(key) is None:
            return default
        return cast(int, self.required(key, (int,), "an integer"))

    def maybe_integer(self, key: str) -> int | None:
        return cast(int | None, self.optional(key, (int,), "an integer", None))

    def flag(self, key: str) -> bool:
        return cast(bool, self.optional(key, (bool,), "true or false", False))

    def strings(self, key: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        items = self.optional(key, (list, tuple), "a list of strings", default)
        for index, item in enumerate(items):
            if not isinstance(item, str):
                raise SpecError(
                    f"expected a string, got {item!r}", field=f"{self.field(key)}[{index}]"
                )
        return tuple(items)

    def labels(self, key: str) -> dict[str, str]:
        reader = _Reader(self.optional(key, (Mapping,), "an object", {}), self.field(key))
        return {name: reader.text(name) for name in reader.data}

    def child(self, key: str, *, required: bool = True) -> _Reader:
        if not required and self.data.get(key) is None:
            return _Reader({}, self.field(key))
        return _Reader(self.required(key, (Mapping,), "an object"), self.field(key))


def _converted(path: str, build: Callable[[], _T]) -> _T:
    """Run a core constructor, turning its ValueError into a SpecError at `path`."""
    try:
        return build()
    except SpecError:
        raise
    except (ValueError, TypeError) as error:
        raise SpecError(str(error), field=path or None) from error


def _window_from(reader: _Reader) -> Window:
    kind = reader.text("kind")
    if kind == "rolling":
        return RollingWindow(duration_s=reader.integer("duration_s"))
    if kind == "calendar":
        return _converted(
            reader.path,
            lambda: CalendarWindow(
                unit=cast(CalendarUnit, reader.text("unit")),
                count=reader.integer("count", 1),
                time_zone=reader.maybe_text("time_zone") or "UTC",
            ),
        )
    raise SpecError(f"expected rolling or calendar, got {kind!r}", field=reader.field("kind"))


def _indicator_from(reader: _Reader) -> Indicator:
    kind = reader.text("kind")
    if kind == "prom_ratio":
        return _converted(
            reader.path,
            lambda: PromRatio(
                total=reader.text("total"),
                good=reader.maybe_text("good"),
                bad=reader.maybe_text("bad"),
            ),
        )
    if kind == "prom_error_ratio":
        return PromErrorRatio(error_ratio=reader.text("error_ratio"))
    if kind == "prom_latency":
        return PromLatency(
            metric=reader.text("metric"),
            threshold_s=reader.number("threshold_s"),
            selector=reader.maybe_text("selector") or "",
        )
    if kind == "prom_threshold":
        op = reader.text("op")
        if op not in ("lt", "lte", "gt", "gte"):
            raise SpecError(f"expected lt, lte, gt or gte, got {op!r}", field=reader.field("op"))
        return PromThreshold(
            query=reader.text("query"), op=cast(ThresholdOp, op), value=reader.number("value")
        )
    if kind == "events_ratio":
        return EventsRatio(
            good=reader.text("good"),
            total=reader.maybe_text("total") or "true",
            stream=reader.maybe_text("stream"),
        )
    raise SpecError(
        f"expected one of {', '.join(_INDICATOR_KINDS.values())}, got {kind!r}",
        field=reader.field("kind"),
    )


def _alert_spec_from(reader: _Reader) -> AlertSpec:
    return AlertSpec(
        disabled=reader.flag("disabled"),
        labels=reader.labels("labels"),
        annotations=reader.labels("annotations"),
    )


def _enum(reader: _Reader, key: str, enum: type[_E], default: _E | None = None) -> _E:
    value = reader.maybe_text(key)
    if value is None:
        return default if default is not None else enum(reader.text(key))
    try:
        return enum(value)
    except ValueError:
        choices = ", ".join(member.value for member in enum)
        raise SpecError(
            f"expected one of {choices}, got {value!r}", field=reader.field(key)
        ) from None


def slo_from_dict(data: Mapping[str, Any]) -> SLO:
    """The SLO `slo_to_dict` encoded; a SpecError names the field when `data` is malformed."""
    reader = _Reader(data, "")
    alerting = reader.child("alerting", required=False)
    return _converted(
        "",
        lambda: SLO(
            service=reader.text("service"),
            name=reader.text("name"),
            objective=reader.number("objective"),
            window=_window_from(reader.child("window")),
            indicator=_indicator_from(reader.child("indicator")),
            budgeting=_enum(reader, "budgeting", BudgetingMethod, BudgetingMethod.OCCURRENCES),
            timeslice_s=reader.maybe_integer("timeslice_s"),
            timeslice_target=reader.maybe_number("timeslice_target"),
            labels=reader.labels("labels"),
            alerting=Alerting(
                name=alerting.maybe_text("name"),
                labels=alerting.labels("labels"),
                annotations=alerting.labels("annotations"),
                page=_alert_spec_from(alerting.child("page", required=False)),
                ticket=_alert_spec_from(alerting.child("ticket", required=False)),
            ),
            policy=reader.maybe_text("policy"),
            description=reader.maybe_text("description"),
            owner=reader.maybe_text("owner"),
            runbook_url=reader.maybe_text("runbook_url"),
            source_file=reader.maybe_text("source_file"),
        ),
    )


def _level_from(reader: _Reader) -> PolicyLevel:
    change_types = reader.child("change_types", required=False)
    return PolicyLevel(
        state=reader.text("state"),
        floor=reader.maybe_number("floor"),
        decision=_enum(reader, "decision", Decision),
        actions=reader.strings("actions"),
        change_types={name: _enum(change_types, name, Decision) for name in change_types.data},
    )


def policy_from_dict(data: Mapping[str, Any]) -> BudgetPolicy:
    """The policy `policy_to_dict` encoded; a SpecError names the field when `data` is malformed."""
    reader = _Reader(data, "")
    levels = reader.required("levels", (list, tuple), "a list of levels")
    return _converted(
        "levels",
        lambda: BudgetPolicy(
            name=reader.text("name"),
            levels=tuple(
                _level_from(_Reader(level, f"levels[{index}]"))
                for index, level in enumerate(levels)
            ),
            exceptions=reader.strings("exceptions", DEFAULT_EXCEPTIONS),
        ),
    )


def _flatten(value: Any, path: str, into: dict[str, Any]) -> dict[str, Any]:
    if isinstance(value, Mapping):  # an empty object adds no leaf: `labels.tier: added "1"`
        for key in value:
            _flatten(value[key], f"{path}.{key}" if path else str(key), into)
    elif isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
        for index, item in enumerate(value):  # policy levels: `levels[0].floor: 0.5 → 0.3`
            _flatten(item, f"{path}[{index}]", into)
    else:
        into[path] = value
    return into


def _show(value: Any) -> str:
    text = canonical_json(value)
    return text if len(text) <= 60 else text[:57] + "..."


def spec_diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[str, ...]:
    """What changed between two encoded specs, one `field: old → new` line per leaf, sorted.

    Nested objects are compared leaf by leaf (`indicator.good`, `labels.tier`), lists of objects
    item by item (`levels[0].floor`), other lists and scalars as whole values. Equal specs give
    an empty tuple.
    """
    old = _flatten(before, "", {})
    new = _flatten(after, "", {})
    changes: list[str] = []
    for key in sorted(old.keys() | new.keys()):
        if key not in new:
            changes.append(f"{key}: removed (was {_show(old[key])})")
        elif key not in old:
            changes.append(f"{key}: added {_show(new[key])}")
        elif canonical_json(old[key]) != canonical_json(new[key]):
            changes.append(f"{key}: {_show(old[key])} → {_show(new[key])}")
    return tuple(changes)


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
