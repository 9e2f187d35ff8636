"""Stored SLOs, keyed `service/name`: every applied version is kept, and applying a spec equal
to the stored one writes nothing."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from srekit.core.slo import SLO
from srekit.core.specs import canonical_json, spec_diff
from srekit.errors import NotFound, SpecError
from srekit.store.codec import CODEC_VERSION, slo_to_dict
from srekit.store.repo._base import Applied, check_name, when
from srekit.store.repo.audit import audited_write
from srekit.store.repo.services import upsert_service
from srekit.store.tables import ServiceRow, SloRow, SloVersionRow

__all__ = [
    "apply_slo",
    "delete_slo",
    "get_slo",
    "list_slos",
    "readable_spec",
    "slo_ids",
    "slo_objectives",
    "slo_versions",
    "split_slo_key",
]


def _slo_key(service: str, name: str) -> str:
    return f"{service}/{name}"


def _stored_spec(slo: SLO) -> dict[str, Any]:
    """What is versioned: everything but the file it came from (moving a file is no change)."""
    spec = slo_to_dict(slo)
    del spec["source_file"]
    return spec


def readable_spec(row: SloRow) -> dict[str, Any]:
    """The stored SLO's spec as this srekit writes one, in the codec's field order (service,
    name, objective, ...), without the file it came from."""
    return _stored_spec(row.to_slo())


def _slo_state(row: SloRow) -> dict[str, Any]:
    return {"version": row.version, "spec": row.spec()}


def _changed_fields(
    old: dict[str, Any], new: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The top-level fields of two specs that differ, as they were and as they are: what an
    update's audit row keeps (the whole spec is the version's, once)."""
    changed = [key for key in {**old, **new} if old.get(key) != new.get(key)]
    return (
        {key: old[key] for key in changed if key in old},
        {key: new[key] for key in changed if key in new},
    )


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
    version is written with the fields that changed, and the change is audited. The spec is
    kept once per version: the audit row of a creation holds the version number, that of an
    update the version numbers and the fields that changed, before and after (a deletion's
    keeps the whole last spec, since the versions go with the SLO).
    """
    check_name(slo.name, "name", file=slo.source_file)
    at = when(now)
    service = upsert_service(session, name=slo.service, team=slo.owner, actor=actor, now=now)
    spec = _stored_spec(slo)
    spec_json = canonical_json(spec)
    # FOR UPDATE: concurrent changes to one SLO on PostgreSQL take turns, each reading the
    # version the previous one wrote (SQLite's write lock already serializes them)
    row = session.scalars(
        select(SloRow)
        .where(SloRow.service_id == service.id, SloRow.name == slo.name)
        .with_for_update()
    ).one_or_none()
    if row is not None and row.spec_json == spec_json:
        return Applied(row, False, ())
    old = row.spec() if row is not None else None
    diff = spec_diff(old, spec) if old is not None else ("created",)
    was, now_is = _changed_fields(old, spec) if old is not None else ({}, {})
    before = {"version": row.version, "spec": was} if row is not None else None
    if row is None:
        row = SloRow(service=service, name=slo.name, version=1, created_at=at)
        session.add(row)
    else:
        row.version += 1
    row.spec_json = spec_json
    row.codec_version = CODEC_VERSION
    row.source_format = source_format
    row.source_file = slo.source_file
    row.updated_at = at
    # added beside the SLO, not appended to `row.versions`: that would load every version
    session.add(
        SloVersionRow(
            slo=row,
            version=row.version,
            spec_json=spec_json,
            codec_version=CODEC_VERSION,
            changes_json=canonical_json(list(diff)),
            source_format=source_format,
            source_file=slo.source_file,
            applied_by=actor,
            applied_at=at,
        )
    )
    key = _slo_key(slo.service, slo.name)
    audited_write(
        session,
        actor=actor,
        action="slo.create" if before is None else "slo.update",
        target=key,
        before=before,
        after={"version": row.version, "spec": now_is} if before else {"version": row.version},
        refused=f"SLO {key} could not be stored",
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


def slo_ids(session: Session, *, keys: Collection[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """The id of each stored SLO of `keys` (`(service, name)` pairs), in one query without
    loading the rows; keys naming no stored SLO are absent."""
    wanted = set(keys)
    if not wanted:
        return {}
    query = (
        select(ServiceRow.name, SloRow.name, SloRow.id)
        .join(SloRow.service)
        .where(ServiceRow.name.in_(sorted({service for service, _ in wanted})))
    )
    return {
        (service, name): slo_id
        for service, name, slo_id in session.execute(query)
        if (service, name) in wanted
    }


def slo_objectives(session: Session) -> list[tuple[int, str, str, float]]:
    """`(id, service, name, objective)` of every stored SLO, by service then name: what a
    view of every SLO names them by, in one query without loading the rows (a thousand ORM
    rows with their services cost more than the view's figures)."""
    query = (
        select(SloRow.id, ServiceRow.name, SloRow.name, SloRow.spec_json)
        .join(SloRow.service)
        .order_by(ServiceRow.name, SloRow.name)
    )
    loads = orjson.loads
    return [
        (slo_id, service, name, float(loads(spec_json)["objective"]))
        for slo_id, service, name, spec_json in session.execute(query)
    ]


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
    audited_write(
        session,
        actor=actor,
        action="slo.delete",
        target=_slo_key(service, name),
        before=before,
        now=now,
    )
