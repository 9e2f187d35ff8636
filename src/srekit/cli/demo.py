"""`srekit demo`: prepare the embedded defaults, run by `make run` before `srekit serve`.

Replays the bundled access logs into the event store as if they were live (the last event
now), stores the example SLOs in an empty state store, shows the stored SLOs' status and each
example service's deploy decision, and writes the Prometheus rules of the Prometheus examples.

Run again, it keeps what is there: a state store that holds SLOs, or held some (its audit log
records them), is not seeded again, so SLOs a user deleted or changed stay so. The logs are
replayed again in place of their earlier replay (never beside it), so the SLOs have data now.
With `--port` (as `make run` passes it) it first refuses when that port is taken, before
touching anything.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from srekit.cli.context import settings_of
from srekit.cli.help import examples
from srekit.cli.options import abort, console, errors_to_exit_codes

EXAMPLES = examples("srekit demo", "SREKIT_HOME=.srekit-demo srekit demo --examples examples")

if TYPE_CHECKING:
    from datetime import datetime

    from srekit.config import Settings
    from srekit.core.status import SloStatus
    from srekit.sources.events import EventStore
    from srekit.spec.loader import SpecSet
    from srekit.store import StoreEngine

_LOG_SUFFIX = ".access.log.gz"


def demo(
    ctx: typer.Context,
    examples: Annotated[Path, typer.Option(metavar="DIR", help="the examples directory")] = Path(
        "examples"
    ),
    host: Annotated[
        str,
        typer.Option(metavar="HOST", help="the address `srekit serve` will listen on (see --port)"),
    ] = "127.0.0.1",
    port: Annotated[
        int | None,
        typer.Option(
            metavar="PORT",
            min=0,
            max=65535,
            help="the port `srekit serve` will listen on: checked first, so that the demo does "
            "nothing when srekit (or anything else) already holds it",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Replay the example logs, seed an empty store with the example SLOs, show their status."""
    if port is not None:
        from srekit.cli.serve import refuse_unusable_port

        refuse_unusable_port(host, port)

    from datetime import UTC, datetime

    from srekit import __version__
    from srekit.cli.common import load
    from srekit.rules.prometheus import generate_rules, render_rules
    from srekit.sources.events import EventStore

    settings = settings_of(ctx)
    logs = sorted((examples / "logs").glob(f"*{_LOG_SUFFIX}"))
    if not logs:
        abort(f"{examples / 'logs'}: no *{_LOG_SUFFIX} files to ingest")
    console.print(
        f"state directory {settings.home} ({settings.home_origin})", highlight=False, soft_wrap=True
    )
    at = datetime.now(UTC).replace(second=0, microsecond=0)
    with (
        errors_to_exit_codes(),
        EventStore(settings.events_path, name_directories=True) as store,
    ):
        specs = load([examples / "slos"])
        for log in logs:
            _replay(store, log, at)
        statuses, seeded = _seed_and_evaluate(settings, specs, store, at, examples)
        _render(statuses)
        if seeded:
            _show_gates(specs, store, at)
        rules_file = settings.rules_path / "slos.rules.yml"
        generated = generate_rules(load([examples / "prometheus"]).slos)
        rules_file.parent.mkdir(parents=True, exist_ok=True)
        rules_file.write_text(render_rules(generated, version=__version__), encoding="utf-8")
    console.print(f"wrote Prometheus rules to {rules_file}", highlight=False, soft_wrap=True)
    with errors_to_exit_codes():
        token_file = _dashboard_token(settings)
    where = f"http://{host}:{port if port is not None else 8000}/ui/"
    console.print(
        f"dashboard: {where} (log in with the admin token in {token_file}: cat {token_file})",
        highlight=False,
        soft_wrap=True,
    )


_TOKEN_FILE = "dashboard-admin.token"
_TOKEN_NAME = "demo-admin"


def _dashboard_token(settings: Settings) -> Path:
    """The file holding an admin token for the dashboard: `<home>/dashboard-admin.token`,
    readable by its owner only. Made once; made again when its token was revoked or lost."""
    import os

    from srekit.store.database import create_store_engine, transaction, upgrade
    from srekit.store.repo import authenticate_token, create_token, list_tokens

    path = settings.home / _TOKEN_FILE
    engine = create_store_engine(settings.effective_database_url)
    try:
        upgrade(engine)
        with transaction(engine) as session:
            kept = path.read_text(encoding="utf-8").strip() if path.exists() else ""
            if kept and authenticate_token(session, token=kept) is not None:
                return path
            name = _TOKEN_NAME
            if any(row.name == name for row in list_tokens(session, include_revoked=True)):
                name = f"{_TOKEN_NAME}-{os.urandom(3).hex()}"
            _, token = create_token(session, role="admin", name=name, actor="srekit-demo")
    finally:
        engine.dispose()
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(token + "\n")
    path.chmod(0o600)
    return path


def _replay(store: EventStore, log: Path, at: datetime) -> None:
    """Replay `log` so its last event is at `at`, in place of an earlier copy of it."""
    from srekit.cli.progress import ingest_progress

    service = log.name.removesuffix(_LOG_SUFFIX)
    with ingest_progress(log, description=f"replaying {log.name}") as progress:
        report = store.ingest_file(
            log, service=service, format="nginx", replace=True, end_at=at, progress=progress
        )
    again = ""
    if report.replaced:
        before = report.replaced_last_ts
        ended = f"ending {before:%Y-%m-%d %H:%M}Z" if before else "none"
        again = f", in place of the {report.replaced:,} events of its earlier replay ({ended})"
    console.print(
        f"replayed {log} as {service} into {store.path}: {report.rows:,} events ending"
        f" {at:%Y-%m-%d %H:%M}Z{again}",
        highlight=False,
        soft_wrap=True,
    )


