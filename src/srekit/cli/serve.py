"""`srekit serve`: the JSON API, the deploy gate and /metrics, with the evaluation loop.

On start the state store is migrated to this srekit's schema (`srekit db upgrade`; replicas
starting together take turns through an advisory lock), the evaluator starts evaluating every
stored SLO each `--interval`, the silence watch (with SREKIT_ALERTMANAGER_URL) checks silenced
incidents' alerts every SREKIT_SILENCE_WATCH_INTERVAL_S, the escalation job pages the people
of unacknowledged incidents every SREKIT_ESCALATION_INTERVAL_S, the handoff notifier (with
SREKIT_HANDOFF_NOTIFY) sends each rotation's handoff checklist to the incoming primary, and
uvicorn serves the API
(uvloop and httptools when installed).
"""

from __future__ import annotations

import errno
import socket
from typing import TYPE_CHECKING, Annotated

import typer

from srekit.cli.context import settings_of
from srekit.cli.help import examples
from srekit.cli.options import abort, errors_to_exit_codes

if TYPE_CHECKING:
    from srekit.alertmanager import AlertmanagerClient
    from srekit.config import Settings
    from srekit.jobs.handoff_notifier import HandoffNotifier
    from srekit.store import StoreEngine

__all__ = ["EXAMPLES", "refuse_unusable_port", "serve"]

EXAMPLES = examples(
    "srekit serve",
    "srekit serve --host 0.0.0.0 --port 8080 --interval 30",
    "srekit serve --no-evaluate --log-level warning",
)


def _bind_error(host: str, port: int) -> OSError | None:
    """Why a server could not listen on host:port now (None: it could). SO_REUSEADDR as
    uvicorn sets it, so a port whose last connections linger in TIME_WAIT counts as free."""
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        return OSError(errno.EADDRNOTAVAIL, f"unknown host ({error.strerror})")
    for family, kind, proto, _, address in addresses:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(address)
            except OSError as error:
                return error
    return None


def _is_srekit(host: str, port: int) -> bool:
    """Whether what listens on host:port answers as srekit's API."""
    import httpx

    target = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    shown = f"[{target}]" if ":" in target else target
    try:
        answer = httpx.get(f"http://{shown}:{port}/openapi.json", timeout=2)
        return bool(answer.json()["info"]["title"] == "srekit")
    except Exception:  # anything else listening there, whatever it answers
        return False


