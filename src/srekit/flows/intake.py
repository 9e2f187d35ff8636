"""Alert intake: an Alertmanager notification in, alerts and incidents stored, in one transaction.

`receive_notification` stores the webhook body, moves each alert instance forward
(`core.intake.alert_change`), routes new ones (`core.routing.route_alert`), opens or joins the
group's incident, and resolves incidents whose alerts have all resolved, all with the alerts'
own instants, then commits. Only after the commit may the caller answer 2xx. A body received
before changes nothing; a concurrent writer that got there first (a unique constraint refusing a
second alert instance or a second open incident for a group) makes the whole transaction start
again, and then it finds what the other wrote.

`receive_notifications` applies many notifications one after the other in one transaction, a
savepoint each, and commits once: one fsync for all of them (`jobs.intake_queue` gathers them).
The stored state is what applying them one by one in that order stores.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from srekit.core.incident import (
    Incident,
    IncidentState,
    Severity,
    TimelineKind,
    change_state,
)
from srekit.core.intake import (
    AlertChange,
    AlertStatus,
    ReceivedAlert,
    alert_change,
    incident_title,
    joins_incident,
    state_before_resolution,
)
from srekit.core.routing import DEFAULT_ROUTING, AlertRouting, OnResolved, RoutedAlert, route_alert
from srekit.errors import Conflict, StoreUnavailable
from srekit.store import StoreEngine, StoreSession
from srekit.store.database import savepoint, transaction
from srekit.store.repo import (
    GroupIncident,
    IncidentRow,
    alert_standing,
    alert_values,
    create_incident,
    get_incident,
    get_incidents,
    incident_of,
    insert_alerts,
    insert_events,
    latest_group_incident,
    record_notification,
    resolve_alerts,
    save_incident,
    stored_alerts,
)

__all__ = [
    "INTAKE_ACTOR",
    "IntakeResult",
    "Notification",
    "Outcome",
    "RoutingOf",
    "receive_notification",
    "receive_notifications",
]

#: Who the timeline and the audit log say did what the alerts did.
INTAKE_ACTOR = "alertmanager"
_ATTEMPTS = 5


@dataclass(frozen=True)
class Notification:
    """One webhook delivery: the group it notifies about, its alerts, and the body as received."""

    receiver: str
    status: str
    group_key: str
    alerts: tuple[ReceivedAlert, ...]
    body: bytes


@dataclass
class IntakeResult:
    """What one delivery changed; all zero, with `duplicate`, for a body received before."""

    duplicate: bool = False
    new_alerts: int = 0
    resolved_alerts: int = 0
    unrouted_alerts: int = 0
    incidents_opened: list[int] | None = None
    incidents_resolved: list[int] | None = None

    def __post_init__(self) -> None:
        self.incidents_opened = self.incidents_opened or []
        self.incidents_resolved = self.incidents_resolved or []


RoutingOf = Callable[[StoreSession], AlertRouting]
#: What became of one notification of a batch: its result, or the error its sender gets.
Outcome = IntakeResult | Exception


def receive_notification(
    engine: StoreEngine,
    notification: Notification,
    *,
    routing_of: RoutingOf | None = None,
    now: datetime,
) -> IntakeResult:
    """Apply one notification and commit; retried whole when a concurrent writer conflicts."""
    for attempt in range(_ATTEMPTS):
        try:
            with transaction(engine) as session:
                routing = DEFAULT_ROUTING if routing_of is None else routing_of(session)
                return _apply(session, notification, routing=routing, now=now)
        except Conflict:
            if attempt == _ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def receive_notifications(
    engine: StoreEngine,
    deliveries: Sequence[tuple[Notification, datetime]],
    *,
    routing_of: RoutingOf | None = None,
) -> list[Outcome]:
    """Apply (notification, received at) deliveries in order in one transaction, each in a
    savepoint, and commit once; an outcome per delivery, in order.

    A notification that fails rolls back alone and its outcome is its error; one that a
    concurrent writer conflicts with (another replica) is applied alone after the commit, with
    `receive_notification`'s retries. When the transaction as a whole fails (a conflict at
    commit, a lost connection), every other notification is applied alone. When it cannot even
    begin (the store is down or busy), every outcome is that error: nothing was written.
    """
    if len(deliveries) == 1:  # alone: no savepoint to pay for
        (notification, now), *_ = deliveries
        try:
            return [receive_notification(engine, notification, routing_of=routing_of, now=now)]
        except Exception as error:
            return [error]
    outcomes: dict[int, Outcome] = {}
    applied: dict[int, IntakeResult] = {}
    alone: list[int] = []
    began = False
    try:
        with transaction(engine) as session:
            began = True
            routing = DEFAULT_ROUTING if routing_of is None else routing_of(session)
            for index, (notification, now) in enumerate(deliveries):
                try:
                    with savepoint(session):
                        applied[index] = _apply(session, notification, routing=routing, now=now)
                except Conflict:
                    alone.append(index)
                except StoreUnavailable:
                    raise  # the transaction is lost, not this notification's part of it
                except Exception as error:  # this notification's own failure: its sender's
                    outcomes[index] = error
    except StoreUnavailable as error:
        if not began:
            return [error] * len(deliveries)
        alone = [index for index in range(len(deliveries)) if index not in outcomes]
    except Exception:
        alone = [index for index in range(len(deliveries)) if index not in outcomes]
    else:
        outcomes.update(applied)
    for index in alone:
        notification, now = deliveries[index]
        try:
            outcomes[index] = receive_notification(
                engine, notification, routing_of=routing_of, now=now
            )
        except Exception as error:
            outcomes[index] = error
    return [outcomes[index] for index in range(len(deliveries))]


def _apply(
    session: StoreSession, notification: Notification, *, routing: AlertRouting, now: datetime
) -> IntakeResult:
    result = IntakeResult()
    stored = record_notification(
        session,
        body=notification.body,
        receiver=notification.receiver,
        group_key=notification.group_key,
        status=notification.status,
        alert_count=len(notification.alerts),
        now=now,
    )
    if not stored:
        result.duplicate = True
        return result
    _Alerts(session, notification.alerts, routing=routing, result=result, now=now).apply()
    return result


class _Alerts:
    """One notification's alerts, applied with a few statements whatever their number: the
    stored instances read at once, the group's incident looked up once, new alerts inserted
    in one statement and resolved ones updated in another, one timeline entry per incident
    for the alerts that fired and one for those that resolved, and each touched incident
    checked for resolution once at the end."""

    def __init__(
        self,
        session: StoreSession,
        alerts: Sequence[ReceivedAlert],
        *,
        routing: AlertRouting,
        result: IntakeResult,
        now: datetime,
    ) -> None:
        self.session, self.routing, self.result, self.now = session, routing, result, now
        self.alerts = sorted(alerts, key=lambda a: (a.starts_at, a.fingerprint))
        self.stored = stored_alerts(
            session, keys=[(a.fingerprint, a.starts_at) for a in self.alerts]
        )
        self.status = {key: stored.status for key, stored in self.stored.items()}
        self.new: dict[tuple[str, datetime], dict[str, object]] = {}
        self.new_incident: dict[tuple[str, datetime], int | None] = {}
        self.resolved: list[tuple[int, datetime | None]] = []
        self.groups: dict[str, GroupIncident] = {}
        self.rows: dict[int, IncidentRow] = {}
        self.fired: dict[int, list[ReceivedAlert]] = {}
        self.ended: dict[int, list[ReceivedAlert]] = {}

    def apply(self) -> None:
        for alert in self.alerts:
            self._alert(alert)
        insert_alerts(self.session, rows=list(self.new.values()))
        resolve_alerts(self.session, ends=self.resolved, now=self.now)
        insert_events(
            self.session,
            rows=[
                *(_entry(i, alerts, fired=True) for i, alerts in self.fired.items()),
                *(_entry(i, alerts, fired=False, now=self.now) for i, alerts in self.ended.items()),
            ],
        )
        self.session.flush()
        if self.routing.on_resolved is OnResolved.RESOLVE and self.ended:
            standing = alert_standing(self.session, incident_ids=list(self.ended))
            finished = {
                incident_id: last_end
                for incident_id, (total, firing, last_end) in standing.items()
                if total and not firing
            }
            missing = [i for i in finished if i not in self.rows]
            self.rows.update(get_incidents(self.session, incident_ids=missing))
            for incident_id in self.ended:
                if incident_id in finished:
                    _resolve_at(
                        self.session,
                        self.rows[incident_id],
                        finished[incident_id] or self.now,
                        result=self.result,
                        now=self.now,
                    )

    def _alert(self, alert: ReceivedAlert) -> None:
        key = (alert.fingerprint, alert.starts_at)
        change = alert_change(self.status.get(key), alert.status)
        if change is AlertChange.UNCHANGED:
            return
        self.status[key] = alert.status
        incident_id: int | None = None
        if change is AlertChange.NEW:
            self.result.new_alerts += 1
            routed = route_alert(self.routing, alert.labels)
            if routed is None:
                self.result.unrouted_alerts += 1
            elif routed.incident:
                incident_id = self._incident_for(alert, routed)
                self.fired.setdefault(incident_id, []).append(alert)
            self.new[key] = alert_values(
                alert=alert, routed=routed, incident_id=incident_id, now=self.now
            )
            self.new_incident[key] = incident_id
        elif key in self.new:  # fired earlier in this same body: still to be inserted
            pending = self.new[key]
            pending.update(status=AlertStatus.RESOLVED.value, ends_at=alert.ends_at)
            incident_id = self.new_incident[key]
        else:
            stored = self.stored[key]
            self.resolved.append((stored.id, alert.ends_at))
            incident_id = stored.incident_id
        if alert.status is not AlertStatus.RESOLVED:
            return
        self.result.resolved_alerts += 1
        if incident_id is not None:
            self.ended.setdefault(incident_id, []).append(alert)

    def _incident_for(self, alert: ReceivedAlert, routed: RoutedAlert) -> int:
        """The id of the group's incident this alert joins, opened when there is none to
        join."""
        latest = self.groups.get(routed.group_key)
        if latest is None:
            latest = latest_group_incident(self.session, group_key=routed.group_key)
        if latest is not None and joins_incident(latest.incident, alert.starts_at):
            latest = self._join(latest, alert, routed)
        else:
            row = create_incident(
                self.session,
                title=incident_title(alert, service=routed.service),
                severity=routed.severity,
                opened_at=alert.starts_at,
                actor=INTAKE_ACTOR,
                services=() if routed.service is None else (routed.service,),
                slos=() if routed.slo is None else (routed.slo,),
                group_key=routed.group_key,
                now=self.now,
            )
            self.rows[row.id] = row
            latest = GroupIncident(incident_of(row), row.resolved_by)
            assert self.result.incidents_opened is not None
            self.result.incidents_opened.append(row.id)
        self.groups[routed.group_key] = latest
        return latest.incident.id

    def _join(
        self, latest: GroupIncident, alert: ReceivedAlert, routed: RoutedAlert
    ) -> GroupIncident:
        """Add the alert's service, SLO and severity (the more severe wins) to the incident;
        an alert that still fires withdraws a resolution the alerts made on their own. The
        incident's row is read and written only when that changes it."""
        incident = latest.incident
        withdrawn = (
            incident.state is IncidentState.RESOLVED
            and latest.resolved_by == INTAKE_ACTOR
            and alert.status is AlertStatus.FIRING
        )
        if not withdrawn and _within(incident, alert, routed):
            return latest  # the usual case in a storm, checked without building the incident
        joined = replace(
            incident,
            opened_at=min(incident.opened_at, alert.starts_at),
            severity=min(incident.severity, routed.severity, key=_rank),
            services=_union(incident.services, routed.service),
            slos=_union(incident.slos, routed.slo),
        )
        text = f"alert {alert.alertname or alert.fingerprint} joined the incident"
        if withdrawn:
            joined = replace(joined, state=state_before_resolution(incident), resolved_at=None)
            text += " still firing: the automatic resolution is withdrawn"
        if joined == incident:
            return latest
        row = self._row(incident.id)
        save_incident(
            self.session,
            row=row,
            incident=joined,
            actor=INTAKE_ACTOR,
            action="update",
            text=text,
            at=alert.starts_at,
            kind=TimelineKind.STATE_CHANGED if withdrawn else TimelineKind.NOTE,
            now=self.now,
        )
        return GroupIncident(incident_of(row), row.resolved_by)

    def _row(self, incident_id: int) -> IncidentRow:
        row = self.rows.get(incident_id)
        if row is None:
            row = self.rows[incident_id] = get_incident(self.session, incident_id=incident_id)
        return row


