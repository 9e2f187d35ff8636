"""`apiVersion: srekit/v1, kind: Rotation`: who is on call, layer by layer, in one time zone.

```yaml
apiVersion: srekit/v1
kind: Rotation
metadata: {name: payments}
spec:
  team: payments
  timezone: Europe/Berlin          # IANA; handoffs are wall-clock times in this zone
  layers:
    - name: primary
      members: [alice, bob, carol]
      shift: 7d                    # 30m, 12h, 1d, 7d, 2w, 1mo ...
      handoff: "Mon 09:00"         # weekday + time, "09:00" daily, "1 09:00" day of month + time
      start: 2026-01-05            # the first shift starts at the first handoff on/after it
  restrictions:                    # optional: the layer is covered only inside these windows
    - {layer: primary, weekdays: [Mon, Tue, Wed, Thu, Fri], start: "09:00", end: "17:00"}
  overrides:                       # optional: the later-listed wins where two overlap
    - layer: primary
      member: bob
      from: "2026-03-28T18:00:00+01:00"
      to: "2026-03-30T09:00:00+02:00"
  effective_from: "2026-01-01T00:00:00Z"   # optional: when this version takes effect
```

`RotationDocument` is the one model of the document: the spec files, the API's request body and
the store (its `spec:` part, `rotation_spec`) share it. Layer names and members follow srekit's
name rule; the time zone is an IANA name; override times carry an offset. What the rotation
means (wall-clock handoffs across DST, restrictions, overrides) is `core.rotation`'s.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, tzinfo
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from srekit.core.rotation import (
    WEEKDAY_NAMES,
    Handoff,
    Layer,
    Override,
    Restriction,
    Rotation,
    ShiftLength,
)
from srekit.errors import SpecError
from srekit.spec.document import Document
from srekit.spec.model import NO_INTAKE_BOUNDS, Bounded, Name
from srekit.spec.validation import SafeYamlLoader, dotted_field, validate_model, yaml_error

__all__ = [
    "KIND",
    "LayerSpec",
    "OverrideSpec",
    "RestrictionSpec",
    "RotationDocument",
    "RotationSpec",
    "effective_from_of",
    "parse_rotation",
    "parse_rotation_document",
    "rotation_document",
    "rotation_from_spec",
    "rotation_spec",
]

KIND = "Rotation"
LAYERS = 20
MEMBERS = 200
RESTRICTIONS = 100
OVERRIDES = 1_000
ZONE_CHARS = 64
_CLOCK = re.compile(r"(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2})")


def _text(expected: str) -> Any:
    """Only text: a YAML number (an unquoted `10:30` is the number 630 to YAML 1.1) or NaN is
    refused with what was expected, rather than read as something else."""

    def check(value: Any) -> Any:
        if isinstance(value, str):
            return value
        if isinstance(value, float) and math.isnan(value):
            raise ValueError(f"expected {expected}, got NaN")
        hint = (
            " (quote it: YAML reads an unquoted 10:30 as a number)"
            if isinstance(value, int)
            else ""
        )
        raise ValueError(f"expected {expected} as text{hint}, got {value!r}")

    return BeforeValidator(check)


def _zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"expected an IANA time zone name like Europe/Berlin or UTC, got {name!r}"
        ) from None
    return name


def _shift_length(text: str) -> str:
    ShiftLength.parse(text)
    return text


def _handoff(text: str) -> str:
    Handoff.parse(text)
    return text


def _clock(text: str) -> str:
    found = _CLOCK.fullmatch(text)
    if found is None or int(found["hour"]) > 23 or int(found["minute"]) > 59:
        raise ValueError(f'expected a time of day like "09:00", got {text!r}')
    return text


def _weekday(value: Any) -> Any:
    if isinstance(value, str):
        word = value.strip().lower()
        for index, short in enumerate(WEEKDAY_NAMES):
            if word in (short.lower(), _FULL_NAMES[index]):
                return index
    raise ValueError(f"expected a weekday Mon to Sun, got {value!r}")


_FULL_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _a_date(value: Any) -> Any:
    """A date as YAML gives it (2026-01-05) or as JSON does ("2026-01-05"), nothing else."""
    if isinstance(value, datetime):
        raise ValueError(f"expected a date like 2026-01-05, got a time {value.isoformat()}")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f"expected a date like 2026-01-05, got {value!r}")


def _an_instant(value: Any) -> Any:
    """An RFC 3339 time with an offset, as text or as YAML's own timestamp."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(
                f"expected a time with an offset (Z or +01:00), got {value.isoformat()}"
            )
        return value
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            return parsed
        if parsed is not None:
            raise ValueError(f"expected a time with an offset (Z or +01:00), got {value!r}")
    raise ValueError(f"expected an RFC 3339 time like 2026-03-28T18:00:00+01:00, got {value!r}")


