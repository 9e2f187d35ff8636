"""Notices (messages that are no incident, such as the on-call handoff) as each channel
renders them, and PagerDuty left out, against hand-written values."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from srekit.core.notify import (
    ContactKind,
    ContactMethod,
    EmailText,
    Notice,
    notice_refusal,
    render_notice_email,
    render_notice_slack,
    render_notice_webhook,
)

AT = datetime(2026, 3, 30, 7, 0, tzinfo=UTC)
NOTICE = Notice(
    kind="handoff",
    person="alice",
    subject="On-call handoff: payments,\nprimary bob → alice",
    text="# Handoff\n\n- [ ] read it\n\n",
    markdown="# Handoff\n\n- [ ] read it\n",
    at=AT,
    link="http://127.0.0.1:8000/api/v1/oncall/rotations/payments/handoff?at=x&format=md",
)


@pytest.mark.parametrize(
    ("kind", "target"),
    [
        (ContactKind.EMAIL, "alice@example.org"),
        (ContactKind.WEBHOOK, "http://127.0.0.1:9/hook"),
        (ContactKind.SLACK, "http://127.0.0.1:9/slack"),
    ],
)
def test_every_channel_but_pagerduty_carries_notices(kind: ContactKind, target: str) -> None:
    assert notice_refusal(NOTICE, ContactMethod(kind, target)) is None


def test_pagerduty_is_for_incidents() -> None:
    assert notice_refusal(NOTICE, ContactMethod(ContactKind.PAGERDUTY, "R0UT1NGK3Y")) == (
        "not sent: a handoff is not an incident, and PagerDuty events are for incidents"
    )


def test_the_mail_has_the_subject_on_one_line_and_the_link_last() -> None:
    assert render_notice_email(NOTICE) == EmailText(
        subject="On-call handoff: payments, primary bob → alice",
        body=f"# Handoff\n\n- [ ] read it\n\nIn srekit: {NOTICE.link}\n",
    )
    unlinked = Notice("handoff", "alice", "Hi", "text", "text", AT)
    assert render_notice_email(unlinked) == EmailText(subject="Hi", body="text\n")


def test_the_webhook_says_what_kind_of_notice_it_is() -> None:
    assert render_notice_webhook(NOTICE) == {
        "kind": "handoff",
        "person": "alice",
        "subject": NOTICE.subject,
        "text": NOTICE.text,
        "markdown": NOTICE.markdown,
        "link": NOTICE.link,
        "at": "2026-03-30T07:00:00Z",
    }


def test_slack_gets_a_header_the_markdown_and_a_button() -> None:
    assert render_notice_slack(NOTICE) == {
        "text": f"On-call handoff: payments, primary bob → alice: {NOTICE.link}",
        "blocks": [
            {
                "type": "header",
                "text": {
                    "type": "plain_text",
                    "text": "On-call handoff: payments, primary bob → alice",
                },
            },
            {"type": "section", "text": {"type": "mrkdwn", "text": "# Handoff\n\n- [ ] read it"}},
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Open in srekit"},
                        "url": NOTICE.link,
                    }
                ],
            },
        ],
    }


def test_long_markdown_is_cut_into_sections_slack_accepts() -> None:
    # 2,000-character lines: two never share a 3,000-character section
    lines = [c * 2000 for c in "abc"]
    long_line = "z" * 7000  # cut into 3000 + 3000 + 1000
    notice = Notice("handoff", "alice", "S" * 200, "", "\n".join([*lines, long_line]), AT)
    message = render_notice_slack(notice)
    blocks = message["blocks"]
    assert isinstance(blocks, list)
    assert blocks[0]["text"]["text"] == "S" * 150  # a header holds 150 characters
    sections = [block["text"]["text"] for block in blocks[1:]]
    assert sections == [lines[0], lines[1], lines[2], "z" * 3000, "z" * 3000, "z" * 1000]
    assert message["text"] == "S" * 200  # no link, no button
    assert all(block["type"] == "section" for block in blocks[1:])


def test_past_45_sections_the_rest_is_left_to_the_link() -> None:
    notice = Notice("handoff", "alice", "S", "", "\n".join(["x" * 2000] * 60), AT)
    blocks = render_notice_slack(notice)["blocks"]
    assert isinstance(blocks, list)
    assert len(blocks) == 1 + 45
