"""`srekit demo`: prepare the embedded defaults, run by `make run` before `srekit serve`.

Replays the bundled access logs into the event store as if they were live (the last event
now), stores the example SLOs in the state store, shows their status and each service's deploy
decision, and writes the Prometheus rules of the Prometheus examples.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from srekit.cli.context import settings_of
from srekit.cli.help import examples
from srekit.cli.options import abort, console, errors_to_exit_codes

EXAMPLES = examples("srekit demo", "SREKIT_HOME=.srekit-demo srekit demo --examples examples")

_LOG_SUFFIX = ".access.log.gz"


def demo(
    ctx: typer.Context,
    examples: Annotated[Path, typer.Option(metavar="DIR", help="the examples directory")] = Path(
        "examples"
    ),
) -> None:
    """Replay the example logs, store the example SLOs, show their status, write rules."""
    from datetime import UTC, datetime

    from srekit import __version__
    from srekit.cli.common import evaluate, load
    from srekit.cli.status import render_table
    from srekit.core.sli import SourceSet
    from srekit.flows.gate import gate_specs
    from srekit.rules.prometheus import generate_rules, render_rules
    from srekit.sources.events import EventStore
    from srekit.store.database import create_store_engine, transaction, upgrade
    from srekit.store.repo import apply_specs

    settings = settings_of(ctx)
    logs = sorted((examples / "logs").glob(f"*{_LOG_SUFFIX}"))
    if not logs:
        abort(f"{examples / 'logs'}: no *{_LOG_SUFFIX} files to ingest")
    at = datetime.now(UTC).replace(second=0, microsecond=0)
    with errors_to_exit_codes(), EventStore(settings.events_path) as store:
        for log in logs:
            service = log.name.removesuffix(_LOG_SUFFIX)
            report = store.ingest_file(
                log, service=service, format="nginx", replace=True, end_at=at
            )
            console.print(
                f"replayed {log} as {service}: {report.rows:,} events ending {at:%Y-%m-%d %H:%M}Z",
                highlight=False,
            )
        specs = load([examples / "slos"])
        engine = create_store_engine(settings.effective_database_url)
        upgrade(engine)
        with transaction(engine) as session:
            applied = apply_specs(session, specs=specs, actor="srekit-demo")
        engine.dispose()
        changed = sum(1 for a in applied.slos if a.changed)
        console.print(
            f"stored {len(applied.slos)} example SLOs in {settings.effective_database_url} "
            f"({changed} new or changed)",
            highlight=False,
        )
        statuses = evaluate(specs, SourceSet(events=store), at)
        render_table(statuses)
        for service in specs.services():
            decision = gate_specs(
                specs, SourceSet(events=store), service=service, change_type="feature", at=at
            ).decision
            verdict = "[green]allowed[/]" if decision.allowed else "[red]denied[/]"
            console.print(
                f"deploy gate, {service} feature: {verdict} ({decision.state}): "
                f"{decision.reasons[0]}",
                highlight=False,
            )
        rules_file = settings.home / "rules" / "slos.rules.yml"
        generated = generate_rules(load([examples / "prometheus"]).slos)
        rules_file.parent.mkdir(parents=True, exist_ok=True)
        rules_file.write_text(render_rules(generated, version=__version__), encoding="utf-8")
    console.print(f"wrote Prometheus rules to {rules_file}", highlight=False)
