"""core.status_page: conditions, the banner, the 90-day mean, public incident updates, badge
faces and their colours, and the badge signature, each against hand-worked cases."""

from __future__ import annotations

import hashlib
import hmac
import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from srekit.core.alerts import BurnRateAlert
from srekit.core.budget import ErrorBudget
from srekit.core.dashboard import SloHealth
from srekit.core.incident import Incident, IncidentState, Severity
from srekit.core.status import DataState, SloStatus
from srekit.core.status_page import (
    BadgeKind,
    BadgeThresholds,
    Banner,
    Condition,
    PublicState,
    badge_face,
    badge_path,
    banner,
    mean_sli,
    public_state,
    public_updates,
    service_condition,
    sign_badge_path,
    signature_matches,
)
from tests.core.test_dashboard import _status as dashboard_status

MET, RISK, BREACHED, NONE = (
    SloHealth.MET,
    SloHealth.AT_RISK,
    SloHealth.BREACHED,
    SloHealth.NO_DATA,
)


@pytest.mark.parametrize(
    ("healths", "expected"),
    [
        ([], Condition.NO_DATA),
        ([NONE, NONE], Condition.NO_DATA),
        ([MET, NONE], Condition.OPERATIONAL),
        ([MET, RISK], Condition.DEGRADED),
        ([MET, BREACHED], Condition.PARTIAL),
        ([RISK, BREACHED, NONE], Condition.PARTIAL),
        ([BREACHED, BREACHED, NONE], Condition.MAJOR),
    ],
)
def test_service_condition(healths: list[SloHealth], expected: Condition) -> None:
    assert service_condition(healths) is expected


C = Condition


@pytest.mark.parametrize(
    ("conditions", "expected"),
    [
        ([], Banner.UNAVAILABLE),
        ([C.NO_DATA], Banner.UNAVAILABLE),
        ([C.OPERATIONAL, C.NO_DATA], Banner.OPERATIONAL),
        ([C.OPERATIONAL, C.DEGRADED], Banner.DEGRADED),
        ([C.DEGRADED, C.PARTIAL], Banner.PARTIAL),
        ([C.OPERATIONAL, C.MAJOR], Banner.PARTIAL),
        ([C.MAJOR, C.MAJOR, C.NO_DATA], Banner.MAJOR),
    ],
)
def test_banner(conditions: list[Condition], expected: Banner) -> None:
    assert banner(conditions) is expected


def test_mean_sli_skips_days_without_a_figure() -> None:
    assert mean_sli([0.998, None, 0.9995, math.nan]) == pytest.approx(0.99875)
    assert mean_sli([None, math.inf]) is None
    assert mean_sli([]) is None


OPENED = datetime(2026, 11, 30, 10, tzinfo=UTC)


def _incident(**moments: datetime) -> Incident:
    return Incident(1, "Slow", Severity.P2, IncidentState.RESOLVED, OPENED, **moments)  # type: ignore[arg-type]


def test_public_states_follow_the_lifecycle() -> None:
    assert [public_state(state) for state in IncidentState] == [
        PublicState.INVESTIGATING,
        PublicState.IDENTIFIED,
        PublicState.MONITORING,
        PublicState.RESOLVED,
        PublicState.RESOLVED,
    ]


def test_public_updates_newest_first_up_to_at() -> None:
    minute = timedelta(minutes=1)
    incident = _incident(
        acknowledged_at=OPENED + 5 * minute,
        mitigated_at=OPENED + 20 * minute,
        resolved_at=OPENED + 60 * minute,
    )
    assert public_updates(incident, at=OPENED + 30 * minute) == (
        (PublicState.MONITORING, OPENED + 20 * minute),
        (PublicState.IDENTIFIED, OPENED + 5 * minute),
        (PublicState.INVESTIGATING, OPENED),
    )
    closed = _incident(closed_at=OPENED + 3 * minute)  # closed without a resolution instant
    assert public_updates(closed, at=OPENED + 10 * minute)[0] == (
        PublicState.RESOLVED,
        OPENED + 3 * minute,
    )


