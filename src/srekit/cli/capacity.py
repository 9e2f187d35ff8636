"""`srekit capacity forecast|validate`: forecast each resource of a CapacityPlan and say when
it crosses its limit and its headroom target, and what to scale to.

Exit codes: 0 every resource was planned, 2 bad input, 3 a resource could not be planned (no
data, one series expected, a long gap, too few points): what was planned is still shown.
"""

from __future__ import annotations

import csv
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from srekit.cli.context import settings_of
from srekit.cli.help import SrekitTyper, examples
from srekit.cli.options import (
    AtOption,
    EventsOption,
    FilesOption,
    PrometheusOption,
    abort,
    at_or_now,
    check_name,
    choice,
    console,
    error_console,
    errors_to_exit_codes,
    percent,
    plain_table,
    print_json,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from srekit.flows.capacity import PastForecast, PlanResult, ResourceForecast
    from srekit.sources.events import EventStore
    from srekit.sources.prometheus import PrometheusSource
    from srekit.spec.capacity import CapacityPlanDocument

_PLAN = "examples/capacity/checkout.yaml"
_SERIES = "examples/capacity/checkout-cpu.csv"
_EXAMPLES = (
    f"srekit capacity validate -f {_PLAN}",
    f"srekit capacity forecast -f {_PLAN} \\\n    --from-file {_SERIES} --at 2026-03-31T00:00:00Z",
    f"srekit capacity forecast -f {_PLAN} \\\n"
    f"    --from-file cpu={_SERIES} \\\n"
    "    --at 2026-03-31T00:00:00Z --format json",
    f"srekit capacity forecast -f {_PLAN} \\\n"
    f"    --from-file {_SERIES} \\\n"
    "    --at 2026-03-31T00:00:00Z --emit hpa - --plot cpu.svg",
)

app = SrekitTyper(
    help="Forecast resource usage and plan capacity (CapacityPlan specs).",
    epilog=examples(*_EXAMPLES[:2]),
    no_args_is_help=True,
)


class CapacityFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"


def _plans(files: list[Path], service: str | None) -> list[tuple[str, CapacityPlanDocument]]:
    from srekit.spec.capacity import load_capacity_plans

    if not files:
        abort("expected --file/-f with a CapacityPlan spec")
    plans = [(str(path), plan) for path in files for plan in load_capacity_plans(path)]
    if service is not None:
        plans = [(file, plan) for file, plan in plans if plan.spec.service == service]
        if not plans:
            abort(f"--service: no CapacityPlan for service {service!r} in the files given")
    return plans


def _from_files(pairs: list[str]) -> dict[str, Path]:
    """`RESOURCE=FILE` for one resource, or `FILE` for every resource without its own."""
    files: dict[str, Path] = {}
    for pair in pairs:
        name, sep, path = pair.partition("=")
        key, target = (name, path) if sep and check_name(name) else ("*", pair)
        if not target:
            abort(f"--from-file: expected FILE or RESOURCE=FILE, got {pair!r}")
        if not Path(target).is_file():
            abort(f"--from-file: {target}: no such file")
        files[key] = Path(target)
    return files


@app.command(epilog=examples(_EXAMPLES[0]))
def validate(files: FilesOption) -> None:
    """Check CapacityPlan specs: every field, and what was expected where one is wrong."""
    with errors_to_exit_codes():
        plans = _plans(files, None)
    for file, plan in plans:
        names = ", ".join(resource.name for resource in plan.spec.resources)
        console.print(
            f"ok  {file}: {plan.metadata.name} (service {plan.spec.service}: {names})",
            highlight=False,
        )


@app.command(epilog=examples(*_EXAMPLES[1:]))
def forecast(
    ctx: typer.Context,
    files: FilesOption,
    service: Annotated[
        str | None,
        typer.Option(metavar="SERVICE", help="only this service's plans", callback=check_name),
    ] = None,
    from_file: Annotated[
        list[str],
        typer.Option(
            "--from-file",
            metavar="FILE",
            help="timestamp,value CSV or Parquet instead of the source; RESOURCE=FILE for one",
        ),
    ] = [],  # noqa: B006 - Typer reads the default, it is never mutated
    output: Annotated[
        CapacityFormat,
        choice(CapacityFormat, "--format", metavar="FORMAT", help="output: {choices}"),
    ] = CapacityFormat.TABLE,
    emit: Annotated[
        tuple[str, str] | None,
        typer.Option(
            "--emit",
            metavar="WHAT FILE",
            help="write `hpa` (an autoscaling/v2 HPA manifest) to FILE, - for stdout",
        ),
    ] = None,
    plot: Annotated[
        Path | None,
        typer.Option("--plot", metavar="FILE", help="draw the forecast: FILE.svg, or FILE.png"),
    ] = None,
    record: Annotated[
        bool,
        typer.Option(
            "--record",
            help="store this plan in the state store and say how the last stored forecast did",
        ),
    ] = False,
    at: AtOption = None,
    prometheus_url: PrometheusOption = None,
    events_store: EventsOption = None,
) -> None:
    """Forecast every resource of the plans and print utilization, growth, the chosen model
    and its backtest errors, the crossings of the limit and headroom target, months until
    capacity, the recommendation and replicas against the HPA rule.

    Exit codes: 0 every resource planned, 2 bad input, 3 a resource could not be planned.
    """
    from srekit.flows.capacity import forecast_plan

    when = at_or_now(at)
    if emit is not None and emit[0] != "hpa":
        abort(f"--emit: expected `hpa FILE`, got {emit[0]!r}")
    if plot is not None and plot.suffix.lower() not in (".svg", ".png"):
        abort(f"--plot: expected FILE.svg or FILE.png, got {plot}")
    with errors_to_exit_codes():
        plans = _plans(files, service)
        series_files = _from_files(from_file)
        prometheus, events, close = _sources(ctx, prometheus_url, events_store)
        try:
            results = [
                forecast_plan(
                    plan,
                    file=file,
                    now=when,
                    prometheus=prometheus,
                    events=events,
                    files=series_files,
                )
                for file, plan in plans
            ]
        finally:
            close()
        past = _recorded(ctx, results) if record else None
    if output is CapacityFormat.JSON:
        from srekit.contracts import capacity_plan_document

        print_json(
            [
                capacity_plan_document(result, past=None if past is None else past[index])
                for index, result in enumerate(results)
            ]
        )
    elif output is CapacityFormat.CSV:
        _write_csv(results)
    else:
        for index, result in enumerate(results):
            _print_table(result)
            if past is not None:
                _print_past(past[index])
    if emit is not None:
        _emit_hpa(emit[1], results, plans=[plan for _, plan in plans])
    if plot is not None:
        _plot(plot, results)
    problems = [problem for result in results for problem in result.problems]
    for problem in problems:
        error_console.print(
            f"[bold red]error:[/] {problem.service}/{problem.resource}: {problem.message}",
            highlight=False,
            soft_wrap=True,
            markup=True,
        )
    if problems:
        raise typer.Exit(3)


def _recorded(ctx: typer.Context, results: list[PlanResult]) -> list[tuple[PastForecast, ...]]:
    """Record every plan in one transaction; per plan, how its previous forecasts did."""
    from srekit.cli.store_common import store_session
    from srekit.flows.capacity import record_plan

    with store_session(ctx) as session:
        return [record_plan(session, result) for result in results]


def _print_past(past: tuple[PastForecast, ...]) -> None:
    for earlier in past:
        made = _instant(earlier.made_at.timestamp())
        accuracy = earlier.accuracy
        if accuracy is None:
            told = "nothing observed yet within its horizon"
        else:
            mape = "-" if accuracy.mape is None else f"{accuracy.mape:.1f}%"
            told = (
                f"MAE {accuracy.mae:.4g}, MAPE {mape}, bias {accuracy.bias:+.4g} "
                f"over {accuracy.points} points observed since"
            )
        console.print(
            f"{earlier.resource}: the forecast of {made} ({earlier.model}): {told}",
            highlight=False,
        )


def _sources(
    ctx: typer.Context, prometheus_url: str | None, events_store: Path | None
) -> tuple[PrometheusSource | None, EventStore | None, Callable[[], None]]:
    """Prometheus and the event store as configured, and a function closing both."""
    from srekit.sources.events import EventStore
    from srekit.sources.factory import build_sources, close_sources
    from srekit.sources.prometheus import PrometheusSource

    sources = build_sources(
        settings_of(ctx), prometheus_url=prometheus_url, events_store=events_store, name_paths=True
    )
    prometheus = sources.prometheus if isinstance(sources.prometheus, PrometheusSource) else None
    events = sources.events if isinstance(sources.events, EventStore) else None
    return prometheus, events, lambda: close_sources(sources)


def _instant(seconds: float) -> str:
    from datetime import UTC, datetime

    from srekit.core.instant import format_instant

    return format_instant(datetime.fromtimestamp(round(seconds), UTC))


def _when(seconds: float | None) -> str:
    """The day (UTC) of an instant, or `never`: a forecast is not precise to the hour."""
    return "never" if seconds is None else _instant(seconds)[:10]


def _crossed(planned: ResourceForecast, which: str) -> str:
    plan = planned.recommendation
    crossing = getattr(plan, which)
    if crossing.state == "already_above":
        return "now"
    return _when(crossing.at)


def _print_table(result: PlanResult) -> None:
    console.print(
        f"{result.name} (service {result.service}) at {_instant(result.now)}",
        highlight=False,
        style="bold",
    )
    table = plain_table(
        "RESOURCE",
        "CURRENT",
        "PEAK",
        "GROWTH/MO",
        "MODEL",
        "MASE",
        "FULL AT",
        "FULL AT 95%",
        "MONTHS",
        "REPLICAS",
    )
    for planned in result.resources:
        plan = planned.recommendation
        replicas = "-" if plan.replicas is None else str(plan.replicas)
        if plan.above_max_replicas:
            replicas += " (> max)"
        growth = planned.growth.ratio_per_month
        table.add_row(
            planned.resource,
            percent(round(planned.utilization.current, 4)),
            percent(round(planned.utilization.peak, 4)),
            "-" if growth is None else f"{growth * 100:+.1f}%",
            planned.forecast.model,
            f"{planned.score[0]:.2f}",
            _crossed(planned, "limit_median"),
            _crossed(planned, "limit_upper"),
            "-" if plan.months_until_capacity is None else f"{plan.months_until_capacity:.1f}",
            replicas,
        )
    console.print(table)
    for planned in result.resources:
        _print_details(planned)
    if result.hpa is not None:
        now, peak = result.hpa.now, result.hpa.at_peak
        flag = " (above maxReplicas)" if peak.above_max else ""
        console.print(
            f"HPA rule: {now.desired} replicas now, {peak.desired} at the forecast peak{flag}",
            highlight=False,
        )


def _print_details(planned: ResourceForecast) -> None:
    """The figures the table has no room for: backtest errors, headroom crossings, advice."""
    plan = planned.recommendation
    mase, mape, smape = planned.score
    covered = ", ".join(
        f"{round(i.level * 100)}% covered {percent(round(i.backtest_coverage, 4))}"
        for i in planned.forecast.intervals
        if i.backtest_coverage is not None
    )
    lines = [
        f"backtest MASE {mase:.2f}, MAPE {'-' if mape is None else f'{mape:.1f}%'}, "
        f"sMAPE {'-' if smape is None else f'{smape:.1f}%'} "
        f"({len(planned.forecast.backtest_origins)} origins of "
        f"{planned.forecast.backtest_horizon} steps{'; ' + covered if covered else ''})",
        f"headroom {percent(planned.headroom)} of {planned.limit:.4g} {planned.unit} reached "
        f"at the median {_crossed(planned, 'headroom_median')}, "
        f"at the 95% bound {_crossed(planned, 'headroom_upper')}",
    ]
    if plan.scale_by is None:
        lines.append("no action needed within the horizon")
    else:
        lines.append(
            f"scale to {plan.scale_to:.4g} {planned.unit} by {_when(plan.scale_by)} "
            f"(95% upper forecast peak {plan.forecast_peak_upper:.4g} {planned.unit})"
        )
    lines += [f"note: {note}" for note in planned.notes]
    for line in lines:
        console.print(f"{planned.resource}: {line}", highlight=False)


_CSV_COLUMNS = (
    "service",
    "resource",
    "unit",
    "limit",
    "current_utilization",
    "peak_utilization",
    "growth_per_month",
    "model",
    "mase",
    "mape",
    "smape",
    "limit_median_at",
    "limit_upper_at",
    "headroom_median_at",
    "headroom_upper_at",
    "months_until_capacity",
    "scale_by",
    "scale_to",
    "replicas",
    "above_max_replicas",
)


def _write_csv(results: list[PlanResult]) -> None:
    """One row per resource: the summary figures of the JSON (no forecast paths)."""
    from srekit.contracts import capacity_resource_document

    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(_CSV_COLUMNS)
    for result in results:
        for planned in result.resources:
            doc = capacity_resource_document(planned, points=False)
            crossings, plan, backtest = doc["crossings"], doc["recommendation"], doc["backtest"]
            row = (
                result.service,
                doc["resource"],
                doc["unit"],
                doc["limit"],
                doc["utilization"]["current"],
                doc["utilization"]["peak"],
                doc["growth_per_month"],
                doc["model"],
                backtest["mase"],
                backtest["mape"],
                backtest["smape"],
                crossings["limit"]["median"]["at"],
                crossings["limit"]["upper"]["at"],
                crossings["headroom"]["median"]["at"],
                crossings["headroom"]["upper"]["at"],
                doc["months_until_capacity"],
                plan["scale_by"],
                plan["scale_to"],
                plan["replicas"],
                plan["above_max_replicas"],
            )
            writer.writerow(["" if value is None else value for value in row])


def _emit_hpa(target: str, results: list[PlanResult], *, plans: list[CapacityPlanDocument]) -> None:
    """The HPA of each plan with an `hpa:` section; maxReplicas raised to the forecast's
    replicas when they are above it."""
    from srekit.capacity.hpa import hpa_manifest, hpa_yaml

    manifests = []
    for result, plan in zip(results, plans, strict=True):
        if plan.spec.hpa is None:
            continue
        wanted = [r.recommendation.replicas or 0 for r in result.resources]
        if result.hpa is not None:
            wanted.append(max(replicas for _, replicas in result.hpa.at_peak.proposals))
        manifests.append(
            hpa_yaml(
                hpa_manifest(
                    plan.spec.service,
                    namespace=plan.spec.service,
                    hpa=plan.spec.hpa,
                    max_replicas=max([plan.spec.hpa.max_replicas, *wanted]),
                )
            )
        )
    if not manifests:
        abort("--emit hpa: no plan has an `hpa:` section to build a manifest from")
    text = "---\n".join(manifests)
    if target == "-":
        sys.stdout.write(text)
        return
    try:
        Path(target).write_text(text, encoding="utf-8")
    except OSError as error:
        abort(f"--emit hpa: cannot write {target}: {error.strerror}")


def _plot(path: Path, results: list[PlanResult]) -> None:
    """Each planned resource's forecast, as SVG or PNG by the file's suffix: the first in
    FILE, the others beside it as FILE-SERVICE-RESOURCE.svg (or .png)."""
    from srekit.capacity.plot import Band, forecast_svg, svg_to_png

    planned = [r for result in results for r in result.resources]
    if not planned:
        abort("--plot: no resource was planned, nothing to draw")
    for index, resource in enumerate(planned):
        target = (
            path
            if len(planned) == 1 or index == 0
            else path.with_name(f"{path.stem}-{resource.service}-{resource.resource}{path.suffix}")
        )
        lower_80, upper_80 = resource.band(0.8)
        lower_95, upper_95 = resource.band(0.95)
        svg = forecast_svg(
            title=f"{resource.service} {resource.resource} ({resource.unit})",
            history=(resource.history_at, resource.history),
            forecast_at=resource.forecast_at,
            median=resource.forecast.point,
            bands=(Band(80, lower_80, upper_80), Band(95, lower_95, upper_95)),
            limit=resource.limit,
            headroom_level=resource.limit * resource.headroom,
        )
        try:
            if path.suffix.lower() == ".png":
                target.write_bytes(svg_to_png(svg))
            else:
                target.write_text(svg, encoding="utf-8")
        except OSError as error:
            abort(f"--plot: cannot write {target}: {error.strerror}")
