"""Alerts as Alertmanager sent them: the webhook bodies, once each, and the alert instances.

Records, not configuration: they are not audited (the incidents they open are).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from srekit.core.intake import AlertStatus, ReceivedAlert
from srekit.core.routing import RoutedAlert
from srekit.core.specs import canonical_json
from srekit.store.repo._base import when
from srekit.store.tables import AlertNotificationRow, AlertRow

__all__ = [
    "add_alert",
    "alert_values",
    "find_alert",
    "find_alerts",
    "insert_alerts",
    "list_alerts",
    "notification_seen",
    "record_notification",
    "resolve_alert",
]


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
) -> AlertNotificationRow:
    """Keep a webhook body as received; a concurrent writer storing the same body first makes
    the flush fail with a constraint violation (the caller retries, and then sees it)."""
    row = AlertNotificationRow(
        body_sha256=hashlib.sha256(body).hexdigest(),
        receiver=receiver[:200],
        group_key=group_key,
        status=status,
        alert_count=alert_count,
        received_at=when(now),
        body=body.decode("utf-8", errors="replace"),
    )
    session.add(row)
    session.flush()
    return row


def find_alert(session: Session, *, fingerprint: str, starts_at: datetime) -> AlertRow | None:
    return session.scalars(
        select(AlertRow).where(AlertRow.fingerprint == fingerprint, AlertRow.starts_at == starts_at)
    ).one_or_none()


def find_alerts(
    session: Session, *, keys: Sequence[tuple[str, datetime]]
) -> dict[tuple[str, datetime], AlertRow]:
    """The stored instances among these (fingerprint, starts_at) keys, in one query."""
    if not keys:
        return {}
    wanted = set(keys)
    rows = session.scalars(
        select(AlertRow).where(AlertRow.fingerprint.in_({fingerprint for fingerprint, _ in keys}))
    )
    return {
        (row.fingerprint, row.starts_at): row
        for row in rows
        if (row.fingerprint, row.starts_at) in wanted
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
    """Store new alert instances (`alert_values` each) in one executemany: the ORM's unit of
    work costs more than the insert for a storm's thousand alerts."""
    if rows:
        session.execute(insert(AlertRow), list(rows))


def add_alert(
    session: Session,
    *,
    alert: ReceivedAlert,
    routed: RoutedAlert | None,
    incident_id: int | None,
    now: datetime | None = None,
    flush: bool = True,
) -> AlertRow:
    """Store a newly seen alert instance, with where the routing sent it (flushed with the
    next flush when `flush` is false: a notification's alerts go in one statement)."""
    row = AlertRow(
        fingerprint=alert.fingerprint,
        starts_at=alert.starts_at,
        ends_at=alert.ends_at if alert.status is AlertStatus.RESOLVED else None,
        status=alert.status.value,
        alertname=alert.alertname[:200],
        service=None if routed is None or routed.service is None else routed.service[:200],
        severity=None if routed is None else routed.severity.value,
        labels_json=canonical_json(dict(alert.labels)),
        annotations_json=canonical_json(dict(alert.annotations)),
        generator_url=alert.generator_url,
        route_index=None if routed is None else routed.route_index,
        incident_id=incident_id,
        first_seen_at=when(now),
        updated_at=when(now),
    )
    session.add(row)
    if flush:
        session.flush()
    return row


def resolve_alert(
    session: Session, *, row: AlertRow, ends_at: datetime | None, now: datetime | None = None
) -> AlertRow:
    """Mark a firing instance resolved (never the other way round); flushed with the next
    flush."""
    row.status = AlertStatus.RESOLVED.value
    row.ends_at = ends_at
    row.updated_at = when(now)
    return row


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
