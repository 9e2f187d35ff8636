"""Incidents' silences in Alertmanager: made on acknowledgement, watched while the incident is
open, expired when it resolves or closes.

- `change_incident` moves an incident through its lifecycle (`flows.incidents`) with what that
  means for silences: acknowledging with `silence` makes one silence for the incident's firing
  alerts (`core.silences.silence_labels`), for `duration_s` at most; resolving or closing
  expires the silences the incident holds. A silence that cannot be asked for (no Alertmanager
  configured, no alerts to silence) refuses the whole change before anything is stored; once
  the move has committed, Alertmanager failing is reported in the outcome and the timeline and
  never undoes it.
- `expire_silences` expires the silences of incidents that are no longer open, best effort:
  expired (or already gone from Alertmanager) they leave the incident, each with a timeline
  entry; a failure is logged, written in the timeline once, and left for the next attempt.
- `watch_silenced_incidents` is one round of the server's silence watch (`jobs.silence_watch`):
  Alertmanager mutes the resolved notifications of silenced alerts, so for each open incident
  holding silences srekit asks Alertmanager which of its firing alerts have ended
  (`core.silences.ended_alerts`) and feeds those to the intake as resolved, through
  `flows.intake.receive_notification`, so the incident resolves by the intake's own rules; then
  it expires the silences of incidents no longer open.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from srekit.core.incident import (
    IncidentAlert,
    IncidentState,
    IncidentView,
    TimelineKind,
    is_open,
)
from srekit.core.instant import format_instant
from srekit.core.intake import AlertStatus, ReceivedAlert
from srekit.core.ports import Silencer
from srekit.core.routing import AlertRouting
from srekit.core.silences import (
    SilenceRefusedError,
    ended_alerts,
    shared_labels,
    silence_comment,
    silence_labels,
    watch_body,
)
from srekit.errors import Conflict, NotFound, NotifierUnavailable, SpecError, SrekitError
from srekit.flows.incidents import change_incident_state, incident_view
from srekit.flows.intake import Notification, receive_notification
from srekit.store import StoreEngine, StoreSession
from srekit.store.database import transaction
from srekit.store.repo import (
    add_event,
    add_silence,
    get_incident,
    incidents_holding_silences,
    list_alerts,
    remove_silence,
)

__all__ = [
    "DEFAULT_SILENCE_S",
    "SILENCE_ACTOR",
    "WATCH_RECEIVER",
    "SilenceOutcome",
    "WatchReport",
    "change_incident",
    "expire_silences",
    "watch_silenced_incidents",
]

log = logging.getLogger(__name__)

#: How long a silence made on acknowledgement lasts at most (SREKIT_SILENCE_DURATION_S).
DEFAULT_SILENCE_S = 86_400.0
#: Who the timeline says expired silences when no person did (the watch, the intake).
SILENCE_ACTOR = "srekit"
#: The receiver named by the notifications the watch makes of ended silenced alerts.
WATCH_RECEIVER = "srekit-silence-watch"

_ENDING_STATES = (IncidentState.RESOLVED, IncidentState.CLOSED)

RoutingOf = Callable[[StoreSession], AlertRouting]


@dataclass(frozen=True)
class SilenceOutcome:
    """What a change did in Alertmanager: the silence it made, those it expired, those it could
    not expire, and what failed there, in words (the change itself stands)."""

    created: str | None = None
    expired: tuple[str, ...] = ()
    unexpired: tuple[str, ...] = ()
    failures: tuple[str, ...] = ()


@dataclass(frozen=True)
class WatchReport:
    """One round of the silence watch: the open incidents holding silences it checked, the
    alerts it found ended and fed to the intake, the incidents that resolved, the expiries,
    and why it could not ask Alertmanager (None: it could)."""

    watched: int = 0
    ended_alerts: int = 0
    resolved: tuple[int, ...] = ()
    expiry: SilenceOutcome = SilenceOutcome()
    failure: str | None = None


def change_incident(
    engine: StoreEngine,
    *,
    incident_id: int,
    to: IncidentState,
    actor: str,
    now: datetime,
    note: str | None = None,
    postmortem_waived: str | None = None,
    noise: bool = False,
    noise_reason: str | None = None,
    silence: bool = False,
    silencer: Silencer | None = None,
    duration_s: float = DEFAULT_SILENCE_S,
) -> tuple[IncidentView, SilenceOutcome]:
    """Move the incident (`flows.incidents.change_incident_state`), then silence its alerts
    (acknowledging with `silence`) or expire its silences (resolving or closing).

    Before anything is stored: `silence` on another move is a SpecError; without `silencer`
    (no Alertmanager configured), or when the firing alerts cannot be silenced by one silence,
    a Conflict. Without `silencer`, resolving an incident that holds silences reports that
    they could not be expired.
    """
    labels: dict[str, str] | None = None
    if silence:
        if to is not IncidentState.ACKNOWLEDGED:
            raise SpecError(
                "only an acknowledgement silences an incident's alerts", field="silence"
            )
        if silencer is None:
            raise Conflict(
                "no Alertmanager configured: set SREKIT_ALERTMANAGER_URL to silence an"
                " incident's alerts (nothing was changed)"
            )
        labels = _labels_to_silence(engine, incident_id=incident_id)
    view = change_incident_state(
        engine,
        incident_id=incident_id,
        to=to,
        actor=actor,
        now=now,
        note=note,
        postmortem_waived=postmortem_waived,
        noise=noise,
        noise_reason=noise_reason,
    )
    outcome = SilenceOutcome()
    if labels is not None and silencer is not None:
        outcome = _silence(
            engine, silencer, view, labels, actor=actor, now=now, duration_s=duration_s
        )
    elif to in _ENDING_STATES and view.silences:
        if silencer is None:
            outcome = SilenceOutcome(
                unexpired=view.silences,
                failures=(
                    f"incident {incident_id} holds silence(s) {', '.join(view.silences)}, but no"
                    " Alertmanager is configured (SREKIT_ALERTMANAGER_URL) to expire them: they"
                    " end by themselves",
                ),
            )
        else:
            outcome = expire_silences(
                engine, silencer, actor=actor, now=now, incident_ids=[incident_id]
            )
    if outcome.created or outcome.expired or (outcome.failures and silencer is not None):
        view = incident_view(engine, incident_id=incident_id)
    return view, outcome


def _labels_to_silence(engine: StoreEngine, *, incident_id: int) -> dict[str, str]:
    """The silence's matchers: the labels the incident's firing alerts share (a Conflict
    saying why when one silence cannot mute them all and nothing else)."""
    with transaction(engine, read_only=True) as session:
        get_incident(session, incident_id=incident_id)  # NotFound first
        firing = _firing_alerts(session, incident_id)
    try:
        return silence_labels([alert.labels for alert in firing], incident_id=incident_id)
    except SilenceRefusedError as error:
        raise Conflict(f"{error} (nothing was changed)") from None


def _firing_alerts(session: StoreSession, incident_id: int) -> list[IncidentAlert]:
    return [
        IncidentAlert(
            fingerprint=row.fingerprint,
            alertname=row.alertname,
            status=row.status,
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            labels=row.labels,
        )
        for row in reversed(
            list_alerts(session, incident_id=incident_id, status=AlertStatus.FIRING, limit=None)
        )
    ]


def _matchers(labels: dict[str, str]) -> str:
    return ", ".join(f'{name}="{value}"' for name, value in sorted(labels.items()))


def _silence(
    engine: StoreEngine,
    silencer: Silencer,
    view: IncidentView,
    labels: dict[str, str],
    *,
    actor: str,
    now: datetime,
    duration_s: float,
) -> SilenceOutcome:
    """Make the silence and list it on the incident; a failure in Alertmanager goes in the
    outcome and the timeline."""
    incident = view.incident
    ends_at = now + timedelta(seconds=duration_s)
    try:
        silence_id = silencer.create_silence(
            labels,
            starts_at=now,
            ends_at=ends_at,
            created_by=actor,
            comment=silence_comment(incident_id=incident.id, title=incident.title),
        )
    except (NotifierUnavailable, SpecError) as error:
        failure = (
            f"incident {incident.id} is acknowledged, but its alerts are not silenced: {error}"
        )
        log.warning("%s", failure)
        with transaction(engine) as session:
            add_event(
                session,
                incident_id=incident.id,
                kind=TimelineKind.SILENCE,
                actor=actor,
                text=f"no silence could be made in Alertmanager: {error}",
                at=now,
                data={"matchers": labels, "error": str(error)},
            )
        return SilenceOutcome(failures=(failure,))
    try:
        with transaction(engine) as session:
            add_silence(
                session,
                row=get_incident(session, incident_id=incident.id),
                silence_id=silence_id,
                actor=actor,
                text=(
                    f"silenced in Alertmanager until {format_instant(ends_at)}:"
                    f" {_matchers(labels)} (silence {silence_id})"
                ),
                at=now,
                data={"matchers": labels, "ends_at": format_instant(ends_at)},
                now=now,
            )
    except SrekitError:
        # a silence no incident lists would never be expired by srekit: take it back
        _expire_quietly(silencer, silence_id)
        raise
    return SilenceOutcome(created=silence_id)


def _expire_quietly(silencer: Silencer, silence_id: str) -> None:
    try:
        silencer.expire_silence(silence_id)
    except SrekitError as error:
        log.error("silence %s could not be taken back: %s", silence_id, error)


def expire_silences(
    engine: StoreEngine,
    silencer: Silencer,
    *,
    actor: str,
    now: datetime,
    incident_ids: Iterable[int] | None = None,
    quiet: Collection[str] = (),
) -> SilenceOutcome:
    """Expire the silences held by incidents that are no longer open (of `incident_ids` only,
    when given) and take them off each incident, each with a timeline entry.

    A silence Alertmanager no longer knows leaves the incident too. When Alertmanager fails, the
    silences stay listed (the next call tries again; each ends by itself anyway) and each
    failure is written in the timeline, unless its silence is in `quiet` (already written).
    """
    with transaction(engine, read_only=True) as session:
        held = [
            (row.id, row.silences)
            for row in incidents_holding_silences(session, incident_ids=incident_ids)
            if not is_open(IncidentState(row.state))
        ]
    expired: list[str] = []
    unexpired: list[str] = []
    failures: list[str] = []
    down: NotifierUnavailable | None = None
    for incident_id, silences in held:
        for silence_id in silences:
            if down is None:
                try:
                    silencer.expire_silence(silence_id)
                    text = f"silence {silence_id} expired in Alertmanager"
                except NotFound:
                    text = f"silence {silence_id} is no longer in Alertmanager"
                except NotifierUnavailable as error:
                    down = error  # the others would fail alike: they wait for the next try
            if down is not None:
                unexpired.append(silence_id)
                failures.append(
                    f"silence {silence_id} of incident {incident_id} could not be expired: {down}"
                )
                if silence_id not in quiet:
                    _note_failure(engine, incident_id, silence_id, down, actor=actor, now=now)
                continue
            with transaction(engine) as session:
                remove_silence(
                    session,
                    row=get_incident(session, incident_id=incident_id),
                    silence_id=silence_id,
                    actor=actor,
                    text=text,
                    at=now,
                    now=now,
                )
            expired.append(silence_id)
    if failures:
        log.warning("%d silence(s) could not be expired: %s", len(failures), down)
    return SilenceOutcome(
        expired=tuple(expired), unexpired=tuple(unexpired), failures=tuple(failures)
    )


def _note_failure(
    engine: StoreEngine,
    incident_id: int,
    silence_id: str,
    error: NotifierUnavailable,
    *,
    actor: str,
    now: datetime,
) -> None:
    with transaction(engine) as session:
        add_event(
            session,
            incident_id=incident_id,
            kind=TimelineKind.SILENCE,
            actor=actor,
            text=(
                f"silence {silence_id} could not be expired: {error}; a running srekit with"
                " SREKIT_ALERTMANAGER_URL tries again, and the silence ends by itself"
            ),
            at=now,
            data={"silence": silence_id, "error": str(error)},
        )


def watch_silenced_incidents(
    engine: StoreEngine,
    silencer: Silencer,
    *,
    now: datetime,
    routing_of: RoutingOf | None = None,
    startup_grace_s: float = 120.0,
    quiet: Collection[str] = (),
) -> WatchReport:
    """One round of the silence watch (see the module's docstring).

    An alert Alertmanager no longer holds counts as ended only when Alertmanager has been up
    for `startup_grace_s`. When Alertmanager cannot answer, the round stops there and says
    why; nothing is fed or expired. `quiet`: as for `expire_silences`.
    """
    with transaction(engine, read_only=True) as session:
        watched = {
            row.id: _firing_alerts(session, row.id)
            for row in incidents_holding_silences(session)
            if is_open(IncidentState(row.state))
        }
    fed = 0
    resolved: list[int] = []
    if any(watched.values()):
        try:
            up_s = (now - silencer.started_at()).total_seconds()
            for incident_id, firing in watched.items():
                if not firing:
                    continue
                reported = silencer.list_alerts(shared_labels([a.labels for a in firing]))
                ended = ended_alerts(
                    firing, reported, now=now, absence_counts=up_s >= startup_grace_s
                )
                if not ended:
                    continue
                result = receive_notification(
                    engine, _notification(incident_id, ended), routing_of=routing_of, now=now
                )
                fed += len(ended)
                resolved.extend(result.incidents_resolved or [])
        except NotifierUnavailable as error:
            log.warning("the silence watch cannot ask Alertmanager: %s", error)
            return WatchReport(
                watched=len(watched), ended_alerts=fed, resolved=tuple(resolved), failure=str(error)
            )
    expiry = expire_silences(engine, silencer, actor=SILENCE_ACTOR, now=now, quiet=quiet)
    return WatchReport(
        watched=len(watched), ended_alerts=fed, resolved=tuple(resolved), expiry=expiry
    )


def _notification(
    incident_id: int, ended: Sequence[tuple[IncidentAlert, datetime]]
) -> Notification:
    """The alerts that ended as a resolved notification of the intake's own kind."""
    return Notification(
        receiver=WATCH_RECEIVER,
        status=AlertStatus.RESOLVED.value,
        group_key=f"{WATCH_RECEIVER}:{incident_id}",
        alerts=tuple(
            ReceivedAlert(
                fingerprint=alert.fingerprint,
                status=AlertStatus.RESOLVED,
                starts_at=alert.starts_at,
                ends_at=end,
                labels=alert.labels,
            )
            for alert, end in ended
        ),
        body=watch_body(incident_id, ended),
    )
