"""Deployment records: what the gate was asked and answered, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from srekit.core.policy import Decision, GateDecision
from srekit.store import repo
from srekit.store.database import transaction

T0 = datetime(2026, 11, 1, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def _decision(service: str, change_type: str, *, allowed: bool) -> GateDecision:
    return GateDecision(
        service=service,
        change_type=change_type,
        allowed=allowed,
        decision=Decision.ALLOW if allowed else Decision.DENY,
        state="normal" if allowed else "emergency",
        reasons=("checkout/availability has 90.00% of its error budget left",),
    )


def test_deployments_round_trip_newest_first(engine: Engine) -> None:
    with transaction(engine) as session:
        row = repo.record_deployment(
            session,
            service="checkout",
            change_type="feature",
            decision=_decision("checkout", "feature", allowed=True),
            version="v1.2.3",
            commit_time=T0 - MINUTE,
            requested_by="argo",
            source="argo",
            now=T0,
        )
        assert row.id is not None
        repo.record_deployment(
            session,
            service="checkout",
            change_type="config",
            decision=_decision("checkout", "config", allowed=False),
            now=T0 + MINUTE,
        )
        # any service may be gated, stored or not
        repo.record_deployment(
            session,
            service="unknown-service",
            change_type="rollback",
            decision=_decision("unknown-service", "rollback", allowed=True),
            source="cli",
            now=T0 + 2 * MINUTE,
        )
    with transaction(engine) as session:
        rows = repo.list_deployments(session)
        assert [(r.service, r.change_type) for r in rows] == [
            ("unknown-service", "rollback"),
            ("checkout", "config"),
            ("checkout", "feature"),
        ]
        first = rows[-1]
        assert (first.version, first.commit_time, first.requested_at) == ("v1.2.3", T0 - MINUTE, T0)
        assert (first.allowed, first.decision, first.state) == (True, "allow", "normal")
        assert first.reasons == ("checkout/availability has 90.00% of its error budget left",)
        assert (first.requested_by, first.source) == ("argo", "argo")
        denied = rows[1]
        assert (denied.allowed, denied.decision, denied.version, denied.source) == (
            False,
            "deny",
            None,
            "api",
        )
        assert [r.change_type for r in repo.list_deployments(session, service="checkout")] == [
            "config",
            "feature",
        ]
        assert len(repo.list_deployments(session, limit=1)) == 1


def test_a_decision_for_another_deploy_is_refused(engine: Engine) -> None:
    with transaction(engine) as session, pytest.raises(ValueError, match="search/feature"):
        repo.record_deployment(
            session,
            service="checkout",
            change_type="feature",
            decision=_decision("search", "feature", allowed=True),
        )


def test_a_batch_is_recorded_in_one_statement(engine: Engine) -> None:
    rows = [
        repo.deployment_values(
            service="checkout",
            change_type=change_type,
            decision=_decision("checkout", change_type, allowed=allowed),
            now=T0 + index * MINUTE,
        )
        for index, (change_type, allowed) in enumerate((("feature", True), ("config", False)))
    ]
    with transaction(engine) as session:
        repo.record_deployments(session, rows=rows)
        repo.record_deployments(session, rows=[])  # nothing to write
    with transaction(engine) as session:
        assert [(r.change_type, r.allowed) for r in repo.list_deployments(session)] == [
            ("config", False),
            ("feature", True),
        ]
