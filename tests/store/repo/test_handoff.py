"""What the handoff reads of a team's services at an instant, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine

from srekit.core.postmortem import PostmortemState
from srekit.store import repo
from srekit.store.database import transaction
from srekit.store.repo.handoff import (
    StartedAlert,
    alerts_started_between,
    incidents_not_closed_at,
    postmortem_states,
    tasks_open_at,
    team_services,
)
from tests.handoff_story import AT, write_story

SERVICES = ["checkout", "payments-api"]


def test_a_team_owns_the_services_its_slos_or_upserts_name(engine: Engine) -> None:
    write_story(engine)
    with transaction(engine, read_only=True) as session:
        assert team_services(session, team="payments") == SERVICES
        assert team_services(session, team="billing") == ["billing"]
        assert team_services(session, team="nobody") == []


def test_incidents_not_closed_at_the_handoff_on_the_services(engine: Engine) -> None:
    numbers = write_story(engine)
    with transaction(engine, read_only=True) as session:
        found = incidents_not_closed_at(session, services=SERVICES, at=AT)
        assert [row.id for row in found] == [
            numbers[name] for name in ("refunds", "coupons", "checkout", "payments")
        ]
        assert found[2].service_names == ("checkout",)
        # before the old outage closed, it counts too; before anything opened, nothing does
        early = incidents_not_closed_at(
            session, services=SERVICES, at=datetime(2026, 3, 21, tzinfo=UTC)
        )
        assert [row.id for row in early] == [numbers["closed"]]
        assert incidents_not_closed_at(session, services=[], at=AT) == []


def test_post_mortem_states_of_the_incidents_that_have_one(engine: Engine) -> None:
    numbers = write_story(engine)
    with transaction(engine, read_only=True) as session:
        states = postmortem_states(session, incident_ids=numbers.values())
        assert states == {numbers["coupons"]: PostmortemState.DRAFT}
        assert postmortem_states(session, incident_ids=[]) == {}


def test_tasks_open_at_the_handoff_on_the_services(engine: Engine) -> None:
    numbers = write_story(engine)
    with transaction(engine) as session:
        titles = [row.title for row in tasks_open_at(session, services=SERVICES, at=AT)]
        assert titles == [
            "Add a canary stage to the checkout rollout",
            "Review the checkout error budget policy",
        ]
        canary = tasks_open_at(session, services=SERVICES, at=AT)[0]
        from srekit.core.incident import TaskState

        # done after the handoff: it was open then; done before: it was not
        repo.update_task(
            session, task_id=canary.id, actor="ana", state=TaskState.DONE, now=AT.replace(hour=9)
        )
        assert len(tasks_open_at(session, services=SERVICES, at=AT)) == 2
        assert len(tasks_open_at(session, services=SERVICES, at=AT.replace(hour=10))) == 1
        before = datetime(2026, 3, 27, 12, tzinfo=UTC)  # before any task was added
        assert tasks_open_at(session, services=SERVICES, at=before) == []
        assert tasks_open_at(session, services=[], at=AT) == []
        assert numbers["coupons"] == canary.incident_id


def test_alerts_that_started_in_the_outgoing_shift(engine: Engine) -> None:
    numbers = write_story(engine)
    start = datetime(2026, 3, 28, 17, tzinfo=UTC)
    with transaction(engine, read_only=True) as session:
        found = alerts_started_between(session, services=SERVICES, start=start, end=AT)
        assert found == [
            StartedAlert(
                "CheckoutErrorBudgetBurn",
                "checkout",
                "resolved",
                datetime(2026, 3, 29, 10, tzinfo=UTC),
                datetime(2026, 3, 29, 10, 20, tzinfo=UTC),
                None,
            ),
            StartedAlert(
                "CheckoutErrorBudgetBurn",
                "checkout",
                "firing",
                datetime(2026, 3, 30, 4, 50, tzinfo=UTC),
                None,
                numbers["checkout"],
            ),
            StartedAlert(
                "PaymentsDown",
                "payments-api",
                "firing",
                datetime(2026, 3, 30, 6, 29, tzinfo=UTC),
                None,
                numbers["payments"],
            ),
        ]
        assert alerts_started_between(session, services=[], start=start, end=AT) == []
