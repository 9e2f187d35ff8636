"""The monthly SRE report and the weekly error-budget review: their periods, and every number
they show, assembled from values the flow read from the store.

- **Period**: a calendar month `2026-11` or an ISO week `2026-W47`, in UTC: `[start, end)`.
- **Daily samples**: per SLO and day of the period, the newest snapshot taken during that day
  (`(day_start, day_end]`); a day without one, or whose snapshot had no SLI, has no data.
- **SLI at the period's end**: the newest snapshot with an SLI in the period. It is the SLI
  over the SLO's window ending at that snapshot (for a `month` window, the month itself).
- **Met**: that SLI ≥ the objective; None without data.
- **Calendar compliance**: days met / days with data, a day being met when its sample's SLI
  was ≥ the objective; None when no day had data.
- **Error budget**: `remaining` and `consumed` of the newest snapshot (fractions; remaining
  may be negative, overspent); `days_left` its time to exhaustion at the current burn, in days
  (None when the budget is not burning or already spent).
- **Deployments**: what the gate was asked in the period: total, allowed, denied, and the
  rollbacks (change type `rollback`) among them.
- **Action items**: follow-up tasks still open at the report's instant, overdue first (oldest
  due date first), then the others by due date, undated last.

The executive summary is a few sentences generated from these numbers, nothing else.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from srekit.core.incident import FollowUpTask, TaskState
from srekit.core.incident_stats import IncidentStats

__all__ = [
    "ActionItem",
    "DailySample",
    "DeploymentRecord",
    "DeploymentSummary",
    "ReportPeriod",
    "SloChange",
    "SloInput",
    "SloPerformance",
    "SreReport",
    "action_items",
    "assemble_report",
    "deployment_summary",
    "executive_summary",
    "format_percent",
    "month_period",
    "report_days",
    "slo_change",
    "slo_performance",
    "week_period",
]

_DAY = timedelta(days=1)
_MONTH = re.compile(r"(\d{4})-(\d{2})")
_WEEK = re.compile(r"(\d{4})-W(\d{2})")
#: Below this share of budget left, the summary names the SLO as running low.
LOW_BUDGET = 0.25


@dataclass(frozen=True)
class ReportPeriod:
    """The period a report covers: `kind` is `monthly` or `weekly`, `label` how it was asked
    (`2026-11`, `2026-W47`), `title` how the report names it."""

    kind: str
    label: str
    title: str
    start: datetime
    end: datetime


def month_period(label: str) -> ReportPeriod:
    """The calendar month `YYYY-MM` in UTC; ValueError naming the expected form otherwise."""
    match = _MONTH.fullmatch(label.strip())
    if match is None or not 1 <= int(match[2]) <= 12:
        raise ValueError(f"expected a month as YYYY-MM (e.g. 2026-11), got {label!r}")
    year, month = int(match[1]), int(match[2])
    start = datetime(year, month, 1, tzinfo=UTC)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    return ReportPeriod("monthly", f"{year:04d}-{month:02d}", f"{start:%B %Y}", start, end)


def week_period(label: str) -> ReportPeriod:
    """The ISO week `YYYY-Www` (Monday to Monday) in UTC; ValueError otherwise."""
    match = _WEEK.fullmatch(label.strip())
    if match is None:
        raise ValueError(f"expected an ISO week as YYYY-Www (e.g. 2026-W47), got {label!r}")
    year, week = int(match[1]), int(match[2])
    try:
        monday = date.fromisocalendar(year, week, 1)
    except ValueError:
        raise ValueError(f"{year} has no ISO week {week}, got {label!r}") from None
    start = datetime(monday.year, monday.month, monday.day, tzinfo=UTC)
    end = start + 7 * _DAY
    title = f"week {week} of {year} ({start:%d %b} – {end - _DAY:%d %b %Y})"
    return ReportPeriod("weekly", f"{year:04d}-W{week:02d}", title, start, end)


def report_days(period: ReportPeriod, *, at: datetime) -> list[tuple[datetime, datetime]]:
    """The days of the period as `(start, end)`, a daily sample being the newest snapshot in
    `(start, end]`, as seen at `at`: days starting at or after `at` are left out, and the day
    `at` falls in ends at `at` (what had been recorded by then)."""
    days = (period.end - period.start) // _DAY
    starts = [period.start + index * _DAY for index in range(days)]
    return [(start, min(start + _DAY, at)) for start in starts if start < at]


@dataclass(frozen=True)
class DailySample:
    """An SLO's newest snapshot of one day (`day_end` closes the day), or no data (`at` None).

    `sli` and the budget figures are the snapshot's, over the SLO window ending at `at`.
    """

    day_end: datetime
    at: datetime | None = None
    sli: float | None = None
    remaining: float | None = None
    consumed: float | None = None
    time_to_exhaustion_s: float | None = None


@dataclass(frozen=True)
class SloInput:
    """What the store holds about one SLO for the period: its definition, and a sample per day."""

    service: str
    slo: str
    objective: float
    window: str
    samples: tuple[DailySample, ...]


@dataclass(frozen=True)
class SloPerformance:
    """One SLO over the period (see the module's docstring for each figure)."""

    service: str
    slo: str
    objective: float
    window: str
    at: datetime | None
    sli: float | None
    met: bool | None
    days_met: int
    days_with_data: int
    compliance: float | None
    remaining: float | None
    consumed: float | None
    days_left: float | None
    burn_down: tuple[tuple[datetime, float | None], ...]

    @property
    def key(self) -> str:
        return f"{self.service}/{self.slo}"


def slo_performance(slo: SloInput) -> SloPerformance:
    """An SLO's figures over the period from its daily samples."""
    with_sli = [sample for sample in slo.samples if sample.sli is not None]
    days_met = sum(1 for sample in with_sli if (sample.sli or 0.0) >= slo.objective)
    last = with_sli[-1] if with_sli else None
    ttx = last.time_to_exhaustion_s if last else None
    return SloPerformance(
        service=slo.service,
        slo=slo.slo,
        objective=slo.objective,
        window=slo.window,
        at=last.at if last else None,
        sli=last.sli if last else None,
        met=None if last is None or last.sli is None else last.sli >= slo.objective,
        days_met=days_met,
        days_with_data=len(with_sli),
        compliance=days_met / len(with_sli) if with_sli else None,
        remaining=last.remaining if last else None,
        consumed=last.consumed if last else None,
        days_left=None if ttx is None else ttx / 86_400,
        burn_down=tuple((sample.day_end, sample.remaining) for sample in slo.samples),
    )


@dataclass(frozen=True)
class DeploymentRecord:
    """A deploy the gate was asked about: whose, what kind, and whether it was allowed."""

    service: str
    change_type: str
    allowed: bool


@dataclass(frozen=True)
class DeploymentSummary:
    """Deploys the gate was asked about in the period; `rollbacks` are those of change type
    `rollback`, allowed or not."""

    total: int
    allowed: int
    denied: int
    rollbacks: int


def deployment_summary(records: Iterable[DeploymentRecord]) -> DeploymentSummary:
    """Count the period's deploys: total, allowed, denied, rollbacks."""
    listed = list(records)
    allowed = sum(1 for record in listed if record.allowed)
    rollbacks = sum(1 for record in listed if record.change_type == "rollback")
    return DeploymentSummary(len(listed), allowed, len(listed) - allowed, rollbacks)


@dataclass(frozen=True)
class SloChange:
    """A change to an SLO's definition in the period: `created`, `changed` (with the fields
    that changed, `field: old → new`) or `deleted`."""

    at: datetime
    service: str
    slo: str
    action: str
    version: int | None
    actor: str
    changes: tuple[str, ...] = ()


def _value(value: object) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def slo_change(
    *, at: datetime, target: str, action: str, actor: str, before: object, after: object
) -> SloChange:
    """An SLO's audit entry as a change: `action` is `slo.create`, `slo.update` or
    `slo.delete`, `target` the SLO's `service/name`; `before` and `after` the audited states
    (`{"version": n, "spec": {field: value}}` with only the changed fields for an update).
    An update lists `field: old → new` per field changed, values as JSON (`-` when absent)."""
    service, _, name = target.partition("/")
    verb = action.partition(".")[2]
    old = before if isinstance(before, dict) else {}
    new = after if isinstance(after, dict) else {}
    changes: tuple[str, ...] = ()
    if verb == "update":
        old_spec, new_spec = old.get("spec") or {}, new.get("spec") or {}
        changes = tuple(
            f"{field}: {_value(old_spec[field]) if field in old_spec else '-'} → "
            f"{_value(new_spec[field]) if field in new_spec else '-'}"
            for field in sorted({*old_spec, *new_spec})
        )
    version = (new or old).get("version")
    return SloChange(
        at=at,
        service=service,
        slo=name,
        action={"create": "created", "update": "changed", "delete": "deleted"}.get(verb, verb),
        version=version if isinstance(version, int) else None,
        actor=actor,
        changes=changes,
    )


@dataclass(frozen=True)
class ActionItem:
    """An open follow-up task, and whether it is overdue at the report's instant."""

    task: FollowUpTask
    overdue: bool


def action_items(tasks: Iterable[FollowUpTask], *, now: datetime) -> list[ActionItem]:
    """The tasks open at `now`: overdue first (oldest due first), then by due date, undated
    last; ties by task id."""
    far = datetime.max.replace(tzinfo=UTC)
    items = [ActionItem(task, task.overdue(now)) for task in tasks if task.state is TaskState.OPEN]
    return sorted(items, key=lambda item: (not item.overdue, item.task.due_at or far, item.task.id))


@dataclass(frozen=True)
class SreReport:
    """The report of a period for a scope (`service`, `team` or everything), as at `at`.

    `incidents` is None when no incident was opened in the period.
    """

    period: ReportPeriod
    at: datetime
    scope: str
    slos: tuple[SloPerformance, ...]
    incidents: IncidentStats | None
    deployments: DeploymentSummary
    changes: tuple[SloChange, ...]
    actions: tuple[ActionItem, ...]
    summary: tuple[str, ...]

    @property
    def has_data(self) -> bool:
        """Whether the period holds anything at all to report on."""
        return (
            any(slo.days_with_data for slo in self.slos)
            or self.incidents is not None
            or self.deployments.total > 0
            or bool(self.changes)
        )


def format_percent(value: float) -> str:
    """A fraction as a percentage with up to three decimals, trailing zeros dropped (`0.995` →
    `99.5 %`)."""
    text = f"{value * 100:.3f}".rstrip("0").rstrip(".")
    return f"{'0' if text == '-0' else text} %"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _duration(seconds: float) -> str:
    minutes = round(seconds / 60)
    if minutes < 120:
        return _count(minutes, "minute")
    hours = seconds / 3600
    return f"{hours:.1f} hours" if hours < 48 else f"{hours / 24:.1f} days"


def executive_summary(
    *,
    period: ReportPeriod,
    slos: Sequence[SloPerformance],
    incidents: IncidentStats | None,
    deployments: DeploymentSummary,
) -> tuple[str, ...]:
    """A few sentences from the numbers: SLOs met, the worst one, incidents, the budget and
    the deploys."""
    judged = [slo for slo in slos if slo.met is not None]
    met = sum(1 for slo in judged if slo.met)
    sentences = []
    if not slos:
        sentences.append("No SLO is defined in this scope.")
    else:
        without = len(slos) - len(judged)
        tail = f"; {_count(without, 'SLO')} had no data" if without else ""
        sentences.append(
            f"{met} of {_count(len(slos), 'SLO')} met their objective at the end of"
            f" {period.title}{tail}."
        )
    budgeted = [slo for slo in judged if slo.remaining is not None]
    if budgeted:
        worst = min(budgeted, key=lambda slo: (slo.remaining or 0.0, slo.key))
        sentences.append(
            f"The worst was {worst.key}: SLI {format_percent(worst.sli or 0.0)} against"
            f" {format_percent(worst.objective)}, {format_percent(worst.remaining or 0.0)} of"
            " its error budget left."
        )
        spent = sum(1 for slo in budgeted if (slo.remaining or 0.0) <= 0)
        low = sum(1 for slo in budgeted if 0 < (slo.remaining or 0.0) < LOW_BUDGET)
        if spent or low:
            sentences.append(
                f"{_count(spent, 'SLO')} spent the whole error budget and {low} had less than"
                f" {format_percent(LOW_BUDGET)} left."
            )
        else:
            sentences.append(
                f"Every SLO with data kept at least {format_percent(LOW_BUDGET)} of its error"
                " budget."
            )
    if incidents is None:
        sentences.append("No incident was opened.")
    else:
        counted = ", ".join(
            f"{figures.count} {severity.value}"
            for severity, figures in incidents.by_severity.items()
            if figures.count
        )
        mttr = incidents.overall.mttr_s
        resolved = f", resolved in {_duration(mttr)} on average" if mttr is not None else ""
        sentences.append(
            f"{_count(incidents.overall.count, 'incident')} ({counted})"
            f" {'was' if incidents.overall.count == 1 else 'were'} opened{resolved}."
        )
    if deployments.total:
        sentences.append(
            f"The gate was asked about {_count(deployments.total, 'deploy')}: "
            f"{deployments.allowed} allowed, {deployments.denied} denied."
        )
    return tuple(sentences)


def assemble_report(
    period: ReportPeriod,
    *,
    at: datetime,
    scope: str,
    slos: Sequence[SloInput],
    incidents: IncidentStats | None,
    deployments: Iterable[DeploymentRecord],
    changes: Iterable[SloChange],
    tasks: Iterable[FollowUpTask],
) -> SreReport:
    """The report from what the flow read: SLOs by key, changes by time, open tasks overdue
    first, and the summary. `incidents` with no incident counts as none."""
    performance = tuple(
        sorted((slo_performance(slo) for slo in slos), key=lambda slo: (slo.service, slo.slo))
    )
    if incidents is not None and incidents.overall.count == 0:
        incidents = None
    summary = deployment_summary(deployments)
    return SreReport(
        period=period,
        at=at,
        scope=scope,
        slos=performance,
        incidents=incidents,
        deployments=summary,
        changes=tuple(sorted(changes, key=lambda change: (change.at, change.service, change.slo))),
        actions=tuple(action_items(tasks, now=at)),
        summary=executive_summary(
            period=period, slos=performance, incidents=incidents, deployments=summary
        ),
    )
