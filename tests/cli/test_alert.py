"""`srekit alert report` (also `srekit alerts report`) through CliRunner, on SQLite and
PostgreSQL: the example Alertmanager notifications replayed through the intake, the report in
each format, exit 1 for a period without alerts, exit 2 for bad input."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Engine

from srekit.core.incident import IncidentState
from srekit.core.instant import parse_instant
from srekit.flows.incidents import change_incident_state, list_incident_views
from srekit.flows.intake import Notification, receive_notification
from srekit.store.database import create_store_engine
from tests.cli.conftest import EXAMPLES, Cli

WEBHOOKS = EXAMPLES / "incidents" / "alertmanager-webhooks.json"
NOW = "2026-11-19T23:59:57Z"  # the example file's `now`
PERIOD = ("--from", "2026-10-23T00:00:00Z", "--to", "2026-11-20T00:00:00Z")  # 28 days


def replay_examples(engine: Engine) -> None:
    """Deliver the example notifications as Alertmanager sent them, and acknowledge the
    incidents left open at the file's `now`, as `srekit demo` does (without shifting them)."""
    from srekit.alertmanager.webhook import WebhookIn, received_alerts

    now = parse_instant(NOW)
    for body in json.loads(WEBHOOKS.read_text(encoding="utf-8"))["notifications"]:
        raw = json.dumps(body).encode()
        payload = WebhookIn.model_validate_json(raw)
        notification = Notification(
            receiver=payload.receiver, status=payload.status, group_key=payload.group_key,
            alerts=received_alerts(payload), body=raw,
        )  # fmt: skip
        receive_notification(engine, notification, now=now)
    for view in list_incident_views(engine, state=IncidentState.TRIGGERED):
        change_incident_state(
            engine, incident_id=view.incident.id, to=IncidentState.ACKNOWLEDGED,
            actor="srekit-demo", now=now,
        )  # fmt: skip


@pytest.fixture
def replayed(cli: Cli) -> Cli:
    code, _, err = cli("db", "upgrade")
    assert code == 0, err
    engine = create_store_engine(cli.env["SREKIT_DATABASE_URL"])
    try:
        replay_examples(engine)
    finally:
        engine.dispose()
    return cli


def test_the_report_of_the_examples_in_json(replayed: Cli) -> None:
    document = replayed.json("alerts", "report", *PERIOD)
    assert isinstance(document, dict)
    catalog, checkout = document["rules"]
    # both rules without false positives or refires, one fire each: by name
    assert catalog["rule"] == "CatalogGoodMinutesErrorBudgetBurn"
    # fired 23:05:00, acknowledged at the file's now, 23:59:57: 54 min 57 s; still open
    assert (catalog["actionable"], catalog["tta_median_s"], catalog["mttr_s"]) == (1, 3297.0, None)
    assert catalog["missed_targets"] == ["mtta"]
    assert checkout["rule"] == "CheckoutAvailabilityErrorBudgetBurn"
    # fired 14:02:30, resolved by its alert at 14:44:00 (41 min 30 s), nobody acknowledged
    assert (checkout["actionable"], checkout["tta_median_s"], checkout["mttr_s"]) == (
        0,
        None,
        2490.0,
    )
    assert checkout["missed_targets"] == ["actionable", "mttr"]
    assert document["overall"]["fires"] == 2
    assert document["shifts"] == 4.0


def test_both_spellings_print_the_same_table_and_markdown(replayed: Cli) -> None:
    code, table, _ = replayed("alerts", "report", *PERIOD)
    assert code == 0
    assert replayed("alert", "report", *PERIOD)[1] == table
    assert "2 fires of 2 rules: 50% actionable, 0% false positives" in table
    assert "CheckoutAvailabilityErrorBudgetBurn missed: actionable, mttr" in table
    code, markdown, _ = replayed("alert", "report", *PERIOD, "--format", "md")
    assert code == 0
    assert markdown.startswith("# Alert quality, 2026-10-23T00:00:00Z to 2026-11-20T00:00:00Z")
    assert (
        "| CheckoutAvailabilityErrorBudgetBurn | 1 | 0% | 0% | 0 | 0 | - | - | 41m30s | 0 |"
        " missed: actionable, mttr |" in markdown
    )


def test_a_closed_noise_incident_makes_false_positives(replayed: Cli) -> None:
    replayed.json("incident", "close", "1", "--noise", "--reason", "a test burn")
    document = replayed.json("alert", "report", *PERIOD)
    noisiest = document["rules"][0]
    assert (noisiest["rule"], noisiest["false_positive_rate"]) == (
        "CheckoutAvailabilityErrorBudgetBurn",
        1.0,
    )


def test_a_period_without_alerts_exits_1(replayed: Cli) -> None:
    code, out, _ = replayed("alerts", "report", "--from", "2026-01-01T00:00:00Z",
                            "--to", "2026-02-01T00:00:00Z")  # fmt: skip
    assert code == 1
    assert "no alerts started from 2026-01-01T00:00:00Z to 2026-02-01T00:00:00Z" in out
    code, out, _ = replayed("alerts", "report", *PERIOD, "--service", "search")
    assert code == 1
    assert "no alerts routed to search started" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--from", "NaN"), "--from:"),
        (("--to", "1e309"), "--to:"),
        (("--from", "2026-11-20T00:00:00Z", "--to", "2026-11-01T00:00:00Z"), "must end after"),
        (("--auto-resolve-window", "NaN"), "--auto-resolve-window: expected a duration"),
        (("--auto-resolve-window", "2d"), "auto_resolve_window: expected a positive number"),
        (("--shift", "1e309"), "--shift: expected a duration"),
        (("--shift", "0s"), "--shift: expected a duration of a whole number"),
        (("--service", "check\x01out"), "--service"),
        (("--format", "xml"), "expected one of table, json, md, got 'xml'"),
    ],
)
def test_bad_input_exits_2(replayed: Cli, args: tuple[str, ...], message: str) -> None:
    code, _, err = replayed("alerts", "report", *args)
    assert code == 2
    assert message in " ".join(err.replace("│", " ").split()), err


def test_the_documented_sample_is_what_the_report_prints(replayed: Cli) -> None:
    import re
    import shlex

    from tests.cli.conftest import ROOT

    page = (ROOT / "docs" / "alert-quality.md").read_text(encoding="utf-8")
    command, sample = re.search(
        r"<!-- sample: (srekit [^\n]*?) -->\n```markdown\n(.*?)```", page, re.DOTALL
    ).groups()  # type: ignore[union-attr]
    code, printed, err = replayed(*shlex.split(command)[1:])
    assert code == 0, err
    assert printed == sample
