"""The real Alertmanager and the webhook recorder (tests/alertmanager_fixture.py), for the
silences' flows."""

from tests.alertmanager_fixture import alertmanager, start_alertmanager, webhook_recorder

__all__ = ["alertmanager", "start_alertmanager", "webhook_recorder"]
