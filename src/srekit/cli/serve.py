"""`srekit serve`: the JSON API, the deploy gate and /metrics, with the evaluation loop.

On start the state store is migrated to this srekit's schema (`srekit db upgrade`; replicas
starting together take turns through an advisory lock), the evaluator starts evaluating every
stored SLO each `--interval`, and uvicorn serves the API (uvloop and httptools when installed).
"""

from __future__ import annotations

from typing import Annotated

import typer

from srekit.cli.context import settings_of
from srekit.cli.help import examples
from srekit.cli.options import errors_to_exit_codes

__all__ = ["EXAMPLES", "serve"]

EXAMPLES = examples(
    "srekit serve",
    "srekit serve --host 0.0.0.0 --port 8080 --interval 30",
    "srekit serve --no-evaluate --log-level warning",
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
    import uvicorn

    from srekit.api import create_app
    from srekit.jobs.evaluator import Evaluator
    from srekit.store.database import create_store_engine, safe_url, upgrade
    from srekit.telemetry import SrekitMetrics

    settings = settings_of(ctx)
    with errors_to_exit_codes():
        from srekit.sources.factory import prometheus_url_of

        prometheus_url_of(settings)  # one that is not a URL is refused now, not every round
        engine = create_store_engine(settings.effective_database_url)
        revision = upgrade(engine)
    metrics = SrekitMetrics()
    evaluator = (
        Evaluator(engine, settings, metrics=metrics, interval_s=interval) if evaluate else None
    )
    app = create_app(settings, engine=engine, evaluator=evaluator, metrics=metrics)
    shown = f"[{host}]" if ":" in host else host
    typer.echo(
        f"srekit serving on http://{shown}:{port} — API docs: http://{shown}:{port}/docs\n"
        f"state store {safe_url(engine.url)} at schema {revision}"
        + (f"; evaluating every {interval:g}s" if evaluator else "; not evaluating")
    )
    if evaluator is not None:
        evaluator.start()
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
        if evaluator is not None:
            evaluator.stop()
        engine.dispose()
