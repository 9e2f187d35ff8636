"""What an acknowledgement silences, and which silenced alerts have ended by what Alertmanager
reports: hand-built label sets, alerts and instants."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from srekit.core.incident import IncidentAlert
from srekit.core.silences import (
    WATCH_BODY_PREFIX,
    ReportedAlert,
    SilenceRefusedError,
    ended_alerts,
    same_instant,
    shared_labels,
    silence_comment,
    silence_labels,
    watch_body,
)

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
NOW = T0 + timedelta(minutes=30)
PAGE = {
    "alertname": "CheckoutAvailabilityErrorBudgetBurn",
    "severity": "page",
    "srekit_service": "checkout",
    "srekit_slo": "availability",
}


def _stored(fingerprint: str, starts_at: datetime = T0) -> IncidentAlert:
    return IncidentAlert(
        fingerprint=fingerprint,
        alertname=PAGE["alertname"],
        status="firing",
        starts_at=starts_at,
        ends_at=None,
        labels=dict(PAGE),
    )


def _reported(
    fingerprint: str, starts_at: datetime = T0, ends_at: datetime | None = None
) -> ReportedAlert:
    return ReportedAlert(fingerprint, starts_at, ends_at, labels=dict(PAGE))


@pytest.mark.parametrize(
    ("label_sets", "shared"),
    [
        ([], {}),
        ([PAGE], PAGE),
        ([PAGE, {**PAGE, "instance": "a"}], PAGE),
        ([{**PAGE, "instance": "a"}, {**PAGE, "instance": "b"}], PAGE),
        (
            [PAGE, {**PAGE, "severity": "ticket"}],
            {k: v for k, v in PAGE.items() if k != "severity"},
        ),
        ([{"alertname": "A", "team": ""}, {"alertname": "A", "team": ""}], {"alertname": "A"}),
        ([{"alertname": "A"}, {"alertname": "B"}], {}),
    ],
)
def test_shared_labels_are_those_every_set_carries_with_one_value(
    label_sets: list[dict[str, str]], shared: dict[str, str]
) -> None:
    assert shared_labels(label_sets) == shared


def test_the_silence_matches_the_labels_the_firing_alerts_share() -> None:
    labels = silence_labels([{**PAGE, "instance": "a"}, {**PAGE, "instance": "b"}], incident_id=7)
    assert labels == PAGE


@pytest.mark.parametrize(
    ("label_sets", "message"),
    [
        ([], "incident 7 has no firing alert to silence"),
        (
            [{"alertname": "A", "team": "x"}, {"alertname": "B", "tier": "1"}],
            "the firing alerts of incident 7 share no label",
        ),
        (
            [{"alertname": "A", "team": "x"}, {"alertname": "B", "team": "x"}, {"team": "x"}],
            "have different names ((none), A, B): a silence on the labels they share (team)",
        ),
    ],
)
def test_alerts_one_silence_cannot_mute_alone_are_refused(
    label_sets: list[dict[str, str]], message: str
) -> None:
    with pytest.raises(SilenceRefusedError) as refused:
        silence_labels(label_sets, incident_id=7)
    assert message in str(refused.value)


def test_the_comment_names_the_incident_and_stays_short() -> None:
    assert silence_comment(incident_id=12, title="checkout errors") == (
        "srekit incident #12: checkout errors"
    )
    assert len(silence_comment(incident_id=12, title="x" * 1000)) == 400


def test_instants_are_the_same_once_cut_to_the_millisecond() -> None:
    assert same_instant(T0 + timedelta(microseconds=400), T0)
    assert same_instant(T0 + timedelta(microseconds=999), T0)  # cut, not rounded
    assert not same_instant(T0 + timedelta(milliseconds=1), T0)
    assert not same_instant(T0 - timedelta(microseconds=1), T0)


def test_an_alert_alertmanager_reports_firing_has_not_ended() -> None:
    reported = [_reported("a", T0 + timedelta(microseconds=250), NOW + timedelta(minutes=4))]
    assert ended_alerts([_stored("a")], reported, now=NOW, absence_counts=True) == []
    # no end at all (Go's zero time, read as None): still firing
    assert ended_alerts([_stored("a")], [_reported("a")], now=NOW, absence_counts=True) == []


def test_an_alert_reported_with_an_end_that_has_passed_ended_then() -> None:
    end = NOW - timedelta(minutes=2)
    found = ended_alerts([_stored("a")], [_reported("a", T0, end)], now=NOW, absence_counts=False)
    assert found == [(_stored("a"), end)]
    exactly_now = ended_alerts(
        [_stored("a")], [_reported("a", T0, NOW)], now=NOW, absence_counts=False
    )
    assert exactly_now == [(_stored("a"), NOW)]


def test_an_absent_alert_ended_now_once_absence_counts() -> None:
    firing = [_stored("a"), _stored("b")]
    reported = [_reported("b", T0, NOW + timedelta(minutes=4))]
    assert ended_alerts(firing, reported, now=NOW, absence_counts=True) == [(firing[0], NOW)]
    assert ended_alerts(firing, reported, now=NOW, absence_counts=False) == []


def test_a_later_instance_ends_the_stored_one_when_it_started() -> None:
    later = T0 + timedelta(minutes=10)
    reported = [_reported("a", later, NOW + timedelta(minutes=4))]
    assert ended_alerts([_stored("a")], reported, now=NOW, absence_counts=False) == [
        (_stored("a"), later)
    ]
    # a start after `now` (another clock): ended now
    ahead = [_reported("a", NOW + timedelta(seconds=5))]
    assert ended_alerts([_stored("a")], ahead, now=NOW, absence_counts=False) == [
        (_stored("a"), NOW)
    ]


def test_the_latest_instance_of_a_fingerprint_decides() -> None:
    later = T0 + timedelta(minutes=10)
    reported = [
        _reported("a", later, NOW + timedelta(minutes=4)),
        _reported("a", T0, NOW + timedelta(minutes=4)),
    ]
    assert ended_alerts([_stored("a")], reported, now=NOW, absence_counts=False) == [
        (_stored("a"), later)
    ]


def test_an_earlier_instance_than_the_stored_one_keeps_it_firing() -> None:
    reported = [_reported("a", T0 - timedelta(minutes=5), NOW - timedelta(minutes=1))]
    assert ended_alerts([_stored("a")], reported, now=NOW, absence_counts=True) == []


def test_an_end_is_never_before_the_start() -> None:
    stored = _stored("a", starts_at=NOW)
    reported = [_reported("a", NOW, NOW - timedelta(microseconds=300))]
    assert ended_alerts([stored], reported, now=NOW, absence_counts=False) == [(stored, NOW)]


def test_the_body_is_the_same_for_the_same_ends_and_differs_otherwise() -> None:
    first = [(_stored("b"), NOW), (_stored("a"), NOW - timedelta(minutes=1))]
    body = watch_body(4, first)
    assert body == watch_body(4, list(reversed(first)))
    assert body.startswith(WATCH_BODY_PREFIX)
    assert json.loads(body[len(WATCH_BODY_PREFIX) :]) == {
        "incident": 4,
        "alerts": [
            ["a", "2026-11-20T10:00:00Z", "2026-11-20T10:29:00Z"],
            ["b", "2026-11-20T10:00:00Z", "2026-11-20T10:30:00Z"],
        ],
    }
    assert watch_body(5, first) != body
    assert watch_body(4, [(_stored("a"), NOW)]) != body
