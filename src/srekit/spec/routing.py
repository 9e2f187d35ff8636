"""`apiVersion: srekit/v1, kind: AlertRouting`: which alerts open incidents, and how.

```yaml
apiVersion: srekit/v1
kind: AlertRouting
metadata: {name: default}
spec:
  routes:                                  # first match wins
    - match: {severity: page}              # label equality; match_re for regexes
      incident: true
      severity: P1
      group_by: [alertname, service]
    - match: {severity: ticket}
      incident: true
      severity: P3
  service_label: service
  on_resolved: resolve                     # or keep
  severity_labels: {critical: P0, page: P1, warning: P2, ticket: P3}
```

`AlertRoutingDocument` is the one model of the document: the spec files, the API's request body
(`PUT /api/v1/routings/{name}`) and the store (its `spec:` part, `routing_spec`) share it. Label
names are Prometheus label names; a `match_re` value must compile (it is anchored at both ends,
as Alertmanager anchors its own); severities are P0 to P3. The rules themselves (first match
wins, severity from labels, grouping) are `core.routing`'s.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator

from srekit.core.incident import Severity
from srekit.core.label_regex import compile_label_regex
from srekit.core.routing import (
    DEFAULT_GROUP_BY,
    DEFAULT_SEVERITY_LABELS,
    AlertRoute,
    AlertRouting,
    OnResolved,
)
from srekit.errors import SpecError
from srekit.spec.document import Document
from srekit.spec.model import NO_INTAKE_BOUNDS, Bounded, Name
from srekit.spec.validation import dotted_field, validate_model

__all__ = [
    "KIND",
    "LABEL_NAME_PATTERN",
    "AlertRouteSpec",
    "AlertRoutingDocument",
    "AlertRoutingSpec",
    "parse_routing",
    "routing_document",
    "routing_from_spec",
    "routing_spec",
]

KIND = "AlertRouting"
#: A Prometheus label name (the pattern Prometheus checks; `spec.validation` says it in words).
LABEL_NAME_PATTERN = r"^[a-zA-Z_][a-zA-Z0-9_]*$"
LABEL_NAME_CHARS = 200
LABEL_VALUE_CHARS = 1024
PATTERN_CHARS = 1024  # a regular expression; longer ones are not a routing's, and cost to run
ENTRIES = 64  # matchers of a route, labels to group by, severity labels
ROUTES = 500


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _printable(text: str) -> str:
    """Refuse control characters: no alert's label holds one, and NUL cannot be stored."""
    found = _CONTROL.search(text)
    if found is not None:
        raise ValueError(f"expected text without control characters, got {found.group()!r}")
    return text


def _compiles(pattern: str) -> str:
    try:
        compile_label_regex(pattern)
    except ValueError as error:
        raise ValueError(f"expected a regular expression, got {pattern!r}: {error}") from None
    return pattern


class _Spec(BaseModel):
    """Unknown fields are refused: a misspelt matcher would otherwise match everything."""

    model_config = ConfigDict(extra="forbid", frozen=True)


_LabelName = Annotated[str, Bounded(pattern=LABEL_NAME_PATTERN, max_length=LABEL_NAME_CHARS)]
_LabelValue = Annotated[str, Bounded(max_length=LABEL_VALUE_CHARS), AfterValidator(_printable)]
_Pattern = Annotated[
    str, Bounded(max_length=PATTERN_CHARS), AfterValidator(_printable), AfterValidator(_compiles)
]


class AlertRouteSpec(_Spec):
    """One route: every matcher must hold for the route to take an alert."""

    match: Annotated[dict[_LabelName, _LabelValue], Bounded(max_length=ENTRIES)] = Field(
        default_factory=dict, description="label: value, compared for equality"
    )
    match_re: Annotated[dict[_LabelName, _Pattern], Bounded(max_length=ENTRIES)] = Field(
        default_factory=dict, description="label: regular expression, anchored at both ends"
    )
    incident: bool = Field(True, strict=True, description="whether the alerts open incidents")
    severity: Severity | None = Field(
        None, description="the incidents' severity; none: from the alert's severity label"
    )
    group_by: Annotated[list[_LabelName], Bounded(max_length=ENTRIES)] = Field(
        default_factory=lambda: list(DEFAULT_GROUP_BY),
        description="alerts equal on these labels share one open incident",
    )

    @field_validator("group_by")
    @classmethod
    def _once_each(cls, labels: list[str]) -> list[str]:
        repeated = sorted({label for label in labels if labels.count(label) > 1})
        if repeated:
            raise ValueError(f"expected each label once, got {', '.join(repeated)} more than once")
        return labels

    def to_route(self) -> AlertRoute:
        return AlertRoute(
            match=dict(self.match),
            match_re=dict(self.match_re),
            incident=self.incident,
            severity=self.severity,
            group_by=tuple(self.group_by),
        )


