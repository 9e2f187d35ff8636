"""Reading and changing the stored state: keyword-only functions taking a session, one module
per noun (alerts, audit, incidents, post-mortems, teams, services, slos, policies, specs, snapshots,
deployments, tokens).

Functions add and flush but never commit: the caller owns the transaction
(`database.transaction`), so applying many SLOs is all or nothing. Every change to the
configuration ends with `audit.audited_write`, which writes its audit row in the same
transaction; applying a spec equal to the stored one writes nothing. Snapshots and deployments
are records, not changes to the configuration: they are not audited.

The rows these functions return are re-exported for callers' annotations: code outside the
store reads their attributes, and never queries their tables.
"""

from __future__ import annotations

from srekit.store.repo._base import Applied
from srekit.store.repo.alerts import (
    add_alert,
    find_alert,
    list_alerts,
    notification_seen,
    record_notification,
    resolve_alert,
)
from srekit.store.repo.audit import list_audit, newest_audit_id, record_audit
from srekit.store.repo.deployments import (
    deployment_values,
    list_deployments,
    list_deployments_between,
    record_deployment,
    record_deployments,
)
from srekit.store.repo.incidents import (
    StateFilter,
    add_event,
    add_task,
    create_incident,
    get_incident,
    get_task,
    incident_events,
    incident_of,
    latest_incident_of_group,
    list_incidents,
    list_tasks,
    open_severe_incidents,
    related_incidents,
    save_incident,
    update_task,
)
from srekit.store.repo.policies import apply_policy, get_policy, list_policies
from srekit.store.repo.postmortems import (
    create_postmortem,
    find_postmortem,
    get_postmortem,
    postmortem_of,
    save_postmortem,
)
from srekit.store.repo.services import (
    delete_service,
    get_service,
    list_services,
    service_names,
    upsert_service,
)
from srekit.store.repo.slos import (
    apply_slo,
    delete_slo,
    get_slo,
    list_slos,
    readable_spec,
    slo_versions,
    split_slo_key,
)
from srekit.store.repo.snapshots import (
    last_good_snapshot,
    latest_snapshots,
    newest_snapshot_id,
    prune_snapshots,
    record_snapshots,
    slo_history,
)
from srekit.store.repo.specs import SpecApplied, apply_specs, check_one_owner_per_service
from srekit.store.repo.teams import delete_team, find_team, get_team, list_teams, upsert_team
from srekit.store.repo.tokens import (
    TOKEN_PREFIX,
    authenticate_token,
    create_token,
    hash_token,
    list_tokens,
    revoke_token,
)
from srekit.store.tables import (
    AlertNotificationRow,
    AlertRow,
    ApiTokenRow,
    AuditRow,
    DeploymentRow,
    IncidentEventRow,
    IncidentRow,
    IncidentTaskRow,
    PolicyRow,
    PostmortemRow,
    ServiceRow,
    SloRow,
    SloVersionRow,
    SnapshotRow,
    TeamRow,
)

__all__ = [
    "TOKEN_PREFIX",
    "AlertNotificationRow",
    "AlertRow",
    "ApiTokenRow",
    "Applied",
    "AuditRow",
    "DeploymentRow",
    "IncidentEventRow",
    "IncidentRow",
    "IncidentTaskRow",
    "PolicyRow",
    "PostmortemRow",
    "ServiceRow",
    "SloRow",
    "SloVersionRow",
    "SnapshotRow",
    "SpecApplied",
    "StateFilter",
    "TeamRow",
    "add_alert",
    "add_event",
    "add_task",
    "apply_policy",
    "apply_slo",
    "apply_specs",
    "authenticate_token",
    "check_one_owner_per_service",
    "create_incident",
    "create_postmortem",
    "create_token",
    "delete_service",
    "delete_slo",
    "delete_team",
    "deployment_values",
    "find_alert",
    "find_postmortem",
    "find_team",
    "get_incident",
    "get_policy",
    "get_postmortem",
    "get_service",
    "get_slo",
    "get_task",
    "get_team",
    "hash_token",
    "incident_events",
    "incident_of",
    "last_good_snapshot",
    "latest_incident_of_group",
    "latest_snapshots",
    "list_alerts",
    "list_audit",
    "list_deployments",
    "list_deployments_between",
    "list_incidents",
    "list_policies",
    "list_services",
    "list_slos",
    "list_tasks",
    "list_teams",
    "list_tokens",
    "newest_audit_id",
    "newest_snapshot_id",
    "notification_seen",
    "open_severe_incidents",
    "postmortem_of",
    "prune_snapshots",
    "readable_spec",
    "record_audit",
    "record_deployment",
    "record_deployments",
    "record_notification",
    "record_snapshots",
    "related_incidents",
    "resolve_alert",
    "revoke_token",
    "save_incident",
    "save_postmortem",
    "service_names",
    "slo_history",
    "slo_versions",
    "split_slo_key",
    "update_task",
    "upsert_service",
    "upsert_team",
]
