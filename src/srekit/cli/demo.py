"""`srekit demo`: the main job on the embedded defaults, run by `make run`.

Ingests the bundled access logs into the event store, evaluates the example SLOs at the end of
that data (so the result is the same on every machine and every day), shows the status table
and each service's deploy decision, and writes the Prometheus rules of the Prometheus examples.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from srekit.cli.options import abort, console, errors_to_exit_codes

_LOG_SUFFIX = ".access.log.gz"


def demo(
    examples: Annotated[Path, typer.Option(help="the examples directory")] = Path("examples"),
) -> None:
    """Ingest the example logs, show SLO status and deploy decisions, write example rules."""
    from srekit import __version__
    from srekit.cli.common import evaluate, load
    from srekit.cli.status import render_table
    from srekit.config import Settings
    from srekit.core.policy import FailMode
    from srekit.evaluation import SourceSet, gate_service
    from srekit.rules.prometheus import generate_rules, render_rules
    from srekit.sources.events import EventStore

    settings = Settings()
    logs = sorted((examples / "logs").glob(f"*{_LOG_SUFFIX}"))
    if not logs:
        abort(f"{examples / 'logs'}: no *{_LOG_SUFFIX} files to ingest")
    with errors_to_exit_codes(), EventStore(settings.events_path) as store:
        for log in logs:
            service = log.name.removesuffix(_LOG_SUFFIX)
            report = store.ingest_file(log, service=service, format="nginx")
            note = "already ingested" if report.duplicate else f"{report.rows:,} events"
            console.print(f"ingested {log} as {service}: {note}", highlight=False)
        last = max(s.last_ts for s in store.stats())
        at = last.replace(second=0, microsecond=0)
        specs = load([examples / "slos"])
        statuses = evaluate(specs, SourceSet(events=store), at)
        render_table(statuses)
        for service in specs.services():
            own = [slo for slo in specs.slos if slo.service == service]
            decision = gate_service(
                service,
                change_type="feature",
                statuses=statuses,
                policy=specs.policy_for(own[0]),
                fail_mode=FailMode.CLOSED,
            )
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
