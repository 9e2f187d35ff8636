"""`srekit status-page export` and `srekit badge url`: the public status page as static files,
and signed URLs for the badges of SLOs not on the page (docs/status-page.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from srekit.cli.help import SrekitTyper, examples
from srekit.cli.options import AtOption, abort, at_or_now, errors_to_exit_codes
from srekit.core.status_page import BadgeKind

__all__ = ["app", "badge_app"]

app = SrekitTyper(
    help="The public status page (`/status` on `srekit serve`).",
    epilog=examples("srekit status-page export site/ --at 2026-11-30T00:00:00Z"),
    no_args_is_help=True,
)
badge_app = SrekitTyper(
    help="SLO badges (`/badge/slo/SERVICE/SLO/KIND.svg` on `srekit serve`).",
    epilog=examples("srekit badge url checkout/availability budget"),
    no_args_is_help=True,
)


@app.command(
    "export",
    epilog=examples(
        "srekit status-page export site/",
        "srekit status-page export site/ --at 2026-11-30T00:00:00Z",
    ),
)
def export(
    ctx: typer.Context,
    directory: Annotated[Path, typer.Argument(metavar="DIR", help="where to write the page")],
    at: AtOption = None,
) -> None:
    """Write the status page of the services in SREKIT_STATUS_PAGE_SERVICES as static files:
    DIR/index.html and DIR/status.css, no script. The figures are the stored snapshots' at
    --at (default now), so the same --at gives the same bytes."""
    from srekit.cli.context import settings_of
    from srekit.cli.store_common import open_engine
    from srekit.flows.status_page import status_page, statuses_at
    from srekit.web.pages.status import render_status_page
    from srekit.web.templating import STATIC_DIR

    now = at_or_now(at)
    settings = settings_of(ctx)
    services = settings.status_page_service_names
    with errors_to_exit_codes(), open_engine(settings) as engine:
        statuses = statuses_at(
            engine, services=services, at=now, max_age_s=settings.gate_max_status_age_s
        )
        page = status_page(engine, statuses=statuses, services=services, now=now)
    html = render_status_page(page, stylesheet="status.css")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "index.html").write_text(html, encoding="utf-8")
        (directory / "status.css").write_bytes((STATIC_DIR / "status.css").read_bytes())
    except OSError as error:
        abort(f"DIR: cannot write {directory}: {error.strerror or error}")
    shown = ", ".join(services) if services else "no service (SREKIT_STATUS_PAGE_SERVICES is empty)"
    typer.echo(f"wrote {directory / 'index.html'} and status.css: {shown}")


@badge_app.command(
    "url",
    epilog=examples(
        "srekit badge url checkout/availability budget",
        "srekit badge url checkout/availability sli --format json",
    ),
)
def url(
    ctx: typer.Context,
    slo: Annotated[str, typer.Argument(metavar="SERVICE/SLO", help="the stored SLO")],
    kind: Annotated[str, typer.Argument(metavar="KIND", help="sli, budget, burn or status")],
    image: Annotated[
        str,
        typer.Option(
            "--format", metavar="FORMAT", help="svg (the badge) or json (its shields.io twin)"
        ),
    ] = "svg",
) -> None:
    """Print the badge's URL under SREKIT_PUBLIC_URL, signed (`?sig=`) when its service is not
    on the status page. Exits 2 for an unknown SLO or kind."""
    from srekit.cli.context import settings_of
    from srekit.cli.store_common import open_engine
    from srekit.core.status_page import badge_path, sign_badge_path
    from srekit.flows.status_page import badge_secret
    from srekit.store.database import transaction
    from srekit.store.repo import get_slo, split_slo_key

    if kind not in {item.value for item in BadgeKind}:
        abort(f"KIND: expected sli, budget, burn or status, got {kind!r}")
    if image not in ("svg", "json"):
        abort(f"--format: expected svg or json, got {image!r}")
    settings = settings_of(ctx)
    with errors_to_exit_codes():
        service, name = split_slo_key(slo)
        with open_engine(settings) as engine:
            with transaction(engine, read_only=True) as session:
                get_slo(session, service=service, name=name)
            path = badge_path(service, name, BadgeKind(kind))
            link = f"{settings.public_url}{path}.{image}"
            if service not in settings.status_page_service_names:
                link += f"?sig={sign_badge_path(badge_secret(engine), path)}"
    typer.echo(link)
