"""What several benchmarks need of the machine: a free loopback port, and a process's CPU."""

from __future__ import annotations

import os
import socket
from pathlib import Path

__all__ = ["cpu_s", "free_port"]


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now (the kernel's pick)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of process `pid` so far, from Linux's /proc (0 where there
    is none, or the process is gone): on a shared machine the CPU a piece of work took moves
    much less than its wall-clock time."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
