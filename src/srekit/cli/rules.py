"""`srekit rules generate`: Prometheus recording and burn-rate alert rules for SLO specs."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from srekit.cli.help import SrekitTyper, examples
from srekit.cli.options import FilesOption, abort, choice, error_console, errors_to_exit_codes

_EXAMPLES = (
    "srekit rules generate -f examples/prometheus",
    "srekit rules generate -f examples/prometheus -o .srekit/slos.rules.yml",
    "srekit rules generate -f examples/prometheus --output-format k8s",
    "srekit rules generate -f examples/sloth/getting-started.yml --compat sloth",
)

app = SrekitTyper(
    help="Generate Prometheus rules from SLO specs.",
    epilog=examples(*_EXAMPLES[:2]),
    no_args_is_help=True,
)


class RuleFormat(StrEnum):
    PROMETHEUS = "prometheus"
    K8S = "k8s"


class Compat(StrEnum):
    SREKIT = "srekit"
    SLOTH = "sloth"


def _labels(pairs: list[str]) -> dict[str, str]:
    labels: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            abort(f"--extra-labels/-l: expected key=value, got {pair!r}")
        labels[key] = value
    return labels


@app.command(epilog=examples(*_EXAMPLES))
def generate(
    files: FilesOption,
    output_format: Annotated[
        RuleFormat,
        choice(
            RuleFormat,
            "--output-format",
            metavar="FORMAT",
            help="{choices}: a rule file or a PrometheusRule CRD",
        ),
    ] = RuleFormat.PROMETHEUS,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", metavar="FILE", help="write here instead of stdout"),
    ] = None,
    compat: Annotated[
        Compat,
        choice(
            Compat,
            "--compat",
            metavar="RULES",
            help="{choices}: srekit's rules, or exactly Sloth's",
        ),
    ] = Compat.SREKIT,
    extra_labels: Annotated[
        list[str],
        typer.Option(
            "--extra-labels",
            "-l",
            metavar="KEY=VALUE",
            help="a label added to every rule (repeatable)",
        ),
    ] = [],  # noqa: B006 - Typer reads the default, it is never mutated
    slo_period: Annotated[
        str | None,
        typer.Option("--slo-period", metavar="DURATION", help="Sloth's default SLO period (30d)"),
    ] = None,
    window_catalog: Annotated[
        Path | None,
        typer.Option(
            "--window-catalog", metavar="PATH", help="Sloth AlertWindows file or directory"
        ),
    ] = None,
    disable_alerts: Annotated[
        bool, typer.Option("--disable-alerts", help="no alert rules (--compat sloth)")
    ] = False,
    disable_recordings: Annotated[
        bool, typer.Option("--disable-recordings", help="no recording rules (--compat sloth)")
    ] = False,
    name: Annotated[
        str, typer.Option(metavar="NAME", help="PrometheusRule name (k8s output)")
    ] = "srekit-slos",
    namespace: Annotated[
        str | None, typer.Option(metavar="NAMESPACE", help="PrometheusRule namespace")
    ] = None,
) -> None:
    """Write Prometheus rules for every SLO read from Prometheus."""
    from srekit import __version__

    labels = _labels(extra_labels)
    with errors_to_exit_codes():
        if compat is Compat.SLOTH:
            text = _sloth(
                files,
                labels=labels,
                slo_period=slo_period,
                window_catalog=window_catalog,
                disable_alerts=disable_alerts,
                disable_recordings=disable_recordings,
            )
        else:
            if slo_period or window_catalog or disable_alerts or disable_recordings:
                abort(
                    "--slo-period, --window-catalog, --disable-alerts and --disable-recordings "
                    "belong to --compat sloth"
                )
            from srekit.cli.common import load
            from srekit.rules.prometheus import generate_rules, render_rules

            generated = generate_rules(load(files).slos, extra_labels=labels)
            for slo, reason in generated.skipped:
                error_console.print(f"[yellow]skipped[/] {slo}: {reason}", highlight=False)
            text = render_rules(
                generated,
                output=output_format.value,
                name=name,
                namespace=namespace,
                version=__version__,
            )
    if out is None:
        typer.echo(text, nl=False)
        return
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    except OSError as error:
        abort(f"--out {out}: cannot write: {error}")
    error_console.print(f"wrote {out}", highlight=False)


def _sloth(
    files: list[Path],
    *,
    labels: dict[str, str],
    slo_period: str | None,
    window_catalog: Path | None,
    disable_alerts: bool,
    disable_recordings: bool,
) -> str:
    """Sloth's exact output (`sloth generate`), for teams moving from Sloth."""
    from srekit import __version__
    from srekit.core.window import parse_duration
    from srekit.sloth import (
        generate_sloth_rules,
        is_sloth_document,
        load_alert_windows,
        parse_sloth_documents,
    )
    from srekit.spec.document import read_documents

    if not files:
        abort("no spec given: pass --file PATH (a file or a directory)")
    try:
        period_s = parse_duration(slo_period) if slo_period else 30 * 86400
    except ValueError as error:
        abort(f"--slo-period: {error}")
    documents = [doc for path in files for doc in read_documents(path)]
    foreign = [doc.where for doc in documents if not is_sloth_document(doc)]
    if foreign:
        abort(
            f"{foreign[0]}: --compat sloth reads Sloth specs (prometheus/v1, "
            "sloth.slok.dev/v1 PrometheusServiceLevel, openslo/v1alpha) only"
        )
    return generate_sloth_rules(
        parse_sloth_documents(documents),
        version=__version__,
        extra_labels=labels,
        slo_period_s=period_s,
        window_catalog=load_alert_windows(window_catalog) if window_catalog else None,
        disable_alerts=disable_alerts,
        disable_recordings=disable_recordings,
    )
