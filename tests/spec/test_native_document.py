"""`slo show` prints an SLO as a person writes srekit/v1: parsing that gives the SLO back,
whatever format it was first written in."""

from __future__ import annotations

from dataclasses import replace

import pytest
import yaml

from srekit.core.slo import SLO
from srekit.spec.document import Document
from srekit.spec.loader import load_specs
from srekit.spec.native import parse_documents, slo_document
from tests.store.test_stored_json import EXAMPLES, FIXTURES

EVERY_FORMAT = [
    *load_specs([EXAMPLES / "slos", EXAMPLES / "prometheus", EXAMPLES / "sloth"]).slos,
    *load_specs([EXAMPLES / "srekit"]).slos,
    *FIXTURES,
]


@pytest.mark.parametrize("slo", EVERY_FORMAT, ids=lambda slo: f"{slo.id}:{slo.source_file}")
def test_the_written_form_parses_back_to_the_same_slo(slo: SLO) -> None:
    text = yaml.safe_dump(slo_document(slo), sort_keys=False, allow_unicode=True)
    (parsed,), _ = parse_documents(
        [Document(data=yaml.safe_load(text), file="shown.yaml", index=0)]
    )
    assert parsed == replace(slo, source_file="shown.yaml")


def test_the_written_form_reads_as_a_person_writes_it() -> None:
    checkout = next(s for s in EVERY_FORMAT if s.id == "checkout-availability")
    document = slo_document(checkout)
    assert document["objective"] == "99.5%"
    assert document["window"] == "7d"
    assert document["indicator"] == {
        "events": {"good": "status < 500", "total": "path NOT LIKE '/health%'"}
    }
    assert "alerting" not in document  # defaults are left out
    assert "budgeting" not in document
    weekly = next(s for s in EVERY_FORMAT if s.id == "catalog-availability")
    assert slo_document(weekly)["window"] == {"calendar": "week", "time_zone": "Europe/Paris"}
