"""The status and gate documents the CLI prints and the API serves hold to one model each:
adding a field to the builder without the model (or the other way round) fails here, since
the models have no defaults and a round trip through one drops what it does not know."""

from __future__ import annotations

from dataclasses import replace
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


def test_figures_read_as_what_they_mean() -> None:
    """Counts are integers, floats lose their noise, burn rates come shortest window first
    even when a stored snapshot gave them back in another order."""
    status = evaluate_slo(
        SLO_, readings={"30d": EventCounts(2.0, 3.0), "1h": EventCounts(1, 3)}, at=AT
    )
    noisy = replace(
        status,
        sli=0.1 + 0.2,  # 0.30000000000000004
        burn_rates=dict(sorted(status.burn_rates.items())),  # as canonical JSON stores them
        time_to_exhaustion_s=3.9999999999999956,
    )
    document = status_document(noisy)
    assert document["sli"] == 0.3
    assert document["time_to_exhaustion_s"] == 4.0
    assert list(document["burn_rates"]) == ["5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d"]
    assert document["events"] == {"good": 2, "total": 3}
    assert all(type(v) is int for v in document["events"].values())
    assert document["burn_rates"]["1h"] == pytest.approx((2 / 3) / (1 - SLO_.objective), rel=1e-11)
    fractional = replace(status, counts=EventCounts(2.5, 3.25))
    assert status_document(fractional)["events"] == {"good": 2.5, "total": 3.25}


def test_postmortem_documents_hold_to_their_model() -> None:
    """A draft with unknown figures, and a published one whose action items are tasks (and
    one that needs none): each document survives a round trip through `PostmortemOut`."""
    from srekit.contracts import PostmortemOut, postmortem_document
    from srekit.core.incident import Incident, IncidentState, IncidentView, Severity
    from srekit.core.postmortem import (
        ActionItem,
        PostmortemState,
        PostmortemView,
        draft_postmortem,
    )

    incident = Incident(
        id=3,
        title="slow search",
        severity=Severity.P2,
        state=IncidentState.RESOLVED,
        opened_at=AT,
        slos=("search/latency",),
        resolved_at=AT.replace(hour=1),
    )
    view = IncidentView(incident=incident, summary=None, created_by="ana", resolved_by="ana")
    drafted = draft_postmortem(view, now=AT, by="ana")
    published = replace(
        drafted,
        state=PostmortemState.PUBLISHED,
        published_at=AT,
        published_by="bo",
        sections=replace(
            drafted.sections,
            root_cause="An index was dropped.",
            action_items=(ActionItem("restore the index", owner="bo", due_at=AT, task_id=7),),
        ),
    )
    none_needed = replace(
        published, sections=replace(published.sections, action_items=(), no_action_items=True)
    )
    for postmortem in (drafted, published, none_needed):
        document = postmortem_document(PostmortemView(postmortem=postmortem, incident=incident))
        assert PostmortemOut.model_validate(document).model_dump() == document
    draft_document = postmortem_document(PostmortemView(postmortem=drafted, incident=incident))
    assert draft_document["sections"]["impact"]["budget_consumed"] == {"search/latency": None}
    assert draft_document["publish_problems"] == [
        "root_cause: the root cause is not written yet",
        "action_items: list at least one action item, or say none is needed",
    ]


def test_incident_change_documents_hold_to_their_model() -> None:
    from srekit.contracts import IncidentChangeOut, incident_change_document
    from srekit.core.incident import (
        Incident,
        IncidentState,
        IncidentView,
        Severity,
        TimelineEntry,
        TimelineKind,
    )

    view = IncidentView(
        incident=Incident(
            id=3,
            title="checkout errors",
            severity=Severity.P1,
            state=IncidentState.ACKNOWLEDGED,
            opened_at=AT,
            acknowledged_at=AT,
        ),
        summary=None,
        created_by="alertmanager",
        resolved_by=None,
        silences=("6f1d2c3b-4a5e-4f60-8b7a-9c8d7e6f5a4b",),
        timeline=(
            TimelineEntry(
                at=AT,
                kind=TimelineKind.SILENCE,
                actor="ana",
                text="silenced",
                data={"silence": "6f1d2c3b-4a5e-4f60-8b7a-9c8d7e6f5a4b"},
            ),
        ),
    )
    for document in (
        incident_change_document(view, silence_created="6f1d2c3b-4a5e-4f60-8b7a-9c8d7e6f5a4b"),
        incident_change_document(
            view, silences_expired=("a", "b"), silence_failures=("Alertmanager down",)
        ),
    ):
        assert IncidentChangeOut.model_validate(document).model_dump() == document
    assert incident_change_document(view)["silence_created"] is None


