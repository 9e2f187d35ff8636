"""Stored policies and their versions, on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
from sqlalchemy import Engine

from srekit.core.policy import DEFAULT_POLICY, BudgetPolicy, Decision, PolicyLevel
from srekit.errors import NotFound
from srekit.spec.loader import SpecSet
from srekit.store import repo
from srekit.store.database import transaction
from tests.concurrently import at_once
from tests.store.repo.samples import AVAILABILITY


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
        assert [a.created for a in result.policies] + [a.created for a in result.slos] == [
            True,
            True,
        ]
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


def test_concurrent_changes_to_one_policy_are_none_lost(engine: Engine) -> None:
    """On PostgreSQL concurrent changes each read version n and wrote n + 1, the last one
    winning silently; the row is now locked while a change is computed."""
    strict = BudgetPolicy(
        name="strict",
        levels=(PolicyLevel("ok", 0.5, Decision.ALLOW), PolicyLevel("frozen", None, Decision.DENY)),
    )
    with transaction(engine) as session:
        repo.apply_policy(session, policy=strict, actor="a")

    def change(floor: float) -> None:
        with transaction(engine) as session:
            levels = (replace(strict.levels[0], floor=floor), strict.levels[1])
            repo.apply_policy(session, policy=replace(strict, levels=levels), actor="a")
            time.sleep(0.05)  # hold the change open while the others read

    assert at_once(change, [0.1 + n / 10 for n in range(4)]) == []
    with transaction(engine) as session:
        assert repo.get_policy(session, name="strict").version == 5
        audited = repo.list_audit(session, entity_kind="policy")
        assert sorted(row.after["version"] for row in audited) == [1, 2, 3, 4, 5]