_Zone = Annotated[
    str, _text("an IANA time zone name"), Bounded(max_length=ZONE_CHARS), AfterValidator(_zone)
]
_ShiftText = Annotated[
    str, _text("a shift length like 7d"), Bounded(max_length=16), AfterValidator(_shift_length)
]
_HandoffText = Annotated[
    str, _text('a handoff like "Mon 09:00"'), Bounded(max_length=32), AfterValidator(_handoff)
]
_Clock = Annotated[
    str, _text('a time of day like "09:00"'), Bounded(max_length=8), AfterValidator(_clock)
]
_Weekday = Annotated[int, BeforeValidator(_weekday)]
_Date = Annotated[date, BeforeValidator(_a_date)]
_Instant = Annotated[AwareDatetime, BeforeValidator(_an_instant)]


class _Spec(BaseModel):
    """Unknown fields are refused: a misspelt field would otherwise be silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class LayerSpec(_Spec):
    """One layer: its members take `shift`-long turns, handing over at `handoff`."""

    name: Name
    members: Annotated[list[Name], Bounded(min_length=1, max_length=MEMBERS)]
    shift: _ShiftText
    handoff: _HandoffText
    start: _Date

    @field_validator("members")
    @classmethod
    def _once_each(cls, members: list[str]) -> list[str]:
        repeated = sorted({member for member in members if members.count(member) > 1})
        if repeated:
            raise ValueError(f"expected each member once, got {', '.join(repeated)} more than once")
        return members


class RestrictionSpec(_Spec):
    """`layer` is covered only on `weekdays` from `start` to `end` (local; an end at or before
    the start ends the next day)."""

    layer: Name
    weekdays: Annotated[list[_Weekday], Field(min_length=1, max_length=7)]
    start: _Clock
    end: _Clock


class OverrideSpec(_Spec):
    """`member` holds `layer` from `from` to `to` (RFC 3339 with offsets)."""

    layer: Name
    member: Name
    start: _Instant = Field(alias="from")
    end: _Instant = Field(alias="to")


class RotationSpec(_Spec):
    """A rotation's `spec:`."""

    team: Name | None = None
    timezone: _Zone
    layers: Annotated[list[LayerSpec], Bounded(min_length=1, max_length=LAYERS)]
    restrictions: Annotated[list[RestrictionSpec], Bounded(max_length=RESTRICTIONS)] = Field(
        default_factory=list
    )
    overrides: Annotated[list[OverrideSpec], Bounded(max_length=OVERRIDES)] = Field(
        default_factory=list
    )
    effective_from: _Instant | None = None

    @field_validator("layers")
    @classmethod
    def _layer_names_once(cls, layers: list[LayerSpec]) -> list[LayerSpec]:
        names = [layer.name for layer in layers]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(
                f"expected each layer name once, got {', '.join(repeated)} more than once"
            )
        return layers

    def to_rotation(self, name: str) -> Rotation:
        """The core rotation; a SpecError names the field a core rule refused."""
        names = [layer.name for layer in self.layers]
        layers = []
        for index, layer in enumerate(self.layers):
            try:
                layers.append(
                    Layer(
                        name=layer.name,
                        members=tuple(layer.members),
                        shift=ShiftLength.parse(layer.shift),
                        handoff=Handoff.parse(layer.handoff),
                        start=layer.start,
                    )
                )
            except ValueError as error:
                raise SpecError(str(error), field=f"spec.layers[{index}].shift") from None
        named = [("restrictions", i, item.layer) for i, item in enumerate(self.restrictions)]
        named += [("overrides", i, item.layer) for i, item in enumerate(self.overrides)]
        for kind, index, layer_name in named:
            if layer_name not in names:
                raise SpecError(
                    f"expected one of the rotation's layers ({', '.join(names)}),"
                    f" got {layer_name!r}",
                    field=f"spec.{kind}[{index}].layer",
                )
        for index, override in enumerate(self.overrides):
            if override.start >= override.end:
                raise SpecError(
                    f"expected `from` before `to`, got {override.start.isoformat()}"
                    f" to {override.end.isoformat()}",
                    field=f"spec.overrides[{index}].to",
                )
        return Rotation(
            name=name,
            team=self.team,
            timezone=ZoneInfo(self.timezone),
            layers=tuple(layers),
            restrictions=tuple(
                Restriction(
                    layer=item.layer,
                    weekdays=frozenset(item.weekdays),
                    start=time.fromisoformat(item.start),
                    end=time.fromisoformat(item.end),
                )
                for item in self.restrictions
            ),
            overrides=tuple(
                Override(layer=item.layer, member=item.member, start=item.start, end=item.end)
                for item in self.overrides
            ),
        )


