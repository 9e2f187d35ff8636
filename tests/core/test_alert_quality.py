"""Alert quality, checked against a story worked out by hand: ten fires of three rules over
four weeks, each figure derived in a comment from the story's instants."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from srekit.core.alert_quality import (
    ALL_RULES,
    DEFAULT_TARGETS,
    TARGET_NAMES,
    AlertQualityReport,
    QualityTargets,
    RuleQuality,
    alert_quality,
    median,
    nearest_rank,
)
from srekit.core.incident import Incident, IncidentAlert, IncidentState, Severity

START = datetime(2026, 11, 1, tzinfo=UTC)
END = datetime(2026, 11, 29, tzinfo=UTC)  # 28 days: four weekly shifts


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def alert(
    rule: str,
    fingerprint: str,
    starts: datetime,
    ends: datetime | None,
    incident: int | None = None,
    *,
    routed: bool = True,
) -> IncidentAlert:
    return IncidentAlert(
        fingerprint=fingerprint,
        alertname=rule,
        status="firing" if ends is None else "resolved",
        starts_at=starts,
        ends_at=ends,
        labels={"alertname": rule},
        incident_id=incident,
        routed=routed,
    )


def incident(
    number: int,
    opened: datetime,
    *,
    acked: datetime | None = None,
    resolved: datetime | None = None,
    noise: bool = False,
) -> Incident:
    return Incident(
        id=number,
        title=f"incident {number}",
        severity=Severity.P1,
        state=IncidentState.CLOSED if noise else IncidentState.RESOLVED,
        opened_at=opened,
        acknowledged_at=acked,
        resolved_at=resolved,
        closed_at=resolved if noise else None,
        noise=noise,
    )


CHECKOUT, DISK, NODE = "CheckoutErrorBudgetBurn", "DiskSpaceLow", "NodeExporterDown"

# The story. CheckoutErrorBudgetBurn pages for real trouble, answered within minutes;
# DiskSpaceLow flaps on one disk; NodeExporterDown matches no route, so it opens nothing.
ALERTS = [
    alert(CHECKOUT, "co1", at(3, 10), at(3, 10, 40), 1),  # a1
    alert(CHECKOUT, "co1", at(10, 14), at(10, 14, 25), 2),  # a2: a week later, no refire
    alert(CHECKOUT, "co2", at(20, 8), at(20, 8, 50), 3),  # a3
    alert(DISK, "disk1", at(31, 23, month=10), at(31, 23, 30, month=10)),  # b0: before the period
    alert(DISK, "disk1", at(1, 0, 10), at(1, 0, 12)),  # b5: routed to no incident
    alert(DISK, "disk1", at(5, 2), at(5, 2, 3), 4),  # b1
    alert(DISK, "disk1", at(5, 2), at(5, 2, 3), 4),  # b1 again (given twice: counted once)
    alert(DISK, "disk1", at(5, 2, 30), at(5, 2, 34), 5),  # b2
    alert(DISK, "disk1", at(5, 3, 40), at(5, 4, 30), 6),  # b3
    alert(DISK, "disk1", at(5, 4, 45), at(5, 4, 47), 7),  # b4
    alert(NODE, "node1", at(12, 12), at(12, 12, 20), routed=False),  # c1
    alert(NODE, "node2", at(28, 23), None, routed=False),  # c2: still firing
    alert(NODE, "node1", at(29, 0), None, routed=False),  # c3: at the end, outside
]
INCIDENTS = [
    incident(1, at(3, 10), acked=at(3, 10, 3), resolved=at(3, 10, 40)),
    incident(2, at(10, 14), acked=at(10, 14, 2), resolved=at(10, 14, 25)),
    incident(3, at(20, 8), acked=at(20, 8, 6), resolved=at(20, 8, 50)),
    incident(4, at(5, 2), resolved=at(5, 2, 3)),
    incident(5, at(5, 2, 30), resolved=at(5, 2, 34)),
    incident(6, at(5, 3, 40), acked=at(5, 3, 50), resolved=at(5, 4, 30), noise=True),
    incident(7, at(5, 4, 45), acked=at(5, 4, 46), resolved=at(5, 4, 47)),
]
PAGES = {1: 1, 2: 2, 3: 1, 4: 1, 5: 1, 6: 1, 7: 1, 99: 5}  # 99: no fire of the period's

EXPECTED = {
    DISK: RuleQuality(
        rule=DISK,
        # b5, b1, b2, b3, b4 (b0 started in October, b1 is one instance)
        fires=5,
        # b4 alone: incident 7 was acknowledged at 04:46, before b4 ended at 04:47, so its two
        # minutes do not make it a false positive; b3's incident 6 was acknowledged but is noise
        actionable=1,
        # b5 (2 min, no incident), b1 (3 min), b2 (4 min): ended within 5 minutes, nobody had
        # acknowledged; b3: its incident 6 was closed as noise
        false_positives=4,
        noise=1,
        auto_resolved=3,
        # b5 started 40 min after b0 ended; b2 27 min after b1 ended (02:03 → 02:30); b4 15 min
        # after b3 ended (04:30 → 04:45). b3 started 66 min after b2 ended (02:34 → 03:40): no
        refires=3,
        without_incident=1,  # b5
        unrouted=0,
        incidents=4,  # 4, 5, 6, 7
        acknowledged=2,  # 6 after 10 min (600 s), 7 after 1 min (60 s)
        resolved=4,  # 4: 180 s, 5: 240 s, 6: 3000 s, 7: 120 s
        tta_median_s=330.0,  # (60 + 600) / 2
        tta_p90_s=600.0,  # nearest rank ⌈0.9 × 2⌉ = 2nd of (60, 600)
        mttr_s=885.0,  # (180 + 240 + 3000 + 120) / 4 = 3540 / 4
        pages=4,  # one each for incidents 4, 5, 6, 7
        pages_per_shift=1.0,  # 4 pages / (28 days / 7 days) = 4 / 4
        # 1/5 = 20 % < 90 %; 4/5 = 80 % ≥ 5 %; 330 s ≥ 300 s; 885 s < 1800 s
        targets={"actionable": False, "false_positives": False, "mtta": False, "mttr": True},
    ),
    CHECKOUT: RuleQuality(
        rule=CHECKOUT,
        fires=3,  # a1, a2, a3
        actionable=3,  # each incident acknowledged, none noise, each alert lasted > 5 min
        false_positives=0,
        noise=0,
        auto_resolved=0,
        refires=0,  # co1 fired again a week after a1 ended, not within the hour
        without_incident=0,
        unrouted=0,
        incidents=3,
        acknowledged=3,  # after 3, 2 and 6 minutes: 180, 120, 360 s
        resolved=3,  # after 40, 25 and 50 minutes: 2400, 1500, 3000 s
        tta_median_s=180.0,  # the middle of 120, 180, 360
        tta_p90_s=360.0,  # ⌈0.9 × 3⌉ = 3rd smallest
        mttr_s=2300.0,  # (2400 + 1500 + 3000) / 3 = 6900 / 3
        pages=4,  # 1 + 2 + 1
        pages_per_shift=1.0,  # 4 / 4
        # 100 % ≥ 90 %; 0 % < 5 %; 180 s < 300 s; 2300 s ≥ 1800 s
        targets={"actionable": True, "false_positives": True, "mtta": True, "mttr": False},
    ),
    NODE: RuleQuality(
        rule=NODE,
        fires=2,  # c1 and c2; c3 starts at the period's end, which is excluded
        actionable=0,  # no incident: never actionable
        false_positives=0,  # c1 lasted 20 minutes, c2 still fires
        noise=0,
        auto_resolved=0,
        refires=0,  # c1 and c2 are different fingerprints; c3 is outside the period
        without_incident=2,
        unrouted=2,
        incidents=0,
        acknowledged=0,
        resolved=0,
        tta_median_s=None,  # no acknowledged incident
        tta_p90_s=None,
        mttr_s=None,
        pages=0,
        pages_per_shift=0.0,
        # 0 % < 90 %; 0 % < 5 %; the times cannot be judged
        targets={"actionable": False, "false_positives": True, "mtta": None, "mttr": None},
    ),
}

OVERALL = RuleQuality(
    rule=ALL_RULES,
    fires=10,  # 5 + 3 + 2
    actionable=4,  # b4, a1, a2, a3
    false_positives=4,  # b5, b1, b2, b3
    noise=1,
    auto_resolved=3,
    refires=3,
    without_incident=3,  # b5, c1, c2
    unrouted=2,
    incidents=7,
    acknowledged=5,  # 60, 120, 180, 360, 600 s
    resolved=7,
    tta_median_s=180.0,  # the 3rd of 5
    tta_p90_s=600.0,  # ⌈0.9 × 5⌉ = 5th
    mttr_s=10440 / 7,  # (2400 + 1500 + 3000 + 180 + 240 + 3000 + 120) / 7 ≈ 1491.4 s
    pages=8,  # incident 99's pages belong to no fire of the period
    pages_per_shift=2.0,  # 8 / 4
    # 40 % < 90 %; 40 % ≥ 5 %; 180 s < 300 s; 1491 s < 1800 s
    targets={"actionable": False, "false_positives": False, "mtta": True, "mttr": True},
)


def _report(**options: Any) -> AlertQualityReport:
    return alert_quality(ALERTS, incidents=INCIDENTS, start=START, end=END, pages=PAGES, **options)


def test_the_story_worked_out_by_hand() -> None:
    report = _report()
    # noisiest first: DiskSpaceLow (80 % false positives), then the two rules without any,
    # by refire share (both 0) and then fires: Checkout… (3) before NodeExporterDown (2)
    assert [rule.rule for rule in report.rules] == [DISK, CHECKOUT, NODE]
    for rule in report.rules:
        assert rule == EXPECTED[rule.rule]
    assert report.overall == OVERALL
    assert report.shifts == 4.0
    assert (report.auto_resolve_s, report.shift_s) == (300, 7 * 86_400)
    assert report.targets == DEFAULT_TARGETS


def test_rates_and_missed_targets() -> None:
    disk, checkout, node = _report().rules
    assert (disk.actionable_rate, disk.false_positive_rate, disk.refire_share) == (0.2, 0.8, 0.6)
    assert disk.missed_targets == ("actionable", "false_positives", "mtta")
    assert checkout.missed_targets == ("mttr",)
    assert node.missed_targets == ("actionable",)  # the times are not judged, not missed
    assert node.actionable_rate == node.false_positive_rate == node.refire_share == 0.0
    assert tuple(disk.targets) == TARGET_NAMES


def test_a_longer_window_for_resolving_alone_makes_more_false_positives() -> None:
    # with 30 minutes, c1 (20 min, no incident) is one too; b3 (50 min) stays noise only
    node = next(r for r in _report(auto_resolve_s=30 * 60).rules if r.rule == NODE)
    assert (node.false_positives, node.auto_resolved) == (1, 1)
    # with 1 minute none of the short disk alerts qualifies (2, 3 and 4 minutes long)
    disk = next(r for r in _report(auto_resolve_s=60).rules if r.rule == DISK)
    assert (disk.false_positives, disk.noise, disk.auto_resolved) == (1, 1, 0)


def test_shifts_given_or_from_the_shift_length() -> None:
    given = _report(shifts=2)
    assert given.shifts == 2
    assert given.overall is not None
    assert given.overall.pages_per_shift == 4.0  # 8 / 2
    daily = _report(shift_s=86_400)
    assert daily.shifts == 28.0
    assert daily.overall is not None
    assert daily.overall.pages_per_shift == 8 / 28


def test_stricter_targets_change_the_verdicts() -> None:
    lenient = QualityTargets(
        actionable_min=0.2, false_positive_max=0.9, mtta_max_s=331, mttr_max_s=2301
    )
    disk, checkout, _ = _report(targets=lenient).rules
    assert disk.missed_targets == ()  # 20 % ≥ 20 %, 80 % < 90 %, 330 < 331, 885 < 2301
    assert checkout.missed_targets == ()  # 2300 < 2301


def test_an_alert_whose_incident_is_not_given_has_none() -> None:
    lost = alert(CHECKOUT, "co9", at(2, 1), at(2, 2), 42)
    report = alert_quality([lost], incidents=[], start=START, end=END)
    (rule,) = report.rules
    assert (rule.fires, rule.without_incident, rule.unrouted, rule.incidents) == (1, 1, 0, 0)
    assert rule.actionable == 0


def test_a_fire_overlapping_an_earlier_one_is_no_refire_and_an_open_end_ends_nothing() -> None:
    report = alert_quality(
        [
            alert(DISK, "d", at(2, 1), None),  # still firing: it has not ended
            alert(DISK, "d", at(2, 1, 30), at(2, 3)),  # 30 min after a start, not an end
            alert(DISK, "d", at(2, 2), at(2, 2, 10)),  # started before 03:00 ended
            alert(DISK, "d", at(2, 3, 5), at(2, 3, 20)),  # 5 min after 03:00 ended: refire
        ],
        incidents=[],
        start=START,
        end=END,
    )
    assert report.rules[0].refires == 1


def test_no_fire_in_the_period_is_an_empty_report() -> None:
    report = alert_quality(
        ALERTS, incidents=INCIDENTS, start=at(1, 1, month=12), end=at(2, 1, month=12)
    )
    assert (report.rules, report.overall) == ((), None)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"end": START}, "the period must end after it starts"),
        ({"auto_resolve_s": 0}, "auto_resolve_s: expected a positive number of seconds, got 0"),
        ({"auto_resolve_s": math.nan}, "auto_resolve_s: expected a positive"),
        ({"shift_s": math.inf}, "shift_s: expected a positive number of seconds, got inf"),
        ({"shift_s": -1.0}, "shift_s: expected a positive"),
        ({"shifts": 0}, "shifts: expected a positive number of shifts, got 0"),
        ({"shifts": math.nan}, "shifts: expected a positive number of shifts"),
    ],
)
def test_bad_parameters_are_refused(options: dict[str, object], message: str) -> None:
    values: dict[str, object] = {"start": START, "end": END, **options}
    with pytest.raises(ValueError, match=message):
        alert_quality(ALERTS, incidents=INCIDENTS, **values)  # type: ignore[arg-type]


def test_median_and_nearest_rank() -> None:
    assert median([]) is None
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert median([4.0, 1.0, 3.0, 2.0]) == 2.5
    assert nearest_rank([], 90) is None
    assert nearest_rank([float(v) for v in range(1, 71)], 90) == 63.0  # 0.9 × 70 = 63 exactly
    assert nearest_rank([float(v) for v in range(1, 11)], 90) == 9.0
    assert nearest_rank([5.0, 1.0], 90) == 5.0
    assert nearest_rank([5.0, 1.0], 0) == 1.0  # the first value at least
    assert timedelta(minutes=5).total_seconds() == DEFAULT_TARGETS.mtta_max_s
