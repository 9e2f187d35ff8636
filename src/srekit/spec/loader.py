"""Read spec files of every supported format into one set of SLOs, policies and alert routings.

Formats are told apart by their header: `apiVersion: srekit/v1` (native), `openslo/v1`,
`openslo/v1alpha` (as Sloth reads it), `version: prometheus/v1` and the Sloth CRD
`sloth.slok.dev/v1`. All documents of a format are parsed together, so OpenSLO references
may cross files.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from srekit.core.policy import BudgetPolicy
from srekit.core.routing import AlertRouting
from srekit.core.slo import SLO
from srekit.core.specs import SpecSet
from srekit.errors import SpecError
from srekit.spec.document import Document, read_documents

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


def _parse_format(name: str, documents: list[Document]) -> tuple[list[SLO], list[BudgetPolicy]]:
    if name == "srekit/v1":
        from srekit.spec import native

        return native.parse_documents(documents)
    if name == "openslo/v1":
        from srekit.spec import openslo

        return openslo.parse_documents(documents), []
    from srekit.sloth import spec as sloth

    return sloth.parse_documents(documents), []


def parse_spec_documents(documents: Iterable[Document]) -> SpecSet:
    """Parse documents of any supported format; SLO ids (`service-name`) must be unique.

    Documents are grouped by format first, so OpenSLO references may cross documents.
    """
    by_format: dict[str, list[Document]] = {}
    files: list[str] = []
    for document in documents:
        document.check_size()
        by_format.setdefault(detect_format(document), []).append(document)
        if document.file not in files:
            files.append(document.file)
    routings = _parse_routings(by_format)
    slos: list[SLO] = []
    policies: dict[str, BudgetPolicy] = {}
    for name in FORMATS:
        if name in by_format:
            found_slos, found_policies = _parse_format(name, by_format[name])
            slos.extend(found_slos)
            for policy in found_policies:
                policies[policy.name] = policy
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
    return SpecSet(slos=tuple(slos), policies=policies, routings=routings, files=tuple(files))


def _parse_routings(by_format: dict[str, list[Document]]) -> dict[str, AlertRouting]:
    """Take the srekit/v1 AlertRouting documents out of `by_format` and parse them; a name
    may be declared once."""
    from srekit.spec.routing import KIND, parse_routing

    native = by_format.get("srekit/v1", [])
    routing_documents = [d for d in native if d.data.get("kind") == KIND]
    if not routing_documents:
        return {}
    rest = [d for d in native if d.data.get("kind") != KIND]
    if rest:
        by_format["srekit/v1"] = rest
    else:
        del by_format["srekit/v1"]
    routings: dict[str, AlertRouting] = {}
    first_seen: dict[str, str] = {}
    for document in routing_documents:
        routing = parse_routing(document)
        if routing.name in routings:
            raise document.error(
                "metadata.name",
                f"AlertRouting {routing.name!r} is defined twice"
                f" (also in {first_seen[routing.name]})",
            )
        routings[routing.name] = routing
        first_seen[routing.name] = document.where
    return routings


def load_specs(paths: Iterable[Path]) -> SpecSet:
    """Parse every document under `paths`; every policy an SLO names must be defined there."""
    specs = parse_spec_documents(document for path in paths for document in read_documents(path))
    for slo in specs.slos:
        if slo.policy and slo.policy != "default" and slo.policy not in specs.policies:
            raise SpecError(
                f"SLO {slo.service}/{slo.name} names policy {slo.policy!r}, which no spec defines"
                f" (known: {', '.join(sorted(specs.policies)) or 'only default'})",
                file=slo.source_file,
                field="policy",
            )
    return specs
