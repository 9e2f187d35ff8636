"""The notification settings: defaults, URLs checked, blanks unset, secrets kept secret."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from srekit.config import Settings
from srekit.notifiers.factory import retry_policy_of


def test_defaults() -> None:
    settings = Settings()
    assert settings.public_url == "http://127.0.0.1:8000"  # what `srekit serve` listens on
    assert settings.ack_link_ttl_s == 86_400
    assert settings.notify_retries == 4
    assert settings.smtp_tls == "starttls"
    assert settings.smtp_host is None
    assert settings.ack_link_secret is None
    assert settings.pagerduty_events_url == "https://events.pagerduty.com/v2/enqueue"


def test_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SREKIT_PUBLIC_URL", " https://srekit.example.com/ ")
    monkeypatch.setenv("SREKIT_SMTP_HOST", "")  # blank: unset, as in a shell
    monkeypatch.setenv("SREKIT_ACK_LINK_SECRET", "sixteen-or-more-characters")
    monkeypatch.setenv("SREKIT_NOTIFY_RETRIES", "6")
    monkeypatch.setenv("SREKIT_NOTIFY_BACKOFF_S", "45")
    settings = Settings()
    assert settings.public_url == "https://srekit.example.com"
    assert settings.smtp_host is None
    assert settings.ack_link_secret is not None
    assert settings.ack_link_secret.get_secret_value() == "sixteen-or-more-characters"
    assert "sixteen" not in repr(settings)
    policy = retry_policy_of(settings)
    assert (policy.attempts, policy.base_s, policy.cap_s) == (6, 45.0, 45.0)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SREKIT_PUBLIC_URL", "srekit.example.com", "expected an http:// or https:// URL"),
        ("SREKIT_PAGERDUTY_EVENTS_URL", "https://", "expected an http:// or https:// URL"),
        ("SREKIT_SMTP_TLS", "ssl", "'none', 'starttls' or 'tls'"),
        ("SREKIT_ACK_LINK_SECRET", "short", "at least 16 characters"),
        ("SREKIT_ACK_LINK_TTL_S", "NaN", "finite number"),
        ("SREKIT_NOTIFY_RETRIES", "0", "greater than or equal to 1"),
        ("SREKIT_SMTP_PORT", "70000", "less than or equal to 65535"),
    ],
)
def test_bad_values_name_the_setting(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as caught:
        Settings()
    assert name.removeprefix("SREKIT_").lower() in str(caught.value)
    assert message in str(caught.value)
