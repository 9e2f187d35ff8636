"""The on-call handoff: what the outgoing on-call hands over and the incoming one confirms.

The handoff is taken at an instant `at` (the CLI's `--at`, default now). Per layer of the
rotation, "the handoff" is the layer's latest change of holder at or before `at`: the incoming
turn is the one holding `at`, the outgoing turn the one that ended where it began. A turn is
a run of one holder: adjacent shifts of the same member (a version change, an override of the
member by themselves) are one turn, and a gap ("before start", "restricted") is a turn of
nobody. Layers hand over at their own boundaries (a staggered secondary changes on Thursdays,
the primary on Mondays), so each layer names its own pair.

The checklist then reads the rotation's services (those its team owns) at `at`:

- incidents open at `at` (triggered, acknowledged, or mitigated and still being
  investigated), most severe first, then oldest; and incidents resolved by `at` whose
  post-mortem is not published (closing an incident publishes or waives it);
- the deploys the gate was asked about in the 24 hours before `at`, newest first;
- the SLOs' latest statuses, the least error budget first (SLOs without a figure before all);
- the alerts that fired during the primary layer's outgoing turn, by rule;
- open follow-up tasks, overdue ones first, then by due date, undated last;
- planned maintenance: Alertmanager silences active or pending at `at` on the services,
  srekit's own incident silences left out;
- what the incoming on-call confirms, as Markdown checkboxes (`CONFIRMATIONS`).

An incident's state at `at` is read from the instants the store keeps (`incident_state_at`):
the instants of a reopened incident's earlier resolution are gone, so for an `at` before a
reopening the incident reads as it was last stamped.

Everything here is pure: values in, an explicit `at`, frozen values and text out.
`render_markdown` is deterministic: the same checklist gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, Literal, Protocol

from srekit.core.alert_quality import RuleQuality
from srekit.core.incident import (
    FollowUpTask,
    Incident,
    IncidentRole,
    IncidentState,
    PriorDeployment,
    Severity,
    TaskState,
    is_open,
)
from srekit.core.instant import CLOCK_SKEW, format_age, format_instant
from srekit.core.label_regex import label_regex_matches
from srekit.core.notify import Notice
from srekit.core.postmortem import PostmortemState
from srekit.core.status import DataState, SloStatus

__all__ = [
    "CONFIRMATIONS",
    "DEPLOY_WINDOW",
    "EARLIEST_HANDOFF",
    "NOTIFY_LOOKBACK",
    "SERVICE_LABELS",
    "SHIFT_LOOKAROUND",
    "SREKIT_SILENCE_PREFIX",
    "STALE_HANDOFF",
    "DueHandoff",
    "FiredAlert",
    "FiredRule",
    "HandoffChecklist",
    "LayerHandoff",
    "Maintenance",
    "MaintenanceSilence",
    "PendingPostmortem",
    "ShiftLike",
    "SilenceMatcher",
    "Turn",
    "alerts_by_rule",
    "alerts_interval",
    "awaiting_postmortem",
    "handoff_at_problem",
    "handoff_document",
    "handoff_is_stale",
    "handoff_notice",
    "incident_state_at",
    "incoming_primary",
    "layer_handoffs",
    "maintenance_silences",
    "notify_since",
    "open_incidents",
    "open_tasks",
    "primary_handoffs",
    "rate_rules",
    "recent_deployments",
    "render_markdown",
    "silence_matches_service",
    "slo_order",
]

#: How far before and after `at` the flow reads the rotation's shifts: a turn longer than this
#: (a one-member layer) is cut at these bounds.
SHIFT_LOOKAROUND = timedelta(days=100)

#: The earliest instant a handoff is taken at: srekit keeps nothing from before, and the
#: shifts read around an instant near the year 1 would leave the calendar.
EARLIEST_HANDOFF = datetime(1970, 1, 1, tzinfo=UTC)

#: The deploys a handoff lists: those of the 24 hours before it.
DEPLOY_WINDOW = timedelta(hours=24)

#: The alert labels that name a service, in the order the intake's routing reads them.
SERVICE_LABELS: tuple[str, ...] = ("service", "srekit_service")

#: How the comments of the silences srekit makes for incidents begin
#: (`core.silences.silence_comment`): those are an incident's, not planned maintenance.
SREKIT_SILENCE_PREFIX = "srekit incident #"

#: What the incoming on-call confirms before taking over, in order.
CONFIRMATIONS: tuple[str, ...] = (
    "I have read every open incident above, and the outgoing on-call told me what is in flight",
    "I know who commands each open incident from now on, and I have taken over those assigned"
    " to the outgoing on-call",
    "I have checked the dashboards of these services: SLOs, error budgets, burn rates",
    "I have reviewed the deploys of the last 24 hours, and no rollout is left half done",
    "I have looked at the alerts of the outgoing shift, and the noisy ones are followed up",
    "My pager works: I sent myself a test page and acknowledged it",
    "I know the planned maintenance, and the silences that will end during my shift",
    "I have seen the overdue follow-ups and the post-mortems still to publish",
    "I can reach the next level of escalation, and have my laptop, VPN and access at hand",
)

#: A handoff first seen more than this after it happened (the server was down) is recorded as
#: seen but not sent: the incoming on-call took over long ago.
STALE_HANDOFF = timedelta(hours=1)

#: How far back the handoff notifier looks at most: its first round, or a replica taking the
#: lead after a long stop, starts here rather than at an older last check.
NOTIFY_LOOKBACK = timedelta(days=1)

_SEVERITY_ORDER = {severity: index for index, severity in enumerate(Severity)}
_STATE_INSTANTS = (
    (IncidentState.CLOSED, "closed_at"),
    (IncidentState.RESOLVED, "resolved_at"),
    (IncidentState.MITIGATED, "mitigated_at"),
    (IncidentState.ACKNOWLEDGED, "acknowledged_at"),
)


# --- who hands to whom --------------------------------------------------------------------------


class ShiftLike(Protocol):
    """A shift of a rotation's layer (`core.rotation.Shift`): aware instants, `member` None
    for a gap and `gap` saying why."""

    @property
    def layer(self) -> str: ...
    @property
    def member(self) -> str | None: ...
    @property
    def start(self) -> datetime: ...
    @property
    def end(self) -> datetime: ...
    @property
    def override(self) -> bool: ...
    @property
    def gap(self) -> str | None: ...


@dataclass(frozen=True)
class Turn:
    """One holder's unbroken time on a layer: `member` None is a gap (`gap` says why);
    `override` when the shift at the handoff's side of it is an override."""

    member: str | None
    start: datetime
    end: datetime
    override: bool = False
    gap: str | None = None


