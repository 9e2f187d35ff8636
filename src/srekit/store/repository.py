"""Reading and changing the stored state: keyword-only functions taking a SQLAlchemy Session.

Functions add and flush but never commit: the caller owns the transaction (`database.transaction`),
so applying many SLOs is all or nothing. Every change writes an audit row in the same transaction;
applying a spec equal to the stored one writes nothing. Snapshots and deployments are records,
not changes to the configuration: they are not audited.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, NamedTuple, TypeVar, cast

from sqlalchemy import CursorResult, delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, contains_eager, selectinload

from srekit.core.access import ROLE_NAMES
from srekit.core.policy import BudgetPolicy, GateDecision
from srekit.core.slo import SLO
from srekit.core.status import DataState, SloStatus
from srekit.errors import Conflict, NotFound, SpecError
from srekit.spec.loader import SpecSet
from srekit.store.codec import (
    CODEC_VERSION,
    alerts_to_list,
    canonical_json,
    policy_to_dict,
    slo_to_dict,
    spec_diff,
)
from srekit.store.tables import (
    AuditRow,
    DeploymentRow,
    PolicyRow,
    ServiceRow,
    SloRow,
    SloVersionRow,
    SnapshotRow,
    TeamRow,
)

__all__ = [
    "Applied",
    "SpecApplied",
    "apply_policy",
    "apply_slo",
    "apply_specs",
    "check_one_owner_per_service",
    "delete_service",
    "delete_slo",
    "delete_team",
    "deployment_values",
    "get_policy",
    "get_service",
    "get_slo",
    "last_good_snapshot",
    "latest_snapshots",
    "list_audit",
    "list_deployments",
    "list_policies",
    "list_services",
    "list_slos",
    "list_teams",
    "prune_snapshots",
    "record_audit",
    "record_deployment",
    "record_snapshots",
    "slo_history",
    "slo_versions",
    "split_slo_key",
    "upsert_service",
    "upsert_team",
]

RowT = TypeVar("RowT")


class Applied(NamedTuple, Generic[RowT]):
    """What applying one spec did: the row, whether a new version was written, and how it differs.

    `diff` is empty when nothing changed, `("created",)` for a first version.
    """

    row: RowT
    changed: bool
    diff: tuple[str, ...]

    @property
    def created(self) -> bool:
        return self.changed and self.diff == ("created",)


@dataclass(frozen=True)
class SpecApplied:
    """What `apply_specs` did, SLO by SLO and policy by policy, in spec order."""

    slos: tuple[Applied[SloRow], ...]
    policies: tuple[Applied[PolicyRow], ...]


def _when(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


@contextmanager
def _refused_as_conflict(what: str) -> Iterator[None]:
    """Turn a constraint violation at flush into a Conflict that says what was refused."""
    try:
        yield
    except IntegrityError as error:
        raise Conflict(f"{what}: {error.orig}".strip()) from error


_NAME_LIMIT = 200  # the width of the name columns


def _check_name(value: str, what: str, *, file: str | None = None) -> None:
    """Refuse names the columns cannot hold, the same way on SQLite (which would not) and
    PostgreSQL (which would fail with a driver error)."""
    if not value or len(value) > _NAME_LIMIT:
        raise SpecError(
            f"expected a {what} name of 1 to {_NAME_LIMIT} characters, got {len(value)}: "
            f"{value[:40]!r}{'...' if len(value) > 40 else ''}",
            file=file,
            field=what,
        )


def _slo_key(service: str, name: str) -> str:
    return f"{service}/{name}"


def record_audit(
    session: Session,
    *,
    actor: str,
    action: str,
    entity_kind: str,
    entity_id: str,
    before: Any = None,
    after: Any = None,
    now: datetime | None = None,
) -> AuditRow:
    """Append one audit row; `before`/`after` are JSON-ready values (None: did not exist)."""
    row = AuditRow(
        at=_when(now),
        actor=actor,
        action=action,
        entity_kind=entity_kind,
        entity_id=entity_id,
        before_json=None if before is None else canonical_json(before),
        after_json=None if after is None else canonical_json(after),
    )
    session.add(row)
    return row


def list_audit(
    session: Session,
    *,
    limit: int | None = 50,
    entity_kind: str | None = None,
    entity_id: str | None = None,
) -> list[AuditRow]:
    """Audit rows, newest first (by id: the order they were written)."""
    query = select(AuditRow).order_by(AuditRow.id.desc())
    if entity_kind is not None:
        query = query.where(AuditRow.entity_kind == entity_kind)
    if entity_id is not None:
        query = query.where(AuditRow.entity_id == entity_id)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def list_teams(session: Session) -> list[TeamRow]:
    return list(session.scalars(select(TeamRow).order_by(TeamRow.name)))


def _team(session: Session, name: str) -> TeamRow | None:
    return session.scalars(select(TeamRow).where(TeamRow.name == name)).one_or_none()


def upsert_team(session: Session, *, name: str, actor: str, now: datetime | None = None) -> TeamRow:
    """The team called `name`, created (and audited) when missing."""
    _check_name(name, "team")
    team = _team(session, name)
    if team is not None:
        return team
    team = TeamRow(name=name, created_at=_when(now))
    session.add(team)
    with _refused_as_conflict(f"team {name!r} could not be created"):
        session.flush()
    record_audit(
        session,
        actor=actor,
        action="team.create",
        entity_kind="team",
        entity_id=name,
        after={"name": name},
        now=now,
    )
    return team


def delete_team(session: Session, *, name: str, actor: str, now: datetime | None = None) -> None:
    """Delete a team; a Conflict while services still belong to it."""
    team = _team(session, name)
    if team is None:
        raise NotFound(f"no team {name!r} in the store")
    session.delete(team)
    with _refused_as_conflict(f"team {name!r} still owns services; move or delete them first"):
        session.flush()
    record_audit(
        session,
        actor=actor,
        action="team.delete",
        entity_kind="team",
        entity_id=name,
        before={"name": name},
        now=now,
    )


def _service_state(service: ServiceRow) -> dict[str, Any]:
    return {"name": service.name, "team": service.team.name if service.team else None}


def list_services(session: Session) -> list[ServiceRow]:
    query = select(ServiceRow).options(selectinload(ServiceRow.team)).order_by(ServiceRow.name)
    return list(session.scalars(query))


def _service(session: Session, name: str) -> ServiceRow | None:
    return session.scalars(select(ServiceRow).where(ServiceRow.name == name)).one_or_none()


def get_service(session: Session, *, name: str) -> ServiceRow:
    service = _service(session, name)
    if service is None:
        raise NotFound(f"no service {name!r} in the store")
    return service


def upsert_service(
    session: Session,
    *,
    name: str,
    team: str | None = None,
    actor: str,
    now: datetime | None = None,
) -> ServiceRow:
    """The service called `name`, created when missing; moved to `team` when one is given.

    `team=None` leaves the owner as it is: a spec that names no owner does not disown a service.
    """
    _check_name(name, "service")
    service = _service(session, name)
    owner = upsert_team(session, name=team, actor=actor, now=now) if team else None
    if service is None:
        service = ServiceRow(name=name, team=owner, created_at=_when(now), updated_at=_when(now))
        session.add(service)
        with _refused_as_conflict(f"service {name!r} could not be created"):
            session.flush()
        record_audit(
            session,
            actor=actor,
            action="service.create",
            entity_kind="service",
            entity_id=name,
            after=_service_state(service),
            now=now,
        )
    elif owner is not None and service.team_id != owner.id:
        before = _service_state(service)
        service.team = owner
        service.updated_at = _when(now)
        session.flush()
        record_audit(
            session,
            actor=actor,
            action="service.update",
            entity_kind="service",
            entity_id=name,
            before=before,
            after=_service_state(service),
            now=now,
        )
    return service


def delete_service(session: Session, *, name: str, actor: str, now: datetime | None = None) -> None:
    """Delete a service; a Conflict while it still has SLOs."""
    service = get_service(session, name=name)
    before = _service_state(service)
    session.delete(service)
    with _refused_as_conflict(f"service {name!r} still has SLOs; delete them first"):
        session.flush()
    record_audit(
        session,
        actor=actor,
        action="service.delete",
        entity_kind="service",
        entity_id=name,
        before=before,
        now=now,
    )


def _stored_spec(slo: SLO) -> dict[str, Any]:
    """What is versioned: everything but the file it came from (moving a file is no change)."""
    spec = slo_to_dict(slo)
    del spec["source_file"]
    return spec


def _slo_state(row: SloRow) -> dict[str, Any]:
    return {"version": row.version, "spec": row.spec()}


def apply_slo(
    session: Session,
    *,
    slo: SLO,
    actor: str,
    source_format: str | None = None,
    now: datetime | None = None,
) -> Applied[SloRow]:
    """Store `slo` as its service's current version, creating the service (and team) if needed.

    A spec equal to the stored one writes nothing and returns `changed=False`; otherwise a new
    version is written with the fields that changed, and the change is audited.
    """
    _check_name(slo.name, "name", file=slo.source_file)
    when = _when(now)
    service = upsert_service(session, name=slo.service, team=slo.owner, actor=actor, now=now)
    spec = _stored_spec(slo)
    spec_json = canonical_json(spec)
    row = session.scalars(
        select(SloRow).where(SloRow.service_id == service.id, SloRow.name == slo.name)
    ).one_or_none()
    if row is not None and row.spec_json == spec_json:
        return Applied(row, False, ())
    before = _slo_state(row) if row is not None else None
    diff = spec_diff(row.spec(), spec) if row is not None else ("created",)
    if row is None:
        row = SloRow(
            service=service,
            name=slo.name,
            version=1,
            created_at=when,
        )
        session.add(row)
    else:
        row.version += 1
    row.spec_json = spec_json
    row.codec_version = CODEC_VERSION
    row.source_format = source_format
    row.source_file = slo.source_file
    row.updated_at = when
    row.versions.append(
        SloVersionRow(
            version=row.version,
            spec_json=spec_json,
            codec_version=CODEC_VERSION,
            changes_json=canonical_json(list(diff)),
            source_format=source_format,
            source_file=slo.source_file,
            applied_by=actor,
            applied_at=when,
        )
    )
    with _refused_as_conflict(f"SLO {_slo_key(slo.service, slo.name)} could not be stored"):
        session.flush()
    record_audit(
        session,
        actor=actor,
        action="slo.create" if before is None else "slo.update",
        entity_kind="slo",
        entity_id=_slo_key(slo.service, slo.name),
        before=before,
        after=_slo_state(row),
        now=now,
    )
    return Applied(row, True, diff)


def split_slo_key(key: str) -> tuple[str, str]:
    """`(service, name)` from `service/name`; a SpecError when it is not of that shape."""
    service, slash, name = key.partition("/")
    if not slash or not service or not name:
        raise SpecError(f"expected SERVICE/NAME, got {key!r}", field="slo")
    return service, name


def get_slo(session: Session, *, service: str, name: str) -> SloRow:
    """The stored SLO `service/name`, or NotFound."""
    row = session.scalars(
        select(SloRow)
        .join(SloRow.service)
        .where(ServiceRow.name == service, SloRow.name == name)
        .options(selectinload(SloRow.service))
    ).one_or_none()
    if row is None:
        raise NotFound(f"no SLO {_slo_key(service, name)} in the store")
    return row


def list_slos(session: Session, *, service: str | None = None) -> list[SloRow]:
    """Stored SLOs by service then name, optionally of one service."""
    query = (
        select(SloRow)
        .join(SloRow.service)
        .options(selectinload(SloRow.service).selectinload(ServiceRow.team))
        .order_by(ServiceRow.name, SloRow.name)
    )
    if service is not None:
        query = query.where(ServiceRow.name == service)
    return list(session.scalars(query))


def slo_versions(session: Session, *, service: str, name: str) -> list[SloVersionRow]:
    """Every applied version of `service/name`, oldest first."""
    row = get_slo(session, service=service, name=name)
    return list(
        session.scalars(
            select(SloVersionRow)
            .where(SloVersionRow.slo_id == row.id)
            .order_by(SloVersionRow.version)
        )
    )


def delete_slo(
    session: Session, *, service: str, name: str, actor: str, now: datetime | None = None
) -> None:
    """Delete `service/name` and its versions; the audit row keeps its last spec."""
    row = get_slo(session, service=service, name=name)
    before = _slo_state(row)
    session.delete(row)
    session.flush()
    record_audit(
        session,
        actor=actor,
        action="slo.delete",
        entity_kind="slo",
        entity_id=_slo_key(service, name),
        before=before,
        now=now,
    )


def get_policy(session: Session, *, name: str) -> PolicyRow:
    row = session.scalars(select(PolicyRow).where(PolicyRow.name == name)).one_or_none()
    if row is None:
        raise NotFound(f"no policy {name!r} in the store")
    return row


def list_policies(session: Session) -> list[PolicyRow]:
    return list(session.scalars(select(PolicyRow).order_by(PolicyRow.name)))


def apply_policy(
    session: Session, *, policy: BudgetPolicy, actor: str, now: datetime | None = None
) -> Applied[PolicyRow]:
    """Store `policy` under its name: created, updated (new version, audited) or unchanged."""
    _check_name(policy.name, "policy")
    when = _when(now)
    spec = policy_to_dict(policy)
    spec_json = canonical_json(spec)
    row = session.scalars(select(PolicyRow).where(PolicyRow.name == policy.name)).one_or_none()
    if row is not None and row.spec_json == spec_json:
        return Applied(row, False, ())
    before = {"version": row.version, "spec": row.spec()} if row is not None else None
    diff = spec_diff(row.spec(), spec) if row is not None else ("created",)
    if row is None:
        row = PolicyRow(name=policy.name, version=1, created_at=when)
        session.add(row)
    else:
        row.version += 1
    row.spec_json = spec_json
    row.codec_version = CODEC_VERSION
    row.updated_at = when
    with _refused_as_conflict(f"policy {policy.name!r} could not be stored"):
        session.flush()
    record_audit(
        session,
        actor=actor,
        action="policy.create" if before is None else "policy.update",
        entity_kind="policy",
        entity_id=policy.name,
        before=before,
        after={"version": row.version, "spec": spec},
        now=now,
    )
    return Applied(row, True, diff)


def check_one_owner_per_service(slos: Sequence[SLO]) -> None:
    """Refuse specs whose SLOs give one service two owners: a service belongs to one team."""
    owners: dict[str, SLO] = {}
    for slo in slos:
        if slo.owner is None:
            continue
        first = owners.setdefault(slo.service, slo)
        if first.owner != slo.owner:
            raise SpecError(
                f"SLO {slo.service}/{slo.name} names owner {slo.owner!r} but"
                f" {first.service}/{first.name} names {first.owner!r}:"
                " a service belongs to one team",
                file=slo.source_file,
                field="owner",
            )


def apply_specs(
    session: Session,
    *,
    specs: SpecSet,
    actor: str,
    source_formats: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> SpecApplied:
    """Store every policy, then every SLO, of a parsed spec set (in the caller's transaction).

    `source_formats` maps a spec file to the format it was written in. SLOs stored earlier but
    absent from `specs` are kept: apply adds and updates, `delete_slo` removes.
    """
    check_one_owner_per_service(specs.slos)
    formats = source_formats or {}
    policies = tuple(
        apply_policy(session, policy=policy, actor=actor, now=now)
        for policy in specs.policies.values()
    )
    slos = tuple(
        apply_slo(
            session,
            slo=slo,
            actor=actor,
            source_format=formats.get(slo.source_file or ""),
            now=now,
        )
        for slo in specs.slos
    )
    return SpecApplied(slos=slos, policies=policies)


def _snapshot_values(status: SloStatus, slo: SloRow, when: datetime) -> dict[str, Any]:
    budget = status.error_budget
    counts = status.counts if status.counts is not None and status.counts.counted else None
    return {
        "slo_id": slo.id,
        "slo_version": slo.version,
        "evaluated_at": when,
        "objective": status.objective,
        "window": status.window,
        "window_s": status.window_s,
        "sli": status.sli,
        "remaining": budget.remaining if budget else None,
        "consumed": budget.consumed if budget else None,
        "allowed_bad_events": budget.allowed_bad_events if budget else None,
        "good_events": counts.good if counts else None,
        "total_events": counts.total if counts else None,
        "burn_rates_json": canonical_json(dict(status.burn_rates)),
        "time_to_exhaustion_s": status.time_to_exhaustion_s,
        "policy_state": status.policy_state,
        "data": status.data.value,
        "detail": status.detail,
        "alerts_json": canonical_json(alerts_to_list(status.alerts)),
    }


def record_snapshots(
    session: Session, *, statuses: Sequence[SloStatus], now: datetime | None = None
) -> int:
    """Store one snapshot per status of a stored SLO; returns how many were written.

    Each is stamped `now`, or its own `at` when `now` is None. Statuses of SLOs the store does
    not hold (deleted since the round began) are skipped: there is nothing to attach them to.
    """
    services = {status.service for status in statuses}
    if not services:
        return 0
    known = {
        (row.service.name, row.name): row
        for row in session.scalars(
            select(SloRow)
            .join(SloRow.service)
            .where(ServiceRow.name.in_(services))
            .options(contains_eager(SloRow.service))
        )
    }
    values = [
        _snapshot_values(status, known[status.service, status.slo], now or status.at)
        for status in statuses
        if (status.service, status.slo) in known
    ]
    if values:
        session.execute(insert(SnapshotRow), values)
    return len(values)


def _with_slo(query: Any) -> Any:
    """Load each snapshot's SLO and service in the same query (`SnapshotRow.to_status` reads
    them, possibly after the session has closed)."""
    return (
        query.join(SnapshotRow.slo)
        .join(SloRow.service)
        .options(contains_eager(SnapshotRow.slo).contains_eager(SloRow.service))
    )


def latest_snapshots(
    session: Session, *, service: str | None = None
) -> dict[tuple[str, str], SnapshotRow]:
    """The newest snapshot of every SLO (of one service), keyed by `(service, slo)`.

    One query; each SLO's newest row is found through the `(slo_id, evaluated_at, id)` index,
    so the cost grows with the number of SLOs, not with the history kept.
    """
    newer = aliased(SnapshotRow)
    newest_id = (
        select(newer.id)
        .where(newer.slo_id == SloRow.id)
        .order_by(newer.evaluated_at.desc(), newer.id.desc())
        .limit(1)
        .correlate(SloRow)
        .scalar_subquery()
    )
    query = _with_slo(select(SnapshotRow)).where(SnapshotRow.id == newest_id)
    if service is not None:
        query = query.where(ServiceRow.name == service)
    rows: list[SnapshotRow] = list(session.scalars(query))
    return {(row.slo.service.name, row.slo.name): row for row in rows}


def newest_snapshot_id(session: Session) -> int | None:
    """The highest snapshot id: it moves whenever a round records (snapshots are only added)."""
    return session.execute(select(func.max(SnapshotRow.id))).scalar()


def newest_audit_id(session: Session) -> int | None:
    """The highest audit-log id: every change to services, SLOs and policies writes one."""
    return session.execute(select(func.max(AuditRow.id))).scalar()


_GOOD_DATA = (DataState.OK.value, DataState.NO_DATA.value)


def last_good_snapshot(session: Session, *, slo_id: int) -> SnapshotRow | None:
    """The newest snapshot of an SLO whose source answered (`ok` or `no_data`), if any."""
    query = (
        _with_slo(select(SnapshotRow))
        .where(SnapshotRow.slo_id == slo_id, SnapshotRow.data.in_(_GOOD_DATA))
        .order_by(SnapshotRow.evaluated_at.desc(), SnapshotRow.id.desc())
        .limit(1)
    )
    return cast(SnapshotRow | None, session.scalars(query).first())


def slo_history(
    session: Session,
    *,
    service: str,
    name: str,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 1000,
) -> list[SnapshotRow]:
    """Snapshots of `service/name` in `[since, until]`, oldest first: the newest `limit` of them.

    NotFound when the SLO is not stored.
    """
    slo = get_slo(session, service=service, name=name)
    query = _with_slo(select(SnapshotRow)).where(SnapshotRow.slo_id == slo.id)
    if since is not None:
        query = query.where(SnapshotRow.evaluated_at >= since)
    if until is not None:
        query = query.where(SnapshotRow.evaluated_at <= until)
    query = query.order_by(SnapshotRow.evaluated_at.desc(), SnapshotRow.id.desc()).limit(limit)
    rows: list[SnapshotRow] = list(session.scalars(query))
    return rows[::-1]


def prune_snapshots(session: Session, *, older_than: datetime) -> int:
    """Delete snapshots taken before `older_than`, keeping each SLO's newest one (so a status
    can still be shown, as stale, after a long stop); returns how many were deleted."""
    newer = aliased(SnapshotRow)
    newest_at = (
        select(func.max(newer.evaluated_at))
        .where(newer.slo_id == SnapshotRow.slo_id)
        .scalar_subquery()
    )
    result = session.execute(
        delete(SnapshotRow)
        .where(SnapshotRow.evaluated_at < older_than, SnapshotRow.evaluated_at < newest_at)
        .execution_options(synchronize_session=False)
    )
    return cast(CursorResult[Any], result).rowcount


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
    insert hundreds in one statement (`insert(DeploymentRow)` with a list of these)."""
    if (decision.service, decision.change_type) != (service, change_type):
        raise ValueError(
            f"the decision is for {decision.service}/{decision.change_type},"
            f" not {service}/{change_type}"
        )
    _check_name(service, "service")
    return {
        "service": service,
        "version": version,
        "commit_time": commit_time,
        "change_type": change_type,
        "allowed": decision.allowed,
        "decision": decision.decision.value,
        "state": decision.state,
        "reasons_json": canonical_json(list(decision.reasons)),
        "requested_at": _when(now),
        "requested_by": requested_by,
        "source": source,
    }


