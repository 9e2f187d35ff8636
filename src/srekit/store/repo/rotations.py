"""On-call rotations by name, every applied version kept with the instant it takes effect.

Applying a rotation whose spec (and `effective_from`, when given) equals the latest version
writes nothing; otherwise it is a new version, audited, taking effect from `effective_from`
(default: now). A change never rewrites the past: an `effective_from` before now (less a
minute of slack) is a SpecError at `spec.effective_from`. Which versions rule is
`core.oncall.ruling_versions`'s.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from srekit.core.instant import format_instant
from srekit.core.oncall import effective_from_problem, ruling_versions
from srekit.core.rotation import Rotation, RotationVersion
from srekit.core.specs import canonical_json, spec_diff
from srekit.errors import NotFound, SpecError
from srekit.spec.rotation import rotation_from_spec, rotation_spec
from srekit.store.repo._base import Applied, check_name, when
from srekit.store.repo.audit import audited_write
from srekit.store.tables import RotationRow, RotationVersionRow

__all__ = [
    "apply_rotation",
    "delete_rotation",
    "find_rotation",
    "get_rotation",
    "list_rotations",
    "rotation_of",
    "rotation_versions",
    "ruling_rotation_versions",
]


def rotation_of(row: RotationRow | RotationVersionRow) -> Rotation:
    """The core rotation a stored row (the latest, or one version) holds."""
    name = row.name if isinstance(row, RotationRow) else row.rotation.name
    return rotation_from_spec(name, row.spec())


def find_rotation(session: Session, *, name: str) -> RotationRow | None:
    return session.scalars(select(RotationRow).where(RotationRow.name == name)).one_or_none()


def get_rotation(session: Session, *, name: str) -> RotationRow:
    row = find_rotation(session, name=name)
    if row is None:
        raise NotFound(f"no rotation {name!r} in the store")
    return row


def list_rotations(session: Session, *, team: str | None = None) -> list[RotationRow]:
    query = select(RotationRow).order_by(RotationRow.name)
    if team is not None:
        query = query.where(RotationRow.team == team)
    return list(session.scalars(query))


def rotation_versions(session: Session, *, name: str) -> list[RotationVersionRow]:
    """Every applied version, first applied first (NotFound without the rotation)."""
    row = get_rotation(session, name=name)
    return list(
        session.scalars(
            select(RotationVersionRow)
            .where(RotationVersionRow.rotation_id == row.id)
            .options(selectinload(RotationVersionRow.rotation))
            .order_by(RotationVersionRow.version)
        )
    )


def ruling_rotation_versions(session: Session, *, name: str) -> list[RotationVersion]:
    """The versions that rule the rotation's schedule, by `effective_from`."""
    rows = rotation_versions(session, name=name)
    return ruling_versions([RotationVersion(rotation_of(row), row.effective_from) for row in rows])


def _record(version: int, effective_from: datetime, spec: dict[str, object]) -> dict[str, object]:
    return {"version": version, "effective_from": format_instant(effective_from), "spec": spec}


def apply_rotation(
    session: Session,
    *,
    rotation: Rotation,
    actor: str,
    effective_from: datetime | None = None,
    now: datetime | None = None,
) -> Applied[RotationRow]:
    """Store `rotation` under its name: created, a new version (audited) taking effect from
    `effective_from` (default: now), or unchanged."""
    check_name(rotation.name, "metadata.name")
    at = when(now)
    spec = rotation_spec(rotation)
    spec_json = canonical_json(spec)
    # FOR UPDATE: concurrent changes on PostgreSQL take turns, none lost (see store.repo._versioned)
    row = session.scalars(
        select(RotationRow).where(RotationRow.name == rotation.name).with_for_update()
    ).one_or_none()
    if (
        row is not None
        and row.spec_json == spec_json
        and (effective_from is None or effective_from == row.effective_from)
    ):
        return Applied(row, False, ())
    starts = effective_from if effective_from is not None else at.replace(microsecond=0)
    problem = effective_from_problem(starts, now=at)
    if problem is not None:
        raise SpecError(problem, field="spec.effective_from")
    if row is None:
        before = None
        diff: tuple[str, ...] = ("created",)
        row = RotationRow(name=rotation.name, version=1, created_at=at)
        session.add(row)
    else:
        before = _record(row.version, row.effective_from, row.spec())
        diff = spec_diff(row.spec(), spec)
        if starts != row.effective_from:
            diff += (
                f"effective_from: {format_instant(row.effective_from)} → {format_instant(starts)}",
            )
        row.version += 1
    row.team = rotation.team
    row.spec_json = spec_json
    row.effective_from = starts
    row.updated_at = at
    row.versions.append(
        RotationVersionRow(
            version=row.version,
            effective_from=starts,
            spec_json=spec_json,
            created_at=at,
            actor=actor,
        )
    )
    audited_write(
        session,
        actor=actor,
        action="rotation.create" if before is None else "rotation.update",
        target=rotation.name,
        before=before,
        after=_record(row.version, starts, spec),
        refused=f"rotation {rotation.name!r} could not be stored",
        now=now,
    )
    return Applied(row, True, diff)


def delete_rotation(
    session: Session, *, name: str, actor: str, now: datetime | None = None
) -> None:
    """Delete a rotation and its versions; the audit log keeps its last version."""
    row = get_rotation(session, name=name)
    before = _record(row.version, row.effective_from, row.spec())
    session.delete(row)
    audited_write(
        session, actor=actor, action="rotation.delete", target=name, before=before, now=now
    )
