"""Actions an experiment calls by name: CPU and memory hogs with a time limit.

Each hog is a separate process that ends itself when its `seconds` are over, whatever happens
to the run that started it: the fault carries its own TTL. `stop_hogs` (a rollback) stops
the hogs this user started sooner. They are found by the marker in their command line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

__all__ = ["MAX_SECONDS", "hog_cpu", "hog_memory", "stop_hogs"]

MAX_SECONDS = 3600  # an hour of exhaustion is the most an experiment may ask for
_MARKER = "srekit-chaos-hog"
_CPU = "import time\nend = time.monotonic() + {seconds}\nwhile time.monotonic() < end:\n    pass\n"
_MEMORY = (
    "import time\nend = time.monotonic() + {seconds}\n"
    "held = bytearray({size})\n"
    "for at in range(0, len(held), 4096):\n    held[at] = 1\n"
    "time.sleep(max(0.0, end - time.monotonic()))\n"
)


def _checked(value: Any, name: str, *, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= high:
        raise ValueError(f"{name}: expected a number above 0 and at most {high:g}, got {value!r}")
    return float(value)


def _spawn(code: str) -> int:
    process = subprocess.Popen(  # srekit's own code, no shell; detached so it outlives the run
        [sys.executable, "-c", f"# {_MARKER}\n{code}", _MARKER],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    # reaped when it ends (no zombie while this process lives); it outlives this process
    threading.Thread(target=process.wait, daemon=True).start()
    return process.pid


def hog_cpu(workers: int = 1, seconds: float = 30) -> dict[str, Any]:
    """Keep `workers` CPUs busy for `seconds`; returns the hogs' process ids."""
    count = int(_checked(workers, "workers", high=(os.cpu_count() or 1) * 4))
    duration = _checked(seconds, "seconds", high=MAX_SECONDS)
    pids = [_spawn(_CPU.format(seconds=duration)) for _ in range(count)]
    return {"pids": pids, "seconds": duration}


def hog_memory(megabytes: int = 256, seconds: float = 30) -> dict[str, Any]:
    """Hold `megabytes` of memory (every page touched) for `seconds`."""
    size = int(_checked(megabytes, "megabytes", high=1_048_576)) * 1024 * 1024
    duration = _checked(seconds, "seconds", high=MAX_SECONDS)
    return {"pids": [_spawn(_MEMORY.format(seconds=duration, size=size))], "seconds": duration}


def stop_hogs() -> dict[str, Any]:
    """Stop every hog this user started (SIGTERM); returns the ids stopped."""
    stopped = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if entry.stat().st_uid != os.getuid():
                continue
            arguments = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if _MARKER.encode() in arguments[-2:]:
            try:
                os.kill(int(entry.name), signal.SIGTERM)
                stopped.append(int(entry.name))
            except ProcessLookupError:
                continue
    return {"stopped": sorted(stopped)}
