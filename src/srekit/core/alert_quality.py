"""Alert quality: which alert rules are worth the on-call's sleep.

For the alert instances that started in a period `[start, end)` (the *fires*), per alert rule
(the `alertname` label) and over all rules together (rule `*`):

- `fires`: instances that started in the period. Alerts without an incident (no route took
  them, `unrouted`, or their route opens none) are fires too, counted in `without_incident`.
- `false_positives`: fires whose incident was closed as noise (`noise`), or that resolved on
  their own (`auto_resolved`): the instance ended at most `auto_resolve_s` (default 5 minutes)
  after it started, before any acknowledgement of its incident. `false_positive_rate` is
  `false_positives / fires`.
- `actionable`: fires whose incident was acknowledged and that are not false positives (so an
  alert that ended by itself in a minute is not made actionable by an acknowledgement that
  came after it ended). An alert without an incident is never actionable. `actionable_rate` is
  `actionable / fires`; the two rates never add up to more than 1.
- `refires`: fires that started at most an hour (`REFIRE_WINDOW_S`) after an earlier fire of
  the same fingerprint (the same label set) ended: flapping. The earlier fire may lie before
  the period. `refire_share` is `refires / fires`.
- Over the distinct incidents of the rule's fires: `tta_median_s` and `tta_p90_s`, the median
  and 90th percentile of the time to acknowledge (`acknowledged_at − opened_at`, over the
  incidents acknowledged: None when none was), and `mttr_s`, the mean time to resolve
  (`resolved_at − opened_at`, over the incidents resolved; None when none was). The median is
  the middle value, or the mean of the two middle values of an even count; the 90th percentile
  is the nearest rank: the ⌈0.9 × n⌉-th smallest of the n values.
- `pages`: the pages sent for those incidents (their `page_sent` timeline entries), and
  `pages_per_shift`: pages / shifts, where the shifts are the number of on-call shifts in the
  period, given, or else the period's length over the shift length (default 7 days: a 28-day
  period holds 4 shifts, a 30-day one 30/7 ≈ 4.29).

Each rule is judged against `QualityTargets` (default: actionable ≥ 90 %, false positives
< 5 %, median time to acknowledge < 5 minutes, mean time to resolve < 30 minutes): each target
is met (True), missed (False) or cannot be judged (None: no acknowledged or resolved incident).
Rules are ranked noisiest first: by false-positive rate, then refire share, then fires, all
descending, then by name. A rule without fires in the period is absent; the alert name of an
alert without one is the empty string.
"""

from __future__ import annotations

import bisect
import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from srekit.core.incident import Incident, IncidentAlert

__all__ = [
    "ALL_RULES",
    "DEFAULT_AUTO_RESOLVE_S",
    "DEFAULT_SHIFT_S",
    "DEFAULT_TARGETS",
    "REFIRE_WINDOW_S",
    "TARGET_NAMES",
    "AlertQualityReport",
    "QualityTargets",
    "RuleQuality",
    "alert_quality",
    "median",
    "nearest_rank",
]

#: The rule name of the figures over every rule together.
ALL_RULES = "*"
#: An alert that ends this soon after firing, before anyone acknowledged it, was a false alarm.
DEFAULT_AUTO_RESOLVE_S = 5 * 60
#: The default on-call shift: a week.
DEFAULT_SHIFT_S = 7 * 86_400
#: A fire starting this soon after the same fingerprint's previous fire ended is a refire.
REFIRE_WINDOW_S = 60 * 60
#: The targets each rule is judged against, in the order reports show them.
TARGET_NAMES = ("actionable", "false_positives", "mtta", "mttr")


@dataclass(frozen=True)
class QualityTargets:
    """What a rule worth paging for achieves: at least `actionable_min` of its fires
    actionable, fewer than `false_positive_max` false positives, a median time to acknowledge
    under `mtta_max_s` and a mean time to resolve under `mttr_max_s` (seconds)."""

    actionable_min: float = 0.9
    false_positive_max: float = 0.05
    mtta_max_s: float = 5 * 60
    mttr_max_s: float = 30 * 60


DEFAULT_TARGETS = QualityTargets()