class _Metadata(_Spec):
    name: Name


class RotationDocument(_Spec):
    """The whole srekit/v1 document, as a file holds it and as the API takes it (JSON)."""

    api_version: Literal["srekit/v1"] = Field(alias="apiVersion")
    kind: Literal["Rotation"]
    metadata: _Metadata
    spec: RotationSpec

    def to_rotation(self) -> Rotation:
        return self.spec.to_rotation(self.metadata.name)


def parse_rotation_document(document: Document) -> Rotation:
    """The rotation a srekit/v1 `kind: Rotation` document declares; a SpecError names the
    file, the field and what was expected."""
    document.check_size()
    model = validate_model(RotationDocument, document.data, document)
    try:
        return model.to_rotation()
    except SpecError as error:
        raise document.error(error.field, error.detail) from None


def parse_rotation(text: str, *, source: str) -> Rotation:
    """The rotation one YAML (or JSON) document declares; `source` names it in errors."""
    try:
        data = yaml.load(text, Loader=SafeYamlLoader)
    except yaml.YAMLError as error:
        raise yaml_error(error, file=source) from None
    if not isinstance(data, dict):
        raise SpecError(f"expected a mapping (an object), got {type(data).__name__}", file=source)
    return parse_rotation_document(Document(data=data, file=source, index=0))


def effective_from_of(spec: Mapping[str, Any]) -> datetime | None:
    """`spec.effective_from` of a rotation's spec (a document's or the store's), if it says
    one; a SpecError names the field when it is not an RFC 3339 time with an offset."""
    value = spec.get("effective_from")
    if value is None:
        return None
    try:
        instant: datetime = _an_instant(value)
    except ValueError as error:
        raise SpecError(str(error), field="spec.effective_from") from None
    return instant


def _zone_name(zone: tzinfo) -> str:
    """The IANA name of a rotation's zone (UTC for the standard library's own UTC)."""
    if isinstance(zone, ZoneInfo):
        return zone.key
    if zone is UTC:
        return "UTC"
    raise ValueError(f"expected an IANA time zone, got {zone!r}")


def _rfc3339(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")


def rotation_spec(rotation: Rotation, *, effective_from: datetime | None = None) -> dict[str, Any]:
    """The `spec:` of `rotation`'s document, canonical and JSON-ready: what the store keeps.
    Times are RFC 3339 in UTC; weekdays by their short names, Monday first."""
    spec: dict[str, Any] = {}
    if rotation.team is not None:
        spec["team"] = rotation.team
    spec["timezone"] = _zone_name(rotation.timezone)
    spec["layers"] = [
        {
            "name": layer.name,
            "members": list(layer.members),
            "shift": str(layer.shift),
            "handoff": str(layer.handoff),
            "start": layer.start.isoformat(),
        }
        for layer in rotation.layers
    ]
    spec["restrictions"] = [
        {
            "layer": item.layer,
            "weekdays": [WEEKDAY_NAMES[day] for day in sorted(item.weekdays)],
            "start": item.start.strftime("%H:%M"),
            "end": item.end.strftime("%H:%M"),
        }
        for item in rotation.restrictions
    ]
    spec["overrides"] = [
        {
            "layer": item.layer,
            "member": item.member,
            "from": _rfc3339(item.start),
            "to": _rfc3339(item.end),
        }
        for item in rotation.overrides
    ]
    if effective_from is not None:
        spec["effective_from"] = _rfc3339(effective_from)
    return spec


def rotation_document(
    rotation: Rotation, *, effective_from: datetime | None = None
) -> dict[str, Any]:
    """`rotation` as the srekit/v1 document that declares it: parsing it gives it back."""
    return {
        "apiVersion": "srekit/v1",
        "kind": KIND,
        "metadata": {"name": rotation.name},
        "spec": rotation_spec(rotation, effective_from=effective_from),
    }


def rotation_from_spec(name: str, spec: Mapping[str, Any]) -> Rotation:
    """The rotation `rotation_spec` wrote (the store's rows); intake bounds are not checked
    again. A SpecError names the field of a spec that does not read."""
    try:
        model = RotationSpec.model_validate(spec, context=NO_INTAKE_BOUNDS)
    except ValidationError as error:
        first = error.errors()[0]
        raise SpecError(
            f"stored rotation {name!r} does not read: {first['msg']}",
            field=dotted_field(first["loc"], "spec"),
        ) from None
    return model.to_rotation(name)