@dataclass(frozen=True)
class LayerHandoff:
    """Who hands to whom on one layer: `at` is the boundary (the incoming turn's start);
    `outgoing` is None when no change happened within the shifts read."""

    layer: str
    at: datetime
    outgoing: Turn | None
    incoming: Turn


def layer_handoffs(shifts: Sequence[ShiftLike], *, at: datetime) -> list[LayerHandoff]:
    """Per layer (in the order the shifts first name them), the latest change of holder at or
    before `at`. Layers with no shift holding `at` (one a later version dropped) are left out.

    Adjacent shifts of one holder merge into one turn; a gap is a holder too (nobody), so a
    restricted layer hands over from nobody each morning. The incoming turn takes its
    `override` and `gap` from the shift holding `at`, the outgoing turn from its last shift.
    """
    by_layer: dict[str, list[ShiftLike]] = {}
    for shift in shifts:
        by_layer.setdefault(shift.layer, []).append(shift)
    handoffs: list[LayerHandoff] = []
    for layer, layer_shifts in by_layer.items():
        ordered = sorted(layer_shifts, key=lambda shift: shift.start)
        holding = next((i for i, s in enumerate(ordered) if s.start <= at < s.end), None)
        if holding is None:
            continue
        first, last = _run(ordered, holding)
        incoming = _turn(ordered, first, last, side=ordered[holding])
        outgoing = None
        if first > 0 and ordered[first - 1].end == ordered[first].start:
            before_first, before_last = _run(ordered, first - 1)
            outgoing = _turn(ordered, before_first, before_last, side=ordered[before_last])
        handoffs.append(
            LayerHandoff(layer=layer, at=incoming.start, outgoing=outgoing, incoming=incoming)
        )
    return handoffs


@dataclass(frozen=True)
class DueHandoff:
    """A change of holder of a rotation's primary layer: `member` takes `layer` over at `at`."""

    at: datetime
    layer: str
    member: str


