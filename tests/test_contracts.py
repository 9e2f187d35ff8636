"""The status and gate documents the CLI prints and the API serves hold to one model each:
adding a field to the builder without the model (or the other way round) fails here, since
the models have no defaults and a round trip through one drops what it does not know."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from srekit.contracts import GateOut, StatusOut, gate_document, status_document
from srekit.core.gate import gate_service
from srekit.core.policy import DEFAULT_POLICY, denied_decision
from srekit.core.sli import EventCounts
from srekit.core.slo import SLO, EventsRatio
from srekit.core.status import SloStatus, evaluate_slo, unavailable_status
from srekit.core.window import RollingWindow

AT = datetime(2026, 11, 1, tzinfo=UTC)
SLO_ = SLO(
    service="api",
    name="availability",
    objective=0.999,
    window=RollingWindow(30 * 86400),
    indicator=EventsRatio("status < 500"),
    labels={"tier": "1"},
)


def _statuses() -> list[SloStatus]:
    return [
        evaluate_slo(SLO_, readings={"30d": EventCounts(999_500, 1_000_000)}, at=AT),
        evaluate_slo(SLO_, readings={}, at=AT),
        unavailable_status(SLO_, at=AT, detail="Prometheus down"),
        evaluate_slo(SLO_, readings={"30d": EventCounts(0.9, 1, counted=False)}, at=AT),
    ]


@pytest.mark.parametrize("index", range(4))
def test_status_documents_hold_to_their_model(index: int) -> None:
    document = status_document(_statuses()[index])
    assert StatusOut.model_validate(document).model_dump() == document


def test_gate_documents_hold_to_their_model() -> None:
    statuses = _statuses()[:1]
    decision, current = gate_service(
        "api",
        change_type="feature",
        slos=[SLO_],
        statuses=statuses,
        policy=DEFAULT_POLICY,
        now=AT,
    )
    for document in (
        gate_document(decision, current),
        gate_document(denied_decision("api", "feature", "store down"), []),
    ):
        assert GateOut.model_validate(document).model_dump() == document
    assert gate_document(decision, current)["slos"][0]["remaining"] == pytest.approx(0.5)
