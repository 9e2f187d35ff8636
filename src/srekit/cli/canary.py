"""`srekit canary analyze`: is the canary worse than the baseline? (docs/canary.md)

Exit 0 pass, 1 fail, 2 bad input (or Prometheus unreadable), 3 inconclusive: too little
traffic to judge fails closed unless `--allow-inconclusive`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

import typer

from srekit.cli.help import SrekitTyper, examples
from srekit.cli.options import (
    ActorOption,
    AtOption,
    FormatOption,
    OutputFormat,
    ServiceName,
    abort,
    at_or_now,
    choice,
    console,
    emit,
    errors_to_exit_codes,
    plain_table,
)

__all__ = ["INCONCLUSIVE_EXIT", "app"]

INCONCLUSIVE_EXIT = 3

app = SrekitTyper(
    help="Canary analysis: the canary's metrics against the baseline's, with a confidence.",
    epilog=examples(
        "srekit canary analyze --prometheus http://prometheus:9090 \\\n"
        '    --canary \'app="checkout",track="canary"\' \\\n'
        '    --baseline \'app="checkout",track="stable"\' --window 30m'
    ),
    no_args_is_help=True,
)


class MetricChoice(StrEnum):
    ERROR_RATE = "error-rate"
    LATENCY_P95 = "latency-p95"
    LATENCY_P99 = "latency-p99"


def _tolerances(values: list[str]) -> dict[str, tuple[float, float]]:
    """`--tolerance METRIC=RELATIVE:ABSOLUTE` (`latency-p95=0.1:0.005`), read as numbers
    (the flow checks the metric's name and the numbers' range)."""
    expected = "METRIC=RELATIVE:ABSOLUTE such as error-rate=0.2:0.001"
    tolerances: dict[str, tuple[float, float]] = {}
    for value in values:
        name, _, numbers = value.partition("=")
        relative, _, absolute = numbers.partition(":")
        try:
            tolerances[name.strip().lower()] = (float(relative), float(absolute or "0"))
        except ValueError:
            abort(f"--tolerance: expected {expected}, got {value!r}")
    return tolerances


def _figure(value: float | None, *, percent: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value * 100:.4g}%" if percent else f"{value:.4g}"


@app.command(
    "analyze",
    epilog=examples(
        "srekit canary analyze --prometheus http://prometheus:9090 \\\n"
        '    --canary \'app="checkout",track="canary"\' \\\n'
        '    --baseline \'app="checkout",track="stable"\' --window 30m \\\n'
        "    --metric error-rate --metric latency-p99 --format json"
    ),
)
def analyze(
    ctx: typer.Context,
    canary: Annotated[
        str,
        typer.Option(metavar="SELECTOR", help="the canary's label matchers: 'track=\"canary\"'"),
    ],
    baseline: Annotated[
        str,
        typer.Option(metavar="SELECTOR", help="the baseline's label matchers (the stable pods)"),
    ],
    prometheus_url: Annotated[
        str | None,
        typer.Option(
            "--prometheus",
            "--prometheus-url",
            metavar="URL",
            help="Prometheus HTTP API (or SREKIT_PROMETHEUS_URL)",
        ),
    ] = None,
    window: Annotated[
        str, typer.Option(metavar="DURATION", help="how far back to compare, ending --at")
    ] = "30m",
    step: Annotated[
        str, typer.Option(metavar="DURATION", help="the interval each value covers")
    ] = "1m",
    metrics: Annotated[
        list[MetricChoice] | None,
        choice(
            MetricChoice,
            "--metric",
            metavar="METRIC",
            help="{choices} (repeatable; default error-rate and latency-p95)",
            show_default=False,
        ),
    ] = None,
    alpha: Annotated[
        float | None,
        typer.Option(metavar="P", help="significance level (default 0.05: 95 % confidence)"),
    ] = None,
    min_requests: Annotated[
        float | None,
        typer.Option(metavar="N", help="requests an interval needs to count (default 20)"),
    ] = None,
    min_intervals: Annotated[
        int | None,
        typer.Option(metavar="N", help="counted intervals each side needs (default 10)"),
    ] = None,
    tolerance: Annotated[
        list[str] | None,
        typer.Option(
            metavar="METRIC=REL:ABS",
            help="tolerated increase of a metric's mean over the baseline's: a fraction of it"
            " plus an absolute amount (error-rate=0.2:0.001, latency-p95=0.1:0.005)",
            show_default=False,
        ),
    ] = None,
    requests_metric: Annotated[
        str, typer.Option(metavar="NAME", help="the request counter")
    ] = "http_requests_total",
    errors_matchers: Annotated[
        str, typer.Option(metavar="MATCHERS", help="which of its requests are errors")
    ] = 'code=~"5.."',
    latency_metric: Annotated[
        str, typer.Option(metavar="NAME", help="the latency histogram (without _bucket)")
    ] = "http_request_duration_seconds",
    allow_inconclusive: Annotated[
        bool,
        typer.Option("--allow-inconclusive", help="exit 0 rather than 3 when inconclusive"),
    ] = False,
    at: AtOption = None,
    output: FormatOption = OutputFormat.TABLE,
    record: Annotated[
        bool, typer.Option("--record", help="keep the analysis as one of --service's")
    ] = False,
    service: ServiceName = None,
    actor: ActorOption = None,
) -> None:
    """Compare the canary's error rate and latency percentiles with the baseline's, interval
    by interval over --window, with a one-sided Mann-Whitney U test. Exit 0 pass, 1 fail,
    2 bad input, 3 inconclusive (too little traffic; 0 with --allow-inconclusive)."""
    from srekit.cli.context import settings_of
    from srekit.errors import SpecError
    from srekit.flows.canary import (
        analyze_canary,
        plan_request,
        prometheus_querier,
        report_document,
    )
    from srekit.sources.factory import prometheus_url_of

    when = at_or_now(at)
    settings = settings_of(ctx)
    if record != (service is not None):
        abort("--record keeps the analysis as one of --service's: give both or neither")
    try:
        plan = plan_request(
            canary=canary,
            baseline=baseline,
            window=window,
            step=step,
            metrics=[metric.value for metric in metrics or ()],
            alpha=alpha,
            min_requests=min_requests,
            min_intervals=min_intervals,
            tolerances=_tolerances(tolerance or []),
            requests_metric=requests_metric,
            errors_matchers=errors_matchers,
            latency_metric=latency_metric,
        )
    except SpecError as error:
        abort(f"--{(error.field or '').replace('_', '-')}: {error.detail}")
    with errors_to_exit_codes():
        url = prometheus_url_of(settings, prometheus_url)
        if not url:
            raise SpecError("expected a Prometheus URL: --prometheus or SREKIT_PROMETHEUS_URL")
        with prometheus_querier(settings, url) as querier:
            report = analyze_canary(querier, plan, at=when)
    document = report_document(report, plan, at=when)
    recorded: dict[str, Any] | None = None
    if service is not None:
        from srekit.cli.store_common import actor_or_user, open_engine
        from srekit.flows.canary_records import record_analysis

        with errors_to_exit_codes(), open_engine(settings) as engine:
            kept = record_analysis(
                engine,
                service=service,
                report=report,
                plan=plan,
                at=when,
                document=document,
                actor=actor_or_user(actor),
                now=datetime.now(UTC).replace(microsecond=0),
            )
        recorded = {"id": kept.id, "service": service}
    if output is OutputFormat.TABLE:
        _print_table(document)
        if recorded is not None:
            console.print(f"recorded as analysis {recorded['id']} of {service}", highlight=False)
    else:
        emit(document if recorded is None else {**document, "recorded": recorded}, output)
    verdict = document["verdict"]
    if verdict == "fail":
        raise typer.Exit(1)
    if verdict == "inconclusive" and not allow_inconclusive:
        raise typer.Exit(INCONCLUSIVE_EXIT)


def _print_table(document: dict[str, Any]) -> None:
    from rich.markup import escape

    from srekit.core.window import format_duration

    colours = {"pass": "green", "fail": "red", "inconclusive": "yellow"}
    verdict = document["verdict"]
    console.print(
        f"[bold {colours[verdict]}]{verdict.upper()}[/] canary {escape(document['canary'])}"
        f" against baseline {escape(document['baseline'])},"
        f" over {format_duration(document['window_s'])} to {document['at']}",
        highlight=False,
        markup=True,
    )
    table = plain_table(
        "METRIC",
        "VERDICT",
        "CONFIDENCE",
        "CANARY",
        "BASELINE",
        "LIMIT",
        "INTERVALS",
        "REASON",
        fold="REASON",
    )
    for metric in document["metrics"]:
        percent = metric["metric"] == "error-rate"
        table.add_row(
            metric["metric"],
            metric["verdict"],
            "-" if metric["confidence"] is None else f"{metric['confidence']:.4f}",
            _figure(metric["canary"]["mean"], percent=percent),
            _figure(metric["baseline"]["mean"], percent=percent),
            _figure(metric["limit"], percent=percent),
            f"{metric['canary']['intervals']}/{metric['baseline']['intervals']}",
            metric["reason"],
        )
    console.print(table, markup=False)