def primary_handoffs(
    shifts: Sequence[ShiftLike], *, since: datetime, until: datetime
) -> list[DueHandoff]:
    """The primary layer's handoffs to a member in (since, until], oldest first.

    A handoff is a shift starting in the interval where the primary layer (the first layer
    holding that instant, as `layer_handoffs` orders them) changes holder to a member: a cut
    that keeps the holder (a new version, a one-member layer's next shift) is not one, nor is a
    change to a gap. `shifts` must cover [since, until] (`versioned_shifts` over
    [since, until + 1 µs)): a turn already held at `since` is not handed over again.
    """
    starts = sorted({shift.start for shift in shifts if since < shift.start <= until})
    found: list[DueHandoff] = []
    for at in starts:
        # a shift starts at `at`, so some layer holds it: there is a first one
        primary = layer_handoffs(shifts, at=at)[0]
        if primary.at == at and primary.incoming.member is not None:
            found.append(DueHandoff(at=at, layer=primary.layer, member=primary.incoming.member))
    return found


def handoff_is_stale(at: datetime, *, now: datetime) -> bool:
    """Whether a handoff at `at`, first seen at `now`, is too old to send (`STALE_HANDOFF`):
    strictly more than an hour ago."""
    return now - at > STALE_HANDOFF


def notify_since(last_checked: datetime | None, *, now: datetime) -> datetime:
    """Where the notifier's round at `now` starts looking (exclusive): its last check, but
    never more than `NOTIFY_LOOKBACK` before `now`; the lookback itself on a first round."""
    earliest = now - NOTIFY_LOOKBACK
    if last_checked is None or last_checked < earliest:
        return earliest
    return last_checked


def _run(ordered: Sequence[ShiftLike], index: int) -> tuple[int, int]:
    """The first and last index of the contiguous run of one holder around `index`."""
    member = ordered[index].member
    first = last = index
    while first > 0 and ordered[first - 1].member == member and _joined(ordered, first - 1):
        first -= 1
    while last + 1 < len(ordered) and ordered[last + 1].member == member and _joined(ordered, last):
        last += 1
    return first, last


def _joined(ordered: Sequence[ShiftLike], index: int) -> bool:
    return ordered[index].end == ordered[index + 1].start


def _turn(ordered: Sequence[ShiftLike], first: int, last: int, *, side: ShiftLike) -> Turn:
    return Turn(
        member=side.member,
        start=ordered[first].start,
        end=ordered[last].end,
        override=side.override,
        gap=side.gap,
    )


def handoff_at_problem(at: datetime, *, now: datetime) -> str | None:
    """Why no handoff is taken at `at` (None: one is): before `EARLIEST_HANDOFF`, or in the
    future (past `now` and a minute of clock skew), where nothing has happened yet and what
    stands now would read as what stood then."""
    if at < EARLIEST_HANDOFF:
        return f"expected {format_instant(EARLIEST_HANDOFF)} or later, got {format_instant(at)}"
    if at > now + CLOCK_SKEW:
        return f"{format_instant(at)} is in the future (now is {format_instant(now)})"
    return None


def alerts_interval(handoffs: Sequence[LayerHandoff], *, at: datetime) -> tuple[datetime, datetime]:
    """The outgoing shift whose alerts the handoff reviews: the first (primary) layer's
    outgoing turn, clipped to end at `at`; the 24 hours before `at` when it has none."""
    if handoffs and handoffs[0].outgoing is not None:
        outgoing = handoffs[0].outgoing
        return outgoing.start, min(outgoing.end, at)
    return at - DEPLOY_WINDOW, at


# --- incidents ----------------------------------------------------------------------------------


def incident_state_at(incident: Incident, *, at: datetime) -> IncidentState | None:
    """The incident's state at `at`, from the instants it keeps; None before it opened.

    At or after its latest kept instant, an incident is in its current state (a reopened one
    is triggered again, though its first acknowledgement is kept). Before that, the latest
    state stamped at or before `at`, else triggered.
    """
    if incident.opened_at > at:
        return None
    stamped = [getattr(incident, name) for _, name in _STATE_INSTANTS]
    if all(moment is None or moment <= at for moment in stamped):
        return incident.state
    for state, name in _STATE_INSTANTS:
        moment = getattr(incident, name)
        if moment is not None and moment <= at:
            return state
    return IncidentState.TRIGGERED


def _severity_then_age(incident: Incident) -> tuple[int, datetime, int]:
    return (_SEVERITY_ORDER[incident.severity], incident.opened_at, incident.id)


