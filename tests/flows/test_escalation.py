"""Escalation rounds on the real store (SQLite and PostgreSQL), with an in-memory directory of
people and rotations and a sender that records what it was asked to send: who is paged when,
what the timeline records, what stops an escalation, and a restart in the middle."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from srekit.core.escalation import EscalationPolicy, EscalationStatus, EscalationStep, NotifyTarget
from srekit.core.incident import DEFAULT_SEVERITIES, IncidentState, Severity, TimelineKind
from srekit.core.notify import ContactKind, ContactMethod, verify_ack_token
from srekit.core.people import ContactKind as PeopleKind
from srekit.core.people import ContactMethod as PeopleContact
from srekit.core.people import Person
from srekit.errors import NotFound
from srekit.flows.escalation import (
    OnCall,
    Paging,
    SignedLinks,
    StoredDirectory,
    escalate,
    escalation_view,
    list_escalation_views,
)
from srekit.flows.incidents import change_incident_state, declare_incident, incident_view
from srekit.spec.rotation import parse_rotation
from srekit.store import repo
from srekit.store.database import transaction
from tests.escalation_fakes import FakeDirectory, FakeLinks, RecordingSender

OPENED = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
POLICY = EscalationPolicy(
    name="payments",
    services=("checkout",),
    steps=(
        EscalationStep(NotifyTarget(rotation="payments", layer="primary")),
        EscalationStep(NotifyTarget(rotation="payments", layer="secondary"), after_s=600),
        EscalationStep(NotifyTarget(person="grace"), after_s=300),
    ),
)


def _paging(
    directory: FakeDirectory | None = None, sender: RecordingSender | None = None
) -> tuple[Paging, RecordingSender]:
    sender = sender if sender is not None else RecordingSender()
    paging = Paging(
        directory=directory if directory is not None else FakeDirectory(),
        send=sender,
        links=FakeLinks(),
        severities=DEFAULT_SEVERITIES,
    )
    return paging, sender


def _apply(engine: Engine, policy: EscalationPolicy = POLICY) -> None:
    with transaction(engine) as session:
        repo.apply_escalation_policy(session, policy=policy, actor="alice")


def _open(
    engine: Engine, *, services: tuple[str, ...] = ("checkout",), severity: Severity = Severity.P1
) -> int:
    view = declare_incident(
        engine,
        title="checkout is down",
        severity=severity,
        actor="alertmanager",
        now=OPENED,
        services=services,
        summary="5xx above 50 %",
    )
    return view.incident.id


def _at(minutes: float) -> datetime:
    return OPENED + timedelta(minutes=minutes)


def _entries(engine: Engine, incident_id: int, kind: TimelineKind) -> list[tuple[str, dict]]:  # type: ignore[type-arg]
    view = incident_view(engine, incident_id=incident_id)
    return [(e.text, dict(e.data)) for e in view.timeline if e.kind is kind]


def test_nobody_answering_pages_each_step_when_due_then_the_escalation_is_exhausted(
    engine: Engine,
) -> None:
    _apply(engine)
    incident_id = _open(engine)
    paging, sender = _paging()
    first = escalate(engine, paging, now=_at(0))
    assert first.started == (incident_id,)
    assert sender.people() == [("alice", 1)]
    page = sender.sent[0][0]
    assert page.ack_url == f"http://srekit.test/ack/{incident_id}?as=alice"
    assert (page.title, page.severity, page.services, page.summary) == (
        "checkout is down",
        Severity.P1,
        ("checkout",),
        "5xx above 50 %",
    )
    # 10:09: nothing due (the secondary is due at 10:10)
    assert escalate(engine, paging, now=_at(9)).pages == ()
    view = escalation_view(engine, incident_id=incident_id)
    assert view is not None
    assert (view.state, view.next_step, view.next_at, view.steps_paged) == (
        EscalationStatus.ACTIVE,
        2,
        _at(10),
        1,
    )
    escalate(engine, paging, now=_at(10))
    assert sender.people()[-1] == ("dave", 2)
    # grace 5 minutes later, at 10:15; then nothing is left
    assert escalate(engine, paging, now=_at(14.9)).pages == ()
    last = escalate(engine, paging, now=_at(15))
    assert last.exhausted == (incident_id,)
    assert sender.people() == [("alice", 1), ("dave", 2), ("grace", 3)]
    assert escalate(engine, paging, now=_at(120)).pages == ()  # never again
    pages = _entries(engine, incident_id, TimelineKind.PAGE_SENT)
    assert [data for _, data in pages] == [
        {
            "person": person,
            "channel": "webhook",
            "target": "http://127.0.0.1:9/…",
            "delivered": True,
            "attempts": 1,
            "detail": "HTTP 200",
            "step": step,
            "cycle": 0,
        }
        for person, step in (("alice", 1), ("dave", 2), ("grace", 3))
    ]
    assert pages[0][0] == (
        "paged alice (step 1, rotation payments, layer primary) by webhook"
        " http://127.0.0.1:9/…: delivered"
    )
    notes = [data["escalation"] for _, data in _entries(engine, incident_id, TimelineKind.NOTE)]
    assert notes == ["started", "exhausted"]
    done = escalation_view(engine, incident_id=incident_id)
    assert done is not None
    assert (done.state, done.next_step, done.next_at, done.steps_paged) == (
        EscalationStatus.EXHAUSTED,
        None,
        None,
        3,
    )


def test_the_plan_counts_from_the_escalations_start_not_the_alerts(engine: Engine) -> None:
    # an alert pending 7 minutes (`for: 7m`) opens its incident with startsAt 10:00; srekit
    # first sees it at 10:07: dave is due 10 minutes after that, at 10:17, not at 10:10
    _apply(engine)
    incident_id = _open(engine)
    paging, sender = _paging()
    escalate(engine, paging, now=_at(7))
    assert escalate(engine, paging, now=_at(16.9)).pages == ()
    escalate(engine, paging, now=_at(17))
    assert [(page.person, page.at) for page, _ in sender.sent] == [
        ("alice", _at(7)),
        ("dave", _at(17)),
    ]
    view = escalation_view(engine, incident_id=incident_id)
    assert view is not None
    assert (view.started_at, view.next_at) == (_at(7), _at(22))  # grace 5 minutes on


def test_acknowledging_stops_the_escalation_at_the_next_round(engine: Engine) -> None:
    _apply(engine)
    incident_id = _open(engine)
    paging, sender = _paging()
    escalate(engine, paging, now=_at(1))
    change_incident_state(
        engine, incident_id=incident_id, to=IncidentState.ACKNOWLEDGED, actor="alice", now=_at(3)
    )
    # the next round stops it, though no step is due until 10:10
    report = escalate(engine, paging, now=_at(3.1))
    assert report.stopped == (incident_id,)
    assert escalate(engine, paging, now=_at(60)).pages == ()
    assert sender.people() == [("alice", 1)]
    (stop,) = [
        (text, data)
        for text, data in _entries(engine, incident_id, TimelineKind.NOTE)
        if data["escalation"] == "stopped"
    ]
    assert stop == (
        "escalation stopped: acknowledged, after 1 page(s) of policy payments",
        {"escalation": "stopped", "reason": "acknowledged", "policy": "payments", "steps_paged": 1},
    )
    view = escalation_view(engine, incident_id=incident_id)
    assert view is not None
    assert (view.state, view.reason, view.next_at) == (
        EscalationStatus.STOPPED,
        "acknowledged",
        None,
    )


def test_a_resolved_incident_stops_too_even_when_its_step_is_due(engine: Engine) -> None:
    _apply(engine)
    incident_id = _open(engine)
    paging, sender = _paging()
    escalate(engine, paging, now=_at(0))
    change_incident_state(
        engine, incident_id=incident_id, to=IncidentState.RESOLVED, actor="alertmanager", now=_at(5)
    )
    report = escalate(engine, paging, now=_at(30))  # steps 2 and 3 long due
    assert (report.stopped, report.pages) == ((incident_id,), ())
    assert sender.people() == [("alice", 1)]


def test_only_covered_incidents_escalate_and_answered_ones_never_start(engine: Engine) -> None:
    _apply(
        engine,
        EscalationPolicy(
            name="payments",
            services=("checkout",),
            severities=frozenset({Severity.P0, Severity.P1}),
            steps=POLICY.steps,
        ),
    )
    other_service = _open(engine, services=("search",))
    too_minor = _open(engine, severity=Severity.P3)
    answered = _open(engine)
    change_incident_state(
        engine, incident_id=answered, to=IncidentState.ACKNOWLEDGED, actor="bob", now=_at(0)
    )
    covered = _open(engine, services=("search", "checkout"))
    paging, sender = _paging()
    report = escalate(engine, paging, now=_at(0))
    assert report.started == (covered,)
    assert [page.incident_id for page, _ in sender.sent] == [covered]
    for incident_id in (other_service, too_minor, answered):
        assert escalation_view(engine, incident_id=incident_id) is None
    assert [v.incident_id for v in list_escalation_views(engine)] == [covered]


def test_without_policies_nothing_escalates(engine: Engine) -> None:
    _open(engine)
    paging, sender = _paging()
    assert escalate(engine, paging, now=_at(30)).started == ()
    assert sender.sent == []


def test_a_gap_or_an_unreachable_person_brings_the_next_step_forward(engine: Engine) -> None:
    _apply(engine)
    incident_id = _open(engine)
    # nobody holds the primary layer; dave's only contact fails
    directory = FakeDirectory(layers={"primary": None, "secondary": "dave"})
    sender = RecordingSender(failing={"http://127.0.0.1:9/dave"})
    paging, _ = _paging(directory, sender)
    report = escalate(engine, paging, now=_at(1))
    # escalating from 10:01: the gap at step 1 brings dave (due 10:11) forward to 10:01;
    # dave's page fails, which brings grace (due 10:16) forward too: all in one round
    assert [(page.step, page.person) for page in report.pages] == [
        (1, None),
        (2, "dave"),
        (3, "grace"),
    ]
    assert sender.people() == [("dave", 2), ("grace", 3)]
    assert report.exhausted == (incident_id,)
    notes = [
        (data["escalation"], data.get("detail"))
        for _, data in _entries(engine, incident_id, TimelineKind.NOTE)
    ]
    assert notes == [
        ("started", None),
        ("unreached", "rotation payments, layer primary: nobody on call (restricted)"),
        ("unreached", "rotation payments, layer secondary"),
        ("exhausted", None),
    ]
    failed = next(data for _, data in _entries(engine, incident_id, TimelineKind.PAGE_SENT))
    assert (failed["person"], failed["delivered"], failed["attempts"]) == ("dave", False, 4)


def test_unknown_people_and_layers_and_people_without_contacts_are_recorded(
    engine: Engine,
) -> None:
    policy = EscalationPolicy(
        name="payments",
        services=("checkout",),
        steps=(
            EscalationStep(NotifyTarget(rotation="payments", layer="night")),
            EscalationStep(NotifyTarget(person="mallory")),
            EscalationStep(NotifyTarget(person="grace")),
        ),
    )
    _apply(engine, policy)
    incident_id = _open(engine)
    directory = FakeDirectory()
    directory.contacts["grace"] = []
    paging, sender = _paging(directory)
    escalate(engine, paging, now=_at(0))
    assert sender.sent == []
    details = [
        data["detail"]
        for _, data in _entries(engine, incident_id, TimelineKind.NOTE)
        if data["escalation"] == "unreached"
    ]
    assert details == [
        "rotation payments, layer night: no layer 'night' in rotation 'payments'",
        "person mallory: no person 'mallory'",
        "person grace: grace has no contact method",
    ]


def test_a_restarted_round_resumes_and_catches_up_in_order(engine: Engine) -> None:
    _apply(engine)
    incident_id = _open(engine)
    paging, sender = _paging()
    escalate(engine, paging, now=_at(0))
    # the server is down from 10:01 to 10:20; a new process (new Paging, same store) resumes
    restarted, resumed = _paging()
    report = escalate(engine, restarted, now=_at(20))
    assert report.started == ()
    assert resumed.people() == [("dave", 2), ("grace", 3)]
    assert sender.people() == [("alice", 1)]  # nobody is paged twice
    view = escalation_view(engine, incident_id=incident_id)
    assert view is not None
    assert view.state is EscalationStatus.EXHAUSTED


def test_a_changed_policy_leaves_escalations_under_way_on_their_version(engine: Engine) -> None:
    _apply(engine)
    incident_id = _open(engine)
    paging, sender = _paging()
    escalate(engine, paging, now=_at(0))
    _apply(
        engine, EscalationPolicy(name="payments", services=("checkout",), steps=POLICY.steps[:1])
    )
    with transaction(engine) as session:
        repo.delete_escalation_policy(session, name="payments", actor="alice")
    escalate(engine, paging, now=_at(10))
    assert sender.people() == [("alice", 1), ("dave", 2)]
    view = escalation_view(engine, incident_id=incident_id)
    assert view is not None
    assert (view.policy, view.policy_version, view.next_step) == ("payments", 1, 3)


def test_repeats_page_the_first_step_again_after_the_window(engine: Engine) -> None:
    _apply(
        engine,
        EscalationPolicy(
            name="payments",
            services=("checkout",),
            steps=(EscalationStep(NotifyTarget(person="alice")),),
            repeat=1,
        ),
    )
    incident_id = _open(engine, severity=Severity.P0)  # P0's window: 5 minutes
    paging, sender = _paging()
    escalate(engine, paging, now=_at(0))
    assert escalate(engine, paging, now=_at(4.9)).pages == ()
    escalate(engine, paging, now=_at(5))
    assert [(page.person, page.step, page.at) for page, _ in sender.sent] == [
        ("alice", 1, _at(0)),
        ("alice", 1, _at(5)),
    ]
    cycles = [data["cycle"] for _, data in _entries(engine, incident_id, TimelineKind.PAGE_SENT)]
    assert cycles == [0, 1]


# --- the store's people and rotations ----------------------------------------------------------

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _store_oncall(engine: Engine) -> None:
    rotation = parse_rotation(
        (EXAMPLES / "oncall" / "payments.yaml").read_text(), source="payments.yaml"
    )
    with transaction(engine) as session:
        repo.apply_rotation(
            session, rotation=rotation, actor="alice", now=datetime(2026, 1, 1, tzinfo=UTC)
        )
        repo.add_person(
            session,
            person=Person(
                name="carol",
                contacts=(
                    PeopleContact(PeopleKind.WEBHOOK, "https://hooks.example.com/carol"),
                    PeopleContact(PeopleKind.EMAIL, "carol@example.com"),
                ),
            ),
            actor="alice",
        )
        repo.add_person(session, person=Person(name="erin"), actor="alice")


def test_the_stored_directory_reads_rotations_and_contacts(engine: Engine) -> None:
    _store_oncall(engine)
    directory = StoredDirectory(engine)
    # Monday 2 March 2026, 11:00 in Berlin. By hand: primary hands over Mondays 09:00 from
    # 5 January: 8 weeks later is shift 8, 8 mod 3 = carol; secondary Thursdays from 8
    # January: 26 February is shift 7, erin; manager monthly from 1 January: March is
    # shift 2, grace
    monday = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    assert directory.on_call(rotation="payments", layer="primary", at=monday) == OnCall("carol")
    assert directory.on_call(rotation="payments", layer="secondary", at=monday) == OnCall("erin")
    assert directory.on_call(rotation="payments", layer="manager", at=monday) == OnCall("grace")
    # bob's override: Saturday 28 March 18:00 to Monday 30 March 09:00, Berlin time
    sunday = datetime(2026, 3, 29, 12, 0, tzinfo=UTC)
    assert directory.on_call(rotation="payments", layer="primary", at=sunday) == OnCall("bob")
    # before the first layer's start: a gap, and why
    before = directory.on_call(
        rotation="payments", layer="primary", at=datetime(2026, 1, 2, tzinfo=UTC)
    )
    assert before.person is None
    assert before.gap is not None
    with pytest.raises(NotFound, match="has no layer 'night'"):
        directory.on_call(rotation="payments", layer="night", at=monday)
    with pytest.raises(NotFound):
        directory.on_call(rotation="search", layer="primary", at=monday)
    assert list(directory.contact_methods(person="carol")) == [
        ContactMethod(ContactKind.WEBHOOK, "https://hooks.example.com/carol"),
        ContactMethod(ContactKind.EMAIL, "carol@example.com"),
    ]
    assert list(directory.contact_methods(person="erin")) == []
    with pytest.raises(NotFound):
        directory.contact_methods(person="mallory")


def test_a_round_pages_the_stored_on_call_member_through_each_contact(engine: Engine) -> None:
    _store_oncall(engine)
    _apply(engine)
    monday = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    incident_id = declare_incident(
        engine, title="x", severity=Severity.P1, actor="a", now=monday, services=["checkout"]
    ).incident.id
    sender = RecordingSender()
    paging = Paging(StoredDirectory(engine), sender, FakeLinks(), DEFAULT_SEVERITIES)
    escalate(engine, paging, now=monday)
    assert [(page.person, contact.kind) for page, contact in sender.sent] == [
        ("carol", ContactKind.WEBHOOK),
        ("carol", ContactKind.EMAIL),
    ]
    # erin (secondary, no contact method) is unreached at 10:10: grace at once, unknown
    # as a person here, is recorded too; the escalation is over
    escalate(engine, paging, now=monday + timedelta(minutes=10))
    details = [
        data["detail"]
        for _, data in _entries(engine, incident_id, TimelineKind.NOTE)
        if data["escalation"] == "unreached"
    ]
    assert details == [
        "rotation payments, layer secondary: erin has no contact method",
        "person grace: no person 'grace' in the store",
    ]


def test_signed_links_carry_a_token_for_the_incident_and_the_person() -> None:
    links = SignedLinks("https://srekit.example.com", b"0123456789abcdef", ttl_s=3600)
    url = links.ack_url(incident_id=7, person="carol", now=OPENED)
    prefix = "https://srekit.example.com/api/v1/incidents/7/ack?token="
    assert url.startswith(prefix)
    claim = verify_ack_token(
        b"0123456789abcdef", url.removeprefix(prefix), incident_id=7, now=OPENED
    )
    assert (claim.person, claim.expires_at) == ("carol", OPENED + timedelta(hours=1))
    assert links.incident_url(incident_id=7) == "https://srekit.example.com/api/v1/incidents/7"
