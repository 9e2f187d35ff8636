"""`srekit alert …` (also spelled `srekit alerts …`): the alerts Alertmanager delivered, and
the alert quality report, which tells an on-call team which alert rules are worth their sleep.

`alert report` exits 0 with a report, 1 when the period holds no alert at all (an empty
report is no proof that the alerting works), 2 for bad input.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

import typer

from srekit.cli.help import SrekitTyper, examples
from srekit.cli.options import (
    FormatOption,
    OutputFormat,
    abort,
    check_name,
    choice,
    console,
    errors_to_exit_codes,
    percent,
    plain_table,
    print_json,
)
from srekit.cli.remote import ServerOption, server_rows

__all__ = ["ReportFormat", "app", "render_markdown", "render_table"]

#: The report's default period: four weekly shifts ending now.
DEFAULT_PERIOD = timedelta(days=28)

app = SrekitTyper(
    help="Alerts Alertmanager delivered (those that opened incidents, those no route took),"
    " and which alert rules are worth waking up for. Also spelled srekit alerts.",
    epilog=examples("srekit alert list", "srekit alert list --unrouted"),
    no_args_is_help=True,
)


class ReportFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    MD = "md"


@app.command(
    "list",
    epilog=examples(
        "srekit alert list", "srekit alert list --unrouted", "srekit alert list --incident 1"
    ),
)
def list_command(
    ctx: typer.Context,
    unrouted: Annotated[
        bool, typer.Option(help="only the alerts no route took (kept, never dropped)")
    ] = False,
    incident: Annotated[
        int | None, typer.Option(metavar="N", min=1, help="only this incident's")
    ] = None,
    limit: Annotated[int, typer.Option(metavar="N", min=1, help="at most N, newest first")] = 100,
    output: FormatOption = OutputFormat.TABLE,
    server: ServerOption = None,
) -> None:
    """List the alert instances srekit received, newest first."""
    from srekit.cli.context import settings_of
    from srekit.cli.options import emit
    from srekit.cli.store_common import open_engine
    from srekit.contracts import alert_document
    from srekit.flows.incidents import list_received_alerts

    if server:
        params = {"unrouted": "true" if unrouted else "false", "limit": str(limit)}
        params.update({"incident": str(incident)} if incident else {})
        fields = frozenset({"fingerprint", "alertname", "status", "starts_at", "incident"})
        documents = server_rows(server, "/api/v1/alerts", params, fields)
    else:
        with errors_to_exit_codes(), open_engine(settings_of(ctx)) as engine:
            alerts = list_received_alerts(
                engine, unrouted=unrouted, incident_id=incident, limit=limit
            )
        documents = [alert_document(alert) for alert in alerts]
    if output is not OutputFormat.TABLE:
        emit(documents, output)
        return
    if not documents:
        console.print("no alerts match")
        return
    table = plain_table("fingerprint", "alertname", "status", "started", "ended", "incident")
    for document in documents:
        table.add_row(
            document["fingerprint"],
            document["alertname"] or "-",
            document["status"],
            document["starts_at"],
            document["ends_at"] or "-",
            f"#{document['incident']}" if document["incident"] else "-",
        )
    console.print(table)


# --- the report -------------------------------------------------------------------------------


def _seconds(value: float | None) -> str:
    """`4m`, `1h2m`, `-` for none: durations as people read them."""
    from srekit.core.instant import format_age

    return "-" if value is None else format_age(timedelta(seconds=value))


def _rule_name(rule: str) -> str:
    return rule or "(no alertname)"


def _pages(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _verdict(rule: dict[str, Any]) -> str:
    missed = rule["missed_targets"]
    return "missed: " + ", ".join(missed) if missed else "meets targets"


_HEADERS = (
    "rule",
    "fires",
    "actionable",
    "false pos.",
    "refires",
    "no incident",
    "ack p50",
    "ack p90",
    "MTTR",
    "pages/shift",
    "targets",
)
#: The console's table leaves the verdict out (it is listed below the table): it must fit
#: 100 columns with the rule names folded.
_TABLE_HEADERS = ("rule", "fires", "act.", "f.p.", "refire", "no inc", "ack p50", "ack p90",
                  "MTTR", "pg/shift")  # fmt: skip


def _cells(rule: dict[str, Any]) -> list[str]:
    return [
        _rule_name(rule["rule"]),
        str(rule["fires"]),
        percent(rule["actionable_rate"]),
        percent(rule["false_positive_rate"]),
        str(rule["refires"]),
        str(rule["without_incident"]),
        _seconds(rule["tta_median_s"]),
        _seconds(rule["tta_p90_s"]),
        _seconds(rule["mttr_s"]),
        _pages(rule["pages_per_shift"]),
        _verdict(rule),
    ]


def _headline(document: dict[str, Any]) -> list[str]:
    overall = document["overall"]
    targets = document["targets"]
    scope = f" of service {document['service']}" if document["service"] else ""
    shifts = _pages(document["shifts"])
    lines = [
        f"alert quality{scope}, {document['start']} to {document['end']}"
        f" ({shifts} shifts of {_seconds(document['shift_s'])})",
        f"{overall['fires']} fires of {len(document['rules'])} rules:"
        f" {percent(overall['actionable_rate'])} actionable,"
        f" {percent(overall['false_positive_rate'])} false positives,"
        f" {overall['refires']} refires, {overall['without_incident']} without an incident,"
        f" {overall['pages']} pages ({_pages(overall['pages_per_shift'])} per shift)",
        f"targets: actionable >= {percent(targets['actionable_min'])}, false positives <"
        f" {percent(targets['false_positive_max'])}, median time to acknowledge <"
        f" {_seconds(targets['mtta_max_s'])}, MTTR < {_seconds(targets['mttr_max_s'])};"
        f" a false positive resolved alone within {_seconds(document['auto_resolve_s'])}"
        " or was closed as noise",
    ]
    missing = [rule for rule in document["rules"] if rule["missed_targets"]]
    lines.append(
        f"{len(missing)} of {len(document['rules'])} rules miss a target, noisiest first"
        if missing
        else "every rule meets its targets"
    )
    return lines


def render_table(document: dict[str, Any]) -> None:
    """The report as a table on the console, noisiest rule first, and the targets each rule
    misses below it."""
    for line in _headline(document):
        console.print(line, highlight=False, soft_wrap=True)
    console.print()
    table = plain_table(*_TABLE_HEADERS, fold="rule")
    for rule in document["rules"]:
        table.add_row(*_cells(rule)[:-1])
    console.print(table)
    missing = [rule for rule in document["rules"] if rule["missed_targets"]]
    if missing:
        console.print()
    for rule in missing:
        console.print(
            f"{_rule_name(rule['rule'])} {_verdict(rule)}", highlight=False, soft_wrap=True
        )


def render_markdown(document: dict[str, Any]) -> str:
    """The report as Markdown: its headline, then one table row per rule, noisiest first."""

    def row(cells: list[str]) -> str:
        return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"

    title = _headline(document)[0]
    lines = [f"# {title[0].upper()}{title[1:]}", ""]
    lines += [f"- {line}" for line in _headline(document)[1:]]
    lines += ["", row(list(_HEADERS)), row(["---"] * len(_HEADERS))]
    lines += [row(_cells(rule)) for rule in document["rules"]]
    return "\n".join(lines) + "\n"


def _instant(option: str, value: str | None) -> datetime | None:
    from srekit.core.instant import parse_instant

    if value is None:
        return None
    try:
        return parse_instant(value)
    except ValueError as error:
        abort(f"{option}: {error}")


def _duration(option: str, value: str) -> int:
    from srekit.core.window import parse_duration

    try:
        return parse_duration(value)
    except ValueError as error:
        abort(f"{option}: {error}")


@app.command(
    "report",
    epilog=examples(
        "srekit alerts report",
        "srekit alerts report --service checkout --format md",
        "srekit alerts report --from 2026-11-01T00:00:00Z --to 2026-11-29T00:00:00Z",
        "srekit alert report --auto-resolve-window 2m --shift 1d --format json",
    ),
)
def report_command(
    ctx: typer.Context,
    start: Annotated[
        str | None,
        typer.Option("--from", metavar="TIME", help="period start, RFC 3339 (default: to − 28d)"),
    ] = None,
    end: Annotated[
        str | None, typer.Option("--to", metavar="TIME", help="period end (default: now)")
    ] = None,
    service: Annotated[
        str | None,
        typer.Option(metavar="NAME", callback=check_name, help="only the alerts routed to it"),
    ] = None,
    auto_resolve_window: Annotated[
        str,
        typer.Option(
            metavar="DURATION",
            help="an alert over this soon after firing, before anyone acknowledged it, was a"
            " false positive",
        ),
    ] = "5m",
    shift: Annotated[
        str,
        typer.Option(metavar="DURATION", help="the on-call shift length, for pages per shift"),
    ] = "7d",
    output: Annotated[
        ReportFormat,
        choice(ReportFormat, "--format", metavar="FORMAT", help="output: {choices}"),
    ] = ReportFormat.TABLE,
) -> None:
    """Which alert rules are worth waking up for: per rule, noisiest first, the fires of the
    period, the share actionable and false positive, refires (flapping), time to acknowledge
    and resolve, pages per shift, and the targets each misses. Exits 1 when the period holds
    no alert at all."""
    from srekit.cli.context import settings_of
    from srekit.cli.store_common import open_engine
    from srekit.contracts import alert_quality_document
    from srekit.flows.alert_quality import stored_alert_quality

    until = _instant("--to", end) or datetime.now(UTC).replace(microsecond=0)
    since = _instant("--from", start) or until - DEFAULT_PERIOD
    if until <= since:
        abort(f"--to: the period must end after it starts ({start} … {end})")
    auto_resolve_s = _duration("--auto-resolve-window", auto_resolve_window)
    shift_s = _duration("--shift", shift)
    with errors_to_exit_codes(), open_engine(settings_of(ctx)) as engine:
        report = stored_alert_quality(
            engine,
            start=since,
            end=until,
            service=service,
            auto_resolve_s=auto_resolve_s,
            shift_s=shift_s,
        )
    document = alert_quality_document(report, service=service)
    if report.overall is None:
        scope = f" routed to {service}" if service else ""
        console.print(
            f"no alerts{scope} started from {document['start']} to {document['end']}: nothing"
            " to judge (is Alertmanager sending to srekit? srekit alert list)",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(1)
    if output is ReportFormat.JSON:
        print_json(document)
    elif output is ReportFormat.MD:
        typer.echo(render_markdown(document), nl=False)
    else:
        render_table(document)
