"""The state store's tables: teams own services, services have SLOs, SLOs keep every version;
the evaluator keeps SLO snapshots and the deploy gate its decisions.

Specs are stored as canonical JSON text (`core.specs.canonical_json`) with the codec version that
wrote them, so equal specs compare equal as text and old rows stay readable. Every timestamp is
timezone-aware UTC on both SQLite and PostgreSQL (`UtcDateTime`). The audit log is append-only:
the ORM refuses to update or delete its rows.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    event,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from srekit.core.alerts import BurnRateAlert
from srekit.core.budget import ErrorBudget
from srekit.core.policy import BudgetPolicy
from srekit.core.sli import EventCounts
from srekit.core.slo import SLO
from srekit.core.status import DataState, SloStatus
from srekit.store.codec import alerts_from_list, policy_from_dict, slo_from_dict

__all__ = [
    "AuditRow",
    "Base",
    "DeploymentRow",
    "PolicyRow",
    "ServiceRow",
    "SloRow",
    "SloVersionRow",
    "SnapshotRow",
    "TeamRow",
    "UtcDateTime",
]

# Named constraints keep Alembic's diffs and SQLite batch migrations deterministic.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# A 64-bit id on PostgreSQL; SQLite only auto-increments an INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime in and out, on every backend.

    SQLite has no time zones: it would hand back naive datetimes. Naive input is refused rather
    than guessed.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"expected a timezone-aware datetime, got {value!r}")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _now() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class TeamRow(Base):
    """A team that owns services (an SLO's `owner`)."""

    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=_now)

    services: Mapped[list[ServiceRow]] = relationship(
        back_populates="team", passive_deletes="all", order_by="ServiceRow.name"
    )


class ServiceRow(Base):
    """A service; it belongs to the team its SLOs name as owner (none until one does)."""

    __tablename__ = "services"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", ondelete="RESTRICT"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=_now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=_now)

    team: Mapped[TeamRow | None] = relationship(back_populates="services")
    slos: Mapped[list[SloRow]] = relationship(
        back_populates="service", passive_deletes="all", order_by="SloRow.name"
    )


class SloRow(Base):
    """An SLO's current spec; `version` counts the changes applied to it, from 1."""

    __tablename__ = "slos"
    __table_args__ = (UniqueConstraint("service_id", "name"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="RESTRICT"))
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer)
    spec_json: Mapped[str] = mapped_column(Text)
    codec_version: Mapped[int] = mapped_column(Integer)
    # Where the current version came from: the spec format it was written in, and its file.
    source_format: Mapped[str | None] = mapped_column(String(40))
    source_file: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=_now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=_now)

    service: Mapped[ServiceRow] = relationship(back_populates="slos")
    versions: Mapped[list[SloVersionRow]] = relationship(
        back_populates="slo",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="SloVersionRow.version",
    )

    @property
    def key(self) -> str:
        """`service/name`, as the CLI names an SLO."""
        return f"{self.service.name}/{self.name}"

    def spec(self) -> dict[str, Any]:
        """The stored spec as `codec.slo_to_dict` wrote it (without `source_file`)."""
        return dict(json.loads(self.spec_json))

    def to_slo(self) -> SLO:
        """The core SLO this row stores, its source file included."""
        return slo_from_dict({**self.spec(), "source_file": self.source_file})