class AlertRoutingSpec(_Spec):
    """A routing's `spec:`: routes in order (the first that matches takes the alert), where the
    service comes from, what resolution does, and the severity each severity label means."""

    routes: Annotated[list[AlertRouteSpec], Bounded(min_length=1, max_length=ROUTES)]
    service_label: _LabelName = "service"
    on_resolved: OnResolved = OnResolved.RESOLVE
    severity_labels: Annotated[dict[_LabelValue, Severity], Bounded(max_length=ENTRIES)] = Field(
        default_factory=lambda: dict(DEFAULT_SEVERITY_LABELS),
        description="severity label value: incident severity, for routes naming none",
    )

    def to_routing(self, name: str) -> AlertRouting:
        return AlertRouting(
            name=name,
            routes=tuple(route.to_route() for route in self.routes),
            service_label=self.service_label,
            on_resolved=self.on_resolved,
            severity_labels=dict(self.severity_labels),
        )


class _Metadata(_Spec):
    name: Name


class AlertRoutingDocument(_Spec):
    """The whole srekit/v1 document, as a file holds it and as `PUT /api/v1/routings/{name}`
    takes it (JSON)."""

    api_version: Literal["srekit/v1"] = Field(alias="apiVersion")
    kind: Literal["AlertRouting"]
    metadata: _Metadata
    spec: AlertRoutingSpec

    def to_routing(self) -> AlertRouting:
        return self.spec.to_routing(self.metadata.name)


def parse_routing(document: Document) -> AlertRouting:
    """The routing a srekit/v1 `kind: AlertRouting` document declares; a SpecError names the
    file, the field and what was expected."""
    return validate_model(AlertRoutingDocument, document.data, document).to_routing()


def _route_spec(route: AlertRoute) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    if route.match:
        spec["match"] = dict(route.match)
    if route.match_re:
        spec["match_re"] = dict(route.match_re)
    spec["incident"] = route.incident
    if route.severity is not None:
        spec["severity"] = route.severity.value
    spec["group_by"] = list(route.group_by)
    return spec


def routing_spec(routing: AlertRouting) -> dict[str, Any]:
    """The `spec:` of `routing`'s document, every setting spelt out (empty matchers and a
    severity left to the labels aside), JSON-ready: what the store keeps."""
    return {
        "routes": [_route_spec(route) for route in routing.routes],
        "service_label": routing.service_label,
        "on_resolved": routing.on_resolved.value,
        # most severe first, whatever order they were stored in (the store sorts keys)
        "severity_labels": {
            label: severity.value
            for label, severity in sorted(
                routing.severity_labels.items(), key=lambda item: (item[1].value, item[0])
            )
        },
    }


def routing_document(routing: AlertRouting) -> dict[str, Any]:
    """`routing` as the srekit/v1 document that declares it: parsing it gives `routing` back."""
    return {
        "apiVersion": "srekit/v1",
        "kind": KIND,
        "metadata": {"name": routing.name},
        "spec": routing_spec(routing),
    }


def routing_from_spec(name: str, spec: Mapping[str, Any]) -> AlertRouting:
    """The routing `routing_spec` wrote (the store's rows); intake bounds are not checked again.
    A SpecError names the field of a spec that does not read."""
    try:
        model = AlertRoutingSpec.model_validate(spec, context=NO_INTAKE_BOUNDS)
    except ValidationError as error:
        first = error.errors()[0]
        raise SpecError(
            f"stored alert routing {name!r} does not read: {first['msg']}",
            field=dotted_field(first["loc"], "spec"),
        ) from None
    return model.to_routing(name)