def open_incidents(incidents: Iterable[Incident], *, at: datetime) -> list[Incident]:
    """The incidents open at `at`, each in its state then: most severe first, then the oldest,
    then by number."""
    found: list[Incident] = []
    for incident in incidents:
        state = incident_state_at(incident, at=at)
        if state is not None and is_open(state):
            found.append(replace(incident, state=state))
    return sorted(found, key=_severity_then_age)


@dataclass(frozen=True)
class PendingPostmortem:
    """A resolved incident whose post-mortem is not published: `postmortem` is its state, None
    when none is drafted yet."""

    incident: Incident
    postmortem: PostmortemState | None


def awaiting_postmortem(
    incidents: Iterable[Incident],
    *,
    postmortems: Mapping[int, PostmortemState],
    at: datetime,
) -> list[PendingPostmortem]:
    """The incidents resolved (not closed) at `at` whose post-mortem (by incident number in
    `postmortems`) is not published: most severe first, then the oldest."""
    found: list[PendingPostmortem] = []
    for incident in incidents:
        if incident_state_at(incident, at=at) is not IncidentState.RESOLVED:
            continue
        postmortem = postmortems.get(incident.id)
        if postmortem is not PostmortemState.PUBLISHED:
            found.append(
                PendingPostmortem(replace(incident, state=IncidentState.RESOLVED), postmortem)
            )
    return sorted(found, key=lambda pending: _severity_then_age(pending.incident))


# --- deploys, SLOs, tasks -----------------------------------------------------------------------


def recent_deployments(
    deployments: Iterable[PriorDeployment], *, at: datetime
) -> list[PriorDeployment]:
    """The deploys requested in [at − 24 h, at], newest first (then by service)."""
    since = at - DEPLOY_WINDOW
    kept = [d for d in deployments if since <= d.requested_at <= at]
    return sorted(kept, key=lambda d: (-d.requested_at.timestamp(), d.service))


def slo_order(statuses: Iterable[SloStatus]) -> list[SloStatus]:
    """The SLOs the incoming on-call should look at first, first: those without a budget figure
    (no data, stale, an error), then by error budget remaining, least first; then by name."""

    def key(status: SloStatus) -> tuple[int, float, str, str]:
        budget = status.error_budget
        if budget is None or status.data is not DataState.OK:
            return (0, 0.0, status.service, status.slo)
        return (1, budget.remaining, status.service, status.slo)

    return sorted(statuses, key=key)


def open_tasks(tasks: Iterable[FollowUpTask], *, at: datetime) -> list[FollowUpTask]:
    """The follow-up tasks open at `at` (created by then, and open now or done after it),
    overdue ones first (due before `at`), then by due date, undated last, then by number."""
    kept = [
        task
        for task in tasks
        if task.created_at <= at
        and (
            task.state is TaskState.OPEN
            or (task.state is TaskState.DONE and task.done_at is not None and task.done_at > at)
        )
    ]

    def key(task: FollowUpTask) -> tuple[int, float, int]:
        if task.due_at is None:
            return (2, 0.0, task.id)
        return (0 if task.due_at < at else 1, task.due_at.timestamp(), task.id)

    return sorted(kept, key=key)


# --- alerts -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FiredAlert:
    """An alert instance as the store keeps it: its rule, the service routing gave it."""

    alertname: str
    service: str | None
    starts_at: datetime
    ends_at: datetime | None
    incident_id: int | None = None


@dataclass(frozen=True)
class FiredRule:
    """The alerts of one rule that started in the reviewed interval: how many, how many still
    fire at the handoff, on which services, joining which incidents."""

    alertname: str
    fired: int
    firing: int
    services: tuple[str, ...]
    incidents: tuple[int, ...]
    actionable_rate: float | None = None
    missed_targets: tuple[str, ...] = ()


def rate_rules(
    rules: Iterable[FiredRule], *, qualities: Mapping[str, RuleQuality]
) -> list[FiredRule]:
    """The rules with their quality over the same interval (`core.alert_quality`, by rule
    name): the share of fires someone acted on, and the targets the rule missed."""
    rated: list[FiredRule] = []
    for rule in rules:
        quality = qualities.get(rule.alertname)
        if quality is None or quality.fires == 0:
            rated.append(rule)
        else:
            rated.append(
                replace(
                    rule,
                    actionable_rate=quality.actionable_rate,
                    missed_targets=quality.missed_targets,
                )
            )
    return rated


