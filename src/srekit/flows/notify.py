"""Paging: the page of an incident for one person (with its signed acknowledgement link),
and acknowledging through that link.

The link's secret is SREKIT_ACK_LINK_SECRET when set, else a random one the store makes on
first use and every server shares (`store.repo.server_secret`). What the escalation job calls:

    page = page_for(engine, incident_id=..., person=..., step=..., settings=..., now=...)
    delivery = notifier.send(page, contact)       # a core.ports.Notifier: srekit.notifiers
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

from srekit.config import Settings
from srekit.core.incident import IncidentState
from srekit.core.notify import AckClaim, Page, ack_token, verify_ack_token
from srekit.errors import Conflict
from srekit.flows.incidents import change_incident_state, incident_view
from srekit.store import StoreEngine
from srekit.store.database import transaction
from srekit.store.repo import ACK_LINK_SECRET, server_secret

__all__ = [
    "LinkAcknowledgement",
    "ack_secret",
    "acknowledge_by_link",
    "check_ack_link",
    "incident_url",
    "page_for",
    "page_link",
]


def ack_secret(engine: StoreEngine, *, settings: Settings) -> bytes:
    """The key that signs acknowledgement links: the setting's, or the store's shared one."""
    if settings.ack_link_secret is not None:
        return settings.ack_link_secret.get_secret_value().encode()
    with transaction(engine) as session:
        return server_secret(session, name=ACK_LINK_SECRET)


def incident_url(public_url: str, incident_id: int) -> str:
    return f"{public_url.rstrip('/')}/api/v1/incidents/{incident_id}"


def page_link(
    *,
    secret: bytes,
    public_url: str,
    incident_id: int,
    person: str,
    now: datetime,
    ttl_s: float,
) -> str:
    """The link that lets `person` acknowledge incident `incident_id` until `now + ttl_s`:
    `<public_url>/api/v1/incidents/<id>/ack?token=<signed token>`."""
    token = ack_token(
        secret, incident_id=incident_id, person=person, expires_at=now + timedelta(seconds=ttl_s)
    )
    return f"{incident_url(public_url, incident_id)}/ack?token={quote(token, safe='')}"


def page_for(
    engine: StoreEngine,
    *,
    incident_id: int,
    person: str,
    step: int,
    settings: Settings,
    now: datetime,
) -> Page:
    """The page telling `person` about the stored incident, its link signed and valid for
    SREKIT_ACK_LINK_TTL_S, its URLs under SREKIT_PUBLIC_URL. NotFound for an unknown id."""
    view = incident_view(engine, incident_id=incident_id)
    incident = view.incident
    return Page(
        incident_id=incident.id,
        title=incident.title,
        severity=incident.severity,
        person=person,
        step=step,
        ack_url=page_link(
            secret=ack_secret(engine, settings=settings),
            public_url=settings.public_url,
            incident_id=incident.id,
            person=person,
            now=now,
            ttl_s=settings.ack_link_ttl_s,
        ),
        incident_url=incident_url(settings.public_url, incident.id),
        at=now,
        services=incident.services,
        summary=view.summary,
    )


@dataclass(frozen=True)
class LinkAcknowledgement:
    """What pressing the link's button did: `acknowledged` now by this link, or not (the
    incident was already past triggered: `state` says where it is)."""

    incident_id: int
    title: str
    person: str
    acknowledged: bool
    state: IncidentState


def check_ack_link(
    engine: StoreEngine, *, incident_id: int, token: str, settings: Settings, now: datetime
) -> AckClaim:
    """The token's claim when it is valid for the incident at `now`; raises
    core.notify.AckTokenError (malformed, bad signature, other incident, expired)."""
    return verify_ack_token(
        ack_secret(engine, settings=settings), token, incident_id=incident_id, now=now
    )


def acknowledge_by_link(
    engine: StoreEngine, *, incident_id: int, token: str, settings: Settings, now: datetime
) -> LinkAcknowledgement:
    """Acknowledge the incident as `link:<person>` of a valid token, on its timeline like any
    acknowledgement. Idempotent: an incident already acknowledged (or further on) is left as
    it is and said so. Raises AckTokenError for a token that is not valid, NotFound for an
    incident that does not exist."""
    claim = check_ack_link(engine, incident_id=incident_id, token=token, settings=settings, now=now)
    actor = f"link:{claim.person}"
    view = incident_view(engine, incident_id=incident_id)
    if view.incident.state is IncidentState.TRIGGERED:
        try:
            view = change_incident_state(
                engine,
                incident_id=incident_id,
                to=IncidentState.ACKNOWLEDGED,
                actor=actor,
                now=now,
                note="through the link in a page",
            )
            acknowledged = True
        except Conflict:  # another press (or person) acknowledged it in between
            view = incident_view(engine, incident_id=incident_id)
            acknowledged = False
    else:
        acknowledged = False
    return LinkAcknowledgement(
        incident_id=incident_id,
        title=view.incident.title,
        person=claim.person,
        acknowledged=acknowledged,
        state=view.incident.state,
    )
