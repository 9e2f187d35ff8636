"""Deployments the gate was asked about, with its answer. They record, they do not change the
configuration: they are not audited. A busy gate records them in batches (`record_deployments`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from srekit.core.policy import GateDecision
from srekit.core.specs import canonical_json
from srekit.store.repo._base import check_name, when
from srekit.store.tables import DeploymentRow

__all__ = [
    "deployment_decisions",
    "deployment_values",
    "list_deployments",
    "list_deployments_between",
    "record_deployment",
    "record_deployments",
]


def deployment_values(
    *,
    service: str,
    change_type: str,
    decision: GateDecision,
    version: str | None = None,
    commit_time: datetime | None = None,
    requested_by: str | None = None,
    source: str = "api",
    now: datetime | None = None,
) -> dict[str, Any]:
    """The column values recording a deploy the gate was asked about, so a busy gate can
    insert hundreds in one statement (`record_deployments` with a list of these)."""
    if (decision.service, decision.change_type) != (service, change_type):
        raise ValueError(
            f"the decision is for {decision.service}/{decision.change_type},"
            f" not {service}/{change_type}"
        )
    check_name(service, "service")
    return {
        "service": service,
        "version": version,
        "commit_time": commit_time,
        "change_type": change_type,
        "allowed": decision.allowed,
        "decision": decision.decision.value,
        "state": decision.state,
        "reasons_json": canonical_json(list(decision.reasons)),
        "requested_at": when(now),
        "requested_by": requested_by,
        "source": source,
    }


def record_deployment(
    session: Session,
    *,
    service: str,
    change_type: str,
    decision: GateDecision,
    version: str | None = None,
    commit_time: datetime | None = None,
    requested_by: str | None = None,
    source: str = "api",
    now: datetime | None = None,
) -> DeploymentRow:
    """Record a deploy the gate was asked about, with its answer (allowed or not)."""
    row = DeploymentRow(
        **deployment_values(
            service=service,
            change_type=change_type,
            decision=decision,
            version=version,
            commit_time=commit_time,
            requested_by=requested_by,
            source=source,
            now=now,
        )
    )
    session.add(row)
    session.flush()
    return row


def record_deployments(session: Session, *, rows: Sequence[Mapping[str, Any]]) -> None:
    """Record many deploys (`deployment_values` each) in one executemany: the ORM's unit of
    work would hold the GIL for tens of milliseconds per batch and stall the API's event loop."""
    if rows:
        session.execute(insert(DeploymentRow), list(rows))


def list_deployments(
    session: Session,
    *,
    service: str | None = None,
    limit: int = 100,
    allowed: bool | None = None,
    offset: int = 0,
) -> list[DeploymentRow]:
    """Recorded deploys, newest first, optionally of one service or one answer (`allowed`),
    `offset` newest ones skipped (a page of them)."""
    query = select(DeploymentRow).order_by(
        DeploymentRow.requested_at.desc(), DeploymentRow.id.desc()
    )
    if service is not None:
        query = query.where(DeploymentRow.service == service)
    if allowed is not None:
        query = query.where(DeploymentRow.allowed == allowed)
    return list(session.scalars(query.offset(offset).limit(limit)))


def list_deployments_between(
    session: Session, *, services: Sequence[str], start: datetime, end: datetime, limit: int = 100
) -> list[DeploymentRow]:
    """Deploys of these services the gate was asked about in [start, end), oldest first: what
    changed before an incident."""
    if not services:
        return []
    return list(
        session.scalars(
            select(DeploymentRow)
            .where(
                DeploymentRow.service.in_(list(services)),
                DeploymentRow.requested_at >= start,
                DeploymentRow.requested_at < end,
            )
            .order_by(DeploymentRow.requested_at, DeploymentRow.id)
            .limit(limit)
        )
    )


def deployment_decisions(
    session: Session, *, start: datetime, end: datetime, services: Sequence[str] | None = None
) -> list[tuple[str, str, bool]]:
    """`(service, change_type, allowed)` of every deploy the gate was asked about in
    [start, end) (of these services, if given), oldest first: what a report counts."""
    query = select(DeploymentRow.service, DeploymentRow.change_type, DeploymentRow.allowed).where(
        DeploymentRow.requested_at >= start, DeploymentRow.requested_at < end
    )
    if services is not None:
        query = query.where(DeploymentRow.service.in_(list(services)))
    query = query.order_by(DeploymentRow.requested_at, DeploymentRow.id)
    return [(row.service, row.change_type, row.allowed) for row in session.execute(query)]
