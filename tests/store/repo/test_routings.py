"""Stored alert routings and their versions, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from srekit.core.incident import Severity
from srekit.core.routing import DEFAULT_ROUTING, AlertRoute, AlertRouting, OnResolved
from srekit.errors import NotFound, SpecError
from srekit.store import repo
from srekit.store.database import transaction
from tests.concurrently import at_once

ONCALL = AlertRouting(
    name="default",
    routes=(
        AlertRoute(match={"severity": "page"}, severity=Severity.P1),
        AlertRoute(match_re={"service": "pay.*"}, incident=False, group_by=()),
    ),
    service_label="app",
    on_resolved=OnResolved.KEEP,
)
AT = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def test_without_a_stored_default_the_built_in_routing_holds(engine: Engine) -> None:
    with transaction(engine) as session:
        assert repo.active_routing(session) is DEFAULT_ROUTING
        assert repo.find_routing(session, name="default") is None
        assert repo.list_routings(session) == []
        with pytest.raises(NotFound, match="no alert routing 'default'"):
            repo.get_routing(session, name="default")


def test_apply_creates_then_versions_changes_and_writes_nothing_when_equal(
    engine: Engine,
) -> None:
    with transaction(engine) as session:
        created = repo.apply_routing(session, routing=ONCALL, actor="alice", now=AT)
        assert (created.created, created.changed, created.row.version) == (True, True, 1)
        assert created.row.created_at == AT
    with transaction(engine) as session:
        again = repo.apply_routing(session, routing=ONCALL, actor="alice")
        assert (again.changed, again.diff, again.row.version) == (False, (), 1)
    paging = replace(ONCALL.routes[0], severity=Severity.P0)
    changed = replace(ONCALL, routes=(paging, ONCALL.routes[1]))
    with transaction(engine) as session:
        updated = repo.apply_routing(session, routing=changed, actor="bob")
        assert (updated.created, updated.changed, updated.row.version) == (False, True, 2)
        assert updated.diff == ('routes[0].severity: "P1" → "P0"',)
    with transaction(engine) as session:
        assert repo.active_routing(session) == changed
        row = repo.get_routing(session, name="default")
        assert repo.routing_of(row) == changed
        assert [r.name for r in repo.list_routings(session)] == ["default"]
        audited = repo.list_audit(session, entity_kind="routing")
        assert [(a.action, a.actor) for a in audited] == [
            ("routing.update", "bob"),
            ("routing.create", "alice"),
        ]
        assert audited[0].before["version"] == 1
        assert audited[0].after["spec"]["routes"][0]["severity"] == "P0"


def test_only_the_routing_named_default_is_active(engine: Engine) -> None:
    with transaction(engine) as session:
        repo.apply_routing(session, routing=replace(ONCALL, name="staging"), actor="a")
    with transaction(engine) as session:
        assert repo.active_routing(session) is DEFAULT_ROUTING
        repo.apply_routing(session, routing=ONCALL, actor="a")
    with transaction(engine) as session:
        assert repo.active_routing(session) == ONCALL
        assert [r.name for r in repo.list_routings(session)] == ["default", "staging"]


def test_delete_brings_back_the_built_in_routing_and_keeps_the_last_spec(
    engine: Engine,
) -> None:
    with transaction(engine) as session:
        repo.apply_routing(session, routing=ONCALL, actor="a")
    with transaction(engine) as session:
        repo.delete_routing(session, name="default", actor="b")
    with transaction(engine) as session:
        assert repo.active_routing(session) is DEFAULT_ROUTING
        deleted = repo.list_audit(session, entity_kind="routing")[0]
        assert (deleted.action, deleted.entity_id, deleted.after_json) == (
            "routing.delete",
            "default",
            None,
        )
        assert deleted.before["spec"]["service_label"] == "app"
        with pytest.raises(NotFound):
            repo.delete_routing(session, name="default", actor="b")


def test_a_name_the_rule_refuses_is_not_stored(engine: Engine) -> None:
    with transaction(engine) as session, pytest.raises(SpecError, match=r"metadata\.name"):
        repo.apply_routing(session, routing=replace(ONCALL, name="Default"), actor="a")
    with transaction(engine) as session:
        assert repo.list_routings(session) == []


def test_concurrent_changes_to_one_routing_are_none_lost(engine: Engine) -> None:
    with transaction(engine) as session:
        repo.apply_routing(session, routing=ONCALL, actor="a")

    def change(label: str) -> None:
        with transaction(engine) as session:
            repo.apply_routing(session, routing=replace(ONCALL, service_label=label), actor="a")
            time.sleep(0.05)  # hold the change open while the others read

    assert at_once(change, [f"label_{n}" for n in range(4)]) == []
    with transaction(engine) as session:
        assert repo.get_routing(session, name="default").version == 5
        audited = repo.list_audit(session, entity_kind="routing")
        assert sorted(row.after["version"] for row in audited) == [1, 2, 3, 4, 5]


def test_a_stored_routing_that_does_not_read_names_its_field(engine: Engine) -> None:
    with transaction(engine) as session:
        row = repo.apply_routing(session, routing=ONCALL, actor="a").row
        row.spec_json = json.dumps({"routes": [{"severity": "P9"}]})
    with (
        transaction(engine) as session,
        pytest.raises(SpecError, match=r"spec\.routes\[0\]\.severity: stored alert routing"),
    ):
        repo.active_routing(session)
