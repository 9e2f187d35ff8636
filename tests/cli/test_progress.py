"""Progress bars on stderr: drawn only on a terminal and only for work that lasts, cleared when
it ends; off a terminal (pipes, CI, CliRunner) the output is what it always was."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rich.console import Console

from srekit.cli import progress as progress_module
from srekit.cli.progress import Bar, IngestBar, SpecReadingBar, progress_wanted
from tests.cli.conftest import EXAMPLES, run


def _terminal(buffer: io.StringIO) -> Console:
    return Console(file=buffer, force_terminal=True, width=120, color_system=None)


def test_a_bar_is_wanted_on_a_terminal_only() -> None:
    primary, secondary = pty.openpty()
    try:
        with os.fdopen(secondary, "w", closefd=False) as terminal:
            assert progress_wanted(terminal, environ={"TERM": "xterm-256color"})
            assert not progress_wanted(terminal, environ={"TERM": "dumb"})
    finally:
        os.close(primary)
        os.close(secondary)
    # CI sets FORCE_COLOR: a pipe is still a pipe
    assert not progress_wanted(io.StringIO(), environ={"FORCE_COLOR": "1"})
    closed = io.StringIO()
    closed.close()
    assert not progress_wanted(closed, environ={})


def test_the_bar_shows_counts_once_the_work_lasts_and_is_cleared() -> None:
    buffer = io.StringIO()
    bar = Bar("reading specs", total=50_000_000, console=_terminal(buffer), show_after_s=0)
    reading = SpecReadingBar(bar, files=3)
    for _ in range(1_249):
        reading.document_read(bytes_read=10_000)
    time.sleep(0.15)  # a tenth of a second between redraws
    reading.document_read(bytes_read=10_000)
    bar.close()
    drawn = buffer.getvalue()
    assert "reading specs" in drawn
    assert "1,250 documents · file 1 of 3" in drawn
    assert "12.5/50.0 MB" in drawn  # 1,250 × 10 kB of 50 MB
    assert drawn.rstrip().endswith("\x1b[2K")  # the last thing drawn erases the bar's line


def test_a_bar_of_things_stored_counts_them() -> None:
    buffer = io.StringIO()
    bar = Bar("storing SLOs", total=5_000, console=_terminal(buffer), counting="items")
    bar.started_at -= 2.5  # as if the work had begun before the bar's delay
    bar.update(completed=1_200)
    bar.close()
    assert "storing SLOs" in buffer.getvalue()
    assert "1200/5000" in buffer.getvalue()


def test_an_ingest_bar_shows_its_steps() -> None:
    buffer = io.StringIO()
    bar = Bar("ingesting big.log", total=40_000_000, console=_terminal(buffer), show_after_s=0)
    ingest = IngestBar(bar, size=40_000_000)
    ingest.step("reading", done=0.25)
    time.sleep(0.15)
    ingest.step("storing", done=None)  # how far, unknown: every byte was read by then
    bar.close()
    drawn = buffer.getvalue()
    assert "10.0/40.0 MB reading" in drawn
    assert "40.0/40.0 MB storing" in drawn


def test_work_shorter_than_the_delay_draws_nothing() -> None:
    buffer = io.StringIO()
    bar = Bar("reading specs", total=1_000, console=_terminal(buffer), show_after_s=60)
    SpecReadingBar(bar, files=1).document_read(bytes_read=1_000)
    bar.close()
    bar.update(completed=1_000)  # after close: ignored
    assert buffer.getvalue() == ""


def test_off_a_terminal_the_output_is_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    """Through CliRunner stderr is no terminal: no bar, even with no delay at all."""
    monkeypatch.setattr(progress_module, "SHOW_AFTER_S", 0.0)
    code, out, err = run("slo", "validate", "-f", EXAMPLES / "slos")
    assert (code, err) == (0, "")
    assert out == "valid: 4 SLO(s) for 2 service(s) in 2 file(s), 1 policy(ies)\n"


def test_spec_loading_reports_to_the_bar_on_a_terminal(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """What `srekit slo validate` draws when stderr is a terminal and the work lasts."""
    buffer = io.StringIO()
    monkeypatch.setattr(progress_module, "progress_wanted", lambda: True)
    monkeypatch.setattr(progress_module, "SHOW_AFTER_S", 0.0)
    monkeypatch.setattr(progress_module, "_bar_console", lambda: _terminal(buffer))
    code, out, err = run("slo", "validate", "-f", EXAMPLES / "slos")
    assert (code, err) == (0, "")
    assert out == "valid: 4 SLO(s) for 2 service(s) in 2 file(s), 1 policy(ies)\n"
    drawn = buffer.getvalue()
    assert "reading specs" in drawn
    assert "1 documents · file 1 of 2" in drawn  # the first redraw; later ones are throttled


def test_a_terminal_sees_nothing_of_quick_work() -> None:
    """A real terminal on stderr: work shorter than the delay leaves it untouched."""
    primary, secondary = pty.openpty()
    srekit = str(Path(sys.executable).with_name("srekit"))
    process = subprocess.run(
        [srekit, "slo", "validate", "-f", str(EXAMPLES / "slos")],
        stdout=subprocess.PIPE,
        stderr=secondary,
        env={**os.environ, "TERM": "xterm"},
        timeout=60,
        check=False,
    )
    os.close(secondary)
    os.set_blocking(primary, False)
    try:
        drawn = os.read(primary, 65536)
    except OSError:  # nothing written: EAGAIN, or EIO once the terminal's other end is closed
        drawn = b""
    os.close(primary)
    assert process.returncode == 0
    assert process.stdout == b"valid: 4 SLO(s) for 2 service(s) in 2 file(s), 1 policy(ies)\n"
    assert drawn == b""
