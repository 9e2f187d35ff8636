"""Read spec files of every supported format into one set of SLOs, policies, alert routings,
rotations and escalation policies.

Formats are told apart by their header: `apiVersion: srekit/v1` (native), `openslo/v1`,
`openslo/v1alpha` (as Sloth reads it), `version: prometheus/v1` and the Sloth CRD
`sloth.slok.dev/v1`. All documents of a format are parsed together, so OpenSLO references
may cross files.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from srekit.core.escalation import EscalationPolicy
from srekit.core.oncall import RotationChange
from srekit.core.policy import BudgetPolicy
from srekit.core.routing import AlertRouting
from srekit.core.slo import SLO
from srekit.core.specs import SpecSet
from srekit.errors import SpecError
from srekit.spec.document import Document, ReadProgress, read_documents

__all__ = ["FORMATS", "SpecSet", "detect_format", "load_specs", "parse_spec_documents"]

FORMATS = ("srekit/v1", "openslo/v1", "openslo/v1alpha", "prometheus/v1", "sloth.slok.dev/v1")


def detect_format(document: Document) -> str:
    """The format of one document, from `apiVersion` or Sloth's `version`."""
    data = document.data
    version = data.get("apiVersion", data.get("version"))
    if version in FORMATS:
        return str(version)
    if version in ("openslo/v2alpha", "openslo.com/v2alpha"):
        raise document.error("apiVersion", f"{version} is not supported yet; use openslo/v1")
    field_name = "apiVersion" if "apiVersion" in data or "version" not in data else "version"
    raise document.error(
        field_name,
        f"expected one of {', '.join(FORMATS)}, got {version!r}"
        if version is not None
        else f"missing; expected apiVersion (one of {', '.join(FORMATS)}) or Sloth's version",
    )


def _parse_format(name: str, documents: list[Document]) -> list[SLO]:
    if name == "openslo/v1":
        from srekit.spec import openslo

        return openslo.parse_documents(documents)
    from srekit.sloth import spec as sloth

    return sloth.parse_documents(documents)


def _rotation_change(document: Document) -> RotationChange:
    from srekit.spec.rotation import effective_from_of, parse_rotation_document

    rotation = parse_rotation_document(document)
    spec = document.data.get("spec")
    return RotationChange(rotation, effective_from_of(spec) if isinstance(spec, dict) else None)


def _add_escalation_policy(
    document: Document, found: dict[str, EscalationPolicy], seen: dict[str, str]
) -> None:
    """Parse an EscalationPolicy document into `found`; one defined twice is refused naming
    both places (`seen`: where each kind's names were read)."""
    from srekit.spec.escalation import parse_escalation_policy

    policy = parse_escalation_policy(document)
    where = seen.get("escalation " + policy.name)
    if where is not None:
        raise document.error(
            "metadata.name", f"EscalationPolicy {policy.name!r} is defined twice (also in {where})"
        )
    found[policy.name] = policy
    seen["escalation " + policy.name] = document.where


def _add_capacity_plan(document: Document, found: dict[str, str], seen: dict[str, str]) -> None:
    """Validate a CapacityPlan document and note its service in `found` by plan name; one
    defined twice is refused naming both places."""
    from srekit.spec.capacity import parse_capacity_plan

    plan = parse_capacity_plan(document)
    where = seen.get("capacity " + plan.metadata.name)
    if where is not None:
        raise document.error(
            "metadata.name",
            f"CapacityPlan {plan.metadata.name!r} is defined twice (also in {where})",
        )
    found[plan.metadata.name] = plan.spec.service
    seen["capacity " + plan.metadata.name] = document.where