def alerts_by_rule(
    alerts: Iterable[FiredAlert], *, start: datetime, end: datetime
) -> list[FiredRule]:
    """The alerts that started in [start, end), by rule: the most fired first, then by name.
    An alert still fires at `end` when it has not ended by then."""
    rules: dict[str, list[FiredAlert]] = {}
    for alert in alerts:
        if start <= alert.starts_at < end:
            rules.setdefault(alert.alertname, []).append(alert)
    found = [
        FiredRule(
            alertname=name,
            fired=len(fired),
            firing=sum(1 for a in fired if a.ends_at is None or a.ends_at > end),
            services=tuple(sorted({a.service for a in fired if a.service is not None})),
            incidents=tuple(sorted({a.incident_id for a in fired if a.incident_id is not None})),
        )
        for name, fired in rules.items()
    ]
    return sorted(found, key=lambda rule: (-rule.fired, rule.alertname))


# --- planned maintenance ------------------------------------------------------------------------


@dataclass(frozen=True)
class SilenceMatcher:
    """A silence's matcher: `name` equals (`is_equal`) or differs from `value`, literally or as
    an anchored regular expression (`is_regex`)."""

    name: str
    value: str
    is_regex: bool = False
    is_equal: bool = True


@dataclass(frozen=True)
class MaintenanceSilence:
    """An Alertmanager silence: its id, matchers, interval, author and comment."""

    silence_id: str
    matchers: tuple[SilenceMatcher, ...]
    starts_at: datetime
    ends_at: datetime
    created_by: str
    comment: str


@dataclass(frozen=True)
class Maintenance:
    """The planned maintenance section: `configured` false when no Alertmanager is set,
    `problem` when it could not be read, else the `silences` on the services, each with its
    state at the handoff (`active` or `pending`) and the services it matches."""

    configured: bool
    silences: tuple[
        tuple[MaintenanceSilence, Literal["active", "pending"], tuple[str, ...]], ...
    ] = ()
    problem: str | None = None


def _accepts(matcher: SilenceMatcher, value: str) -> bool:
    if matcher.is_regex:
        matched = label_regex_matches(matcher.value, value)
    else:
        matched = matcher.value == value
    return matched if matcher.is_equal else not matched


def silence_matches_service(silence: MaintenanceSilence, service: str) -> bool:
    """Whether the silence mutes the service's alerts: it has a matcher on a service label
    (`SERVICE_LABELS`) and each such matcher accepts the service. A silence with no service
    matcher (a whole cluster's, say) is not counted: which services it mutes is unknown."""
    on_service = [m for m in silence.matchers if m.name in SERVICE_LABELS]
    by_label: dict[str, list[SilenceMatcher]] = {}
    for matcher in on_service:
        by_label.setdefault(matcher.name, []).append(matcher)
    return any(
        all(_accepts(matcher, service) for matcher in matchers) for matchers in by_label.values()
    )


def maintenance_silences(
    silences: Iterable[MaintenanceSilence],
    *,
    services: Sequence[str],
    at: datetime,
    incident_silences: frozenset[str] = frozenset(),
) -> Maintenance:
    """The silences active (started, not ended) or pending (starting later) at `at` that match
    one of `services`, soonest first; srekit's incident silences (held by an incident, in
    `incident_silences`, or commented `srekit incident #…`) are not maintenance."""
    found: list[tuple[MaintenanceSilence, Literal["active", "pending"], tuple[str, ...]]] = []
    for silence in silences:
        if silence.ends_at <= at or silence.silence_id in incident_silences:
            continue
        if silence.comment.startswith(SREKIT_SILENCE_PREFIX):
            continue
        matched = tuple(s for s in sorted(services) if silence_matches_service(silence, s))
        if matched:
            state: Literal["active", "pending"] = "active" if silence.starts_at <= at else "pending"
            found.append((silence, state, matched))
    found.sort(key=lambda item: (item[0].starts_at, item[0].ends_at, item[0].silence_id))
    return Maintenance(configured=True, silences=tuple(found))


# --- the checklist ------------------------------------------------------------------------------


