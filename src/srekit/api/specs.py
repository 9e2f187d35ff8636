"""Spec documents sent as JSON bodies, parsed as `srekit slo apply` parses files.

Each document is named `body.documents[i]` in errors (`document` for a PUT's single one), so a
422 points at the document, then the field inside it, as the CLI points at file and field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from srekit.core.policy import BudgetPolicy
from srekit.core.slo import SLO
from srekit.errors import SpecError
from srekit.spec.document import Document
from srekit.spec.loader import FORMATS, SpecSet, detect_format

__all__ = ["check_owners", "parse_documents"]


def _parse(name: str, documents: list[Document]) -> tuple[list[SLO], list[BudgetPolicy]]:
    if name == "srekit/v1":
        from srekit.spec import native

        return native.parse_documents(documents)
    if name == "openslo/v1":
        from srekit.spec import openslo

        return openslo.parse_documents(documents), []
    from srekit.spec import sloth

    return sloth.parse_documents(documents), []


def parse_documents(
    raw: Sequence[Mapping[str, Any]], *, label: str = "documents"
) -> tuple[SpecSet, dict[str, str]]:
    """The SLOs and policies `raw` declares, and the format of each document's label.

    Like `spec.loader.load_specs`: documents are grouped by format (OpenSLO references may
    cross documents), SLO ids must be unique, and named policies must be defined (or stored:
    the caller checks the store).
    """
    by_format: dict[str, list[Document]] = {}
    formats: dict[str, str] = {}
    for index, data in enumerate(raw):
        where = f"{label}[{index}]" if len(raw) > 1 or label == "documents" else label
        document = Document(data=data, file=where, index=0)
        name = detect_format(document)
        by_format.setdefault(name, []).append(document)
        formats[where] = name
    slos: list[SLO] = []
    policies: dict[str, BudgetPolicy] = {}
    for name in FORMATS:
        if name in by_format:
            found, found_policies = _parse(name, by_format[name])
            slos.extend(found)
            policies.update((policy.name, policy) for policy in found_policies)
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
    return SpecSet(slos=tuple(slos), policies=policies, files=tuple(formats)), formats


def check_owners(slos: Sequence[SLO]) -> None:
    """Refuse SLOs that give one service two owners (as `repository.apply_specs` does)."""
    owners: dict[str, SLO] = {}
    for slo in slos:
        if slo.owner is None:
            continue
        first = owners.setdefault(slo.service, slo)
        if first.owner != slo.owner:
            raise SpecError(
                f"SLO {slo.service}/{slo.name} names owner {slo.owner!r} but"
                f" {first.service}/{first.name} names {first.owner!r}:"
                " a service belongs to one team",
                file=slo.source_file,
                field="owner",
            )
