"""The on-call handoff of a rotation at an instant: the rotation's shifts say who hands to
whom, the store says what is going on with the services its team owns, Alertmanager says
what maintenance is planned. `core.handoff` decides what counts and in which order.

The services are those the rotation's `team` owns in the store (a rotation without a team
covers none). The SLO figures are the latest statuses (`flows.status`), aged to the handoff
instant; everything else is read as it stood at that instant (`core.handoff`). The quality of
the outgoing shift's alert rules is `flows.alert_quality`'s over that shift, over every
service (a rule is judged by all its fires).

`send_handoff` sends the checklist to the incoming primary (the first layer's incoming
holder) through each of their stored contact methods, as a `core.notify.Notice`;
`notify_handoffs` does so for every stored rotation's handoffs as they happen (the server's
handoff notifier), each once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol
from urllib.parse import quote

from srekit.core.alert_quality import RuleQuality
from srekit.core.handoff import (
    SHIFT_LOOKAROUND,
    DueHandoff,
    FiredAlert,
    HandoffChecklist,
    Maintenance,
    MaintenanceSilence,
    SilenceMatcher,
    alerts_by_rule,
    alerts_interval,
    awaiting_postmortem,
    handoff_is_stale,
    handoff_notice,
    incoming_primary,
    layer_handoffs,
    maintenance_silences,
    open_incidents,
    open_tasks,
    primary_handoffs,
    rate_rules,
    recent_deployments,
    slo_order,
)
from srekit.core.incident import PriorDeployment
from srekit.core.instant import format_instant
from srekit.core.notify import ContactKind, ContactMethod, Delivery, Notice
from srekit.core.rotation import Rotation, RotationVersion, versioned_shifts
from srekit.errors import NotifierUnavailable
from srekit.flows.alert_quality import stored_alert_quality
from srekit.flows.incidents import task_of
from srekit.flows.status import latest_statuses
from srekit.store import StoreEngine
from srekit.store.database import transaction
from srekit.store.repo import incident_of, incidents_holding_silences, list_deployments_between
from srekit.store.repo.handoff import (
    alerts_started_between,
    incidents_not_closed_at,
    postmortem_states,
    tasks_open_at,
    team_services,
)

__all__ = [
    "HandoffNotified",
    "HandoffSent",
    "NoticeSender",
    "SilenceSource",
    "handoff_checklist",
    "handoff_link",
    "notify_handoffs",
    "rotation_at",
    "send_handoff",
    "stored_rotation_versions",
]

# list_deployments_between reads [start, end): one microsecond past the handoff keeps a deploy
# asked about at that very instant, as core.handoff.recent_deployments does
_INCLUSIVE = timedelta(microseconds=1)
_DEPLOY_LIMIT = 500


class _Matcher(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def value(self) -> str: ...
    @property
    def is_regex(self) -> bool: ...
    @property
    def is_equal(self) -> bool: ...


class _Silence(Protocol):
    @property
    def silence_id(self) -> str: ...
    @property
    def matchers(self) -> Sequence[_Matcher]: ...
    @property
    def starts_at(self) -> datetime: ...
    @property
    def ends_at(self) -> datetime: ...
    @property
    def created_by(self) -> str: ...
    @property
    def comment(self) -> str: ...


class SilenceSource(Protocol):
    """Where planned maintenance is read (`alertmanager.AlertmanagerClient`); raises
    NotifierUnavailable when it cannot answer."""

    url: str

    def list_silences(self) -> Sequence[_Silence]: ...


def stored_rotation_versions(engine: StoreEngine, *, rotation: str) -> list[RotationVersion]:
    """The versions of the stored rotation that rule its schedule, oldest first (NotFound
    when none is stored under that name): a change since the handoff does not rewrite it."""
    from srekit.flows.oncall import stored_versions

    return stored_versions(engine, name=rotation)


def rotation_at(versions: Sequence[RotationVersion], *, at: datetime) -> Rotation:
    """The version of the rotation that rules at `at`: the latest in effect by then, else the
    first (before it every layer is a gap, but the rotation is named by it)."""
    ruling = [v for v in versions if v.effective_from <= at]
    return (ruling[-1] if ruling else versions[0]).rotation


def handoff_checklist(
    engine: StoreEngine,
    *,
    versions: Sequence[RotationVersion],
    at: datetime,
    max_status_age_s: float,
    silences: SilenceSource | None = None,
) -> HandoffChecklist:
    """The handoff of the rotation whose versions (oldest first, at least one) are given, at
    `at`. Alertmanager not answering is said in the maintenance part, not raised: the rest of
    the handoff is still worth reading."""
    rotation = rotation_at(versions, at=at)
    shifts = versioned_shifts(versions, start=at - SHIFT_LOOKAROUND, end=at + SHIFT_LOOKAROUND)
    layers = layer_handoffs(shifts, at=at)
    alerts_from, alerts_to = alerts_interval(layers, at=at)
    with transaction(engine, read_only=True) as session:
        services = team_services(session, team=rotation.team) if rotation.team else []
        incidents = [
            incident_of(row) for row in incidents_not_closed_at(session, services=services, at=at)
        ]
        postmortems = postmortem_states(session, incident_ids=[i.id for i in incidents])
        tasks = [task_of(row) for row in tasks_open_at(session, services=services, at=at)]
        deployments = [
            PriorDeployment(
                service=row.service,
                version=row.version,
                change_type=row.change_type,
                allowed=row.allowed,
                requested_at=row.requested_at,
            )
            for row in list_deployments_between(
                session,
                services=services,
                start=at - timedelta(hours=24),
                end=at + _INCLUSIVE,
                limit=_DEPLOY_LIMIT,
            )
        ]
        alerts = [
            FiredAlert(
                alertname=row.alertname,
                service=row.service,
                starts_at=row.starts_at,
                ends_at=None if row.status == "firing" else row.ends_at,
                incident_id=row.incident_id,
            )
            for row in alerts_started_between(
                session, services=services, start=alerts_from, end=alerts_to
            )
        ]
        held = frozenset(
            silence_id for row in incidents_holding_silences(session) for silence_id in row.silences
        )
    fired = alerts_by_rule(alerts, start=alerts_from, end=alerts_to)
    qualities: dict[str, RuleQuality] = {}
    if fired:
        report = stored_alert_quality(engine, start=alerts_from, end=alerts_to)
        qualities = {rule.rule: rule for rule in report.rules}
    wanted = set(services)
    statuses = [
        status
        for status in latest_statuses(engine, max_age_s=max_status_age_s, now=at)
        if status.service in wanted
    ]
    return HandoffChecklist(
        rotation=rotation.name,
        team=rotation.team,
        at=at,
        timezone=rotation.timezone,
        timezone_name=str(rotation.timezone),
        services=tuple(services),
        layers=tuple(layers),
        incidents=tuple(open_incidents(incidents, at=at)),
        postmortems=tuple(awaiting_postmortem(incidents, postmortems=postmortems, at=at)),
        deployments=tuple(recent_deployments(deployments, at=at)),
        slos=tuple(slo_order(statuses)),
        alerts_from=alerts_from,
        alerts_to=alerts_to,
        alerts=tuple(rate_rules(fired, qualities=qualities)),
        tasks=tuple(open_tasks(tasks, at=at)),
        maintenance=_maintenance(silences, services=services, at=at, held=held),
    )


def _maintenance(
    source: SilenceSource | None, *, services: Sequence[str], at: datetime, held: frozenset[str]
) -> Maintenance:
    if source is None:
        return Maintenance(configured=False)
    try:
        listed = source.list_silences()
    except NotifierUnavailable as error:
        return Maintenance(configured=True, problem=str(error))
    silences = [
        MaintenanceSilence(
            silence_id=silence.silence_id,
            matchers=tuple(
                SilenceMatcher(m.name, m.value, is_regex=m.is_regex, is_equal=m.is_equal)
                for m in silence.matchers
            ),
            starts_at=silence.starts_at,
            ends_at=silence.ends_at,
            created_by=silence.created_by,
            comment=silence.comment,
        )
        for silence in listed
    ]
    return maintenance_silences(silences, services=services, at=at, incident_silences=held)


class NoticeSender(Protocol):
    """Sends a notice to one contact method, retries included (`notifiers.Notifiers`);
    never raises for a failed delivery: the Delivery says so."""

    def send_notice(self, notice: Notice, contact: ContactMethod) -> Delivery: ...


@dataclass(frozen=True)
class HandoffSent:
    """What sending the handoff did: to whom, each delivery in the order of their contact
    methods, and why nothing was tried (`problem`: nobody incoming, no stored person, no
    contact method)."""

    person: str | None
    deliveries: tuple[Delivery, ...] = ()
    problem: str | None = None

    @property
    def delivered(self) -> bool:
        """Whether at least one contact method received it."""
        return any(delivery.delivered for delivery in self.deliveries)


def handoff_link(public_url: str, *, rotation: str, at: datetime) -> str:
    """Where the API serves this handoff as Markdown (a viewer token required):
    `<public_url>/api/v1/oncall/rotations/<name>/handoff?at=<at>&format=md`."""
    name = quote(rotation, safe="")
    return (
        f"{public_url.rstrip('/')}/api/v1/oncall/rotations/{name}/handoff"
        f"?at={format_instant(at)}&format=md"
    )


def send_handoff(
    engine: StoreEngine,
    *,
    checklist: HandoffChecklist,
    sender: NoticeSender,
    link: str | None = None,
) -> HandoffSent:
    """Send the handoff to the incoming primary through every contact method the store
    holds for them, in order. Nothing is tried when the first layer is a gap at the handoff,
    or its holder is not a stored person or has no contact method: `problem` says which."""
    from srekit.store.repo import find_person, person_of

    person = incoming_primary(checklist)
    if person is None:
        return HandoffSent(
            None, problem="nobody takes over the first layer at this handoff: nobody to tell"
        )
    with transaction(engine, read_only=True) as session:
        row = find_person(session, name=person)
        stored = None if row is None else person_of(row)
    if stored is None:
        return HandoffSent(
            person,
            problem=f"{person} is not a stored person, so has no contact methods"
            " (srekit person add)",
        )
    if not stored.contacts:
        return HandoffSent(
            person,
            problem=f"{person} has no contact methods (srekit person update {person} --contact)",
        )
    notice = handoff_notice(checklist, person=person, link=link)
    deliveries = tuple(
        sender.send_notice(notice, ContactMethod(ContactKind(c.kind.value), c.target))
        for c in stored.contacts
    )
    return HandoffSent(person, deliveries)


@dataclass(frozen=True)
class HandoffNotified:
    """What the notifier did with one handoff of a rotation's primary layer: `sent` None when
    it was not sent because it was seen too late (`stale`)."""

    rotation: str
    due: DueHandoff
    stale: bool
    sent: HandoffSent | None = None


def notify_handoffs(
    engine: StoreEngine,
    *,
    sender: NoticeSender,
    since: datetime,
    now: datetime,
    max_status_age_s: float,
    public_url: str,
    silences: SilenceSource | None = None,
) -> list[HandoffNotified]:
    """Send every stored rotation's primary handoffs in (since, now] to their incoming
    primary, each once across rounds, restarts and replicas.

    Each handoff is claimed in the store (`handoff_notices`, unique per rotation and instant)
    before it is sent, and its outcome recorded after: at most once, so a process stopping
    between the claim and the send loses that notice. One seen more than an hour late
    (`core.handoff.STALE_HANDOFF`: the server was down) is recorded, not sent."""
    from srekit.store.repo import list_rotations, ruling_rotation_versions
    from srekit.store.repo.handoff_notices import (
        claim_handoff_notice,
        record_handoff_delivery,
        seen_handoffs,
    )

    with transaction(engine, read_only=True) as session:
        rotations = [
            (row.name, ruling_rotation_versions(session, name=row.name))
            for row in list_rotations(session)
        ]
    done: list[HandoffNotified] = []
    for name, versions in rotations:
        shifts = versioned_shifts(versions, start=since, end=now + _INCLUSIVE)
        due = primary_handoffs(shifts, since=since, until=now)
        if not due:
            continue
        with transaction(engine, read_only=True) as session:
            seen = seen_handoffs(session, rotation=name, since=since)
        for handoff in due:
            if handoff.at in seen:
                continue
            stale = handoff_is_stale(handoff.at, now=now)
            if stale:
                with transaction(engine) as session:
                    claimed = claim_handoff_notice(
                        session,
                        rotation=name,
                        at=handoff.at,
                        member=handoff.member,
                        delivered=False,
                    )
                if claimed:
                    done.append(HandoffNotified(name, handoff, stale=True))
                continue
            checklist = handoff_checklist(
                engine,
                versions=versions,
                at=handoff.at,
                max_status_age_s=max_status_age_s,
                silences=silences,
            )
            with transaction(engine) as session:
                claimed = claim_handoff_notice(
                    session, rotation=name, at=handoff.at, member=handoff.member
                )
            if not claimed:  # another replica or an earlier round took it meanwhile
                continue
            sent = send_handoff(
                engine,
                checklist=checklist,
                sender=sender,
                link=handoff_link(public_url, rotation=name, at=handoff.at),
            )
            with transaction(engine) as session:
                record_handoff_delivery(
                    session, rotation=name, at=handoff.at, sent_at=now, delivered=sent.delivered
                )
            done.append(HandoffNotified(name, handoff, stale=False, sent=sent))
    return done