@dataclass(frozen=True)
class HandoffChecklist:
    """Everything the handoff shows, each part already in its order (`layer_handoffs`,
    `open_incidents`, ...): `timezone` and `timezone_name` are the rotation's, for local times;
    `alerts_from`/`alerts_to` the reviewed outgoing shift."""

    rotation: str
    team: str | None
    at: datetime
    timezone: tzinfo
    timezone_name: str
    services: tuple[str, ...]
    layers: tuple[LayerHandoff, ...]
    incidents: tuple[Incident, ...]
    postmortems: tuple[PendingPostmortem, ...]
    deployments: tuple[PriorDeployment, ...]
    slos: tuple[SloStatus, ...]
    alerts_from: datetime
    alerts_to: datetime
    alerts: tuple[FiredRule, ...]
    tasks: tuple[FollowUpTask, ...]
    maintenance: Maintenance
    confirmations: tuple[str, ...] = CONFIRMATIONS


# --- Markdown -----------------------------------------------------------------------------------


def _cell(text: str) -> str:
    """Text in one cell of a Markdown table: one line, its pipes escaped, `-` when empty."""
    return " ".join(text.split()).replace("|", "\\|") or "-"


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = [
        "| " + " | ".join(headers) + " |",
        "| " + " | ".join("---" for _ in headers) + " |",
    ]
    lines.extend("| " + " | ".join(_cell(cell) for cell in row) + " |" for row in rows)
    return "\n".join(lines)


def _percent(fraction: float | None, *, digits: int) -> str:
    """`99.95%`, `50%`, `-12.5%`: at most `digits` decimals, trailing zeros dropped; `-` for
    no figure."""
    if fraction is None:
        return "-"
    text = f"{fraction * 100:.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{'0' if text in ('', '-0') else text}%"


def _local(moment: datetime, zone: tzinfo) -> str:
    """`Mon 2026-03-30 09:00 CEST`: the rotation's wall clock, which handoffs follow."""
    return moment.astimezone(zone).strftime("%a %Y-%m-%d %H:%M %Z")


def _holder(turn: Turn | None) -> str:
    if turn is None:
        return "-"
    if turn.member is None:
        return f"nobody ({turn.gap})" if turn.gap else "nobody"
    return f"{turn.member} (override)" if turn.override else turn.member


def _span(turn: Turn | None, zone: tzinfo) -> str:
    return "-" if turn is None else f"{_local(turn.start, zone)} → {_local(turn.end, zone)}"


def _none_or(rows: Sequence[Sequence[str]], headers: Sequence[str]) -> str:
    return _table(headers, rows) if rows else "None."


def _commander(incident: Incident) -> str:
    return incident.roles.get(IncidentRole.COMMANDER, "") or "unassigned"


