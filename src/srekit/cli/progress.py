"""Progress on stderr for work that can take more than a couple of seconds: reading many spec
documents, ingesting a big log, the demo's replay of the example logs.

A bar is drawn only when stderr is a terminal that can redraw a line (`progress_wanted`):
never in a pipe, a CI log or a test. It appears once the work has gone on for `SHOW_AFTER_S`
seconds, and is cleared when the work ends, so what a command prints, on stdout and stderr,
is the same with it or without it.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TextIO

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

__all__ = [
    "SHOW_AFTER_S",
    "Bar",
    "IngestBar",
    "SpecReadingBar",
    "ingest_progress",
    "progress_wanted",
    "spec_progress",
    "stored_progress",
]

SHOW_AFTER_S = 2.0
_UPDATE_EVERY_S = 0.1  # a bar redraws 10 times a second: more updates would be work for nothing


def progress_wanted(
    stream: TextIO | None = None, *, environ: Mapping[str, str] | None = None
) -> bool:
    """Whether a progress bar may be drawn on `stream` (stderr): only a terminal, and not one
    that cannot move the cursor (TERM=dumb). FORCE_COLOR does not count: CI logs set it."""
    shown = sys.stderr if stream is None else stream
    try:
        terminal = shown.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False
    return terminal and (os.environ if environ is None else environ).get("TERM") != "dumb"


class Bar:
    """One bar of work, drawn on `console` once the work has gone on for `show_after_s`
    seconds, then redrawn with each `update` (at most 10 times a second); `close` clears it.
    It counts `bytes` (`12.5/50.0 MB`) or `items` (`1200/5000`). Updates may come from
    another thread."""

    def __init__(
        self,
        description: str,
        *,
        total: float | None,
        console: Console,
        show_after_s: float = SHOW_AFTER_S,
        counting: Literal["bytes", "items"] = "bytes",
    ) -> None:
        self.description = description
        self.total = total
        self.counting = counting
        self.console = console
        self.show_after_s = show_after_s
        self.started_at = time.monotonic()
        self._lock = threading.Lock()
        self._shown: tuple[Progress, TaskID] | None = None
        self._updated_at = 0.0
        self._closed = False

    def update(self, *, completed: float, detail: str = "") -> None:
        """Show `completed` (of `total`) and `detail`; skipped when the last update was less
        than a tenth of a second ago."""
        now = time.monotonic()
        with self._lock:
            if self._closed or now - self._updated_at < _UPDATE_EVERY_S:
                return
            if self._shown is None:
                if now - self.started_at < self.show_after_s:
                    return
                self._shown = self._started()
            self._updated_at = now
            progress, task = self._shown
            progress.update(task, completed=completed, detail=detail)

    def _started(self) -> tuple[Progress, TaskID]:
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
        )

        progress = Progress(
            SpinnerColumn(),  # turns while the work goes on, even when no count moves
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn() if self.counting == "bytes" else MofNCompleteColumn(),
            TextColumn("{task.fields[detail]}"),
            console=self.console,
            transient=True,
            # stdout stays where it goes: never through the bar's console (stderr)
            redirect_stdout=False,
            redirect_stderr=False,
        )
        task = progress.add_task(self.description, total=self.total, detail="")
        progress.start()
        return progress, task

    def close(self) -> None:
        """Clear the bar, if it was drawn; later updates are ignored."""
        with self._lock:
            self._closed = True
            if self._shown is not None:
                self._shown[0].stop()


def _bar_console() -> Console:
    from rich.console import Console

    # progress_wanted has decided that stderr is a terminal; colours still follow NO_COLOR
    return Console(stderr=True, force_terminal=True)


class SpecReadingBar:
    """Reading spec files (`spec.document.ReadProgress`): bytes of all files, documents read,
    which file of how many."""

    def __init__(self, bar: Bar, *, files: int) -> None:
        self.bar = bar
        self.files = files
        self.files_read = 0
        self.documents = 0
        self.bytes_read = 0

    def document_read(self, *, bytes_read: int) -> None:
        self.documents += 1
        self.bytes_read += bytes_read
        self._show()

    def file_read(self, *, bytes_read: int) -> None:
        self.files_read += 1
        self.bytes_read += bytes_read
        self._show()

    def _show(self) -> None:
        file = f" · file {min(self.files_read + 1, self.files)} of {self.files}"
        self.bar.update(
            completed=self.bytes_read,
            detail=f"{self.documents:,} documents" + (file if self.files > 1 else ""),
        )


@contextmanager
def spec_progress(paths: Sequence[Path]) -> Iterator[SpecReadingBar | None]:
    """A bar for reading the spec files at `paths` when stderr is a terminal, else None."""
    if not progress_wanted():
        yield None
        return
    from srekit.spec.document import spec_files

    files = [file for path in paths for file in spec_files(path)]
    total = sum(file.stat().st_size for file in files)
    bar = Bar("reading specs", total=total, console=_bar_console(), show_after_s=SHOW_AFTER_S)
    try:
        yield SpecReadingBar(bar, files=len(files))
    finally:
        bar.close()


class IngestBar:
    """Ingesting one file (`sources.events.IngestProgress`): its bytes hashed, then how far
    the event store has got reading and storing them."""

    def __init__(self, bar: Bar, *, size: int) -> None:
        self.bar = bar
        self.size = size

    def step(self, name: str, *, done: float | None) -> None:
        # a step whose progress cannot be told (storing) comes after every byte was read
        self.bar.update(completed=self.size if done is None else done * self.size, detail=name)


@contextmanager
def ingest_progress(file: Path, *, description: str) -> Iterator[IngestBar | None]:
    """A bar for ingesting `file` when stderr is a terminal, else None."""
    if not progress_wanted():
        yield None
        return
    try:
        size = file.stat().st_size
    except OSError:  # the ingest says what is wrong with the file
        yield None
        return
    bar = Bar(description, total=size, console=_bar_console(), show_after_s=SHOW_AFTER_S)
    try:
        yield IngestBar(bar, size=size)
    finally:
        bar.close()


@contextmanager
def stored_progress(total: int, *, description: str) -> Iterator[Callable[[int], None] | None]:
    """A bar counting `total` things stored, told how many so far, when stderr is a terminal,
    else None."""
    if not progress_wanted():
        yield None
        return
    bar = Bar(
        description,
        total=total,
        console=_bar_console(),
        show_after_s=SHOW_AFTER_S,
        counting="items",
    )

    def stored(count: int) -> None:
        bar.update(completed=count)

    try:
        yield stored
    finally:
        bar.close()
