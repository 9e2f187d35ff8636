"""A small stored story for the report's tests, with its figures worked out by hand.

November 2026 as at 2026-12-01T00:00:00Z:

- checkout/availability (99.5 %, 7d): a snapshot at 12:00 and 23:00 every day; the 23:00 one
  (the day's newest) has SLI 99.9 % (remaining 0.8) up to the 20th, then 99.4 % (remaining
  −0.2, overspent, not burning towards anything: no time to exhaustion). The 12:00 ones say
  50 %: a report that picked them would be plainly wrong. One more at 2026-12-01T00:00:01,
  after the report's instant, must not count. → met: no; 20 of 30 days met; remaining −0.2,
  consumed 1.2, days left: none.
- checkout/latency (95 %, 7d): snapshots on the 1st to the 5th at 06:00 only, SLI 97 %
  (remaining 0.4, time to exhaustion 10 days). Its description changed on the 10th. → met; 5
  of 5 days; 10 days left.
- Incidents: P1 on checkout (names checkout/availability), opened 11-21 00:00, acknowledged
  00:10, resolved 02:00; P3 on catalog opened 11-25 00:00, resolved 01:00; an October one. →
  2 incidents, MTTR (7200 + 3600) / 2 = 5400 s, MTBF 4 days = 345600 s.
- Deploys in November: checkout feature allowed, feature denied, rollback allowed; catalog
  config allowed; an October one. → 4, 3 allowed, 1 denied, 1 rollback (checkout: 3, 2, 1, 1).
- Tasks of the P1: "rotate the pool" due 11-25 (overdue), "add a canary" due 12-10, "write
  the runbook" undated, "page the owner" done. → open, overdue first: rotate, canary, runbook.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from srekit.core.budget import ErrorBudget
from srekit.core.incident import Severity
from srekit.core.policy import Decision, GateDecision
from srekit.core.status import DataState, SloStatus
from srekit.spec.loader import load_specs
from srekit.store.database import transaction
from srekit.store.repo import (
    add_task,
    apply_slo,
    create_incident,
    record_deployment,
    record_snapshots,
)

ROOT = Path(__file__).resolve().parents[1]
AT = datetime(2026, 12, 1, tzinfo=UTC)
MONTH = "2026-11"


def _at(day: int, hour: int = 0, minute: int = 0, *, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def status(
    slo: str, at: datetime, sli: float, *, objective: float, ttx: float | None = None
) -> SloStatus:
    """A stored status of checkout/`slo` with the budget its SLI implies."""
    consumed = (1 - sli) / (1 - objective)
    return SloStatus(
        service="checkout",
        slo=slo,
        objective=objective,
        window="7d",
        window_s=7 * 86_400,
        at=at,
        sli=sli,
        error_budget=ErrorBudget(
            remaining=1 - consumed, consumed=consumed, allowed_bad_events=None
        ),
        burn_rates={},
        time_to_exhaustion_s=ttx,
        alerts=(),
        policy_state="normal",
        data=DataState.OK,
    )


def store_story(engine: Engine) -> None:
    specs = load_specs([ROOT / "examples" / "slos" / "checkout.yaml"])
    slos = {slo.name: slo for slo in specs.slos}
    with transaction(engine) as session:
        for slo in slos.values():
            apply_slo(session, slo=slo, actor="alice", now=_at(20, month=10))
        apply_slo(
            session,
            slo=dataclasses.replace(slos["latency"], description="Checkout within 300 ms."),
            actor="bob",
            now=_at(10, 9),
        )
        statuses = []
        for day in range(1, 31):
            statuses.append(status("availability", _at(day, 12), 0.5, objective=0.995))
            sli = 0.999 if day <= 20 else 0.994
            statuses.append(status("availability", _at(day, 23), sli, objective=0.995))
        statuses.append(status("availability", AT + timedelta(seconds=1), 0.999, objective=0.995))
        for day in range(1, 6):
            statuses.append(status("latency", _at(day, 6), 0.97, objective=0.95, ttx=10 * 86_400))
        record_snapshots(session, statuses=statuses)
        p1 = create_incident(
            session,
            title="checkout errors",
            severity=Severity.P1,
            opened_at=_at(21),
            actor="alertmanager",
            services=["checkout"],
            slos=["checkout/availability"],
            now=_at(21),
        )
        p1.state, p1.acknowledged_at, p1.resolved_at = "resolved", _at(21, 0, 10), _at(21, 2)
        p3 = create_incident(
            session,
            title="catalog slow",
            severity=Severity.P3,
            opened_at=_at(25),
            actor="alertmanager",
            services=["catalog"],
            now=_at(25),
        )
        p3.state, p3.resolved_at = "resolved", _at(25, 1)
        create_incident(
            session,
            title="october",
            severity=Severity.P2,
            opened_at=_at(30, month=10),
            actor="alertmanager",
            services=["checkout"],
            now=_at(30, month=10),
        )
        session.flush()
        for title, due, done in (
            ("add a canary", _at(10, month=12), False),
            ("rotate the pool", _at(25), False),
            ("write the runbook", None, False),
            ("page the owner", _at(22), True),
        ):
            task = add_task(
                session, incident_id=p1.id, title=title, actor="carol", due_at=due, now=_at(21, 3)
            )
            if done:
                task.state, task.done_at = "done", _at(22)
        for service, change_type, allowed, when in (
            ("checkout", "feature", True, _at(3)),
            ("checkout", "feature", False, _at(22)),
            ("checkout", "rollback", True, _at(22, 1)),
            ("catalog", "config", True, _at(15)),
            ("checkout", "feature", True, _at(31, month=10)),
        ):
            decision = GateDecision(
                service=service,
                change_type=change_type,
                allowed=allowed,
                decision=Decision.ALLOW if allowed else Decision.DENY,
                state="normal",
                reasons=(),
            )
            record_deployment(
                session, service=service, change_type=change_type, decision=decision, now=when
            )