def render_markdown(checklist: HandoffChecklist) -> str:
    """The handoff as a Markdown document, in a stable layout: a title and facts, one `## `
    section per part (who hands to whom, open incidents, post-mortems to publish, deploys,
    SLOs, the outgoing shift's alerts, follow-ups, planned maintenance), then the incoming
    on-call's checkboxes. Instants are UTC RFC 3339, shifts in the rotation's wall clock; an
    empty part says `None.`; the text ends with one newline."""
    zone = checklist.timezone
    at = checklist.at
    facts = [
        f"- Handoff at: {format_instant(at)} ({_local(at, zone)})",
        f"- Team: {checklist.team or '-'}",
        f"- Services: {', '.join(checklist.services) or '-'}",
        f"- Shifts in: {checklist.timezone_name}",
    ]
    layers = _none_or(
        [
            (
                handoff.layer,
                _holder(handoff.outgoing),
                _span(handoff.outgoing, zone),
                _holder(handoff.incoming),
                _span(handoff.incoming, zone),
            )
            for handoff in checklist.layers
        ],
        ("Layer", "Outgoing", "Outgoing shift", "Incoming", "Incoming shift"),
    )
    incidents = _none_or(
        [
            (
                f"#{i.id}",
                i.severity.value,
                i.state.value,
                format_age(at - i.opened_at),
                _commander(i),
                ", ".join(i.services),
                i.title,
            )
            for i in checklist.incidents
        ],
        ("#", "Severity", "State", "Age", "Commander", "Services", "Title"),
    )
    postmortems = _none_or(
        [
            (
                f"#{p.incident.id}",
                p.incident.severity.value,
                format_instant(p.incident.resolved_at) if p.incident.resolved_at else "-",
                "not drafted" if p.postmortem is None else p.postmortem.value.replace("_", " "),
                p.incident.title,
            )
            for p in checklist.postmortems
        ],
        ("#", "Severity", "Resolved", "Post-mortem", "Title"),
    )
    deployments = _none_or(
        [
            (
                format_instant(d.requested_at),
                d.service,
                d.version or "",
                d.change_type,
                "allowed" if d.allowed else "denied",
            )
            for d in checklist.deployments
        ],
        ("Time", "Service", "Version", "Change", "Gate"),
    )
    slos = _none_or(
        [
            (
                f"{s.service}/{s.slo}",
                _percent(s.objective, digits=3),
                _percent(s.sli, digits=3),
                _percent(s.error_budget.remaining if s.error_budget else None, digits=1),
                _burn(s.burn_rates.get("1h")),
                s.policy_state,
                s.data.value,
            )
            for s in checklist.slos
        ],
        ("SLO", "Objective", "SLI", "Budget left", "Burn 1h", "Policy", "Data"),
    )
    alerts = (
        f"From {format_instant(checklist.alerts_from)}"
        f" to {format_instant(checklist.alerts_to)}.\n\n"
        + _none_or(
            [
                (
                    rule.alertname,
                    str(rule.fired),
                    str(rule.firing),
                    ", ".join(rule.services),
                    ", ".join(f"#{n}" for n in rule.incidents),
                    _percent(rule.actionable_rate, digits=0),
                    ", ".join(rule.missed_targets),
                )
                for rule in checklist.alerts
            ],
            ("Alert", "Fired", "Still firing", "Services", "Incidents", "Actionable", "Missed"),
        )
    )
    tasks = _none_or(
        [
            (
                f"#{t.id}",
                f"#{t.incident_id}",
                t.title,
                t.owner or "",
                _due(t, at),
            )
            for t in checklist.tasks
        ],
        ("Task", "Incident", "Title", "Owner", "Due"),
    )
    checkboxes = "\n".join(f"- [ ] {item}" for item in checklist.confirmations)
    parts = [
        f"# On-call handoff: {checklist.rotation}",
        "\n".join(facts),
        "## Who hands to whom",
        layers,
        "## Open incidents",
        incidents,
        "## Post-mortems to publish",
        postmortems,
        "## Deploys in the last 24 hours",
        deployments,
        "## SLOs and error budgets",
        slos,
        "## Alerts of the outgoing shift",
        alerts,
        "## Open follow-ups",
        tasks,
        "## Planned maintenance",
        _maintenance(checklist.maintenance, zone),
        "## Before you take over",
        checkboxes,
    ]
    return "\n\n".join(parts) + "\n"


def _burn(rate: float | None) -> str:
    return "-" if rate is None else f"{rate:.2f}"


def _due(task: FollowUpTask, at: datetime) -> str:
    if task.due_at is None:
        return "-"
    due = format_instant(task.due_at)
    return f"{due} (overdue)" if task.due_at < at else due


def _maintenance(maintenance: Maintenance, zone: tzinfo) -> str:
    if not maintenance.configured:
        return "Alertmanager not configured: set SREKIT_ALERTMANAGER_URL to list its silences."
    if maintenance.problem is not None:
        return f"Alertmanager could not be read: {maintenance.problem}"
    return _none_or(
        [
            (
                silence.silence_id,
                state,
                _local(silence.starts_at, zone),
                _local(silence.ends_at, zone),
                ", ".join(services),
                silence.created_by,
                silence.comment,
            )
            for silence, state, services in maintenance.silences
        ],
        ("Silence", "State", "From", "To", "Services", "By", "Comment"),
    )


# --- sending it -------------------------------------------------------------------------------


def incoming_primary(checklist: HandoffChecklist) -> str | None:
    """Who takes over the first (primary) layer at the handoff, whom `--send` tells; None
    when the layer is a gap then, or the rotation holds no layer at that instant."""
    if not checklist.layers:
        return None
    return checklist.layers[0].incoming.member


def handoff_notice(checklist: HandoffChecklist, *, person: str, link: str | None) -> Notice:
    """The handoff as a notice for `person`: its subject names the rotation, the first
    layer's change of hands and the instant on the rotation's wall clock; its text and
    Markdown are `render_markdown`'s (Markdown reads as plain text); `link` where to read it
    in srekit."""
    subject = f"On-call handoff: {checklist.rotation}"
    if checklist.layers:
        first = checklist.layers[0]
        subject += (
            f", {first.layer} {_holder(first.outgoing)} → {_holder(first.incoming)}"
            f" at {_local(first.at, checklist.timezone)}"
        )
    text = render_markdown(checklist)
    return Notice(
        kind="handoff",
        person=person,
        subject=subject,
        text=text,
        markdown=text,
        at=checklist.at,
        link=link,
    )


