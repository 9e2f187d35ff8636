"""The handoff notices on SQLite and PostgreSQL: a handoff is claimed once per rotation and
instant, whoever asks again; its outcome is stamped after; a late one is recorded unsent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from srekit.store.database import transaction
from srekit.store.repo.handoff_notices import (
    claim_handoff_notice,
    handoff_notices,
    record_handoff_delivery,
    seen_handoffs,
)

AT = datetime(2026, 3, 30, 7, 0, tzinfo=UTC)


def test_a_handoff_is_claimed_once_and_stamped_after(engine: Engine) -> None:
    with transaction(engine) as session:
        assert claim_handoff_notice(session, rotation="payments", at=AT, member="alice")
    with transaction(engine) as session:  # another round, another replica
        assert not claim_handoff_notice(session, rotation="payments", at=AT, member="alice")
        # the same instant on another rotation is its own handoff
        assert claim_handoff_notice(session, rotation="search", at=AT, member="bob")
    with transaction(engine, read_only=True) as session:
        (claimed,) = handoff_notices(session, rotation="payments")
        assert (claimed.member, claimed.at, claimed.sent_at, claimed.delivered) == (
            "alice",
            AT,
            None,
            None,  # claimed, outcome not known yet
        )
    sent_at = AT + timedelta(seconds=30)
    with transaction(engine) as session:
        record_handoff_delivery(
            session, rotation="payments", at=AT, sent_at=sent_at, delivered=True
        )
    with transaction(engine, read_only=True) as session:
        rows = handoff_notices(session)
        assert [(r.rotation, r.sent_at, r.delivered) for r in rows] == [
            ("payments", sent_at, True),
            ("search", None, None),
        ]


def test_a_late_handoff_is_recorded_not_delivered_and_seen_after_an_instant(
    engine: Engine,
) -> None:
    earlier = AT - timedelta(days=7)
    with transaction(engine) as session:
        assert claim_handoff_notice(
            session, rotation="payments", at=earlier, member="carol", delivered=False
        )
        assert claim_handoff_notice(session, rotation="payments", at=AT, member="alice")
        assert claim_handoff_notice(session, rotation="search", at=AT, member="bob")
    with transaction(engine, read_only=True) as session:
        (late,) = [r for r in handoff_notices(session) if r.at == earlier]
        assert (late.sent_at, late.delivered) == (None, False)
        assert seen_handoffs(session, rotation="payments", since=earlier - timedelta(1)) == {
            earlier,
            AT,
        }
        # since is exclusive: the handoff at that very instant was the previous round's
        assert seen_handoffs(session, rotation="payments", since=earlier) == {AT}
        assert seen_handoffs(session, rotation="billing", since=earlier) == set()