class SloVersionRow(Base):
    """One applied version of an SLO: the spec, what changed from the previous one, who, when."""

    __tablename__ = "slo_versions"
    __table_args__ = (UniqueConstraint("slo_id", "version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    slo_id: Mapped[int] = mapped_column(ForeignKey("slos.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    spec_json: Mapped[str] = mapped_column(Text)
    codec_version: Mapped[int] = mapped_column(Integer)
    changes_json: Mapped[str] = mapped_column(Text)  # a JSON list of "field: old → new"
    source_format: Mapped[str | None] = mapped_column(String(40))
    source_file: Mapped[str | None] = mapped_column(Text)
    applied_by: Mapped[str] = mapped_column(String(200))
    applied_at: Mapped[datetime] = mapped_column(UtcDateTime, default=_now)

    slo: Mapped[SloRow] = relationship(back_populates="versions")

    @property
    def changes(self) -> tuple[str, ...]:
        return tuple(json.loads(self.changes_json))

    def spec(self) -> dict[str, Any]:
        return dict(json.loads(self.spec_json))


class PolicyRow(Base):
    """An error-budget policy by name; `version` counts the changes applied to it."""

    __tablename__ = "policies"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    version: Mapped[int] = mapped_column(Integer)
    spec_json: Mapped[str] = mapped_column(Text)
    codec_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=_now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=_now)

    def spec(self) -> dict[str, Any]:
        return dict(json.loads(self.spec_json))

    def to_policy(self) -> BudgetPolicy:
        return policy_from_dict(self.spec())


class AuditRow(Base):
    """One change to the stored state: who did what to which entity, and its state before/after.

    `entity_id` is the natural key (`checkout/availability`, a team's name), so the trail of an
    entity survives its deletion. `before`/`after` are JSON, null when the entity did not exist.
    """

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_entity", "entity_kind", "entity_id"),
        Index("ix_audit_log_at", "at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=_now)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(40))
    entity_kind: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(400))
    before_json: Mapped[str | None] = mapped_column(Text)
    after_json: Mapped[str | None] = mapped_column(Text)

    @property
    def before(self) -> Any:
        return None if self.before_json is None else json.loads(self.before_json)

    @property
    def after(self) -> Any:
        return None if self.after_json is None else json.loads(self.after_json)


@event.listens_for(AuditRow, "before_update")
@event.listens_for(AuditRow, "before_delete")
def _audit_is_append_only(mapper: Any, connection: Any, target: AuditRow) -> None:
    raise ValueError("the audit log is append-only: its rows are never changed or deleted")


class SnapshotRow(Base):
    """One SLO's status as one evaluation round found it, so the API and the dashboard read
    figures instead of querying the sources, and history can be charted.

    The figures the status was computed with (objective, window) are kept with it: a later
    version of the spec does not rewrite the past. `good_events`/`total_events` are null when
    the source gave no counts (no data, or an error ratio only).
    """

    __tablename__ = "slo_snapshots"
    __table_args__ = (
        # `id` last: "newest per SLO" orders by (evaluated_at, id) and reads one index entry
        Index("ix_slo_snapshots_slo_id_evaluated_at", "slo_id", "evaluated_at", "id"),
        Index("ix_slo_snapshots_evaluated_at", "evaluated_at"),  # pruning by age
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    slo_id: Mapped[int] = mapped_column(ForeignKey("slos.id", ondelete="CASCADE"))
    slo_version: Mapped[int] = mapped_column(Integer)
    evaluated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    objective: Mapped[float] = mapped_column(Float)
    window: Mapped[str] = mapped_column(String(40))
    window_s: Mapped[int] = mapped_column(Integer)
    sli: Mapped[float | None] = mapped_column(Float)
    remaining: Mapped[float | None] = mapped_column(Float)
    consumed: Mapped[float | None] = mapped_column(Float)
    allowed_bad_events: Mapped[float | None] = mapped_column(Float)
    good_events: Mapped[float | None] = mapped_column(Float)
    total_events: Mapped[float | None] = mapped_column(Float)
    burn_rates_json: Mapped[str] = mapped_column(Text)  # {"1h": 2.5, "5m": null, ...}
    time_to_exhaustion_s: Mapped[float | None] = mapped_column(Float)
    policy_state: Mapped[str] = mapped_column(String(40))
    data: Mapped[str] = mapped_column(String(16))  # a DataState value
    detail: Mapped[str | None] = mapped_column(Text)
    alerts_json: Mapped[str] = mapped_column(Text)  # codec.alerts_to_list

    slo: Mapped[SloRow] = relationship()

    @property
    def burn_rates(self) -> dict[str, float | None]:
        return dict(json.loads(self.burn_rates_json))

    @property
    def alerts(self) -> tuple[BurnRateAlert, ...]:
        return alerts_from_list(json.loads(self.alerts_json))

    def to_status(self) -> SloStatus:
        """The status this snapshot recorded, as `srekit.contracts.status_document` renders it.

        Reads `self.slo` and its service (names, labels): the repo's queries load them.
        """
        budget = (
            None
            if self.remaining is None or self.consumed is None
            else ErrorBudget(
                remaining=self.remaining,
                consumed=self.consumed,
                allowed_bad_events=self.allowed_bad_events,
            )
        )
        counts = (
            None
            if self.good_events is None or self.total_events is None
            else EventCounts(good=self.good_events, total=self.total_events)
        )
        return SloStatus(
            service=self.slo.service.name,
            slo=self.slo.name,
            objective=self.objective,
            window=self.window,
            window_s=self.window_s,
            at=self.evaluated_at,
            sli=self.sli,
            error_budget=budget,
            burn_rates=self.burn_rates,
            time_to_exhaustion_s=self.time_to_exhaustion_s,
            alerts=self.alerts,
            policy_state=self.policy_state,
            data=DataState(self.data),
            detail=self.detail,
            counts=counts,
            labels=dict(self.slo.spec().get("labels") or {}),
        )


class DeploymentRow(Base):
    """A deploy the gate was asked about, and its answer: the record DORA metrics start from.

    `service` is a name, not a foreign key: the gate answers for any service, known or not.
    """

    __tablename__ = "deployments"
    __table_args__ = (Index("ix_deployments_service_requested_at", "service", "requested_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    service: Mapped[str] = mapped_column(String(200))
    version: Mapped[str | None] = mapped_column(String(200))
    commit_time: Mapped[datetime | None] = mapped_column(UtcDateTime)
    change_type: Mapped[str] = mapped_column(String(40))
    allowed: Mapped[bool] = mapped_column(Boolean)
    decision: Mapped[str] = mapped_column(String(16))  # a Decision value
    state: Mapped[str] = mapped_column(String(40))
    reasons_json: Mapped[str] = mapped_column(Text)  # a JSON list of strings
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime, default=_now)
    requested_by: Mapped[str | None] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(40))  # cli, api, argo, flagger, ...

    @property
    def reasons(self) -> tuple[str, ...]:
        return tuple(json.loads(self.reasons_json))


# --- API tokens (the srekit server) ------------------------------------------------------------


class ApiTokenRow(Base):
    """An API token of the srekit server: its name (the audit log's actor), role and SHA-256 hash.

    The token itself is shown once, when created, and never stored; `prefix` (its first
    characters) lets people tell tokens apart in listings without revealing them.
    """

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=_now)
    created_by: Mapped[str] = mapped_column(String(200))
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    @property
    def active(self) -> bool:
        return self.revoked_at is None


__all__ += ["ApiTokenRow"]


# --- Incidents (alert intake, the lifecycle, the timeline, follow-ups) -------------------------


class AlertNotificationRow(Base):
    """A webhook body Alertmanager sent, kept as it came (once per distinct body), so what the
    intake did can be replayed and checked. Retries and HA duplicates share a body hash."""

    __tablename__ = "alert_notifications"
    __table_args__ = (Index("ix_alert_notifications_received_at", "received_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    body_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    receiver: Mapped[str] = mapped_column(String(200))
    group_key: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    alert_count: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=_now)
    body: Mapped[str] = mapped_column(Text)


class AlertRow(Base):
    """One alert instance, identified by (fingerprint, starts_at) as Alertmanager identifies it.

    Its status only moves forward (firing → resolved). `route_index` is the route that took it
    (None: no route did, the alert is kept and listed); `incident_id` the incident it joined.
    """

    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("fingerprint", "starts_at"),
        Index("ix_alerts_incident_id", "incident_id"),
        Index("ix_alerts_alertname_service", "alertname", "service"),
        Index("ix_alerts_starts_at", "starts_at"),  # the alert quality report's period
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(16))  # firing | resolved
    alertname: Mapped[str] = mapped_column(String(200))
    service: Mapped[str | None] = mapped_column(String(200))
    severity: Mapped[str | None] = mapped_column(String(4))  # the routed severity, P0..P3
    labels_json: Mapped[str] = mapped_column(Text)
    annotations_json: Mapped[str] = mapped_column(Text)
    generator_url: Mapped[str | None] = mapped_column(Text)
    route_index: Mapped[int | None] = mapped_column(Integer)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id", ondelete="SET NULL"))
    first_seen_at: Mapped[datetime] = mapped_column(UtcDateTime, default=_now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=_now)

    @property
    def labels(self) -> dict[str, str]:
        return dict(json.loads(self.labels_json))

    @property
    def annotations(self) -> dict[str, str]:
        return dict(json.loads(self.annotations_json))


class IncidentRow(Base):
    """An incident: its lifecycle's instants, severity, roles and what it touches.

    `open_group_key` is the routing group while the incident is open and null afterwards: its
    unique constraint is what makes a storm of related alerts, even from concurrent writers,
    open one incident.
    """

    __tablename__ = "incidents"
    __table_args__ = (
        Index("ix_incidents_opened_at", "opened_at"),
        Index("ix_incidents_state", "state"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    title: Mapped[str] = mapped_column(String(400))
    summary: Mapped[str | None] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(String(4))
    state: Mapped[str] = mapped_column(String(16))
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    mitigated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    reopened: Mapped[int] = mapped_column(Integer, default=0)
    # who resolved it: "alertmanager" when its alerts did, so a late alert may withdraw that
    resolved_by: Mapped[str | None] = mapped_column(String(200))
    group_key: Mapped[str | None] = mapped_column(String(700), index=True)
    open_group_key: Mapped[str | None] = mapped_column(String(700), unique=True)
    slos_json: Mapped[str] = mapped_column(Text, default="[]")
    roles_json: Mapped[str] = mapped_column(Text, default="{}")
    participants_json: Mapped[str] = mapped_column(Text, default="[]")
    silences_json: Mapped[str] = mapped_column(Text, default="[]")
    created_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=_now)
    # closed as noise (a false alarm): its alerts count as false positives (alert quality)
    noise: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    services: Mapped[list[IncidentServiceRow]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="IncidentServiceRow.service"
    )
    alerts: Mapped[list[AlertRow]] = relationship(order_by="AlertRow.starts_at")

    @property
    def service_names(self) -> tuple[str, ...]:
        return tuple(link.service for link in self.services)

    @property
    def slos(self) -> tuple[str, ...]:
        return tuple(json.loads(self.slos_json))

    @property
    def roles(self) -> dict[str, str]:
        return dict(json.loads(self.roles_json))

    @property
    def participants(self) -> tuple[str, ...]:
        return tuple(json.loads(self.participants_json))

    @property
    def silences(self) -> tuple[str, ...]:
        return tuple(json.loads(self.silences_json))


class IncidentServiceRow(Base):
    """A service an incident affects; a name, not a key: alerts may name services srekit has
    no SLO for."""

    __tablename__ = "incident_services"
    __table_args__ = (Index("ix_incident_services_service", "service"),)

    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True
    )
    service: Mapped[str] = mapped_column(String(200), primary_key=True)


class IncidentEventRow(Base):
    """One entry of an incident's timeline (`core.incident.TimelineKind`), with who and what."""

    __tablename__ = "incident_events"
    __table_args__ = (Index("ix_incident_events_incident_id_at", "incident_id", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    kind: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    data_json: Mapped[str] = mapped_column(Text, default="{}")

    @property
    def data(self) -> dict[str, Any]:
        return dict(json.loads(self.data_json))


class IncidentTaskRow(Base):
    """A follow-up task of an incident (or of its post-mortem's action items)."""

    __tablename__ = "incident_tasks"
    __table_args__ = (Index("ix_incident_tasks_state_due_at", "state", "due_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(Text)
    owner: Mapped[str | None] = mapped_column(String(200))
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    state: Mapped[str] = mapped_column(String(16))  # a core.incident.TaskState value
    source: Mapped[str] = mapped_column(String(40), default="incident")  # or postmortem
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=_now)
    created_by: Mapped[str] = mapped_column(String(200))
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class AlertRoutingRow(Base):
    """An alert routing (srekit/v1 `kind: AlertRouting`) by name; `default` is the one the
    intake uses, and while none is stored `core.routing.DEFAULT_ROUTING` holds."""

    __tablename__ = "alert_routings"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    version: Mapped[int] = mapped_column(Integer)
    spec_json: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=_now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=_now)

    def spec(self) -> dict[str, Any]:
        return dict(json.loads(self.spec_json))


__all__ += [
    "AlertNotificationRow",
    "AlertRoutingRow",
    "AlertRow",
    "IncidentEventRow",
    "IncidentRow",
    "IncidentServiceRow",
    "IncidentTaskRow",
]


# --- Post-mortems -------------------------------------------------------------------------------


class PostmortemRow(Base):
    """An incident's post-mortem (at most one): its state (`core.postmortem.PostmortemState`),
    its sections as canonical JSON (`core.postmortem.sections_document`), the version of that
    text, and who wrote, last changed and published it when."""

    __tablename__ = "postmortems"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), unique=True
    )
    state: Mapped[str] = mapped_column(String(16))
    body_json: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=_now)
    created_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=_now)
    updated_by: Mapped[str] = mapped_column(String(200))
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    published_by: Mapped[str | None] = mapped_column(String(200))

    @property
    def body(self) -> dict[str, Any]:
        return dict(json.loads(self.body_json))