# --- JSON ---------------------------------------------------------------------------------------


def _instant(moment: datetime | None) -> str | None:
    return None if moment is None else format_instant(moment)


def _turn_document(turn: Turn | None) -> dict[str, Any] | None:
    if turn is None:
        return None
    return {
        "member": turn.member,
        "start": format_instant(turn.start),
        "end": format_instant(turn.end),
        "override": turn.override,
        "gap": turn.gap,
    }


def handoff_document(checklist: HandoffChecklist) -> dict[str, Any]:
    """The handoff as JSON: snake_case, instants RFC 3339 UTC, ages in seconds, ratios as
    fractions; the same parts, in the same order, as `render_markdown`."""
    at = checklist.at
    return {
        "rotation": checklist.rotation,
        "team": checklist.team,
        "at": format_instant(at),
        "timezone": checklist.timezone_name,
        "services": list(checklist.services),
        "layers": [
            {
                "layer": h.layer,
                "at": format_instant(h.at),
                "outgoing": _turn_document(h.outgoing),
                "incoming": _turn_document(h.incoming),
            }
            for h in checklist.layers
        ],
        "incidents": [
            {
                "id": i.id,
                "title": i.title,
                "severity": i.severity.value,
                "state": i.state.value,
                "opened_at": format_instant(i.opened_at),
                "age_s": (at - i.opened_at).total_seconds(),
                "commander": i.roles.get(IncidentRole.COMMANDER),
                "services": list(i.services),
            }
            for i in checklist.incidents
        ],
        "awaiting_postmortem": [
            {
                "id": p.incident.id,
                "title": p.incident.title,
                "severity": p.incident.severity.value,
                "resolved_at": _instant(p.incident.resolved_at),
                "postmortem": None if p.postmortem is None else p.postmortem.value,
            }
            for p in checklist.postmortems
        ],
        "deployments": [
            {
                "service": d.service,
                "version": d.version,
                "change_type": d.change_type,
                "allowed": d.allowed,
                "requested_at": format_instant(d.requested_at),
            }
            for d in checklist.deployments
        ],
        "slos": [
            {
                "service": s.service,
                "slo": s.slo,
                "objective": s.objective,
                "sli": s.sli,
                "error_budget_remaining": s.error_budget.remaining if s.error_budget else None,
                "burn_rate_1h": s.burn_rates.get("1h"),
                "policy_state": s.policy_state,
                "data": s.data.value,
            }
            for s in checklist.slos
        ],
        "alerts": {
            "from": format_instant(checklist.alerts_from),
            "to": format_instant(checklist.alerts_to),
            "rules": [
                {
                    "alertname": r.alertname,
                    "fired": r.fired,
                    "firing": r.firing,
                    "services": list(r.services),
                    "incidents": list(r.incidents),
                    "actionable_rate": r.actionable_rate,
                    "missed_targets": list(r.missed_targets),
                }
                for r in checklist.alerts
            ],
        },
        "tasks": [
            {
                "id": t.id,
                "incident_id": t.incident_id,
                "title": t.title,
                "owner": t.owner,
                "due_at": _instant(t.due_at),
                "overdue": t.due_at is not None and t.due_at < at,
            }
            for t in checklist.tasks
        ],
        "maintenance": {
            "configured": checklist.maintenance.configured,
            "problem": checklist.maintenance.problem,
            "silences": [
                {
                    "id": silence.silence_id,
                    "state": state,
                    "starts_at": format_instant(silence.starts_at),
                    "ends_at": format_instant(silence.ends_at),
                    "created_by": silence.created_by,
                    "comment": silence.comment,
                    "services": list(services),
                    "matchers": [
                        {
                            "name": m.name,
                            "value": m.value,
                            "is_regex": m.is_regex,
                            "is_equal": m.is_equal,
                        }
                        for m in silence.matchers
                    ],
                }
                for silence, state, services in checklist.maintenance.silences
            ],
        },
        "confirmations": list(checklist.confirmations),
    }