@dataclass(frozen=True)
class RuleQuality:
    """One rule's figures over the period (the module docstring defines each); seconds.

    `incidents` counts the distinct incidents of its fires, `acknowledged` and `resolved` those
    the times average over. `targets` maps each of `TARGET_NAMES` to met, missed or None.
    """

    rule: str
    fires: int
    actionable: int
    false_positives: int
    noise: int
    auto_resolved: int
    refires: int
    without_incident: int
    unrouted: int
    incidents: int
    acknowledged: int
    resolved: int
    tta_median_s: float | None
    tta_p90_s: float | None
    mttr_s: float | None
    pages: int
    pages_per_shift: float
    targets: Mapping[str, bool | None] = field(default_factory=dict)

    @property
    def actionable_rate(self) -> float:
        return self.actionable / self.fires

    @property
    def false_positive_rate(self) -> float:
        return self.false_positives / self.fires

    @property
    def refire_share(self) -> float:
        return self.refires / self.fires

    @property
    def missed_targets(self) -> tuple[str, ...]:
        """The targets the rule missed (not those it could not be judged on)."""
        return tuple(name for name in TARGET_NAMES if self.targets.get(name) is False)


@dataclass(frozen=True)
class AlertQualityReport:
    """The rules' figures over `[start, end)`, noisiest first, and every rule together
    (`overall`, rule `*`; None when the period holds no fire)."""

    start: datetime
    end: datetime
    auto_resolve_s: float
    shift_s: float
    shifts: float
    targets: QualityTargets
    rules: tuple[RuleQuality, ...]
    overall: RuleQuality | None


def median(values: Sequence[float]) -> float | None:
    """The middle value, or the mean of the two middle ones; None for no values."""
    return statistics.median(values) if values else None


