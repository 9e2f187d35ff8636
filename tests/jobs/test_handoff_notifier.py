"""The handoff notifier on SQLite and PostgreSQL, with a real local HTTP receiver as the
incoming primary's webhook: the story of tests/handoff_story.py (bob's override hands the
primary to alice on Monday 2026-03-30 09:00 Berlin, 07:00 UTC; bob takes over on 04-06).
One POST per handoff, none again after a second round or from a second instance, none for
a handoff first seen more than an hour late."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from srekit.config import Settings
from srekit.core.people import ContactKind, ContactMethod, Person
from srekit.jobs.handoff_notifier import HandoffNotifier
from srekit.store.database import transaction
from srekit.store.repo import add_person
from srekit.store.repo.handoff_notices import handoff_notices
from tests.handoff_story import AT, store_rotation, write_story
from tests.notifiers.conftest import Answer, HttpReceiver

MINUTE = timedelta(minutes=1)
BOB_TAKES_OVER = datetime(2026, 4, 6, 7, 0, tzinfo=UTC)  # Mon 09:00 CEST, a week on


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    server = HttpReceiver()
    yield server
    server.close()


@pytest.fixture
def story(engine: Engine, receiver: HttpReceiver) -> Engine:
    write_story(engine)
    store_rotation(engine)
    with transaction(engine) as session:
        for name in ("alice", "bob"):
            contact = ContactMethod(ContactKind.WEBHOOK, f"{receiver.url}/hooks/{name}")
            add_person(session, person=Person(name=name, contacts=(contact,)), actor="ana")
    return engine


def _notifier(engine: Engine, **more: object) -> HandoffNotifier:
    settings = Settings(
        notify_retries=1,
        notify_backoff_s=0,
        public_url="https://srekit.example.org",
        handoff_notify=True,
        handoff_notify_interval_s=0.05,
    )
    job = HandoffNotifier.from_settings(engine, settings)
    for name, value in more.items():
        setattr(job, name, value)
    return job


def _rows(engine: Engine) -> list[tuple[datetime, str, datetime | None, bool | None]]:
    with transaction(engine, read_only=True) as session:
        return [(r.at, r.member, r.sent_at, r.delivered) for r in handoff_notices(session)]


def test_each_handoff_is_sent_once_across_rounds_and_instances(
    story: Engine, receiver: HttpReceiver
) -> None:
    first, second = _notifier(story), _notifier(story)
    try:
        done = first.run_once(at=AT + 10 * MINUTE)
        assert done is not None
        assert [(d.rotation, d.due.at, d.due.member, d.stale) for d in done] == [
            ("payments", AT, "alice", False)
        ]
        (post,) = receiver.received
        assert post.path == "/hooks/alice"
        assert post.json["kind"] == "handoff"
        assert post.json["person"] == "alice"
        assert post.json["at"] == "2026-03-30T07:00:00Z"
        assert post.json["subject"] == (
            "On-call handoff: payments, primary bob (override) → alice at Mon 2026-03-30 09:00 CEST"
        )
        assert post.json["link"] == (
            "https://srekit.example.org/api/v1/oncall/rotations/payments/handoff"
            "?at=2026-03-30T07:00:00Z&format=md"
        )
        assert _rows(story) == [(AT, "alice", AT + 10 * MINUTE, True)]
        # a second round; then a second instance (a restart, a replica taking the lead once
        # the first let go of it) looking back a day
        assert first.run_once(at=AT + 20 * MINUTE) == []
        first.stop()
        assert second.run_once(at=AT + 30 * MINUTE) == []
        assert len(receiver.received) == 1
        assert _rows(story) == [(AT, "alice", AT + 10 * MINUTE, True)]
    finally:
        first.stop()
        second.stop()


def test_a_handoff_first_seen_over_an_hour_late_is_recorded_not_sent(
    story: Engine, receiver: HttpReceiver
) -> None:
    late = _notifier(story)
    try:
        # the server was down through bob's Monday handoff, back 61 minutes after it
        done = late.run_once(at=BOB_TAKES_OVER + 61 * MINUTE)
        assert done is not None
        assert [(d.due.at, d.due.member, d.stale, d.sent) for d in done] == [
            (BOB_TAKES_OVER, "bob", True, None)
        ]
        assert receiver.received == []
        assert _rows(story) == [(BOB_TAKES_OVER, "bob", None, False)]
        assert late.run_once(at=BOB_TAKES_OVER + 62 * MINUTE) == []
        late.stop()
        again = _notifier(story)  # restarted: it looks back a day, and skips what is recorded
        assert again.run_once(at=BOB_TAKES_OVER + 63 * MINUTE) == []
        again.stop()
        assert receiver.received == []
    finally:
        late.stop()


def test_an_hour_late_exactly_is_still_sent_and_a_failed_delivery_is_recorded(
    story: Engine, receiver: HttpReceiver
) -> None:
    receiver.default = Answer(503, b"down")
    job = _notifier(story)
    try:
        done = job.run_once(at=BOB_TAKES_OVER + 60 * MINUTE)
        assert done is not None
        (item,) = done
        assert item.sent is not None
        assert not item.sent.delivered
        assert [r.path for r in receiver.received] == ["/hooks/bob"]  # one try, not redone
        assert _rows(story) == [(BOB_TAKES_OVER, "bob", BOB_TAKES_OVER + 60 * MINUTE, False)]
        assert job.run_once(at=BOB_TAKES_OVER + 61 * MINUTE) == []
        assert len(receiver.received) == 1
    finally:
        job.stop()


def test_the_loop_sends_on_its_own_clock(story: Engine, receiver: HttpReceiver) -> None:
    job = _notifier(story, clock=lambda: AT + 5 * MINUTE)
    job.start()
    try:
        deadline = time.monotonic() + 10
        while not receiver.received and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.2)  # a few more rounds: nothing more
    finally:
        job.stop()
    assert [r.path for r in receiver.received] == ["/hooks/alice"]
    assert job.last_checked == AT + 5 * MINUTE


def test_the_settings_are_off_by_default_and_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pydantic import ValidationError

    defaults = Settings()
    assert (defaults.handoff_notify, defaults.handoff_notify_interval_s) == (False, 60.0)
    monkeypatch.setenv("SREKIT_HANDOFF_NOTIFY", "true")
    monkeypatch.setenv("SREKIT_HANDOFF_NOTIFY_INTERVAL_S", "15")
    assert (Settings().handoff_notify, Settings().handoff_notify_interval_s) == (True, 15.0)
    monkeypatch.setenv("SREKIT_HANDOFF_NOTIFY_INTERVAL_S", "0")
    with pytest.raises(ValidationError, match="handoff_notify_interval_s"):
        Settings()
