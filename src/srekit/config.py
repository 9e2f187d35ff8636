"""srekit's settings, read once from the environment (`SREKIT_` prefix) at start-up.

The core never reads the environment: the CLI builds one Settings and passes values down.

The state directory (`home`) is `SREKIT_HOME` when set; else the project's `.srekit` when the
current directory has one (what `make run` creates); else the user's data directory,
`$XDG_DATA_HOME/srekit` (by default `~/.local/share/srekit`). `srekit config` shows which.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from srekit.core.incident import Severity, SeverityDefinition, severity_definitions
from srekit.core.status_page import BadgeThresholds

__all__ = ["PROJECT_HOME", "Settings", "default_home"]

#: The state directory of a project, looked for in the current directory.
PROJECT_HOME = ".srekit"


def default_home(environ: Mapping[str, str], cwd: Path) -> tuple[Path, str]:
    """The state directory when SREKIT_HOME is unset, and where it comes from (for messages).

    Nothing is created: a command that writes state creates the directory it names.
    """
    project = cwd / PROJECT_HOME
    if project.is_dir():
        return project, f"{PROJECT_HOME} in the current directory"
    neither = f"as SREKIT_HOME is not set and the current directory has no {PROJECT_HOME}"
    xdg = environ.get("XDG_DATA_HOME", "")
    if os.path.isabs(xdg):  # the XDG spec: a relative path is invalid and ignored
        return Path(xdg) / "srekit", f"$XDG_DATA_HOME/srekit, {neither}"
    return (
        Path(environ.get("HOME") or Path.home()) / ".local" / "share" / "srekit",
        f"the user's data directory ~/.local/share/srekit, {neither}",
    )


def _default_home() -> Path:
    return default_home(os.environ, Path.cwd())[0]


class Settings(BaseSettings):
    """Where srekit keeps its state and which sources it reads."""

    model_config = SettingsConfigDict(env_prefix="SREKIT_", frozen=True, extra="ignore")

    home: Path = Field(
        default_factory=_default_home,
        description="state directory (event store, database, rules); see the module docstring",
    )
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
    max_alert_body_bytes: int = Field(
        8_388_608,
        ge=1,
        description=(
            "the limit for Alertmanager's webhook bodies, which carry every alert of a group"
            " (Alertmanager drops what it truncates, so this is larger than max_body_bytes)"
        ),
    )
    intake_max_waiting: int = Field(
        10_000,
        ge=1,
        description=(
            "Alertmanager notifications that may wait to be stored; past it the webhook"
            " answers 503 with Retry-After and Alertmanager sends them again later"
        ),
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
    # incidents
    incident_severities: dict[
        Literal["P0", "P1", "P2", "P3"],
        dict[Literal["response_target_s", "escalation_after_s"], float],
    ] = Field(
        default_factory=dict,
        description=(
            "response targets and escalation windows in seconds replacing the defaults, as JSON:"
            ' {"P2": {"response_target_s": 1800}}'
        ),
    )

    @field_validator("incident_severities")
    @classmethod
    def _severities(cls, value: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        for severity, settings in value.items():
            for name, seconds in settings.items():
                if not 0 < seconds < 366 * 86400:  # NaN fails too
                    raise ValueError(
                        f"{severity}.{name}: expected seconds between 0 and a year, got {seconds}"
                    )
        return value

    def severity_definitions(self) -> dict[Severity, SeverityDefinition]:
        """The incident severities with this configuration's targets."""
        return severity_definitions(
            {
                Severity(key): {str(name): seconds for name, seconds in value.items()}
                for key, value in self.incident_severities.items()
            }
        )

    # Alertmanager's API, for incidents' silences (docs/incidents.md, "Silences")
    alertmanager_url: str | None = Field(
        None,
        description="Alertmanager's base URL (http://alertmanager:9093): acknowledging an"
        " incident may silence its alerts there",
    )
    alertmanager_token: str | None = Field(
        None, description="bearer token for an Alertmanager behind an authenticating proxy"
    )
    alertmanager_timeout_s: float = Field(10.0, gt=0, allow_inf_nan=False)
    silence_duration_s: float = Field(
        86_400.0,
        gt=0,
        le=30 * 86_400,
        allow_inf_nan=False,
        description="a silence made on acknowledgement ends after this, unless the incident"
        " resolves or closes first (then srekit expires it)",
    )
    silence_watch_interval_s: float = Field(
        15.0,
        ge=1,
        allow_inf_nan=False,
        description="`srekit serve` asks Alertmanager this often whether silenced incidents'"
        " alerts have ended (Alertmanager mutes their resolved notifications)",
    )
    alertmanager_startup_grace_s: float = Field(
        120.0,
        ge=0,
        allow_inf_nan=False,
        description="an alert Alertmanager no longer holds counts as ended only once it has been"
        " up this long (Prometheus re-sends firing alerts every minute by default)",
    )

    # notifications: paging people (docs/notifiers.md)
    smtp_host: str | None = Field(None, description="SMTP server that sends pages by email")
    smtp_port: int | None = Field(
        None, ge=1, le=65535, description="default: 25, 587 with starttls, 465 with tls"
    )
    smtp_username: str | None = Field(None, description="SMTP login (none: no AUTH)")
    smtp_password: SecretStr | None = Field(None, description="SMTP password")
    smtp_from: str = Field("srekit@localhost", description="the From address of paging mail")
    smtp_tls: Literal["none", "starttls", "tls"] = Field(
        "starttls", description="none, STARTTLS on a plain connection, or implicit TLS"
    )
    smtp_timeout_s: float = Field(10.0, gt=0, le=300, allow_inf_nan=False)
    notify_retries: int = Field(
        4, ge=1, le=20, description="attempts at delivering a page to one contact method"
    )
    notify_backoff_s: float = Field(
        1.0,
        ge=0,
        le=300,
        allow_inf_nan=False,
        description="the first wait between attempts; each next one doubles, up to 30 s",
    )
    notify_timeout_s: float = Field(
        10.0, gt=0, le=300, allow_inf_nan=False, description="an HTTP channel's answer time"
    )
    notify_webhook_token: SecretStr | None = Field(
        None, description="bearer token sent with generic webhook pages"
    )
    pagerduty_events_url: str = Field(
        "https://events.pagerduty.com/v2/enqueue", description="PagerDuty's Events API v2"
    )
    public_url: str = Field(
        "http://127.0.0.1:8000",
        description="the base of links in pages (where people reach `srekit serve`)",
    )
    ack_link_ttl_s: float = Field(
        86_400.0,
        gt=0,
        le=30 * 86_400,
        allow_inf_nan=False,
        description="an acknowledgement link in a page works for this long",
    )
    ack_link_secret: SecretStr | None = Field(
        None,
        description="signs acknowledgement links (default: a random secret kept in the store)",
    )
    web_session_ttl_s: float = Field(
        8 * 3600.0,
        ge=60,
        le=30 * 86_400,
        allow_inf_nan=False,
        description="a dashboard login lasts this long (the session cookie's lifetime)",
    )

    # escalation (docs/escalation.md)
    escalation_interval_s: float = Field(
        5.0,
        gt=0,
        le=3600,
        allow_inf_nan=False,
        description="seconds between the escalation job's rounds in `srekit serve`",
    )

    # the public status page and badges (docs/status-page.md)
    status_page_services: str = Field(
        "",
        max_length=10_000,
        description="services shown on the public /status page and its badges, comma-separated",
    )
    badge_budget_green_above: float = Field(0.5, ge=0, le=1, allow_inf_nan=False)
    badge_budget_yellow_above: float = Field(0.25, ge=0, le=1, allow_inf_nan=False)
    badge_burn_yellow_from: float = Field(1.0, gt=0, le=1e6, allow_inf_nan=False)
    badge_burn_red_from: float = Field(6.0, gt=0, le=1e6, allow_inf_nan=False)

    # load tests (docs/load-gate.md)
    gate_load_test_for: str = Field(
        "",
        max_length=1_000,
        description="change types the deploy gate allows only after a passed load test,"
        " comma-separated (none by default)",
    )
    gate_load_test_max_age_days: float = Field(
        7.0,
        gt=0,
        le=3650,
        allow_inf_nan=False,
        description="how recent that passed load test must be, in days",
    )

    @property
    def gate_load_test_change_types(self) -> tuple[str, ...]:
        """`gate_load_test_for` as sorted change types, blanks dropped."""
        names = {name.strip() for name in self.gate_load_test_for.split(",")}
        return tuple(sorted(name for name in names if name))

    @property
    def status_page_service_names(self) -> tuple[str, ...]:
        """`status_page_services` as sorted names, blanks dropped."""
        names = {name.strip() for name in self.status_page_services.split(",")}
        return tuple(sorted(name for name in names if name))

    @model_validator(mode="after")
    def _badge_thresholds_in_order(self) -> Settings:
        self.badge_thresholds()  # refused at start, not on every badge request
        return self

    def badge_thresholds(self) -> BadgeThresholds:
        """The badge colour thresholds (ValueError when they are out of order)."""
        return BadgeThresholds(
            budget_green_above=self.badge_budget_green_above,
            budget_yellow_above=self.badge_budget_yellow_above,
            burn_yellow_from=self.badge_burn_yellow_from,
            burn_red_from=self.badge_burn_red_from,
        )

    history_raw_s: float = Field(
        2 * 86_400.0,
        gt=0,
        le=400 * 86_400,
        allow_inf_nan=False,
        description="raw evaluation snapshots (one a round) are kept this long, then only their"
        " hourly rollups",
    )
    history_hourly_s: float = Field(
        396 * 86_400.0,
        gt=0,
        le=20 * 366 * 86_400,
        allow_inf_nan=False,
        description="hourly rollups of the SLO history are kept this long (default 13 months)",
    )
    history_compact_interval_s: float = Field(
        300.0,
        gt=0,
        le=86_400,
        allow_inf_nan=False,
        description="how often the history compaction looks for hours to roll up",
    )

    # the on-call handoff notifier (docs/handoff.md)
    handoff_notify: bool = Field(
        False,
        description="send each rotation's primary handoff checklist to the incoming primary"
        " as it happens (`srekit serve`)",
    )
    handoff_notify_interval_s: float = Field(
        60.0,
        gt=0,
        le=3600,
        allow_inf_nan=False,
        description="seconds between the handoff notifier's rounds in `srekit serve`",
    )

    @field_validator(
        "alertmanager_url",
        "alertmanager_token",
        "smtp_host",
        "smtp_username",
        "smtp_password",
        "ack_link_secret",
        "notify_webhook_token",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        # SREKIT_ALERTMANAGER_URL= (empty) in an environment file means none, as for a shell
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("ack_link_secret")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 16:
            raise ValueError(
                "expected at least 16 characters (a random string: openssl rand -hex 32)"
            )
        return value

    @field_validator("public_url", "pagerduty_events_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        cleaned = value.strip().rstrip("/")
        if not cleaned.startswith(("http://", "https://")) or len(cleaned) <= len("https://"):
            raise ValueError(f"expected an http:// or https:// URL, got {value!r}")
        return cleaned

    @field_validator("home", mode="before")
    @classmethod
    def _home_path(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            raise ValueError("expected the path of a directory, got an empty value")
        return value

    @field_validator("home")
    @classmethod
    def _absolute_home(cls, value: Path) -> Path:
        # absolute, so that every message names a path that means the same from anywhere
        return value.expanduser().absolute()

    @property
    def home_origin(self) -> str:
        """Where `home` came from, in words."""
        if "home" in self.model_fields_set:
            return "SREKIT_HOME"
        return default_home(os.environ, Path.cwd())[1]

    @property
    def events_path(self) -> Path:
        return self.home / "events"

    @property
    def rules_path(self) -> Path:
        """Where `srekit demo` writes the Prometheus rules of the examples."""
        return self.home / "rules"

    @property
    def effective_database_url(self) -> str:
        """`database_url`, or the SQLite file `<home>/srekit.db` that needs no server."""
        return self.database_url or f"sqlite:///{self.home / 'srekit.db'}"
