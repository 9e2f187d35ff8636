"""`apiVersion: srekit/v1, kind: EscalationPolicy`: whom an unacknowledged incident pages, when.

```yaml
apiVersion: srekit/v1
kind: EscalationPolicy
metadata: {name: payments}
spec:
  services: [checkout, payments-api]   # incidents on these services escalate by this policy
  severities: [P0, P1, P2]             # default: all
  steps:                               # ordered; step 1 pages at once
    - notify: {rotation: payments, layer: primary}
    - notify: {rotation: payments, layer: secondary}
      after: 10m                       # wait without acknowledgement before this step
    - notify: {person: grace}          # a named person works too
  repeat: 0                            # times to start over after the last step
```

`EscalationPolicyDocument` is the one model of the document: the spec files, the API's request
body (`PUT /api/v1/oncall/escalation-policies/{name}`) and the store (its `spec:` part,
`escalation_policy_spec`) share it. `after` is a duration (`30s`, `10m`, `1h`) or a whole
number of seconds; left out, the step waits the incident severity's escalation window. The
rules themselves (which policy, the plan, each round) are `core.escalation`'s.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from srekit.core.escalation import (
    ALL_SEVERITIES,
    EscalationPolicy,
    EscalationStep,
    NotifyTarget,
)
from srekit.core.incident import Severity
from srekit.core.window import format_duration, parse_duration
from srekit.errors import SpecError
from srekit.spec.document import Document
from srekit.spec.model import NO_INTAKE_BOUNDS, Bounded, Name
from srekit.spec.validation import dotted_field, validate_model

__all__ = [
    "KIND",
    "EscalationPolicyDocument",
    "EscalationPolicySpec",
    "EscalationStepSpec",
    "NotifySpec",
    "escalation_policy_document",
    "escalation_policy_from_spec",
    "escalation_policy_spec",
    "parse_escalation_policy",
]

KIND = "EscalationPolicy"
STEPS = 64  # a chain longer than this pages nobody in time
SERVICES = 500
MAX_REPEAT = 100
MAX_AFTER_S = 7 * 86400  # an escalation that waits a week is a ticket
LAYER_CHARS = 200

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _printable(text: str) -> str:
    found = _CONTROL.search(text)
    if found is not None:
        raise ValueError(f"expected text without control characters, got {found.group()!r}")
    return text


def _seconds(value: Any) -> Any:
    """`10m` → 600; a whole number of seconds as it is; anything else is left to the type."""
    if isinstance(value, bool):  # YAML's `yes` is no duration
        raise ValueError(f"expected a duration such as 10m, or seconds, got {value!r}")
    if isinstance(value, str):
        return parse_duration(value)
    return value


class _Spec(BaseModel):
    """Unknown fields are refused: a misspelt `after` would otherwise page at the default."""

    model_config = ConfigDict(extra="forbid", frozen=True)


_Layer = Annotated[str, Bounded(min_length=1, max_length=LAYER_CHARS), AfterValidator(_printable)]
_After = Annotated[
    int,
    BeforeValidator(_seconds),
    Field(strict=False),
    Bounded(ge=1, le=MAX_AFTER_S),
]


class NotifySpec(_Spec):
    """Whom a step pages: `{rotation, layer}` (the layer's on-call member at that instant) or
    `{person}`."""

    rotation: Name | None = None
    layer: _Layer | None = None
    person: Name | None = None

    @model_validator(mode="after")
    def _one_target(self) -> NotifySpec:
        self.to_target()  # core's rule; its ValueError names what is expected
        return self

    def to_target(self) -> NotifyTarget:
        return NotifyTarget(rotation=self.rotation, layer=self.layer, person=self.person)


class EscalationStepSpec(_Spec):
    notify: NotifySpec
    after: _After | None = Field(
        None,
        description="wait without acknowledgement before this step (a duration such as 10m,"
        " or seconds); default: the incident severity's escalation window",
    )

    def to_step(self) -> EscalationStep:
        return EscalationStep(
            self.notify.to_target(), after_s=None if self.after is None else float(self.after)
        )


class EscalationPolicySpec(_Spec):
    """A policy's `spec:`: the services and severities it covers, the steps in order, and how
    many times it starts over after the last one."""

    services: Annotated[list[Name], Bounded(min_length=1, max_length=SERVICES)]
    severities: Annotated[list[Severity], Bounded(min_length=1, max_length=len(Severity))] = Field(
        default_factory=lambda: sorted(ALL_SEVERITIES), description="default: all"
    )
    steps: Annotated[list[EscalationStepSpec], Bounded(min_length=1, max_length=STEPS)]
    repeat: Annotated[int, Field(strict=True), Bounded(ge=0, le=MAX_REPEAT)] = 0

    @field_validator("services", "severities")
    @classmethod
    def _once_each(cls, values: list[Any]) -> list[Any]:
        repeated = sorted({str(value) for value in values if values.count(value) > 1})
        if repeated:
            raise ValueError(f"expected each once, got {', '.join(repeated)} more than once")
        return values

    @field_validator("steps")
    @classmethod
    def _first_at_once(cls, steps: list[EscalationStepSpec]) -> list[EscalationStepSpec]:
        if steps and steps[0].after is not None:
            raise ValueError("the first step pages at once: expected no after on it")
        return steps

    def to_policy(self, name: str) -> EscalationPolicy:
        return EscalationPolicy(
            name=name,
            services=tuple(self.services),
            steps=tuple(step.to_step() for step in self.steps),
            severities=frozenset(self.severities),
            repeat=self.repeat,
        )


class _Metadata(_Spec):
    name: Name


class EscalationPolicyDocument(_Spec):
    """The whole srekit/v1 document, as a file holds it and as
    `PUT /api/v1/oncall/escalation-policies/{name}` takes it (JSON)."""

    api_version: Literal["srekit/v1"] = Field(alias="apiVersion")
    kind: Literal["EscalationPolicy"]
    metadata: _Metadata
    spec: EscalationPolicySpec

    def to_policy(self) -> EscalationPolicy:
        return self.spec.to_policy(self.metadata.name)


def parse_escalation_policy(document: Document) -> EscalationPolicy:
    """The policy a srekit/v1 `kind: EscalationPolicy` document declares; a SpecError names
    the file, the field and what was expected."""
    return validate_model(EscalationPolicyDocument, document.data, document).to_policy()


def _notify_spec(target: NotifyTarget) -> dict[str, str]:
    if target.person is not None:
        return {"person": target.person}
    return {"rotation": str(target.rotation), "layer": str(target.layer)}


def escalation_policy_spec(policy: EscalationPolicy) -> dict[str, Any]:
    """The `spec:` of `policy`'s document, JSON-ready and canonical (severities most severe
    first, waits spelt as durations): what the store keeps."""
    steps: list[dict[str, Any]] = []
    for step in policy.steps:
        entry: dict[str, Any] = {"notify": _notify_spec(step.notify)}
        if step.after_s is not None:
            entry["after"] = format_duration(step.after_s)
        steps.append(entry)
    return {
        "services": list(policy.services),
        "severities": sorted(severity.value for severity in policy.severities),
        "steps": steps,
        "repeat": policy.repeat,
    }


def escalation_policy_document(policy: EscalationPolicy) -> dict[str, Any]:
    """`policy` as the srekit/v1 document that declares it: parsing it gives `policy` back."""
    return {
        "apiVersion": "srekit/v1",
        "kind": KIND,
        "metadata": {"name": policy.name},
        "spec": escalation_policy_spec(policy),
    }


def escalation_policy_from_spec(name: str, spec: Mapping[str, Any]) -> EscalationPolicy:
    """The policy `escalation_policy_spec` wrote (the store's rows); intake bounds are not
    checked again. A SpecError names the field of a spec that does not read."""
    try:
        model = EscalationPolicySpec.model_validate(spec, context=NO_INTAKE_BOUNDS)
    except ValidationError as error:
        first = error.errors()[0]
        raise SpecError(
            f"stored escalation policy {name!r} does not read: {first['msg']}",
            field=dotted_field(first["loc"], "spec"),
        ) from None
    return model.to_policy(name)
