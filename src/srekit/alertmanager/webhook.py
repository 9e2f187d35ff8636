"""Alertmanager's webhook payload (version 4), as its `notify/webhook` package sends it, read
into srekit's received alerts (`core.intake.ReceivedAlert`).

Fields srekit does not use are accepted and ignored, as newer Alertmanagers add some; the ones it
uses are checked: a fingerprint, RFC 3339 instants with a zone, string labels. A firing alert's
`endsAt` is Alertmanager's zero time (0001-01-01T00:00:00Z), read as "none".
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from srekit.core.intake import AlertStatus, ReceivedAlert

__all__ = ["WebhookAlertIn", "WebhookIn", "received_alerts"]

_MAX_ALERTS = 10_000
_LABELS = 200  # labels or annotations on one alert
_TEXT = 16_384

LabelName = Annotated[str, Field(min_length=1, max_length=1024, pattern=r"^[^\x00-\x1f\x7f]+$")]
LabelValue = Annotated[str, Field(max_length=_TEXT)]


def _instant(value: object, *, field: str) -> datetime | None:
    if not isinstance(value, str) or len(value) > 64:
        raise ValueError(f"expected an RFC 3339 time like 2026-11-01T00:00:00Z in {field}")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"expected an RFC 3339 time like 2026-11-01T00:00:00Z in {field}"
        ) from None
    if moment.tzinfo is None:
        raise ValueError(f"expected a time zone (Z or +02:00) in {field}")
    return None if moment.year <= 1 else moment.astimezone(UTC)


class _Ignoring(BaseModel):
    model_config = ConfigDict(extra="ignore", allow_inf_nan=False, populate_by_name=True)


class WebhookAlertIn(_Ignoring):
    status: Literal["firing", "resolved"]
    labels: dict[LabelName, LabelValue] = Field(max_length=_LABELS)
    annotations: dict[LabelName, LabelValue] = Field(default_factory=dict, max_length=_LABELS)
    starts_at: datetime = Field(alias="startsAt")
    ends_at: datetime | None = Field(None, alias="endsAt")
    generator_url: str | None = Field(None, alias="generatorURL", max_length=_TEXT)
    fingerprint: str = Field(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z]+$")

    @field_validator("starts_at", mode="before")
    @classmethod
    def _starts(cls, value: object) -> datetime:
        moment = _instant(value, field="startsAt")
        if moment is None:
            raise ValueError("startsAt must be a real time, not Alertmanager's zero time")
        return moment

    @field_validator("ends_at", mode="before")
    @classmethod
    def _ends(cls, value: object) -> datetime | None:
        return None if value is None else _instant(value, field="endsAt")


class WebhookIn(_Ignoring):
    """The notification body: `version` must be "4", the only one Alertmanager has sent."""

    version: str = Field(max_length=16)
    group_key: str = Field(alias="groupKey", max_length=_TEXT)
    status: Literal["firing", "resolved"]
    receiver: str = Field(max_length=1024)
    truncated_alerts: int = Field(0, alias="truncatedAlerts", ge=0)
    alerts: list[WebhookAlertIn] = Field(max_length=_MAX_ALERTS)

    @field_validator("version")
    @classmethod
    def _version(cls, value: str) -> str:
        if value != "4":
            raise ValueError(
                f"srekit reads Alertmanager's webhook payload version 4, got version {value!r}"
            )
        return value


def received_alerts(payload: WebhookIn) -> tuple[ReceivedAlert, ...]:
    """The payload's alerts as the intake reads them."""
    return tuple(
        ReceivedAlert(
            fingerprint=alert.fingerprint,
            status=AlertStatus(alert.status),
            starts_at=alert.starts_at,
            ends_at=alert.ends_at,
            labels=alert.labels,
            annotations=alert.annotations,
            generator_url=alert.generator_url,
        )
        for alert in payload.alerts
    )
