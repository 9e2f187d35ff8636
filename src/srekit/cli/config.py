"""`srekit config`: where srekit keeps its state and what each setting is, with where each
value came from (a `SREKIT_*` variable, or the default and how it was found)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from srekit.cli.context import settings_of
from srekit.cli.options import FormatOption, OutputFormat, abort, emit

if TYPE_CHECKING:
    from srekit.config import Settings

__all__ = ["config"]

_SECRETS = frozenset(
    {
        "prometheus_token",
        "alertmanager_token",
        "smtp_password",
        "ack_link_secret",
        "notify_webhook_token",
    }
)
# shown first, as paths; the rest of the settings follow in their declared order
_PLACES = ("home", "database_url", "event_store", "rules", "prometheus_url")


def _variable(name: str) -> str:
    return f"SREKIT_{name.upper()}"


def _without_password(url: str) -> str:
    """`url` with the password of its user part (if any) masked."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=f"{parts.username}:***@{host}").geturl()


def _origin(settings: Settings, name: str) -> str:
    return _variable(name) if name in settings.model_fields_set else "default"


def describe(settings: Settings) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Every entry `srekit config` shows, by name, and the problems found on the way."""
    from srekit.sources.events import EventStore
    from srekit.store.database import safe_url

    problems: list[str] = []
    home = settings.home
    try:
        database = safe_url(settings.effective_database_url)
    except Exception:  # SQLAlchemy's ArgumentError: the CLI does not import SQLAlchemy
        database = "(not a valid URL)"
        problems.append(
            "SREKIT_DATABASE_URL: not a valid database URL; expected"
            " postgresql+psycopg://user:password@host/db or sqlite:////path/srekit.db"
        )
    events = EventStore.file_of(settings.events_path)
    entries: dict[str, dict[str, Any]] = {
        "home": {
            "variable": "SREKIT_HOME",
            "value": str(home),
            "source": settings.home_origin,
            "exists": home.is_dir(),
        },
        "database_url": {
            "variable": "SREKIT_DATABASE_URL",
            "value": database,
            "source": "SREKIT_DATABASE_URL"
            if settings.database_url
            else "default: the SQLite file srekit.db in the state directory",
        },
        "event_store": {
            "variable": None,
            "value": str(events),
            "source": "the state directory (or --events-store / --store)",
            "exists": events.is_file(),
        },
        "rules": {
            "variable": None,
            "value": str(settings.rules_path),
            "source": "the state directory (`srekit demo` writes the examples' rules here)",
            "exists": settings.rules_path.is_dir(),
        },
    }
    for name in type(settings).model_fields:
        if name in entries:
            continue
        value = getattr(settings, name)
        if name in _SECRETS and value is not None:
            value = "***"
        elif name in ("prometheus_url", "alertmanager_url") and value is not None:
            value = _without_password(value)
        entries[name] = {
            "variable": _variable(name),
            "value": value,
            "source": _origin(settings, name),
        }
    ordered = {name: entries[name] for name in _PLACES}
    ordered.update((name, entry) for name, entry in entries.items() if name not in ordered)
    return ordered, problems


def _printable(text: str) -> str:
    """`text` with control characters escaped, so a value cannot rewrite the terminal."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _shown(entry: dict[str, Any]) -> str:
    value = entry["value"]
    text = "not set" if value is None else str(value).lower() if value in (True, False) else value
    if entry.get("exists") is False:
        text = f"{text} (not created yet)"
    return _printable(str(text))


def config(ctx: typer.Context, output: FormatOption = OutputFormat.TABLE) -> None:
    """Show where srekit keeps its state and each setting, with where each value came from."""
    entries, problems = describe(settings_of(ctx))
    if output is OutputFormat.TABLE:
        # plain columns, never wrapped: a path must stay whole to be copied
        rows = [("setting", "variable", "value", "from")]
        rows += [
            (name, entry["variable"] or "-", _shown(entry), _printable(entry["source"]))
            for name, entry in entries.items()
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        for row in rows:
            cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
            typer.echo("  ".join([*cells, row[3]]))
    else:
        emit(entries, output)
    if problems:
        abort("; ".join(problems))
