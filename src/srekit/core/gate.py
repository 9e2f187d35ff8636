"""The deploy gate's one decision: a service's SLO statuses, read as of now, against its policy.

The CLI (statuses evaluated from spec files a moment ago) and the server (statuses from the
evaluator, maybe minutes old) both decide here, so a gate answers the same way wherever it is
asked. The order of the rules is `policy.evaluate_gate`'s.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime

from srekit.core.load_gate import (
    NO_LOAD_TEST,
    LoadTestPolicy,
    load_test_requirement,
    require_load_test,
)
from srekit.core.policy import BudgetPolicy, FailMode, GateDecision, evaluate_gate
from srekit.core.slo import SLO
from srekit.core.status import SloStatus, current_statuses

__all__ = ["gate_service"]


def gate_service(
    service: str,
    *,
    change_type: str,
    slos: Sequence[SLO],
    statuses: Sequence[SloStatus],
    policy: BudgetPolicy,
    now: datetime,
    max_status_age_s: float = math.inf,
    fail_mode: FailMode = FailMode.CLOSED,
    open_severe_incidents: Sequence[str] = (),
    load_test: LoadTestPolicy = NO_LOAD_TEST,
    last_load_test_passed: datetime | None = None,
) -> tuple[GateDecision, list[SloStatus]]:
    """The decision for a deploy of `change_type` to `service`, and the statuses it read.

    `slos` are the service's SLOs; each is judged by its latest status in `statuses`. An SLO
    with no status counts as unreadable ("not evaluated yet"), and so does one older than
    `max_status_age_s` at `now` (stale figures do not gate): unreadable data denies when the
    gate fails closed. A change type `load_test` requires (exception change types never do)
    is denied without a passed load test at most `load_test.max_age_days` old.
    """
    latest = {(status.service, status.slo): status for status in statuses}
    current = current_statuses(slos, latest, now=now, max_age_s=max_status_age_s)
    decision = evaluate_gate(
        service,
        change_type=change_type,
        standings=[status.standing for status in current],
        policy=policy,
        open_severe_incidents=open_severe_incidents,
        fail_mode=fail_mode,
    )
    if change_type not in policy.exceptions:
        missing = load_test_requirement(
            service,
            change_type=change_type,
            policy=load_test,
            last_passed=last_load_test_passed,
            now=now,
        )
        decision = require_load_test(decision, missing)
    return decision, current
