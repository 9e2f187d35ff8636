"""Reading and changing the stored state: keyword-only functions taking a session, one module
per noun (audit, teams, services, slos, policies, routings, specs, snapshots, deployments,
tokens).

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
from srekit.store.repo.audit import list_audit, newest_audit_id, record_audit
from srekit.store.repo.deployments import (
    deployment_values,
    list_deployments,
    record_deployment,
    record_deployments,
)
from srekit.store.repo.policies import apply_policy, get_policy, list_policies
from srekit.store.repo.routings import (
    ACTIVE_ROUTING,
    active_routing,
    apply_routing,
    delete_routing,
    find_routing,
    get_routing,
    list_routings,
    routing_of,
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
    AlertRoutingRow,
    ApiTokenRow,
    AuditRow,
    DeploymentRow,
    PolicyRow,
    ServiceRow,
    SloRow,
    SloVersionRow,
    SnapshotRow,
    TeamRow,
)

__all__ = [
    "ACTIVE_ROUTING",
    "TOKEN_PREFIX",
    "AlertRoutingRow",
    "ApiTokenRow",
    "Applied",
    "AuditRow",
    "DeploymentRow",
    "PolicyRow",
    "ServiceRow",
    "SloRow",
    "SloVersionRow",
    "SnapshotRow",
    "SpecApplied",
    "TeamRow",
    "active_routing",
    "apply_policy",
    "apply_routing",
    "apply_slo",
    "apply_specs",
    "authenticate_token",
    "check_one_owner_per_service",
    "create_token",
    "delete_routing",
    "delete_service",
    "delete_slo",
    "delete_team",
    "deployment_values",
    "find_routing",
    "find_team",
    "get_policy",
    "get_routing",
    "get_service",
    "get_slo",
    "get_team",
    "hash_token",
    "last_good_snapshot",
    "latest_snapshots",
    "list_audit",
    "list_deployments",
    "list_policies",
    "list_routings",
    "list_services",
    "list_slos",
    "list_teams",
    "list_tokens",
    "newest_audit_id",
    "newest_snapshot_id",
    "prune_snapshots",
    "readable_spec",
    "record_audit",
    "record_deployment",
    "record_deployments",
    "record_snapshots",
    "revoke_token",
    "routing_of",
    "service_names",
    "slo_history",
    "slo_versions",
    "split_slo_key",
    "upsert_service",
    "upsert_team",
]