def test_alert_quality_documents_hold_to_their_model() -> None:
    from srekit.contracts import AlertQualityOut, alert_quality_document
    from srekit.core.alert_quality import alert_quality
    from tests.core.test_alert_quality import ALERTS, END, INCIDENTS, PAGES, START

    full = alert_quality(ALERTS, incidents=INCIDENTS, start=START, end=END, pages=PAGES)
    empty = alert_quality([], incidents=[], start=START, end=END)
    for document in (
        alert_quality_document(full, service="checkout"),
        alert_quality_document(empty),
    ):
        assert AlertQualityOut.model_validate(document).model_dump() == document
    assert alert_quality_document(full)["overall"]["mttr_s"] == 1491.42857143  # 10440 / 7


def test_person_documents_hold_to_their_model() -> None:
    from srekit.contracts import PersonOut, person_document
    from srekit.core.people import ContactKind, ContactMethod, Person

    for person in (
        Person(name="bob"),
        Person(
            name="alice",
            display_name="Alice",
            email="alice@example.com",
            timezone="Europe/Berlin",
            team="payments",
            contacts=(ContactMethod(ContactKind.SLACK, "https://chat.example.com/hooks/oncall"),),
        ),
    ):
        document = person_document(person)
        assert PersonOut.model_validate(document).model_dump() == document


def test_on_call_documents_hold_to_their_models() -> None:
    from pathlib import Path

    from srekit.contracts import (
        FairnessOut,
        PersonScheduleOut,
        ScheduleOut,
        WhoOut,
        fairness_document,
        person_schedule_document,
        schedule_document,
        who_document,
    )
    from srekit.core.rotation import fairness, on_call, shifts
    from srekit.spec.rotation import parse_rotation

    text = (Path(__file__).parents[1] / "examples" / "oncall" / "payments.yaml").read_text()
    rotation = parse_rotation(text, source="payments.yaml")
    start, end = datetime(2025, 12, 29, tzinfo=UTC), datetime(2026, 1, 12, tzinfo=UTC)
    found = shifts(rotation, start=start, end=end)
    assert any(shift.member is None for shift in found)  # gaps, before each layer's start
    loads = fairness(found, timezones={}, default_timezone=rotation.timezone, pages={"zed": 2})
    for model, document in (
        (WhoOut, who_document("payments", at=start, held=on_call(rotation, at=start))),
        (WhoOut, who_document("payments", at=end, held=on_call(rotation, at=end))),
        (ScheduleOut, schedule_document("payments", start=start, end=end, shifts=found)),
        (FairnessOut, fairness_document("payments", start=start, end=end, loads=loads)),
        (
            PersonScheduleOut,
            person_schedule_document(
                "alice", start=start, end=end, shifts=[("payments", s) for s in found]
            ),
        ),
    ):
        assert model.model_validate(document).model_dump(by_alias=True) == document
    before = who_document("payments", at=start, held=on_call(rotation, at=start))
    assert before["layers"]["primary"] == {
        "member": None,
        "shift_start": None,
        "shift_end": "2026-01-05T08:00:00Z",
    }


def test_handoff_documents_hold_to_their_model() -> None:
    """The CLI's `--format json` and the API's answer are one shape: `HandoffOut`."""
    from srekit.contracts import HandoffOut
    from srekit.core.handoff import Maintenance, handoff_document
    from tests.core.test_handoff import CHECKLIST

    bare = replace(
        CHECKLIST,
        layers=(),
        incidents=(),
        postmortems=(),
        deployments=(),
        slos=(),
        alerts=(),
        tasks=(),
        maintenance=Maintenance(configured=True, problem="connection refused"),
    )
    for checklist in (CHECKLIST, bare):
        document = handoff_document(checklist)
        held = HandoffOut.model_validate(document).model_dump(by_alias=True)
        assert held == document
    assert handoff_document(CHECKLIST)["maintenance"]["silences"], "the sample has silences"
