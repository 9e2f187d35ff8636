"""Services, the teams that own them, and what deleting either refuses, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import Engine

from srekit.errors import Conflict
from srekit.store import repo
from srekit.store.database import transaction
from tests.store.repo.samples import AVAILABILITY, LATENCY


def test_services_belong_to_teams(engine: Engine) -> None:
    with transaction(engine) as session:
        repo.apply_slo(session, slo=LATENCY, actor="a")  # no owner: no team yet
        assert repo.get_service(session, name="checkout").team is None
        repo.apply_slo(session, slo=AVAILABILITY, actor="a")  # owner: team-payments
        repo.apply_slo(session, slo=replace(LATENCY, service="cart"), actor="a")
        repo.upsert_service(session, name="cart", team="team-payments", actor="a")
    with transaction(engine) as session:
        (team,) = repo.list_teams(session)
        assert [s.name for s in team.services] == ["cart", "checkout"]
        assert [slo.name for slo in repo.get_service(session, name="checkout").slos] == [
            "availability",
            "latency",
        ]
        repo.upsert_service(session, name="cart", team="team-shop", actor="b")
        repo.upsert_service(session, name="checkout", actor="b")  # no team: keeps its owner
    with transaction(engine) as session:
        assert {(s.name, s.team.name if s.team else None) for s in repo.list_services(session)} == {
            ("cart", "team-shop"),
            ("checkout", "team-payments"),
        }
        moved = repo.list_audit(session, entity_kind="service", entity_id="cart", limit=1)[0]
        assert (moved.before["team"], moved.after["team"]) == ("team-payments", "team-shop")
        assert [row.key for row in repo.list_slos(session)] == [
            "cart/latency",
            "checkout/availability",
            "checkout/latency",
        ]
        assert [row.key for row in repo.list_slos(session, service="cart")] == ["cart/latency"]


def test_deleting_what_others_depend_on_is_a_conflict(engine: Engine) -> None:
    with transaction(engine) as session:
        repo.apply_slo(session, slo=AVAILABILITY, actor="a")
    with (
        pytest.raises(Conflict, match="service 'checkout' still has SLOs"),
        transaction(engine) as session,
    ):
        repo.delete_service(session, name="checkout", actor="a")
    with (
        pytest.raises(Conflict, match="team 'team-payments' still owns services"),
        transaction(engine) as session,
    ):
        repo.delete_team(session, name="team-payments", actor="a")
    with transaction(engine) as session:
        repo.delete_slo(session, service="checkout", name="availability", actor="a")
        repo.delete_service(session, name="checkout", actor="a")
        repo.delete_team(session, name="team-payments", actor="a")
        assert repo.list_services(session) == []
        assert repo.list_teams(session) == []


def test_service_teams_name_each_services_team_in_one_read(engine: Engine) -> None:
    with transaction(engine) as session:
        repo.apply_slo(session, slo=LATENCY, actor="a")  # checkout, no owner: no team yet
        repo.apply_slo(session, slo=replace(LATENCY, service="cart"), actor="a")
        repo.upsert_service(session, name="cart", team="team-shop", actor="a")
    with transaction(engine) as session:
        teams = repo.service_teams(session)
        assert teams == {"cart": "team-shop", "checkout": None}
        assert teams == {
            row.name: row.team.name if row.team else None for row in repo.list_services(session)
        }
