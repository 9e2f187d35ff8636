"""Applying, versioning, deleting and auditing stored SLOs, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, func, select

from srekit.core.policy import DEFAULT_POLICY, BudgetPolicy, Decision, PolicyLevel
from srekit.core.slo import SLO, EventsRatio, PromLatency
from srekit.core.window import RollingWindow
from srekit.errors import Conflict, NotFound, SpecError
from srekit.spec.loader import SpecSet
from srekit.store import repo
from srekit.store.database import transaction
from srekit.store.tables import SloRow, SloVersionRow

T0 = datetime(2026, 11, 1, tzinfo=UTC)
T1 = datetime(2026, 11, 2, tzinfo=UTC)

AVAILABILITY = SLO(
    service="checkout",
    name="availability",
    objective=0.999,
    window=RollingWindow(2592000),
    indicator=EventsRatio(good="status < 500"),
    owner="team-payments",
    source_file="slos/checkout.yaml",
)
LATENCY = SLO(
    service="checkout",
    name="latency",
    objective=0.95,
    window=RollingWindow(604800),
    indicator=PromLatency(metric="http_request_duration_seconds", threshold_s=0.3),
)


def audit(engine: Engine) -> list[tuple[str, str]]:
    with transaction(engine) as session:
        return [(row.action, row.entity_id) for row in reversed(repo.list_audit(session))]


def test_apply_creates_the_slo_its_service_and_team(engine: Engine) -> None:
    with transaction(engine) as session:
        applied = repo.apply_slo(
            session, slo=AVAILABILITY, actor="alice", source_format="srekit/v1", now=T0
        )
        assert applied.changed
        assert applied.created
        assert applied.diff == ("created",)
    with transaction(engine) as session:
        row = repo.get_slo(session, service="checkout", name="availability")
        assert row.version == 1
        assert row.source_format == "srekit/v1"
        assert row.created_at == row.updated_at == T0
        assert row.service.team is not None
        assert row.service.team.name == "team-payments"
        assert row.to_slo() == AVAILABILITY
        (version,) = repo.slo_versions(session, service="checkout", name="availability")
        assert (version.version, version.applied_by, version.applied_at) == (1, "alice", T0)
        assert version.changes == ("created",)
    assert audit(engine) == [
        ("team.create", "team-payments"),
        ("service.create", "checkout"),
        ("slo.create", "checkout/availability"),
    ]


def test_applying_the_same_spec_again_changes_nothing(engine: Engine) -> None:
    with transaction(engine) as session:
        repo.apply_slo(session, slo=AVAILABILITY, actor="alice", now=T0)
    moved = replace(AVAILABILITY, source_file="elsewhere/checkout.yaml")
    with transaction(engine) as session:
        applied = repo.apply_slo(session, slo=moved, actor="bob", now=T1)
        assert (applied.changed, applied.diff, applied.row.version) == (False, (), 1)
    with transaction(engine) as session:
        assert session.scalar(select(func.count()).select_from(SloVersionRow)) == 1
        assert repo.get_slo(session, service="checkout", name="availability").updated_at == T0
    assert len(audit(engine)) == 3


def test_a_changed_spec_is_a_new_version_saying_what_changed(engine: Engine) -> None:
    with transaction(engine) as session:
        repo.apply_slo(session, slo=AVAILABILITY, actor="alice", now=T0)
    stricter = replace(AVAILABILITY, objective=0.9995, labels={"tier": "1"})
    with transaction(engine) as session:
        applied = repo.apply_slo(session, slo=stricter, actor="bob", now=T1)
        assert applied.changed
        assert not applied.created
        assert applied.row.version == 2
        assert applied.diff == ('labels.tier: added "1"', "objective: 0.999 → 0.9995")
    with transaction(engine) as session:
        row = repo.get_slo(session, service="checkout", name="availability")
        assert row.to_slo() == stricter
        assert (row.created_at, row.updated_at) == (T0, T1)
        versions = repo.slo_versions(session, service="checkout", name="availability")
        assert [(v.version, v.applied_by) for v in versions] == [(1, "alice"), (2, "bob")]
        assert versions[1].changes == applied.diff
        assert versions[0].spec()["objective"] == 0.999
        last = repo.list_audit(session, limit=1)[0]
    assert (last.action, last.actor, last.at) == ("slo.update", "bob", T1)
    assert last.before["version"] == 1
    assert last.before["spec"]["objective"] == 0.999
    assert last.after["version"] == 2
    assert last.after["spec"]["objective"] == 0.9995


def test_delete_is_audited_with_the_last_spec(engine: Engine) -> None:
    with transaction(engine) as session:
        repo.apply_slo(session, slo=AVAILABILITY, actor="alice", now=T0)
        repo.apply_slo(session, slo=replace(AVAILABILITY, objective=0.99), actor="alice", now=T0)
    with transaction(engine) as session:
        repo.delete_slo(session, service="checkout", name="availability", actor="carol", now=T1)
    with transaction(engine) as session:
        with pytest.raises(NotFound, match="no SLO checkout/availability"):
            repo.get_slo(session, service="checkout", name="availability")
        assert session.scalar(select(func.count()).select_from(SloVersionRow)) == 0
        (entry,) = repo.list_audit(session, entity_kind="slo", limit=1)
        assert (entry.action, entry.actor, entry.at, entry.after) == (
            "slo.delete",
            "carol",
            T1,
            None,
        )
        assert entry.before["version"] == 2
        assert entry.before["spec"]["objective"] == 0.99
        trail = repo.list_audit(session, entity_kind="slo", entity_id="checkout/availability")
        assert [e.action for e in trail] == ["slo.delete", "slo.update", "slo.create"]
    with transaction(engine) as session:  # applying it again starts a new history
        assert repo.apply_slo(session, slo=AVAILABILITY, actor="alice").row.version == 1


def test_deleting_a_missing_slo_is_not_found(engine: Engine) -> None:
    with pytest.raises(NotFound), transaction(engine) as session:
        repo.delete_slo(session, service="nope", name="x", actor="a")


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


def test_a_duplicate_row_is_a_conflict_not_a_crash(engine: Engine) -> None:
    with transaction(engine) as session:
        row = repo.apply_slo(session, slo=AVAILABILITY, actor="a").row
        service_id = row.service_id
    with (
        pytest.raises(Conflict, match=r"uq_slos_service_id_name|UNIQUE"),
        transaction(engine) as session,
    ):
        session.add(
            SloRow(
                service_id=service_id,
                name="availability",
                version=1,
                spec_json="{}",
                codec_version=1,
            )
        )
    with transaction(engine) as session:
        assert len(repo.list_slos(session)) == 1


def test_a_failing_multi_slo_apply_stores_nothing(engine: Engine) -> None:
    with transaction(engine) as session:
        repo.apply_slo(session, slo=AVAILABILITY, actor="a", now=T0)
    before = audit(engine)
    specs = SpecSet(
        slos=(
            replace(AVAILABILITY, objective=0.99),
            LATENCY,
            replace(LATENCY, name="latency-p99", owner="team-other"),
        )
    )
    with (
        pytest.raises(SpecError, match="a service belongs to one team"),
        transaction(engine) as session,
    ):
        repo.apply_specs(session, specs=specs, actor="b")
    # a failure part-way (here: in the store) rolls back what was already written
    specs = SpecSet(
        slos=(replace(AVAILABILITY, objective=0.99), LATENCY, replace(LATENCY, name="x" * 300))
    )
    with (
        pytest.raises(SpecError, match="1 to 200 characters, got 300"),
        transaction(engine) as session,
    ):
        repo.apply_specs(session, specs=specs, actor="b")
    with transaction(engine) as session:
        assert [row.key for row in repo.list_slos(session)] == ["checkout/availability"]
        assert repo.get_slo(session, service="checkout", name="availability").version == 1
    assert audit(engine) == before


def test_apply_specs_stores_policies_with_versions(engine: Engine) -> None:
    strict = BudgetPolicy(
        name="strict",
        levels=(PolicyLevel("ok", 0.5, Decision.ALLOW), PolicyLevel("frozen", None, Decision.DENY)),
    )
    specs = SpecSet(slos=(replace(AVAILABILITY, policy="strict"),), policies={"strict": strict})
    with transaction(engine) as session:
        result = repo.apply_specs(
            session, specs=specs, actor="a", source_formats={"slos/checkout.yaml": "srekit/v1"}
        )
        assert [a.created for a in (*result.policies, *result.slos)] == [True, True]
        assert result.slos[0].row.source_format == "srekit/v1"
    looser = replace(strict, levels=(replace(strict.levels[0], floor=0.3), strict.levels[1]))
    with transaction(engine) as session:
        result = repo.apply_specs(
            session, specs=replace(specs, policies={"strict": looser}), actor="a"
        )
        assert result.policies[0].diff == ("levels[0].floor: 0.5 → 0.3",)
        assert [a.changed for a in result.slos] == [False]
    with transaction(engine) as session:
        row = repo.get_policy(session, name="strict")
        assert (row.version, row.to_policy()) == (2, looser)
        assert [p.name for p in repo.list_policies(session)] == ["strict"]
        with pytest.raises(NotFound):
            repo.get_policy(session, name=DEFAULT_POLICY.name)


def test_the_audit_log_is_append_only(engine: Engine) -> None:
    with transaction(engine) as session:
        repo.apply_slo(session, slo=AVAILABILITY, actor="a")
    with pytest.raises(ValueError, match="append-only"), transaction(engine) as session:
        repo.list_audit(session)[0].actor = "someone else"
    with pytest.raises(ValueError, match="append-only"), transaction(engine) as session:
        session.delete(repo.list_audit(session)[0])
    assert [a for a, _ in audit(engine)] == ["team.create", "service.create", "slo.create"]


def test_list_audit_is_newest_first_and_limited(engine: Engine) -> None:
    with transaction(engine) as session:
        repo.apply_slo(session, slo=AVAILABILITY, actor="a")
        repo.apply_slo(session, slo=LATENCY, actor="a")
    with transaction(engine) as session:
        assert [e.entity_id for e in repo.list_audit(session, limit=2)] == [
            "checkout/latency",
            "checkout/availability",
        ]
        assert len(repo.list_audit(session, limit=None)) == 4


def test_slo_keys() -> None:
    assert repo.split_slo_key("checkout/availability") == ("checkout", "availability")
    for bad in ("checkout", "/x", "x/"):
        with pytest.raises(SpecError, match="SERVICE/NAME"):
            repo.split_slo_key(bad)
