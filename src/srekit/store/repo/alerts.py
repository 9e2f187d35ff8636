"""Alerts as Alertmanager sent them: the webhook bodies, once each, and the alert instances.

Records, not configuration: they are not audited (the incidents they open are). The intake's
statements go through the session's connection as SQLAlchemy Core, not the ORM: it writes a
storm's alerts, and the ORM's unit of work and row objects cost more than the statements.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import bindparam, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from srekit.core.intake import AlertStatus, ReceivedAlert
from srekit.core.routing import RoutedAlert
from srekit.core.specs import canonical_json
from srekit.store.repo._base import core_connection, table_of, when
from srekit.store.tables import AlertNotificationRow, AlertRow

__all__ = [
    "AlertSpan",
    "StoredAlert",
    "alert_values",
    "alerts_ended",
    "alerts_overlapping",
    "alerts_started",
    "insert_alerts",
    "list_alerts",
    "notification_seen",
    "record_notification",
    "resolve_alerts",
    "stored_alerts",
]

_ALERTS = table_of(AlertRow)
_NOTIFICATIONS = table_of(AlertNotificationRow)
# The intake's statements, built once: building one costs more than running it.
_NEW_BODY = {  # by dialect: INSERT … ON CONFLICT DO NOTHING is spelled by each
    "postgresql": postgresql.insert(_NOTIFICATIONS)
    .on_conflict_do_nothing(index_elements=["body_sha256"])
    .returning(_NOTIFICATIONS.c.id),
    "sqlite": sqlite.insert(_NOTIFICATIONS)
    .on_conflict_do_nothing(index_elements=["body_sha256"])
    .returning(_NOTIFICATIONS.c.id),
}
_STORED = select(
    _ALERTS.c.id,
    _ALERTS.c.fingerprint,
    _ALERTS.c.starts_at,
    _ALERTS.c.status,
    _ALERTS.c.incident_id,
).where(_ALERTS.c.fingerprint.in_(bindparam("fingerprints", expanding=True)))
_INSERT = insert(_ALERTS)
_RESOLVE = _ALERTS.update().where(_ALERTS.c.id == bindparam("alert_id"))


class AlertSpan(NamedTuple):
    """What the alert quality report reads of an alert instance: not its labels."""

    fingerprint: str
    alertname: str
    status: str
    starts_at: datetime
    ends_at: datetime | None
    incident_id: int | None
    routed: bool


_SPAN = select(
    _ALERTS.c.fingerprint,
    _ALERTS.c.alertname,
    _ALERTS.c.status,
    _ALERTS.c.starts_at,
    _ALERTS.c.ends_at,
    _ALERTS.c.incident_id,
    _ALERTS.c.route_index.is_not(None),
)
#: Fingerprints asked at once: far below the bound parameters any database takes.
_CHUNK = 1000


class StoredAlert(NamedTuple):
    """What the intake reads of a stored alert instance: not its labels or annotations."""

    id: int
    status: AlertStatus
    incident_id: int | None


def notification_seen(session: Session, *, body: bytes) -> bool:
    """Whether this exact webhook body was received (and applied) before."""
    digest = hashlib.sha256(body).hexdigest()
    return (
        session.scalars(
            select(AlertNotificationRow.id).where(AlertNotificationRow.body_sha256 == digest)
        ).first()
        is not None
    )


def record_notification(
    session: Session,
    *,
    body: bytes,
    receiver: str,
    group_key: str,
    status: str,
    alert_count: int,
    now: datetime | None = None,
) -> bool:
    """Keep a webhook body as received; False, storing nothing, when this exact body was
    received before. A concurrent writer storing the same body makes this statement wait for
    its transaction: committed, the body counts as received before; rolled back, as new."""
    connection = core_connection(session)
    inserted = connection.execute(
        _NEW_BODY[connection.dialect.name],
        {
            "body_sha256": hashlib.sha256(body).hexdigest(),
            "receiver": receiver[:200],
            "group_key": group_key,
            "status": status,
            "alert_count": alert_count,
            "received_at": when(now),
            "body": body.decode("utf-8", errors="replace"),
        },
    )
    return inserted.first() is not None


def stored_alerts(
    session: Session, *, keys: Sequence[tuple[str, datetime]]
) -> dict[tuple[str, datetime], StoredAlert]:
    """The stored instances among these (fingerprint, starts_at) keys, in one query."""
    if not keys:
        return {}
    wanted = set(keys)
    rows = core_connection(session).execute(
        _STORED, {"fingerprints": sorted({fingerprint for fingerprint, _ in keys})}
    )
    return {
        (fingerprint, starts_at): StoredAlert(alert_id, AlertStatus(status), incident_id)
        for alert_id, fingerprint, starts_at, status, incident_id in rows
        if (fingerprint, starts_at) in wanted
    }


def alert_values(
    *,
    alert: ReceivedAlert,
    routed: RoutedAlert | None,
    incident_id: int | None,
    now: datetime | None = None,
) -> dict[str, object]:
    """The column values of a newly seen alert instance, for `insert_alerts`."""
    at = when(now)
    return {
        "fingerprint": alert.fingerprint,
        "starts_at": alert.starts_at,
        "ends_at": alert.ends_at if alert.status is AlertStatus.RESOLVED else None,
        "status": alert.status.value,
        "alertname": alert.alertname[:200],
        "service": None if routed is None or routed.service is None else routed.service[:200],
        "severity": None if routed is None else routed.severity.value,
        "labels_json": canonical_json(dict(alert.labels)),
        "annotations_json": canonical_json(dict(alert.annotations)),
        "generator_url": alert.generator_url,
        "route_index": None if routed is None else routed.route_index,
        "incident_id": incident_id,
        "first_seen_at": at,
        "updated_at": at,
    }


def insert_alerts(session: Session, *, rows: Sequence[dict[str, object]]) -> None:
    """Store new alert instances (`alert_values` each) in one executemany."""
    if rows:
        core_connection(session).execute(_INSERT, list(rows))


def resolve_alerts(
    session: Session,
    *,
    ends: Sequence[tuple[int, datetime | None]],
    now: datetime | None = None,
) -> None:
    """Mark firing instances resolved (never the other way round), given (id, ends_at) each,
    in one executemany."""
    if ends:
        at = when(now)
        core_connection(session).execute(
            _RESOLVE,
            [
                {
                    "alert_id": alert_id,
                    "status": AlertStatus.RESOLVED.value,
                    "ends_at": ends_at,
                    "updated_at": at,
                }
                for alert_id, ends_at in ends
            ],
        )


def list_alerts(
    session: Session,
    *,
    incident_id: int | None = None,
    unrouted: bool = False,
    status: AlertStatus | None = None,
    limit: int | None = 100,
) -> list[AlertRow]:
    """Alert instances, newest first: of one incident, or those no route took (`unrouted`)."""
    query = select(AlertRow)
    if incident_id is not None:
        query = query.where(AlertRow.incident_id == incident_id)
    if unrouted:
        query = query.where(AlertRow.route_index.is_(None))
    if status is not None:
        query = query.where(AlertRow.status == status.value)
    query = query.order_by(AlertRow.starts_at.desc(), AlertRow.id.desc())
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def alerts_started(
    session: Session, *, start: datetime, end: datetime, service: str | None = None
) -> list[AlertSpan]:
    """The alert instances that started in `[start, end)` (of one routed service, if given),
    oldest first."""
    query = _SPAN.where(_ALERTS.c.starts_at >= start, _ALERTS.c.starts_at < end)
    if service is not None:
        query = query.where(_ALERTS.c.service == service)
    query = query.order_by(_ALERTS.c.starts_at, _ALERTS.c.id)
    return [AlertSpan(*row) for row in core_connection(session).execute(query)]


def alerts_ended(
    session: Session, *, fingerprints: Sequence[str], start: datetime, end: datetime
) -> list[AlertSpan]:
    """The instances of these fingerprints that ended in `[start, end)`, whenever they
    started, oldest start first: the earlier fires a refire follows."""
    wanted = sorted(set(fingerprints))
    found: list[AlertSpan] = []
    connection = core_connection(session)
    for first in range(0, len(wanted), _CHUNK):
        query = _SPAN.where(
            _ALERTS.c.fingerprint.in_(wanted[first : first + _CHUNK]),
            _ALERTS.c.ends_at >= start,
            _ALERTS.c.ends_at < end,
        )
        found.extend(AlertSpan(*row) for row in connection.execute(query))
    found.sort(key=lambda span: (span.starts_at, span.fingerprint))
    return found


def alerts_overlapping(
    session: Session, *, start: datetime, end: datetime, labels_holding: str, limit: int = 1000
) -> list[AlertRow]:
    """Alert instances firing at some point of `[start, end)` (started before `end`, not
    ended before `start`) whose labels' JSON holds `labels_holding` (a cheap first cut the
    caller refines on the parsed labels), oldest first, at most `limit`."""
    query = (
        select(AlertRow)
        .where(
            AlertRow.starts_at < end,
            (AlertRow.ends_at.is_(None)) | (AlertRow.ends_at >= start),
            AlertRow.labels_json.contains(labels_holding, autoescape=True),
        )
        .order_by(AlertRow.starts_at, AlertRow.id)
        .limit(limit)
    )
    return list(session.scalars(query))