def refuse_unusable_port(host: str, port: int) -> None:
    """Exit 2 naming the address, before anything else is done, unless a server can listen
    on host:port: srekit already running there, another program holding it, or no such
    address. Port 0 (any free port) is always usable."""
    if port == 0:
        return
    error = _bind_error(host, port)
    if error is None:
        return
    shown = f"[{host}]" if ":" in host else host
    if error.errno != errno.EADDRINUSE:
        abort(f"cannot listen on {shown}:{port}: {error.strerror or error} (--host, --port)")
    free = next((p for p in range(port + 1, min(port + 50, 65536)) if not _bind_error(host, p)), 0)
    other = f"--port {free}, or `make run PORT={free}`" if free else "--port, or `make run PORT=`"
    if _is_srekit(host, port):
        abort(
            f"srekit is already running on {shown}:{port}: use it, stop it, or serve on another"
            f" port ({other})"
        )
    abort(
        f"port {port} on {shown} is in use by another program: stop it, or serve on another"
        f" port ({other})"
    )


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(metavar="ADDRESS", help="address to listen on")] = (
        "127.0.0.1"
    ),
    port: Annotated[
        int, typer.Option(metavar="PORT", min=0, max=65535, help="port to listen on, 0 to 65535")
    ] = 8000,
    interval: Annotated[
        float,
        typer.Option(
            metavar="SECONDS", min=1.0, help="seconds between evaluation rounds, at least 1"
        ),
    ] = 60.0,
    evaluate: Annotated[
        bool,
        typer.Option(
            "--evaluate/--no-evaluate",
            help="run the evaluation loop here (off: another process evaluates)",
        ),
    ] = True,
    log_level: Annotated[str, typer.Option(metavar="LEVEL", help="uvicorn's log level")] = "info",
) -> None:
    """Serve the srekit API; the API docs are at /docs."""
    refuse_unusable_port(host, port)
    import gc

    import uvicorn

    from srekit.alertmanager import alertmanager_of
    from srekit.api import create_app
    from srekit.jobs.escalation import EscalationJob
    from srekit.jobs.evaluator import Evaluator
    from srekit.jobs.history_compactor import HistoryCompactor
    from srekit.jobs.silence_watch import SilenceWatch
    from srekit.store.database import create_store_engine, safe_url, upgrade
    from srekit.telemetry import SrekitMetrics

    settings = settings_of(ctx)
    with errors_to_exit_codes():
        from srekit.sources.factory import prometheus_url_of

        prometheus_url_of(settings)  # one that is not a URL is refused now, not every round
        silencer = alertmanager_of(settings)  # likewise SREKIT_ALERTMANAGER_URL
        engine = create_store_engine(settings.effective_database_url)
        revision = upgrade(engine)
        escalation = EscalationJob.from_settings(engine, settings)
        handoffs = _handoff_notifier(engine, settings, silencer)
    metrics = SrekitMetrics()
    evaluator = (
        # retention is the history compaction's (SREKIT_HISTORY_RAW_S, SREKIT_HISTORY_HOURLY_S)
        Evaluator(engine, settings, metrics=metrics, interval_s=interval, retention_s=None)
        if evaluate
        else None
    )
    compactor = HistoryCompactor(
        engine,
        raw_s=settings.history_raw_s,
        hourly_s=settings.history_hourly_s,
        interval_s=settings.history_compact_interval_s,
    )
    app = create_app(settings, engine=engine, evaluator=evaluator, metrics=metrics)
    watch = (
        SilenceWatch(
            engine,
            silencer,
            interval_s=settings.silence_watch_interval_s,
            startup_grace_s=settings.alertmanager_startup_grace_s,
            routing_of=app.state.srekit.routing_of,
            on_resolved=lambda _: app.state.srekit.gate.incidents_changed(),
        )
        if silencer is not None
        else None
    )
    shown = f"[{host}]" if ":" in host else host
    typer.echo(
        f"srekit serving on http://{shown}:{port} — API docs: http://{shown}:{port}/docs\n"
        f"state directory {settings.home} ({settings.home_origin})\n"
        f"state store {safe_url(engine.url)} at schema {revision}"
        + (f"; evaluating every {interval:g}s" if evaluator else "; not evaluating")
        + (
            f"\nwatching silenced incidents in Alertmanager at {silencer.url} every"
            f" {settings.silence_watch_interval_s:g}s"
            if silencer is not None
            else ""
        )
        + f"\nescalating unacknowledged incidents every {settings.escalation_interval_s:g}s"
        + (
            "\nsending on-call handoffs to the incoming primary, checked every"
            f" {settings.handoff_notify_interval_s:g}s"
            if handoffs is not None
            else ""
        )
    )
    if evaluator is not None:
        evaluator.start()
    if watch is not None:
        watch.start()
    # the jobs every replica runs, each leading its rounds on one replica at a time
    periodic = [escalation, compactor, *([handoffs] if handoffs is not None else [])]
    for job in periodic:
        job.start()
    try:
        uvicorn.run(
            app,
            host=host,
            port=port,
            log_level=log_level,
            loop="auto",
            http="auto",
            timeout_keep_alive=settings.keep_alive_s,
        )
    finally:
        for job in periodic:
            job.stop()
        if watch is not None:
            watch.stop()
        if silencer is not None:
            silencer.close()
        if evaluator is not None:
            evaluator.stop()
        engine.dispose()
        # the app unfreezes what its start froze; this covers a start that failed half-way
        gc.unfreeze()


def _handoff_notifier(
    engine: StoreEngine, settings: Settings, silences: AlertmanagerClient | None
) -> HandoffNotifier | None:
    """The handoff notifier when SREKIT_HANDOFF_NOTIFY is on."""
    from srekit.jobs.handoff_notifier import HandoffNotifier

    if not settings.handoff_notify:
        return None
    return HandoffNotifier.from_settings(engine, settings, silences=silences)