def parse_spec_documents(documents: Iterable[Document]) -> SpecSet:
    """Parse documents of any supported format; SLO ids (`service-name`) must be unique.

    The documents are consumed as they come: each is checked for size and format, and a
    srekit/v1 document is parsed there and then, so a file of many documents is never held
    whole. OpenSLO and Sloth documents are kept until the last one is read: OpenSLO references
    cross documents, and Sloth's SLO ids must be unique across them.
    """
    from srekit.spec import native
    from srekit.spec.capacity import KIND as CAPACITY_PLAN
    from srekit.spec.escalation import KIND as ESCALATION_POLICY
    from srekit.spec.rotation import KIND as ROTATION
    from srekit.spec.routing import KIND as ROUTING
    from srekit.spec.routing import parse_routing

    routings: dict[str, AlertRouting] = {}
    routing_seen: dict[str, str] = {}
    rotations: dict[str, RotationChange] = {}
    escalation_policies: dict[str, EscalationPolicy] = {}
    capacity_plans: dict[str, str] = {}
    slos: list[SLO] = []
    policies: dict[str, BudgetPolicy] = {}
    kept: dict[str, list[Document]] = {}
    formats: dict[str, set[str]] = {}
    for document in documents:
        document.check_size()
        name = detect_format(document)
        formats.setdefault(document.file, set()).add(name)
        if name == native.API_VERSION and document.data.get("kind") == ROUTING:
            routing = parse_routing(document)
            if routing.name in routings:
                raise document.error(
                    "metadata.name",
                    f"AlertRouting {routing.name!r} is defined twice"
                    f" (also in {routing_seen[routing.name]})",
                )
            routings[routing.name] = routing
            routing_seen[routing.name] = document.where
        elif name == native.API_VERSION and document.data.get("kind") == ROTATION:
            change = _rotation_change(document)
            if change.rotation.name in rotations:
                raise document.error(
                    "metadata.name",
                    f"Rotation {change.rotation.name!r} is defined twice"
                    f" (also in {routing_seen['rotation ' + change.rotation.name]})",
                )
            rotations[change.rotation.name] = change
            routing_seen["rotation " + change.rotation.name] = document.where
        elif name == native.API_VERSION and document.data.get("kind") == ESCALATION_POLICY:
            _add_escalation_policy(document, escalation_policies, routing_seen)
        elif name == native.API_VERSION and document.data.get("kind") == CAPACITY_PLAN:
            _add_capacity_plan(document, capacity_plans, routing_seen)
        elif name == native.API_VERSION:
            parsed = native.parse_document(document)
            if isinstance(parsed, BudgetPolicy):
                policies[parsed.name] = parsed
            else:
                slos.append(parsed)
        else:
            kept.setdefault(name, []).append(document)
    for name in FORMATS:
        if name in kept:
            slos.extend(_parse_format(name, kept.pop(name)))
    seen: dict[str, SLO] = {}
    for slo in slos:
        if slo.id in seen:
            raise SpecError(
                f"SLO {slo.service}/{slo.name} is defined twice"
                f" (also in {seen[slo.id].source_file})",
                file=slo.source_file,
                field="name",
            )
        seen[slo.id] = slo
    return SpecSet(
        slos=tuple(slos),
        policies=policies,
        routings=routings,
        rotations=rotations,
        escalation_policies=escalation_policies,
        capacity_plans=capacity_plans,
        files=tuple(formats),
        formats={file: next(iter(found)) for file, found in formats.items() if len(found) == 1},
    )


def load_specs(paths: Iterable[Path], *, progress: ReadProgress | None = None) -> SpecSet:
    """Parse every document under `paths`, one at a time; every policy an SLO names must be
    defined there. `progress` is told of each document and file read."""
    specs = parse_spec_documents(
        document for path in paths for document in read_documents(path, progress=progress)
    )
    for slo in specs.slos:
        if slo.policy and slo.policy != "default" and slo.policy not in specs.policies:
            raise SpecError(
                f"SLO {slo.service}/{slo.name} names policy {slo.policy!r}, which no spec defines"
                f" (known: {', '.join(sorted(specs.policies)) or 'only default'})",
                file=slo.source_file,
                field="policy",
            )
    return specs