__all__ += ["PostmortemRow"]


# --- On call: people and rotations --------------------------------------------------------------


class PersonRow(Base):
    """A person who can be on call (`core.people.Person`); `name` is the handle rotations list.
    `contacts_json` is a JSON list of `[kind, target]` pairs, in the order to try them."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(500))
    email: Mapped[str | None] = mapped_column(String(500))
    timezone: Mapped[str | None] = mapped_column(String(100))
    team: Mapped[str | None] = mapped_column(String(200), index=True)
    contacts_json: Mapped[str] = mapped_column(Text, default="[]")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=_now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=_now)

    @property
    def contacts(self) -> list[tuple[str, str]]:
        return [(str(kind), str(target)) for kind, target in json.loads(self.contacts_json)]


class RotationRow(Base):
    """An on-call rotation (srekit/v1 `kind: Rotation`) by name: its latest version's spec and
    the instant that version takes effect. Earlier versions stay in `rotation_versions`: each
    rules the schedule from its own `effective_from`, so a change never rewrites the past."""

    __tablename__ = "rotations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    team: Mapped[str | None] = mapped_column(String(200), index=True)
    version: Mapped[int] = mapped_column(Integer)
    effective_from: Mapped[datetime] = mapped_column(UtcDateTime)
    spec_json: Mapped[str] = mapped_column(Text)  # spec.rotation.rotation_spec, canonical
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=_now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=_now)

    versions: Mapped[list[RotationVersionRow]] = relationship(
        back_populates="rotation",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="RotationVersionRow.version",
    )

    def spec(self) -> dict[str, Any]:
        return dict(json.loads(self.spec_json))


class RotationVersionRow(Base):
    """One applied version of a rotation: its spec, from when it rules, who applied it when."""

    __tablename__ = "rotation_versions"
    __table_args__ = (UniqueConstraint("rotation_id", "version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    rotation_id: Mapped[int] = mapped_column(ForeignKey("rotations.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    effective_from: Mapped[datetime] = mapped_column(UtcDateTime)
    spec_json: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=_now)
    actor: Mapped[str] = mapped_column(String(200))

    rotation: Mapped[RotationRow] = relationship(back_populates="versions")

    def spec(self) -> dict[str, Any]:
        return dict(json.loads(self.spec_json))


__all__ += ["PersonRow", "RotationRow", "RotationVersionRow"]
# --- Notifications ------------------------------------------------------------------------------


class ServerSecretRow(Base):
    """A secret the servers share, made at random on first use (`repo.secrets.server_secret`):
    `ack-link` signs the acknowledgement links in pages. `value` is hex; it never leaves the
    store but to sign or verify."""

    __tablename__ = "server_secrets"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=_now)


__all__ += ["ServerSecretRow"]


# --- Escalation ---------------------------------------------------------------------------------


class EscalationPolicyRow(Base):
    """An escalation policy (srekit/v1 `kind: EscalationPolicy`) by name, its current version."""

    __tablename__ = "escalation_policies"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    version: Mapped[int] = mapped_column(Integer)
    spec_json: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=_now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=_now)

    def spec(self) -> dict[str, Any]:
        return dict(json.loads(self.spec_json))


class EscalationPolicyVersionRow(Base):
    """Every version a policy had, kept after the policy changes or goes: an escalation follows
    the version it started with to its end."""

    __tablename__ = "escalation_policy_versions"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    spec_json: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=_now)

    def spec(self) -> dict[str, Any]:
        return dict(json.loads(self.spec_json))


class IncidentEscalationRow(Base):
    """Where an incident's escalation is (`core.escalation.EscalationState`): the policy
    version it follows, the plan's next step (an index, from 0) and when it is due, and its
    state (active, stopped, exhausted; `reason` says why it stopped). Kept in the store so a
    restarted server resumes each escalation where it was."""

    __tablename__ = "incident_escalations"
    __table_args__ = (Index("ix_incident_escalations_state_next_at", "state", "next_at"),)

    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True
    )
    policy_name: Mapped[str] = mapped_column(String(200))
    policy_version: Mapped[int] = mapped_column(Integer)
    next_step: Mapped[int] = mapped_column(Integer)
    next_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    state: Mapped[str] = mapped_column(String(16))  # a core.escalation.EscalationStatus value
    reason: Mapped[str | None] = mapped_column(String(200))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, default=_now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=_now)


__all__ += ["EscalationPolicyRow", "EscalationPolicyVersionRow", "IncidentEscalationRow"]
# --- SLO history ------------------------------------------------------------------------------


class SloHourRow(Base):
    """One SLO's hour of snapshots rolled up (`core.history.rollup_hour`): for each figure the
    hour's min, max, first and last, so long ranges chart from one row an hour. The raw
    snapshots of the hour are deleted once they pass the raw horizon; the row itself once it
    passes the hourly horizon.

    `(slo_id, hour_start)` is unique: compaction inserts each hour once however often, or
    however many replicas, run it. `burn_rates_json` maps each window the snapshots held to
    `[min, max, first, last]` (null where no snapshot had a figure).
    `budget_burned` is the share of the window's budget the hour spent
    (`core.history.budget_burned_in_hour` of the last 1 h burn rate): the heatmap sums it.
    """

    __tablename__ = "slo_history_hours"
    __table_args__ = (
        UniqueConstraint("slo_id", "hour_start"),
        # the hourly horizon, and the heatmap's per-day sums read from the index alone
        Index("ix_slo_history_hours_hour_start", "hour_start", "slo_id", "budget_burned"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    slo_id: Mapped[int] = mapped_column(ForeignKey("slos.id", ondelete="CASCADE"))
    hour_start: Mapped[datetime] = mapped_column(UtcDateTime)
    samples: Mapped[int] = mapped_column(Integer)
    objective: Mapped[float] = mapped_column(Float)
    window: Mapped[str] = mapped_column(String(40))
    window_s: Mapped[int] = mapped_column(Integer)
    sli_min: Mapped[float | None] = mapped_column(Float)
    sli_max: Mapped[float | None] = mapped_column(Float)
    sli_first: Mapped[float | None] = mapped_column(Float)
    sli_last: Mapped[float | None] = mapped_column(Float)
    remaining_min: Mapped[float | None] = mapped_column(Float)
    remaining_max: Mapped[float | None] = mapped_column(Float)
    remaining_first: Mapped[float | None] = mapped_column(Float)
    remaining_last: Mapped[float | None] = mapped_column(Float)
    bad_events_min: Mapped[float | None] = mapped_column(Float)
    bad_events_max: Mapped[float | None] = mapped_column(Float)
    bad_events_first: Mapped[float | None] = mapped_column(Float)
    bad_events_last: Mapped[float | None] = mapped_column(Float)
    total_events_min: Mapped[float | None] = mapped_column(Float)
    total_events_max: Mapped[float | None] = mapped_column(Float)
    total_events_first: Mapped[float | None] = mapped_column(Float)
    total_events_last: Mapped[float | None] = mapped_column(Float)
    burn_rates_json: Mapped[str] = mapped_column(Text)
    budget_burned: Mapped[float | None] = mapped_column(Float)
    worst_data: Mapped[str] = mapped_column(String(16))
    worst_policy_state: Mapped[str] = mapped_column(String(40))


class SloDayRow(Base):
    """One SLO's UTC day rolled up from its hourly rollups (`core.history.rollup_day`): the
    hours rolled up, the last of them and the SLI, remaining budget and 1-day burn rate it
    ended with, and the budget the day spent. What the SLO list's sparklines, the Overview's
    heatmap and the budget heatmap read: a row a day, not a day's hours.

    Kept by the store whenever hourly rollups change (`store.repo.roll_up_hour`,
    `delete_rollups_before`), so it always equals what its hours say; a day still running
    holds the hours rolled up so far. `day` is the UTC day as a number
    (`core.history.day_number`: days since 1970-01-01), so reading a month of a thousand SLOs
    decodes no timestamp; `(slo_id, day)` is unique.
    """

    __tablename__ = "slo_history_days"
    __table_args__ = (
        UniqueConstraint("slo_id", "day"),
        # the budget heatmap's days over every SLO read from the index alone
        Index("ix_slo_history_days_day", "day", "slo_id", "budget_burned"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    slo_id: Mapped[int] = mapped_column(ForeignKey("slos.id", ondelete="CASCADE"))
    day: Mapped[int] = mapped_column(Integer)
    hours: Mapped[int] = mapped_column(Integer)
    close_hour_start: Mapped[datetime] = mapped_column(UtcDateTime)
    sli_last: Mapped[float | None] = mapped_column(Float)
    remaining_last: Mapped[float | None] = mapped_column(Float)
    burn_1d_last: Mapped[float | None] = mapped_column(Float)
    budget_burned: Mapped[float | None] = mapped_column(Float)


__all__ += ["SloDayRow", "SloHourRow"]


# --- On-call handoff notices --------------------------------------------------------------------


class HandoffNoticeRow(Base):
    """A handoff of a rotation's primary layer the notifier has seen (`jobs.handoff_notifier`):
    `(rotation, at)` is unique, and the row is inserted before the checklist is sent, so a
    restarted server or a second replica never sends it twice. `sent_at` is when it was sent
    (None: not sent); `delivered` whether a contact method received it (None: the outcome was
    never recorded, the process stopped between the insert and the send; False with no
    `sent_at`: seen too late to send)."""

    __tablename__ = "handoff_notices"
    __table_args__ = (UniqueConstraint("rotation", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    rotation: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    member: Mapped[str] = mapped_column(String(200))
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    delivered: Mapped[bool | None] = mapped_column(Boolean)


__all__ += ["HandoffNoticeRow"]


# --- Capacity plans -----------------------------------------------------------------------------


class CapacityPlanRow(Base):
    """One resource's plan from one `srekit capacity forecast --record` run (`flows.capacity`).

    `made_at` is the run's instant; `forecast_json` its forecast path ({"at": Unix seconds,
    "median": [...], "upper": [...]}, the 95 % upper bound) so a later run can score it
    against what was observed since; `summary_json` the figures the API and the page show
    (`contracts.capacity_resource_document` without the paths)."""

    __tablename__ = "capacity_plans"
    __table_args__ = (
        Index("ix_capacity_plans_service_resource", "service", "resource", "made_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    service: Mapped[str] = mapped_column(String(200))
    resource: Mapped[str] = mapped_column(String(200))
    plan: Mapped[str] = mapped_column(String(200))
    made_at: Mapped[datetime] = mapped_column(UtcDateTime)
    unit: Mapped[str] = mapped_column(String(32))
    model: Mapped[str] = mapped_column(String(64))
    step_s: Mapped[int] = mapped_column(Integer)
    capacity_limit: Mapped[float] = mapped_column(Float)
    forecast_json: Mapped[str] = mapped_column(Text)
    summary_json: Mapped[str] = mapped_column(Text)


__all__ += ["CapacityPlanRow"]
# --- Load tests ---------------------------------------------------------------------------------


class LoadRunRow(Base):
    """A load-test run's results for a service: the tool that produced them, the file they
    came from, the summary as srekit's JSON (`loadresults.summary_document`), and, when the
    gate judged it, the verdict (`pass`, `fail`, `inconclusive`), whether it passed, its table
    as JSON and the baseline version it was compared with."""

    __tablename__ = "load_runs"
    __table_args__ = (Index("ix_load_runs_service_recorded_at", "service", "recorded_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    service: Mapped[str] = mapped_column(String(200))
    tool: Mapped[str] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=_now)
    recorded_by: Mapped[str] = mapped_column(String(200))
    summary_json: Mapped[str] = mapped_column(Text)
    verdict: Mapped[str | None] = mapped_column(String(16))
    passed: Mapped[bool | None] = mapped_column(Boolean)
    verdict_json: Mapped[str | None] = mapped_column(Text)
    baseline_version: Mapped[int | None] = mapped_column(Integer)

    @property
    def summary(self) -> dict[str, Any]:
        return dict(json.loads(self.summary_json))

    @property
    def checks(self) -> list[dict[str, Any]]:
        return list(json.loads(self.verdict_json)) if self.verdict_json else []


class LoadBaselineRow(Base):
    """A version of a service's load-test baseline: the run later runs are compared with.
    Versions count from 1 per service; the newest is the one in force."""

    __tablename__ = "load_baselines"
    __table_args__ = (UniqueConstraint("service", "version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    service: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer)
    run_id: Mapped[int] = mapped_column(ForeignKey("load_runs.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=_now)
    created_by: Mapped[str] = mapped_column(String(200))
    run: Mapped[LoadRunRow] = relationship(lazy="joined")


__all__ += ["LoadBaselineRow", "LoadRunRow"]


class CanaryAnalysisRow(Base):
    """One canary analysis of a service, kept as a record: the two selectors, the window
    (ending `at`, cut into `step_s` intervals), the overall verdict, the lowest confidence of
    its judged metrics, and the whole document it answered (`flows.canary.report_document`)."""

    __tablename__ = "canary_analyses"
    __table_args__ = (Index("ix_canary_analyses_service_recorded_at", "service", "recorded_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    service: Mapped[str] = mapped_column(String(200))
    canary: Mapped[str] = mapped_column(String(2000))
    baseline: Mapped[str] = mapped_column(String(2000))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    window_s: Mapped[int] = mapped_column(Integer)
    step_s: Mapped[int] = mapped_column(Integer)
    verdict: Mapped[str] = mapped_column(String(16))
    confidence: Mapped[float | None] = mapped_column(Float)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=_now)
    recorded_by: Mapped[str] = mapped_column(String(200))
    document_json: Mapped[str] = mapped_column(Text)

    @property
    def document(self) -> dict[str, Any]:
        return dict(json.loads(self.document_json))


__all__ += ["CanaryAnalysisRow"]


class ChaosRunRow(Base):
    """One run of a chaos experiment, per service: its outcome, the probes that deviated,
    the error budget its SLO guard saw consumed during the run, and the whole journal
    (Chaos Toolkit's keys) as JSON text."""

    __tablename__ = "chaos_runs"
    __table_args__ = (Index("ix_chaos_runs_service_started_at", "service", "started_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    service: Mapped[str | None] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(500))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(16))  # a core.chaos.RunStatus value
    deviated: Mapped[bool] = mapped_column(Boolean)
    deviations_json: Mapped[str] = mapped_column(Text)  # a JSON list of "after: probe"
    budget_consumed: Mapped[float | None] = mapped_column(Float)
    journal_json: Mapped[str] = mapped_column(Text)

    @property
    def deviations(self) -> list[str]:
        return list(json.loads(self.deviations_json))

    @property
    def journal(self) -> dict[str, Any]:
        return dict(json.loads(self.journal_json))


__all__ += ["ChaosRunRow"]
