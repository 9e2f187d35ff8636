"""Spec documents sent as JSON bodies, parsed as `srekit slo apply` parses files.

Each document is named `body.documents[i]` in errors (`document` for a PUT's single one), so a
422 points at the document, then the field inside it, as the CLI points at file and field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from srekit.core.slo import SLO
from srekit.spec.document import Document
from srekit.spec.loader import SpecSet, detect_format, parse_spec_documents

__all__ = ["check_owners", "parse_documents"]


def parse_documents(
    raw: Sequence[Mapping[str, Any]], *, label: str = "documents"
) -> tuple[SpecSet, dict[str, str]]:
    """The SLOs and policies `raw` declares, and the format of each document's label.

    As `srekit slo apply` reads files (`spec.loader.parse_spec_documents`); the policies the
    SLOs name may also be stored ones, which the caller checks against the store. Alert
    routings have their own endpoint: a document declaring one is refused here.
    """
    documents: list[Document] = []
    formats: dict[str, str] = {}
    for index, data in enumerate(raw):
        where = f"{label}[{index}]" if len(raw) > 1 or label == "documents" else label
        document = Document(data=data, file=where, index=0)
        formats[where] = detect_format(document)
        if formats[where] == "srekit/v1" and data.get("kind") == "AlertRouting":
            raise document.error(
                "kind", "an AlertRouting: PUT /api/v1/routings/{name} stores alert routings"
            )
        if formats[where] == "srekit/v1" and data.get("kind") == "Rotation":
            raise document.error(
                "kind", "a Rotation: PUT /api/v1/oncall/rotations/{name} stores rotations"
            )
        documents.append(document)
    return parse_spec_documents(documents), formats


def check_owners(slos: Sequence[SLO]) -> None:
    """Refuse SLOs that give one service two owners, before anything is stored."""
    from srekit.store.repo import check_one_owner_per_service

    check_one_owner_per_service(slos)