def record_deployments(session: Session, *, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert many `deployment_values` in one executemany: the ORM's unit of work would hold
    the GIL for tens of milliseconds per batch and stall a busy server's event loop."""
    if rows:
        session.execute(insert(DeploymentRow), list(rows))


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


def list_deployments(
    session: Session, *, service: str | None = None, limit: int = 100
) -> list[DeploymentRow]:
    """Recorded deploys, newest first, optionally of one service."""
    query = select(DeploymentRow).order_by(
        DeploymentRow.requested_at.desc(), DeploymentRow.id.desc()
    )
    if service is not None:
        query = query.where(DeploymentRow.service == service)
    return list(session.scalars(query.limit(limit)))


# --- API tokens (the srekit server) ------------------------------------------------------------
# Kept as one block, after the rest, so the server's additions stay apart from the store's.

import hashlib  # noqa: E402  (the token block's own imports, kept with it)
import secrets  # noqa: E402
from datetime import timedelta  # noqa: E402

from srekit.store.tables import ApiTokenRow  # noqa: E402

TOKEN_PREFIX = "srk_"
_LAST_USED_PRECISION = timedelta(minutes=5)  # how stale `last_used_at` may be: fewer writes


def hash_token(token: str) -> str:
    """The SHA-256 hex digest of `token`, as the store keeps it.

    A fast hash is right here, unlike for passwords: tokens are 32 random bytes (256 bits), so
    no dictionary or brute force can find one from its hash however fast the hash is, and a
    slow KDF (bcrypt, argon2) would cost milliseconds on every request of a server meant to
    answer thousands per second. An unsalted digest can also be looked up by index.
    """
    return hashlib.sha256(token.encode()).hexdigest()


def _token_state(row: ApiTokenRow) -> dict[str, Any]:
    """What the audit log keeps of a token: never the token or its hash."""
    return {"name": row.name, "role": row.role, "prefix": row.prefix}


def create_token(
    session: Session,
    *,
    role: str,
    actor: str,
    name: str | None = None,
    now: datetime | None = None,
) -> tuple[ApiTokenRow, str]:
    """A new token with `role`: the row and the token itself (`srk_` + 32 random bytes,
    URL-safe base64), which is returned this once and never stored."""
    if role not in ROLE_NAMES:
        raise SpecError(f"expected one of {', '.join(ROLE_NAMES)}, got {role!r}", field="role")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    prefix = token[: len(TOKEN_PREFIX) + 6]
    name = name if name is not None else f"{role}-{prefix[len(TOKEN_PREFIX) :]}"
    _check_name(name, "token")
    row = ApiTokenRow(
        name=name,
        role=role,
        token_hash=hash_token(token),
        prefix=prefix,
        created_at=_when(now),
        created_by=actor,
    )
    session.add(row)
    with _refused_as_conflict(f"a token named {name!r} exists already"):
        session.flush()
    record_audit(
        session,
        actor=actor,
        action="token.create",
        entity_kind="token",
        entity_id=name,
        after=_token_state(row),
        now=now,
    )
    return row, token


def authenticate_token(
    session: Session, *, token: str, now: datetime | None = None
) -> ApiTokenRow | None:
    """The active token row `token` belongs to, or None (unknown, malformed or revoked).

    Notes when it was last used, at most every few minutes so reads do not turn into writes.
    """
    if not token.startswith(TOKEN_PREFIX):
        return None
    row = session.scalars(
        select(ApiTokenRow).where(ApiTokenRow.token_hash == hash_token(token))
    ).one_or_none()
    if row is None or row.revoked_at is not None:
        return None
    when = _when(now)
    if row.last_used_at is None or when - row.last_used_at >= _LAST_USED_PRECISION:
        row.last_used_at = when
        session.flush()
    return row


def list_tokens(session: Session, *, include_revoked: bool = False) -> list[ApiTokenRow]:
    """Tokens by name; revoked ones only when asked."""
    query = select(ApiTokenRow).order_by(ApiTokenRow.name)
    if not include_revoked:
        query = query.where(ApiTokenRow.revoked_at.is_(None))
    return list(session.scalars(query))


def revoke_token(
    session: Session, *, name: str, actor: str, now: datetime | None = None
) -> ApiTokenRow:
    """Revoke the token called `name` (kept, marked revoked, for the record); NotFound if no
    active token has that name."""
    row = session.scalars(select(ApiTokenRow).where(ApiTokenRow.name == name)).one_or_none()
    if row is None or row.revoked_at is not None:
        raise NotFound(f"no active token {name!r}")
    row.revoked_at = _when(now)
    session.flush()
    record_audit(
        session,
        actor=actor,
        action="token.revoke",
        entity_kind="token",
        entity_id=name,
        before=_token_state(row),
        now=now,
    )
    return row


__all__ += [
    "TOKEN_PREFIX",
    "authenticate_token",
    "create_token",
    "hash_token",
    "list_tokens",
    "revoke_token",
]
