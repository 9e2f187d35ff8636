"""People: handles, plain email checks, IANA zones, contact methods."""

from __future__ import annotations

import pytest

from srekit.core.people import (
    CONTACTS,
    ContactKind,
    ContactMethod,
    Person,
    email_problem,
    timezone_problem,
)


@pytest.mark.parametrize("address", ["alice@example.com", "a.b+oncall@mail.example.co.uk", "x@y.z"])
def test_plain_email_addresses_pass(address: str) -> None:
    assert email_problem(address) is None


@pytest.mark.parametrize(
    "address",
    [
        "alice",
        "alice@",
        "@example.com",
        "alice@example",
        "a b@example.com",
        "a@@b.c",
        "a@b..c",
        "x" * 490 + "@example.com",
    ],
)
def test_other_text_is_not_an_email_address(address: str) -> None:
    assert "expected an email address" in str(email_problem(address))


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "America/Argentina/Buenos_Aires"])
def test_iana_zones_pass(zone: str) -> None:
    assert timezone_problem(zone) is None


@pytest.mark.parametrize(
    "zone",
    [
        "",
        "Mars/Olympus",
        "/etc/localtime",
        "../../etc/passwd",
        "Europe/Berlin\x00",
        "Europe/" + "x" * 200,
        "CET+1",
        "europe berlin",
    ],
)
def test_other_text_is_not_a_zone(zone: str) -> None:
    assert "expected an IANA time zone" in str(timezone_problem(zone))


def test_a_person_with_every_detail() -> None:
    alice = Person(
        name="alice",
        display_name="Alice Liddell",
        email="alice@example.com",
        timezone="Europe/Berlin",
        team="payments",
        contacts=(
            ContactMethod(ContactKind.EMAIL, "alice@example.com"),
            ContactMethod(ContactKind.WEBHOOK, "https://hooks.example.com/a?b=c"),
            ContactMethod(ContactKind.SLACK, "https://chat.example.com/hooks/payments-oncall"),
            ContactMethod(ContactKind.PAGERDUTY, "R0UT1NGK3Y"),
        ),
    )
    assert alice.shown_name == "Alice Liddell"
    assert Person(name="bob").shown_name == "bob"


@pytest.mark.parametrize(
    ("fields", "said"),
    [
        ({"name": "Alice"}, "name: expected a name"),
        ({"name": "alice", "email": "nope"}, "email: expected an email"),
        ({"name": "alice", "timezone": "Berlin"}, "timezone: expected an IANA"),
        ({"name": "alice", "team": "Pay Ments"}, "team: expected a name"),
        ({"name": "alice", "display_name": "  "}, "display_name: expected 1 to 500"),
        ({"name": "alice", "display_name": "a\x1b[31m"}, "display_name: expected 1 to 500"),
        ({"name": "alice", "display_name": "a" * 501}, "display_name: expected 1 to 500"),
        (
            {
                "name": "alice",
                "contacts": (ContactMethod(ContactKind.SLACK, "https://chat.example.com/a"),)
                * (CONTACTS + 1),
            },
            f"contacts: expected at most {CONTACTS}",
        ),
    ],
)
def test_a_person_refuses_what_is_wrong_naming_the_field(
    fields: dict[str, object], said: str
) -> None:
    with pytest.raises(ValueError, match=said):
        Person(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kind", "target", "said"),
    [
        (ContactKind.EMAIL, "alice", "contact email: expected an email"),
        (ContactKind.WEBHOOK, "ftp://example.com", "contact webhook: expected an http"),
        (ContactKind.WEBHOOK, "https://", "contact webhook: expected an http"),
        (ContactKind.SLACK, "", "contact slack: expected a slack target of 1 to 500"),
        (ContactKind.SLACK, "https://a b", "without spaces"),
        (ContactKind.SLACK, "#payments-oncall", "expected a Slack-compatible incoming-webhook URL"),
        (ContactKind.PAGERDUTY, "key\x00", "without spaces"),
        (ContactKind.PAGERDUTY, "k" * 501, "1 to 500"),
    ],
)
def test_contact_targets_fit_their_kind(kind: ContactKind, target: str, said: str) -> None:
    with pytest.raises(ValueError, match=said):
        ContactMethod(kind, target)
