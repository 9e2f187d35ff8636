"""Silences tied to incidents: what acknowledging an incident silences in Alertmanager, and
which of a silenced incident's alerts have ended without Alertmanager saying so.

An acknowledgement may silence the incident's firing alerts: one silence whose equality
matchers are the labels all of them share (`silence_labels`). Alertmanager then mutes every
notification of those alerts, the resolved ones included (its `notify/mute.go`), so srekit would
never hear them resolve. srekit asks Alertmanager instead (`ended_alerts`): an alert it reports
with an end in the past, replaced by a later instance, or no longer reports at all has ended.
An alert's absence only counts once Alertmanager has been up long enough for Prometheus to have
sent every alert that still fires again (it re-sends them every minute by default): a restarted
Alertmanager without its storage knows no alert at first.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from srekit.core.incident import IncidentAlert

__all__ = [
    "WATCH_BODY_PREFIX",
    "ReportedAlert",
    "SilenceRefusedError",
    "ended_alerts",
    "same_instant",
    "shared_labels",
    "silence_comment",
    "silence_labels",
    "watch_body",
]

#: How the bodies of the notifications srekit makes for ended silenced alerts begin.
WATCH_BODY_PREFIX = b"srekit-silence-watch "
_COMMENT_LIMIT = 400


class SilenceRefusedError(ValueError):
    """An incident's alerts cannot be silenced by one silence of equality matchers; the
    message says why."""


@dataclass(frozen=True)
class ReportedAlert:
    """An alert as Alertmanager reports it now (its API v2 `GET /api/v2/alerts`).

    `ends_at` is when it ends: in the future for a firing alert (Prometheus keeps pushing it a
    few minutes ahead), in the past for a resolved one. `state` is Alertmanager's (`active`,
    `suppressed`, `unprocessed`), `silenced_by` the silences muting it.
    """

    fingerprint: str
    starts_at: datetime
    ends_at: datetime | None
    labels: Mapping[str, str] = field(default_factory=dict)
    state: str = "active"
    silenced_by: tuple[str, ...] = ()


def shared_labels(label_sets: Sequence[Mapping[str, str]]) -> dict[str, str]:
    """The labels every set carries with the same non-empty value (an empty value is a missing
    label to Alertmanager); empty for no sets."""
    if not label_sets:
        return {}
    first, *others = label_sets
    return {
        name: value
        for name, value in first.items()
        if value and all(labels.get(name) == value for labels in others)
    }


def silence_labels(label_sets: Sequence[Mapping[str, str]], *, incident_id: int) -> dict[str, str]:
    """The equality matchers of the one silence that mutes an incident's firing alerts (their
    label sets): the labels they all share, `alertname` among them.

    Refused (SilenceRefusedError) when there is no firing alert, or when the alerts share no
    alert name: a silence on fewer labels (`srekit_service` alone, say) would also mute alerts
    that are not the incident's.
    """
    if not label_sets:
        raise SilenceRefusedError(f"incident {incident_id} has no firing alert to silence")
    shared = shared_labels(label_sets)
    if not shared:
        raise SilenceRefusedError(
            f"the firing alerts of incident {incident_id} share no label: one silence cannot"
            " mute them all and nothing else"
        )
    if "alertname" not in shared:
        names = sorted({labels.get("alertname", "") for labels in label_sets})
        raise SilenceRefusedError(
            f"the firing alerts of incident {incident_id} have different names"
            f" ({', '.join(name or '(none)' for name in names)}): a silence on the labels they"
            f" share ({', '.join(sorted(shared))}) would mute other alerts too"
        )
    return shared


def silence_comment(*, incident_id: int, title: str) -> str:
    """The silence's comment, naming the incident: `srekit incident #12: <title>`."""
    return f"srekit incident #{incident_id}: {title}"[:_COMMENT_LIMIT]


def same_instant(one: datetime, other: datetime) -> bool:
    """Equal once cut to the millisecond: Alertmanager's API cuts times to milliseconds, its
    webhooks send every digit it was given."""
    return _milliseconds(one) == _milliseconds(other)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _milliseconds(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def ended_alerts(
    firing: Sequence[IncidentAlert],
    reported: Sequence[ReportedAlert],
    *,
    now: datetime,
    absence_counts: bool,
) -> list[tuple[IncidentAlert, datetime]]:
    """Which of an incident's firing alerts (as srekit stored them) have ended by what
    Alertmanager `reported` at `now`, and when each ended, in the order of `firing`.

    Per stored alert, Alertmanager's alert of the same fingerprint:
    - with the same start (to the millisecond) and an end at or before `now`: ended then;
    - with the same start and a later end (or none): still firing;
    - with a later start: a new instance replaced it, so it ended by then (or `now`, if sooner);
    - with an earlier start: not the alert stored; kept firing, to be safe;
    - none: ended at `now` when `absence_counts` (Alertmanager has been up long enough to
      know every alert still firing), else still firing.

    An end is never before the alert's start.
    """
    latest: dict[str, ReportedAlert] = {}
    for one in reported:
        known = latest.get(one.fingerprint)
        if known is None or one.starts_at > known.starts_at:
            latest[one.fingerprint] = one
    ended: list[tuple[IncidentAlert, datetime]] = []
    for alert in firing:
        current = latest.get(alert.fingerprint)
        end: datetime | None = None
        if current is None:
            end = now if absence_counts else None
        elif same_instant(current.starts_at, alert.starts_at):
            if current.ends_at is not None and current.ends_at <= now:
                end = current.ends_at
        elif current.starts_at > alert.starts_at:
            end = min(current.starts_at, now)
        if end is not None:
            ended.append((alert, max(end, alert.starts_at)))
    return ended


def watch_body(incident_id: int, ended: Sequence[tuple[IncidentAlert, datetime]]) -> bytes:
    """The body srekit stores for the notification it makes of `ended` alerts: the same for
    the same alerts and ends, different for any other (the intake keeps one of each body)."""
    payload = {
        "incident": incident_id,
        "alerts": sorted(
            [alert.fingerprint, _instant(alert.starts_at), _instant(end)] for alert, end in ended
        ),
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return WATCH_BODY_PREFIX + text.encode()


def _instant(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
