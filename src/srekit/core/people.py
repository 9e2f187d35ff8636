"""People who go on call: a handle, how to reach them, and the time zone they live in.

A person's `name` is their handle, the one name rotations list as members; it follows srekit's
name rule (`core.names`). Their time zone (IANA, `Europe/Berlin`) says which of their hours are
nights and weekends when on-call load is counted; None means the rotation's own zone. Contact
methods are (kind, target) pairs in the order to try them: an email address, a webhook URL
(http or https), a Slack-compatible incoming-webhook URL (Slack, Mattermost and Rocket.Chat
bind each to a channel: srekit posts to it and needs no bot token), a PagerDuty routing key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from srekit.core.names import name_problem

__all__ = [
    "CONTACTS",
    "TEXT_CHARS",
    "ContactKind",
    "ContactMethod",
    "Person",
    "email_problem",
    "timezone_problem",
]

TEXT_CHARS = 500  # a display name, an address, a target: never longer
CONTACTS = 20  # contact methods of one person
_ZONE_CHARS = 100  # the longest IANA zone name has 32
# Plainly: something@domain.tld, no spaces; the mail server is the judge of the rest.
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
_URL = re.compile(r"https?://[^\s/?#]+[^\s]*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class ContactKind(StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"
    SLACK = "slack"
    PAGERDUTY = "pagerduty"


def email_problem(value: str) -> str | None:
    """What is wrong with `value` as an email address (None: nothing). Plain: one `@`, a
    dotted domain, no spaces."""
    if len(value) > TEXT_CHARS or _EMAIL.fullmatch(value) is None:
        return f"expected an email address like alice@example.com, got {value[:80]!r}"
    return None


def timezone_problem(value: str) -> str | None:
    """What is wrong with `value` as an IANA time zone name (None: it is one)."""
    try:
        # ZoneInfo reads a path: refuse what is not a plain zone name before it looks
        if not 0 < len(value) <= _ZONE_CHARS or value.startswith("/") or ".." in value:
            raise ValueError(value)
        if _CONTROL.search(value):
            raise ValueError(value)
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return f"expected an IANA time zone like Europe/Berlin or UTC, got {value[:80]!r}"
    return None


def _target_problem(kind: ContactKind, target: str) -> str | None:
    if not target or len(target) > TEXT_CHARS or _CONTROL.search(target) or " " in target:
        return f"expected a {kind.value} target of 1 to {TEXT_CHARS} characters without spaces"
    if kind is ContactKind.EMAIL:
        return email_problem(target)
    if kind is ContactKind.WEBHOOK and _URL.fullmatch(target) is None:
        return f"expected an http(s) URL, got {target[:80]!r}"
    if kind is ContactKind.SLACK and _URL.fullmatch(target) is None:
        return (
            "expected a Slack-compatible incoming-webhook URL (https://hooks.slack.com/services/...;"
            f" it names its channel), got {target[:80]!r}"
        )
    return None


@dataclass(frozen=True)
class ContactMethod:
    """One way to reach a person: `email alice@example.com`, `slack https://hooks.slack.com/...`."""

    kind: ContactKind
    target: str

    def __post_init__(self) -> None:
        problem = _target_problem(self.kind, self.target)
        if problem is not None:
            raise ValueError(f"contact {self.kind.value}: {problem}")


@dataclass(frozen=True)
class Person:
    """Someone who can be on call; `name` is the handle rotations list."""

    name: str
    display_name: str | None = None
    email: str | None = None
    timezone: str | None = None
    team: str | None = None
    contacts: tuple[ContactMethod, ...] = ()

    def __post_init__(self) -> None:
        problems = [
            ("name", name_problem(self.name)),
            ("email", None if self.email is None else email_problem(self.email)),
            ("timezone", None if self.timezone is None else timezone_problem(self.timezone)),
            ("team", None if self.team is None else name_problem(self.team)),
        ]
        if self.display_name is not None and (
            not self.display_name.strip()
            or len(self.display_name) > TEXT_CHARS
            or _CONTROL.search(self.display_name)
        ):
            problems.append(
                ("display_name", f"expected 1 to {TEXT_CHARS} characters, no control characters")
            )
        if len(self.contacts) > CONTACTS:
            problems.append(("contacts", f"expected at most {CONTACTS} contact methods"))
        for field, problem in problems:
            if problem is not None:
                raise ValueError(f"{field}: {problem}")

    @property
    def shown_name(self) -> str:
        """The display name, else the handle."""
        return self.display_name or self.name
