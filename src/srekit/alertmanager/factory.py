"""The Alertmanager the settings name, built for one use (a command, a server's life)."""

from __future__ import annotations

from srekit.alertmanager.silences import AlertmanagerClient
from srekit.config import Settings
from srekit.errors import SpecError

__all__ = ["alertmanager_of"]


def alertmanager_of(settings: Settings) -> AlertmanagerClient | None:
    """A client of the Alertmanager at SREKIT_ALERTMANAGER_URL (with SREKIT_ALERTMANAGER_TOKEN),
    or None when none is configured; a URL that is not one is bad input naming the setting."""
    url = settings.alertmanager_url
    if not url:
        return None
    try:
        return AlertmanagerClient(
            url, timeout_s=settings.alertmanager_timeout_s, token=settings.alertmanager_token
        )
    except SpecError as error:
        raise SpecError(error.detail, field="SREKIT_ALERTMANAGER_URL") from None