def nearest_rank(values: Sequence[float], percent: int) -> float | None:
    """The `percent`-th percentile by nearest rank: the ⌈percent/100 × n⌉-th smallest value
    (integer arithmetic, so 90 % of 70 values is the 63rd exactly); None for no values."""
    if not values:
        return None
    rank = max(1, (percent * len(values) + 99) // 100)
    return sorted(values)[rank - 1]


class _Fire:
    """One fire as the tallies read it."""

    __slots__ = ("actionable", "auto", "incident", "noise", "refire", "rule", "unrouted")

    def __init__(
        self,
        alert: IncidentAlert,
        incident: Incident | None,
        *,
        refire: bool,
        auto_resolve: timedelta,
    ) -> None:
        acknowledged = None if incident is None else incident.acknowledged_at
        ended = alert.ends_at
        self.rule = alert.alertname
        self.incident = incident
        self.unrouted = not alert.routed
        self.noise = incident is not None and incident.noise
        self.auto = (
            ended is not None
            and ended - alert.starts_at <= auto_resolve
            and (acknowledged is None or ended < acknowledged)
        )
        self.actionable = acknowledged is not None and not (self.noise or self.auto)
        self.refire = refire


def _refires(alerts: Sequence[IncidentAlert], *, window: timedelta) -> set[tuple[str, datetime]]:
    """The (fingerprint, starts_at) keys of the alerts that started at most `window` after an
    earlier-started alert of their fingerprint ended (at or before their start)."""
    found: set[tuple[str, datetime]] = set()
    by_fingerprint: dict[str, list[IncidentAlert]] = {}
    for alert in alerts:
        by_fingerprint.setdefault(alert.fingerprint, []).append(alert)
    for fingerprint, instances in by_fingerprint.items():
        instances.sort(key=lambda alert: alert.starts_at)
        ends: list[datetime] = []  # of the instances started earlier, sorted
        for alert in instances:
            position = bisect.bisect_right(ends, alert.starts_at)
            if position and alert.starts_at - ends[position - 1] <= window:
                found.add((fingerprint, alert.starts_at))
            if alert.ends_at is not None:
                bisect.insort(ends, alert.ends_at)
    return found


def _judge(figures: dict[str, float | None], targets: QualityTargets) -> dict[str, bool | None]:
    actionable, false_positive = figures["actionable"], figures["false_positives"]
    mtta, mttr = figures["mtta"], figures["mttr"]
    return {
        "actionable": None if actionable is None else actionable >= targets.actionable_min,
        "false_positives": (
            None if false_positive is None else false_positive < targets.false_positive_max
        ),
        "mtta": None if mtta is None else mtta < targets.mtta_max_s,
        "mttr": None if mttr is None else mttr < targets.mttr_max_s,
    }


def _rule_quality(
    rule: str,
    fires: Sequence[_Fire],
    *,
    pages: Mapping[int, int],
    shifts: float,
    targets: QualityTargets,
) -> RuleQuality:
    incidents = {fire.incident.id: fire.incident for fire in fires if fire.incident is not None}
    to_acknowledge = [
        (i.acknowledged_at - i.opened_at).total_seconds()
        for i in incidents.values()
        if i.acknowledged_at is not None
    ]
    to_resolve = [
        (i.resolved_at - i.opened_at).total_seconds()
        for i in incidents.values()
        if i.resolved_at is not None
    ]
    count = len(fires)
    actionable = sum(fire.actionable for fire in fires)
    false_positives = sum(fire.noise or fire.auto for fire in fires)
    tta_median = median(to_acknowledge)
    mttr = sum(to_resolve) / len(to_resolve) if to_resolve else None
    paged = sum(pages.get(incident_id, 0) for incident_id in incidents)
    return RuleQuality(
        rule=rule,
        fires=count,
        actionable=actionable,
        false_positives=false_positives,
        noise=sum(fire.noise for fire in fires),
        auto_resolved=sum(fire.auto for fire in fires),
        refires=sum(fire.refire for fire in fires),
        without_incident=sum(fire.incident is None for fire in fires),
        unrouted=sum(fire.unrouted for fire in fires),
        incidents=len(incidents),
        acknowledged=len(to_acknowledge),
        resolved=len(to_resolve),
        tta_median_s=tta_median,
        tta_p90_s=nearest_rank(to_acknowledge, 90),
        mttr_s=mttr,
        pages=paged,
        pages_per_shift=paged / shifts,
        targets=_judge(
            {
                "actionable": actionable / count,
                "false_positives": false_positives / count,
                "mtta": tta_median,
                "mttr": mttr,
            },
            targets,
        ),
    )


def alert_quality(
    alerts: Iterable[IncidentAlert],
    *,
    incidents: Iterable[Incident],
    start: datetime,
    end: datetime,
    pages: Mapping[int, int] | None = None,
    auto_resolve_s: float = DEFAULT_AUTO_RESOLVE_S,
    shift_s: float = DEFAULT_SHIFT_S,
    shifts: float | None = None,
    targets: QualityTargets = DEFAULT_TARGETS,
) -> AlertQualityReport:
    """The alert quality of the fires in `[start, end)` (the module docstring says how).

    `alerts` holds the period's instances and, for refires, earlier instances of their
    fingerprints that ended within the hour before one of them (any others are ignored; an
    instance given twice counts once); `incidents` the incidents they joined (an alert whose
    incident is not given has none); `pages` the pages sent per incident id. `shifts` is the
    number of on-call shifts in the period, else `(end − start) / shift_s`.

    Raises ValueError for a period that ends before it starts, and for a non-positive or
    non-finite `auto_resolve_s`, `shift_s` or `shifts`.
    """
    if end <= start:
        raise ValueError(
            f"the period must end after it starts: {start.isoformat()} to {end.isoformat()}"
        )
    for name, value in (("auto_resolve_s", auto_resolve_s), ("shift_s", shift_s)):
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"{name}: expected a positive number of seconds, got {value!r}")
    if shifts is None:
        shifts = (end - start).total_seconds() / shift_s
    if not (math.isfinite(shifts) and shifts > 0):
        raise ValueError(f"shifts: expected a positive number of shifts, got {shifts!r}")
    unique = list({(a.fingerprint, a.starts_at): a for a in alerts}.values())
    by_id = {incident.id: incident for incident in incidents}
    refires = _refires(unique, window=timedelta(seconds=REFIRE_WINDOW_S))
    auto_resolve = timedelta(seconds=auto_resolve_s)
    by_rule: dict[str, list[_Fire]] = {}
    every: list[_Fire] = []
    for alert in unique:
        if not start <= alert.starts_at < end:
            continue
        fire = _Fire(
            alert,
            None if alert.incident_id is None else by_id.get(alert.incident_id),
            refire=(alert.fingerprint, alert.starts_at) in refires,
            auto_resolve=auto_resolve,
        )
        by_rule.setdefault(fire.rule, []).append(fire)
        every.append(fire)
    paged = pages or {}
    rules = [
        _rule_quality(rule, fires, pages=paged, shifts=shifts, targets=targets)
        for rule, fires in by_rule.items()
    ]
    rules.sort(key=lambda r: (-r.false_positive_rate, -r.refire_share, -r.fires, r.rule))
    return AlertQualityReport(
        start=start,
        end=end,
        auto_resolve_s=auto_resolve_s,
        shift_s=shift_s,
        shifts=shifts,
        targets=targets,
        rules=tuple(rules),
        overall=(
            _rule_quality(ALL_RULES, every, pages=paged, shifts=shifts, targets=targets)
            if every
            else None
        ),
    )
