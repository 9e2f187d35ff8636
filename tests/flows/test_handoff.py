"""The handoff gathered from a store (SQLite) and a real Alertmanager: the story of
tests/handoff_story.py read at Monday 09:00, and planned maintenance read from silences."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from srekit.alertmanager import AlertmanagerClient
from srekit.core.handoff import FiredRule, Turn, render_markdown
from srekit.core.incident import IncidentState
from srekit.core.postmortem import PostmortemState
from srekit.core.rotation import RotationVersion
from srekit.flows.handoff import handoff_checklist, rotation_at
from tests.alertmanager_fixture import AlertmanagerServer
from tests.handoff_story import AT, rotation, versions, write_story


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_the_story_at_monday_nine(sqlite_engine: Engine) -> None:
    numbers = write_story(sqlite_engine)
    checklist = handoff_checklist(sqlite_engine, versions=versions(), at=AT, max_status_age_s=600)
    assert checklist.rotation == "payments"
    assert checklist.timezone_name == "Europe/Berlin"
    assert checklist.services == ("checkout", "payments-api")
    # week 12 since 2026-01-05 is alice's (12 mod 3 = 0); bob's override ends at the handoff
    primary, secondary, manager = checklist.layers
    assert primary.outgoing == Turn("bob", _utc("2026-03-28T17:00"), AT, override=True)
    assert primary.incoming == Turn("alice", AT, _utc("2026-04-06T07:00"))
    # Thursdays from 2026-01-08: week 11 is frank's, week 10 erin's
    assert secondary.outgoing == Turn("erin", _utc("2026-03-19T08:00"), _utc("2026-03-26T08:00"))
    assert secondary.incoming == Turn("frank", _utc("2026-03-26T08:00"), _utc("2026-04-02T07:00"))
    # months from January: grace, heidi, grace
    assert manager.outgoing == Turn("heidi", _utc("2026-02-01T08:00"), _utc("2026-03-01T08:00"))
    assert manager.incoming == Turn("grace", _utc("2026-03-01T08:00"), _utc("2026-04-01T07:00"))
    assert [(i.id, i.state) for i in checklist.incidents] == [
        (numbers["payments"], IncidentState.TRIGGERED),
        (numbers["checkout"], IncidentState.ACKNOWLEDGED),
    ]
    assert [(p.incident.id, p.postmortem) for p in checklist.postmortems] == [
        (numbers["coupons"], PostmortemState.DRAFT),
        (numbers["refunds"], None),
    ]
    assert [(d.service, d.version) for d in checklist.deployments] == [
        ("checkout", "v2.4.1"),
        ("payments-api", "v1.9.0"),
    ]
    assert [(s.service, s.slo, s.sli) for s in checklist.slos] == [
        ("checkout", "availability", 0.9995)
    ]
    assert (checklist.alerts_from, checklist.alerts_to) == (_utc("2026-03-28T17:00"), AT)
    # quality over bob's turn: 1 of the 2 burn alerts joined an incident acknowledged 10 min
    # after it fired (target 5 min); PaymentsDown's incident was never acknowledged
    assert checklist.alerts == (
        FiredRule(
            "CheckoutErrorBudgetBurn",
            2,
            1,
            ("checkout",),
            (numbers["checkout"],),
            actionable_rate=0.5,
            missed_targets=("actionable", "mtta"),
        ),
        FiredRule(
            "PaymentsDown",
            1,
            1,
            ("payments-api",),
            (numbers["payments"],),
            actionable_rate=0.0,
            missed_targets=("actionable",),
        ),
    )
    assert [t.title for t in checklist.tasks] == [
        "Add a canary stage to the checkout rollout",
        "Review the checkout error budget policy",
    ]
    assert not checklist.maintenance.configured
    assert "Alertmanager not configured" in render_markdown(checklist)


def test_a_rotation_without_team_covers_no_service(sqlite_engine: Engine) -> None:
    write_story(sqlite_engine)
    from dataclasses import replace

    teamless = [RotationVersion(replace(rotation(), team=None), _utc("2026-01-01T00:00"))]
    checklist = handoff_checklist(sqlite_engine, versions=teamless, at=AT, max_status_age_s=600)
    assert checklist.services == ()
    assert (checklist.incidents, checklist.tasks, checklist.alerts) == ((), (), ())
    assert len(checklist.layers) == 3


def test_the_version_ruling_at_the_handoff_names_the_rotation() -> None:
    from dataclasses import replace

    first = RotationVersion(rotation(), _utc("2026-01-01T00:00"))
    renamed = RotationVersion(replace(rotation(), team="checkout"), _utc("2026-03-29T00:00"))
    assert rotation_at([first, renamed], at=AT).team == "checkout"
    assert rotation_at([first, renamed], at=_utc("2026-03-01T00:00")).team == "payments"
    assert rotation_at([first], at=_utc("2025-12-01T00:00")).team == "payments"


@pytest.fixture
def client(alertmanager: AlertmanagerServer) -> Iterator[AlertmanagerClient]:
    with AlertmanagerClient(alertmanager.url, timeout_s=5.0, backoff_s=0.05) as client:
        yield client


def test_planned_maintenance_is_read_from_alertmanager(
    sqlite_engine: Engine, client: AlertmanagerClient
) -> None:
    write_story(sqlite_engine)
    now = datetime.now(UTC).replace(microsecond=0)
    hour = timedelta(hours=1)
    upgrade_id = client.create_silence(
        {"service": "payments-api"},
        starts_at=now - hour,
        ends_at=now + 2 * hour,
        created_by="erin",
        comment="Postgres 16 upgrade",
    )
    window_id = client.create_silence(
        {"service": "checkout", "env": "prod"},
        starts_at=now + 24 * hour,
        ends_at=now + 26 * hour,
        created_by="dave",
        comment="Load balancer maintenance",
    )
    client.create_silence(  # an incident's own silence: not maintenance
        {"service": "checkout", "alertname": "CheckoutErrorBudgetBurn"},
        starts_at=now - hour,
        ends_at=now + hour,
        created_by="ana",
        comment="srekit incident #4: Checkout 5xx above budget",
    )
    client.create_silence(  # another team's
        {"service": "billing"},
        starts_at=now - hour,
        ends_at=now + hour,
        created_by="ana",
        comment="billing migration",
    )
    expired = client.create_silence(
        {"service": "checkout"},
        starts_at=now - hour,
        ends_at=now + hour,
        created_by="ana",
        comment="over already",
    )
    client.expire_silence(expired)
    # Alertmanager stamps the silences it starts and expires with its own clock (this
    # machine's), at the moment it gets each request: the handoff is read after all of them,
    # not at `now` plus a margin a slow machine outlasts (then the expired silence, started
    # and ended after `at`, read as pending)
    at = datetime.now(UTC) + timedelta(seconds=1)
    checklist = handoff_checklist(
        sqlite_engine, versions=versions(), at=at, max_status_age_s=600, silences=client
    )
    found = [
        (silence.silence_id, state, services)
        for silence, state, services in checklist.maintenance.silences
    ]
    assert found == [
        (upgrade_id, "active", ("payments-api",)),
        (window_id, "pending", ("checkout",)),
    ]
    assert checklist.maintenance.silences[1][0].comment == "Load balancer maintenance"


def test_an_alertmanager_that_does_not_answer_is_said_not_raised(sqlite_engine: Engine) -> None:
    write_story(sqlite_engine)
    with AlertmanagerClient("http://127.0.0.1:9", timeout_s=0.5, retries=1) as down:
        checklist = handoff_checklist(
            sqlite_engine, versions=versions(), at=AT, max_status_age_s=600, silences=down
        )
    assert checklist.maintenance.configured
    assert checklist.maintenance.problem is not None
    assert "127.0.0.1:9" in checklist.maintenance.problem
    assert checklist.incidents  # the rest is still there
