"""Prometheus Alertmanager as srekit talks to it: `silences` (its API v2: create, expire, read
and list silences; list alerts), `webhook` (the payload it sends, read into srekit's alerts) and
`factory` (the client SREKIT_ALERTMANAGER_URL names). The webhooks arrive through the API's
`POST /api/v1/alertmanager`; docs/alertmanager.md shows the receiver to configure.
"""

from srekit.alertmanager.factory import alertmanager_of
from srekit.alertmanager.silences import AlertmanagerClient, Silence, SilenceMatcher, SilenceState

__all__ = ["AlertmanagerClient", "Silence", "SilenceMatcher", "SilenceState", "alertmanager_of"]
