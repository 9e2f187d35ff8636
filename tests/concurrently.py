"""Changes made at once from threads, for the tests that prove none is lost."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

__all__ = ["at_once"]

T = TypeVar("T")


def at_once(
    change: Callable[[T], object], arguments: Sequence[T], *, timeout_s: float = 30
) -> list[BaseException]:
    """Call `change(argument)` for each argument, each in a thread of its own, all released
    together; what they raised, for the test to assert on in its own thread."""
    barrier = threading.Barrier(len(arguments))
    errors: list[BaseException] = []

    def run(argument: T) -> None:
        try:
            barrier.wait(5)
            change(argument)
        except BaseException as error:  # reported to the test, in its thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(argument,)) for argument in arguments]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout_s)
    assert not any(thread.is_alive() for thread in threads), f"not done within {timeout_s:g} s"
    return errors