def _resolve_at(
    session: StoreSession,
    row: IncidentRow,
    last_end: datetime,
    *,
    result: IntakeResult,
    now: datetime,
) -> None:
    """Resolve the incident at its last alert's end, all its alerts having resolved; a late
    alert ending later moves an automatic resolution to its end."""
    incident = incident_of(row)
    if incident.open:
        resolved = change_state(incident, to=IncidentState.RESOLVED, at=last_end)
        save_incident(
            session,
            row=row,
            incident=resolved,
            actor=INTAKE_ACTOR,
            action="resolve",
            text="all its alerts resolved",
            at=last_end,
            now=now,
        )
        assert result.incidents_resolved is not None
        result.incidents_resolved.append(row.id)
    elif (
        incident.state is IncidentState.RESOLVED
        and row.resolved_by == INTAKE_ACTOR
        and incident.resolved_at is not None
        and last_end > incident.resolved_at
    ):
        save_incident(
            session,
            row=row,
            incident=replace(incident, resolved_at=last_end),
            actor=INTAKE_ACTOR,
            action="update",
            text="a later alert resolved: the resolution moves to its end",
            at=last_end,
            kind=TimelineKind.NOTE,
            now=now,
        )


def _entry(
    incident_id: int, alerts: list[ReceivedAlert], *, fired: bool, now: datetime | None = None
) -> dict[str, object]:
    """One timeline entry for the alerts of one notification that fired (at the first start)
    or resolved (at the last end) in one incident, naming up to 10 of them."""
    names = sorted({alert.alertname or alert.fingerprint for alert in alerts})
    shown = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
    count = f"{len(alerts)} alerts" if len(alerts) > 1 else "alert"
    if fired:
        at = min(alert.starts_at for alert in alerts)
    else:
        at = max((alert.ends_at or now or alert.starts_at) for alert in alerts)
    return {
        "incident_id": incident_id,
        "at": at,
        "kind": TimelineKind.ALERT_FIRED if fired else TimelineKind.ALERT_RESOLVED,
        "actor": INTAKE_ACTOR,
        "text": f"{count} {'fired' if fired else 'resolved'}: {shown}",
        "data": {"fingerprints": [alert.fingerprint for alert in alerts]},
    }


def _within(incident: Incident, alert: ReceivedAlert, routed: RoutedAlert) -> bool:
    """Whether joining the alert leaves the incident as it is: it started no earlier, is no
    more severe, and its service and SLO are the incident's already."""
    return (
        alert.starts_at >= incident.opened_at
        and _rank(routed.severity) >= _rank(incident.severity)
        and (routed.service is None or routed.service in incident.services)
        and (routed.slo is None or routed.slo in incident.slos)
    )


_RANKS = {severity: rank for rank, severity in enumerate(Severity)}  # P0 first


def _rank(severity: Severity) -> int:
    return _RANKS[severity]


def _union(values: Sequence[str], extra: str | None) -> tuple[str, ...]:
    return tuple(sorted({*values, *((extra,) if extra else ())}))