def _status(remaining: float | None, *, burn_1h: float | None = None) -> SloStatus:
    base = dashboard_status(remaining)
    return replace(base, burn_rates={} if burn_1h is None else {"1h": burn_1h})


TH = BadgeThresholds()


@pytest.mark.parametrize(
    ("remaining", "message", "color"),
    [
        (0.6, "60.0% left", "brightgreen"),
        (0.5, "50.0% left", "yellow"),
        (0.25, "25.0% left", "orange"),
        (0.0, "0.0% left", "red"),
        (-0.2, "-20.0% left", "red"),
        (math.nan, "no data", "lightgrey"),
    ],
)
def test_budget_badge(remaining: float, message: str, color: str) -> None:
    status = replace(
        dashboard_status(0.5), error_budget=ErrorBudget(remaining, 1 - remaining, None)
    )
    face = badge_face(status, BadgeKind.BUDGET, thresholds=TH)
    assert (face.label, face.message, face.color) == ("error budget", message, color)


@pytest.mark.parametrize(
    ("burn", "message", "color"),
    [
        (0.5, "0.50x", "brightgreen"),
        (1.0, "1.00x", "orange"),
        (5.99, "5.99x", "orange"),
        (6.0, "6.00x", "red"),
        (None, "no data", "lightgrey"),
        (math.inf, "no data", "lightgrey"),
    ],
)
def test_burn_badge(burn: float | None, message: str, color: str) -> None:
    face = badge_face(_status(0.5, burn_1h=burn), BadgeKind.BURN, thresholds=TH)
    assert (face.message, face.color) == (message, color)


def test_sli_and_status_badges() -> None:
    met = replace(dashboard_status(0.6), sli=0.99996, objective=0.999)
    assert badge_face(met, BadgeKind.SLI, thresholds=TH).message == "99.99%"  # not 100.00 %
    assert badge_face(met, BadgeKind.SLI, thresholds=TH).color == "brightgreen"
    missed = replace(met, sli=0.9985)
    assert badge_face(missed, BadgeKind.SLI, thresholds=TH).color == "red"
    assert badge_face(replace(met, sli=None), BadgeKind.SLI, thresholds=TH).message == "no data"
    assert badge_face(met, BadgeKind.STATUS, thresholds=TH).message == "met"
    firing = BurnRateAlert("ticket", "3d", "6h", 259200, 21600, 1.0, firing=True)
    risky = replace(met, alerts=(firing,))
    assert badge_face(risky, BadgeKind.STATUS, thresholds=TH).color == "orange"
    nothing = badge_face(None, BadgeKind.STATUS, thresholds=TH)
    assert (nothing.label, nothing.message, nothing.color) == ("SLO", "no data", "lightgrey")
    stale = replace(met, data=DataState.STALE)
    assert badge_face(stale, BadgeKind.STATUS, thresholds=TH).message == "no data"


@pytest.mark.parametrize(
    "settings",
    [
        {"budget_green_above": 0.2, "budget_yellow_above": 0.3},
        {"budget_green_above": 1.5},
        {"burn_yellow_from": 0},
        {"burn_yellow_from": 7, "burn_red_from": 6},
        {"burn_red_from": math.inf},
    ],
)
def test_thresholds_out_of_order_are_refused(settings: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="badge"):
        BadgeThresholds(**settings)


def test_badge_signature() -> None:
    path = badge_path("check out", "a/b", BadgeKind.SLI)
    assert path == "/badge/slo/check%20out/a%2Fb/sli"
    secret = b"k" * 32
    expected = hmac.new(secret, path.encode(), hashlib.sha256).hexdigest()
    assert sign_badge_path(secret, path) == expected
    assert signature_matches(secret, path, expected)
    tampered = expected[:-1] + ("1" if expected.endswith("0") else "0")
    assert not signature_matches(secret, path, tampered)
    assert not signature_matches(secret, path, "é\x00")
    assert not signature_matches(b"other", path, expected)
