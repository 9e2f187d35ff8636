"""The intake queue: notifications waiting together are written in one transaction, each
sender gets its own outcome after the commit, and what is stored is what one sender
delivering them one by one stores."""

from __future__ import annotations

import random
import threading
import time
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypedDict

import pytest
from sqlalchemy import Engine

from srekit.errors import SpecError
from srekit.flows.intake import IntakeResult, receive_notifications
from srekit.jobs import intake_queue
from srekit.jobs.intake_queue import IntakeQueue
from srekit.store import repo
from srekit.store.database import transaction
from tests.flows.test_intake import (
    NOW,
    SEQUENCE,
    T0,
    M,
    _alert,
    _bad_service,
    _deliver,
    _local_shuffle,
    _notification,
    _sqlite,
    _state,
)


def _running(future: Future[IntakeResult]) -> None:
    """Wait until the writer took the future's notification (it is then blocked on the write
    lock the test holds, so what is submitted next waits for the next batch)."""
    for _ in range(1000):
        if future.running():
            return
        time.sleep(0.005)
    raise AssertionError("the writer never took the notification")


def test_concurrent_senders_through_the_queue_store_what_one_sender_does(
    engine: Engine, tmp_path: Path
) -> None:
    expected = _sqlite(tmp_path / "expected.db")
    _deliver(expected, SEQUENCE)
    intake = IntakeQueue(engine)
    errors: list[BaseException] = []
    sent: list[int] = []

    def sender(seed: int) -> None:
        try:
            for notification in _local_shuffle(random.Random(seed), SEQUENCE):
                intake.submit(notification, now=NOW).result(timeout=60)
                sent.append(1)
        except BaseException as error:  # reported below, not lost in the thread
            errors.append(error)

    threads = [threading.Thread(target=sender, args=(seed,)) for seed in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    intake.stop()
    assert errors == []
    assert _state(engine) == _state(expected)
    assert 0 < intake.batches <= len(sent)


def test_notifications_waiting_together_are_written_in_one_transaction(tmp_path: Path) -> None:
    engine = _sqlite(tmp_path / "state.db")
    intake = IntakeQueue(engine)
    with transaction(engine):  # another writer holds the write lock: the writer waits
        first = intake.submit(SEQUENCE[0], now=NOW)
        _running(first)
        rest = [intake.submit(notification, now=NOW) for notification in SEQUENCE[1:]]
    results = [first.result(timeout=30), *(future.result(timeout=30) for future in rest)]
    intake.stop()
    assert intake.batches == 2  # the first alone, then the eight that waited meanwhile
    assert [r.new_alerts for r in results] == [1, 1, 1, 0, 0, 0, 1, 0, 1]
    assert [r.resolved_alerts for r in results] == [0, 0, 0, 1, 1, 1, 0, 1, 0]
    expected = _sqlite(tmp_path / "expected.db")
    _deliver(expected, SEQUENCE)
    assert _state(engine) == _state(expected)


def test_a_bad_notification_fails_its_sender_alone(engine: Engine, tmp_path: Path) -> None:
    bad = _notification(_alert("x1", starts=T0 + 3 * M), _bad_service("x2", starts=T0 + 4 * M))
    intake = IntakeQueue(engine)
    futures = [intake.submit(n, now=NOW) for n in (SEQUENCE[0], bad, SEQUENCE[1], SEQUENCE[2])]
    with pytest.raises(SpecError, match="Not A Name"):
        futures[1].result(timeout=30)
    results = [futures[i].result(timeout=30) for i in (0, 2, 3)]
    intake.stop()
    assert [r.new_alerts for r in results] == [1, 1, 1]
    expected = _sqlite(tmp_path / "expected.db")
    _deliver(expected, SEQUENCE[:3])
    assert _state(engine) == _state(expected)


def test_a_cancelled_notification_is_not_written(tmp_path: Path) -> None:
    engine = _sqlite(tmp_path / "state.db")
    intake = IntakeQueue(engine)
    with transaction(engine):
        first = intake.submit(SEQUENCE[0], now=NOW)
        _running(first)
        given_up = intake.submit(SEQUENCE[2], now=NOW)
        kept = intake.submit(SEQUENCE[1], now=NOW)
        assert given_up.cancel()  # its sender went away before the writer took it
    assert kept.result(timeout=30).new_alerts == 1
    intake.stop()
    assert first.result().new_alerts == 1
    with transaction(engine, read_only=True) as session:
        assert not repo.notification_seen(session, body=SEQUENCE[2].body)
        assert repo.notification_seen(session, body=SEQUENCE[1].body)


def test_stop_writes_what_is_waiting_then_ends_the_writer(tmp_path: Path) -> None:
    engine = _sqlite(tmp_path / "state.db")
    intake = IntakeQueue(engine)
    futures = [intake.submit(notification, now=NOW) for notification in SEQUENCE]
    intake.stop()
    assert all(future.done() for future in futures)
    assert [f.result().new_alerts for f in futures] == [1, 1, 1, 0, 0, 0, 1, 0, 1]
    assert not any(t.name == "srekit-intake-writer" for t in threading.enumerate())
    later = intake.submit(SEQUENCE[0], now=NOW)  # a late sender starts it again
    assert later.result(timeout=30).duplicate
    intake.stop()


class Bounds(TypedDict, total=False):
    """IntakeQueue's batch bounds a test sets (the others keep their defaults)."""

    max_notifications: int
    max_alerts: int


@pytest.mark.parametrize(
    ("bounds", "batches"),
    [
        ({"max_notifications": 2}, 1 + 4),  # eight waiting, two a batch
        # alerts of the eight waiting: 2 | 1 2 | 2 | 1 1 | 1 1 (a batch stops at 2 or more)
        ({"max_alerts": 2}, 1 + 5),
    ],
)
def test_a_batch_holds_what_waits_within_its_bounds(
    tmp_path: Path, bounds: Bounds, batches: int
) -> None:
    engine = _sqlite(tmp_path / "state.db")
    intake = IntakeQueue(engine, **bounds)
    with transaction(engine):
        first = intake.submit(SEQUENCE[0], now=NOW)
        _running(first)
        rest = [intake.submit(notification, now=NOW) for notification in SEQUENCE[1:]]
    assert [len(n.alerts) for n in SEQUENCE[1:]] == [2, 1, 2, 2, 1, 1, 1, 1]
    for future in rest:
        future.result(timeout=30)
    intake.stop()
    assert intake.batches == batches


def test_the_writer_outlives_a_batch_that_raises(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug in a batch fails its senders, not the intake: the next batch is written."""
    engine = _sqlite(tmp_path / "state.db")
    intake = IntakeQueue(engine)
    real = receive_notifications  # what the queue calls, until the test's stands in
    calls: list[int] = []

    def failing_once(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("a bug")
        return real(*args, **kwargs)

    monkeypatch.setattr(intake_queue, "receive_notifications", failing_once)
    with pytest.raises(RuntimeError, match="a bug"):
        intake.submit(SEQUENCE[0], now=NOW).result(timeout=30)
    assert intake.submit(SEQUENCE[0], now=NOW).result(timeout=30).new_alerts == 1
    intake.stop()


def test_a_full_queue_refuses_without_queueing_and_takes_again_once_drained(
    tmp_path: Path,
) -> None:
    engine = _sqlite(tmp_path / "state.db")
    intake = IntakeQueue(engine, max_waiting=2)
    with transaction(engine):  # the writer takes the first, then waits for the write lock
        first = intake.submit(SEQUENCE[0], now=NOW)
        _running(first)
        waiting = [intake.submit(n, now=NOW) for n in SEQUENCE[1:3]]
        with pytest.raises(intake_queue.IntakeFull, match="2 notifications waiting"):
            intake.submit(SEQUENCE[3], now=NOW)
        assert intake.refused == 1
    assert [f.result(timeout=30).new_alerts for f in (first, *waiting)] == [1, 1, 1]
    # drained: the refused one is taken when sent again, as Alertmanager does after a 503
    assert intake.submit(SEQUENCE[3], now=NOW).result(timeout=30).resolved_alerts == 1
    intake.stop()
    expected = _sqlite(tmp_path / "expected.db")
    _deliver(expected, SEQUENCE[:4])
    assert _state(engine) == _state(expected)
