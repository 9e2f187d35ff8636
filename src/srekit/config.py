"""srekit's settings, read once from the environment (`SREKIT_` prefix) at start-up.

The core never reads the environment: the CLI builds one Settings and passes values down.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings"]


class Settings(BaseSettings):
    """Where srekit keeps its state and which sources it reads."""

    model_config = SettingsConfigDict(env_prefix="SREKIT_", frozen=True, extra="ignore")

    home: Path = Field(Path(".srekit"), description="state directory (event store, database)")
    prometheus_url: str | None = Field(None, description="Prometheus HTTP API base URL")
    prometheus_timeout_s: float = Field(30.0, gt=0)
    prometheus_token: str | None = Field(None, description="bearer token for Prometheus")
    prometheus_rollup_windows: Literal["exact", "hourly"] = Field(
        "exact",
        description="windows of a day or more from rollups: completed to the instant asked "
        "(exact), or as of the last hourly rollup (hourly, cheaper)",
    )
    events_query_timeout_s: float = Field(
        10.0, gt=0, allow_inf_nan=False, description="an event store query is stopped after this"
    )
    database_url: str | None = Field(
        None, description="state store URL (postgresql+psycopg://...); SQLite under home if unset"
    )
    # the server (`srekit serve`)
    metrics_public: bool = Field(
        False, description="serve /metrics without a token (for a scraper on a trusted network)"
    )
    max_body_bytes: int = Field(
        1_048_576, ge=1, description="request bodies larger than this are refused with 413"
    )
    keep_alive_s: int = Field(
        75,
        ge=1,
        le=3600,
        description=(
            "seconds an idle client connection stays open; longer than the idle timeout of"
            " clients and load balancers in front (often 60 s), so the server never closes a"
            " connection a client is about to reuse"
        ),
    )
    auth_failure_limit: int = Field(
        20, ge=1, description="failed authentications a client may make per window before 429"
    )
    auth_failure_window_s: float = Field(60.0, gt=0, allow_inf_nan=False)
    gate_max_status_age_s: float = Field(
        300.0, gt=0, description="the gate treats SLO statuses older than this as stale"
    )

    @property
    def events_path(self) -> Path:
        return self.home / "events"

    @property
    def effective_database_url(self) -> str:
        """`database_url`, or the SQLite file `<home>/srekit.db` that needs no server."""
        return self.database_url or f"sqlite:///{self.home / 'srekit.db'}"
