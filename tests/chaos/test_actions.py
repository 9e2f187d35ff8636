"""srekit's own faults: a hog is a real process that ends by itself when its time is over (the
fault's TTL), and `stop_hogs` stops one sooner."""

from __future__ import annotations

import os
import time

import pytest

from srekit.chaos.actions import hog_cpu, hog_memory, stop_hogs


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _wait_gone(pid: int, within_s: float) -> float:
    started = time.monotonic()
    while _alive(pid):
        assert time.monotonic() - started < within_s, f"hog {pid} still running"
        time.sleep(0.05)
    return time.monotonic() - started


def test_a_hog_ends_by_itself_when_its_time_is_over() -> None:
    (pid,) = hog_cpu(workers=1, seconds=1)["pids"]
    assert _alive(pid)
    assert _wait_gone(pid, within_s=10) >= 0.5  # it ran, then ended on its own


def test_stop_hogs_stops_them_sooner() -> None:
    (pid,) = hog_memory(megabytes=8, seconds=60)["pids"]
    time.sleep(0.2)
    assert pid in stop_hogs()["stopped"]
    assert _wait_gone(pid, within_s=5) < 5


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: hog_cpu(workers=0), "workers"),
        (lambda: hog_cpu(seconds=float("nan")), "seconds"),
        (lambda: hog_cpu(seconds=1e309), "seconds"),
        (lambda: hog_cpu(seconds=True), "seconds"),
        (lambda: hog_memory(megabytes="1"), "megabytes"),  # type: ignore[arg-type]
        (lambda: hog_memory(seconds=3601), "seconds"),
    ],
)
def test_bad_arguments_are_refused_before_anything_starts(call: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()  # type: ignore[operator]