def _seed_and_evaluate(
    settings: Settings, specs: SpecSet, store: EventStore, at: datetime, examples_dir: Path
) -> tuple[list[SloStatus], bool]:
    """Store the example SLOs when the state store never held any; the stored SLOs' statuses
    at `at`, and whether it was seeded."""
    from srekit.core.sli import SourceSet
    from srekit.core.status import DataState
    from srekit.errors import SpecError
    from srekit.flows.evaluate import evaluate_statuses
    from srekit.store.database import create_store_engine, safe_url, transaction, upgrade
    from srekit.store.repo import apply_specs, list_audit, list_policies, list_slos

    engine = create_store_engine(settings.effective_database_url)
    where = safe_url(engine.url)
    try:
        upgrade(engine)
        with transaction(engine) as session:
            stored = len(list_slos(session))
            held_some = bool(list_audit(session, limit=1, entity_kind="slo"))
            seeded = not stored and not held_some
            if seeded:
                applied = apply_specs(
                    session, specs=specs, actor="srekit-demo", source_formats=specs.formats
                )
        if seeded:
            _replay_incidents(engine, examples_dir, at)
        slos = []
        with transaction(engine, read_only=True) as session:
            for row in list_slos(session):
                try:
                    slos.append(row.to_slo())
                except SpecError as error:  # as the server's evaluator: left out, said why
                    console.print(f"stored SLO {row.key} cannot be read: {error}", highlight=False)
            policies = {row.name: row.to_policy() for row in list_policies(session)}
    finally:
        engine.dispose()
    if seeded:
        console.print(
            f"stored {len(applied.slos)} example SLOs in {where}", highlight=False, soft_wrap=True
        )
    elif stored:
        console.print(
            f"the state store {where} already holds {stored} SLOs: the examples were not"
            " applied, your SLOs are kept as they are (`srekit slo apply -f"
            " examples/slos` applies them)",
            highlight=False,
            soft_wrap=True,
        )
    else:
        console.print(
            f"the state store {where} holds no SLOs, but its audit log shows SLOs were stored"
            " and deleted: the examples were not applied again (`srekit slo apply -f"
            " examples/slos` applies them)",
            highlight=False,
            soft_wrap=True,
        )
    statuses = evaluate_statuses(slos, at=at, sources=SourceSet(events=store), policies=policies)
    no_data = [f"{s.service}/{s.slo}" for s in statuses if s.data is not DataState.OK]
    if no_data:
        console.print(
            f"{len(no_data)} of {len(statuses)} stored SLOs have no usable data now"
            f" ({', '.join(no_data)}): see the data column; the event store at {store.path}"
            " holds events of the services replayed above only",
            highlight=False,
            soft_wrap=True,
        )
    return statuses, seeded


def _replay_incidents(engine: StoreEngine, examples: Path, at: datetime) -> None:
    """Deliver the example Alertmanager notifications through the intake, shifted so that the
    file's `now` is `at`, and acknowledge the incidents left open, as someone would have."""
    import json

    from srekit.alertmanager.webhook import WebhookIn, received_alerts
    from srekit.core.incident import IncidentState
    from srekit.core.instant import format_instant, parse_instant
    from srekit.flows.incidents import change_incident_state, list_incident_views
    from srekit.flows.intake import Notification, receive_notification
    from srekit.store.repo import active_routing

    path = examples / "incidents" / "alertmanager-webhooks.json"
    if not path.exists():
        return
    example = json.loads(path.read_text(encoding="utf-8"))
    shift = at - parse_instant(example["now"])
    for body in example["notifications"]:
        for alert in body["alerts"]:
            for field in ("startsAt", "endsAt"):
                moment = parse_instant(alert[field])
                if moment.year > 1:  # Alertmanager's zero time stays "none"
                    alert[field] = format_instant(moment + shift)
        raw = json.dumps(body).encode()
        payload = WebhookIn.model_validate_json(raw)
        notification = Notification(
            receiver=payload.receiver,
            status=payload.status,
            group_key=payload.group_key,
            alerts=received_alerts(payload),
            body=raw,
        )
        receive_notification(engine, notification, routing_of=active_routing, now=at)
    for view in list_incident_views(engine, state=IncidentState.TRIGGERED):
        change_incident_state(
            engine,
            incident_id=view.incident.id,
            to=IncidentState.ACKNOWLEDGED,
            actor="srekit-demo",
            now=at,
            note="looking at it (the demo acknowledged it)",
        )
    views = list_incident_views(engine, state="all")
    still_open = sum(1 for view in views if view.incident.open)
    console.print(
        f"replayed {len(example['notifications'])} Alertmanager notifications from {path}:"
        f" {len(views)} incidents, {still_open} open (srekit incident list --state all)",
        highlight=False,
        soft_wrap=True,
    )


def _render(statuses: list[SloStatus]) -> None:
    from srekit.cli.status import render_table

    render_table(statuses)


def _show_gates(specs: SpecSet, store: EventStore, at: datetime) -> None:
    from srekit.core.sli import SourceSet
    from srekit.flows.gate import gate_specs

    for service in specs.services():
        decision = gate_specs(
            specs, SourceSet(events=store), service=service, change_type="feature", at=at
        ).decision
        verdict = "[green]allowed[/]" if decision.allowed else "[red]denied[/]"
        console.print(
            f"deploy gate, {service} feature: {verdict} ({decision.state}): {decision.reasons[0]}",
            highlight=False,
        )
