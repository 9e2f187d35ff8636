"""The monthly SRE report and the weekly error-budget review, read from the store: the SLOs of
the scope with a daily sample of their snapshots, the incidents of the period with the budget
each consumed (`flows.incident_stats`, which reads the SLI sources for that), the deploys the
gate was asked about, the SLO definitions changed (the audit log), and the open follow-up
tasks. Every number is `core.report`'s or `core.incident_stats`'s.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime

from srekit.core.incident import DEFAULT_SEVERITIES, Severity, SeverityDefinition
from srekit.core.report import (
    DailySample,
    DeploymentRecord,
    ReportPeriod,
    SloInput,
    SreReport,
    assemble_report,
    report_days,
    slo_change,
)
from srekit.core.sli import SourceSet
from srekit.core.window import window_name
from srekit.errors import SpecError
from srekit.flows.incident_stats import compute_incident_stats
from srekit.store import StoreEngine

__all__ = ["stored_report"]


def _scope(service: str | None, team: str | None) -> str:
    if service is not None:
        return f"service {service}"
    return f"team {team}" if team is not None else "all services"


def stored_report(
    engine: StoreEngine,
    *,
    period: ReportPeriod,
    at: datetime,
    sources: SourceSet,
    service: str | None = None,
    team: str | None = None,
    severities: Mapping[Severity, SeverityDefinition] = DEFAULT_SEVERITIES,
) -> SreReport:
    """The report of `period` as the store held it at `at`, for one service, one team's
    services, or everything. NotFound for a team not stored; a SpecError when both
    are given. A service is a name: incidents and deploys may name one the store holds no SLO
    of. The report may hold no data at all (`SreReport.has_data`): the caller says so.
    """
    from srekit.flows.incidents import task_of
    from srekit.store.database import transaction
    from srekit.store.repo import (
        audit_between,
        daily_snapshots,
        deployment_decisions,
        get_incidents,
        get_team,
        incident_of,
        list_incidents,
        list_slos,
        list_tasks,
    )

    if service is not None and team is not None:
        raise SpecError("give a service or a team, not both", field="team")
    until = min(period.end, at)
    days = report_days(period, at=at)
    with transaction(engine, read_only=True) as session:
        services: set[str] | None = None
        if service is not None:
            services = {service}  # incidents and deploys may name a service without SLOs
        elif team is not None:
            services = {row.name for row in get_team(session, name=team).services}
        rows = [
            row for row in list_slos(session) if services is None or row.service.name in services
        ]
        slos, inputs_of = [], {}
        for row in rows:
            try:
                slo = row.to_slo()
            except SpecError:
                continue  # an unreadable stored SLO: evaluation rounds leave it out too
            slos.append(slo)
            inputs_of[row.id] = slo
        points = daily_snapshots(session, slo_ids=list(inputs_of), days=days)
        deploys = [
            DeploymentRecord(name, change_type, allowed)
            for name, change_type, allowed in deployment_decisions(
                session,
                start=period.start,
                end=until,
                services=None if services is None else sorted(services),
            )
        ]
        changes = [
            slo_change(
                at=row.at,
                target=row.entity_id,
                action=row.action,
                actor=row.actor,
                before=None if row.before_json is None else json.loads(row.before_json),
                after=None if row.after_json is None else json.loads(row.after_json),
            )
            for row in audit_between(session, entity_kind="slo", start=period.start, end=until)
            if services is None or row.entity_id.partition("/")[0] in services
        ]
        incidents = [
            incident_of(row)
            for row in list_incidents(
                session, state="all", opened_from=period.start, opened_to=until, limit=None
            )
        ]
        tasks = [task_of(row) for row in list_tasks(session, limit=None) if row.created_at <= at]
        owners = {
            incident.id: incident.services
            for incident in map(
                incident_of,
                get_incidents(session, incident_ids={task.incident_id for task in tasks}).values(),
            )
        }
    if services is not None:
        incidents = [incident for incident in incidents if services.intersection(incident.services)]
        tasks = [task for task in tasks if services.intersection(owners.get(task.incident_id, ()))]
    inputs = [
        SloInput(
            service=slo.service,
            slo=slo.name,
            objective=slo.objective,
            window=window_name(slo.window),
            samples=tuple(
                DailySample(day_end)
                if point is None
                else DailySample(
                    day_end,
                    at=point.evaluated_at,
                    sli=point.sli,
                    remaining=point.remaining,
                    consumed=point.consumed,
                    time_to_exhaustion_s=point.time_to_exhaustion_s,
                )
                for (_, day_end), point in zip(days, points[slo_id], strict=True)
            ),
        )
        for slo_id, slo in inputs_of.items()
    ]
    stats = (
        compute_incident_stats(
            incidents,
            slos=slos,
            sources=sources,
            start=period.start,
            end=period.end,
            now=at,
            severities=severities,
        )
        if incidents and at > period.start
        else None
    )
    return assemble_report(
        period,
        at=at,
        scope=_scope(service, team),
        slos=inputs,
        incidents=stats,
        deployments=deploys,
        changes=changes,
        tasks=tasks,
    )
