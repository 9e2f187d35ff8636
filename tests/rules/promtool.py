"""Run Debian's promtool on generated rules; `make test` installs it when missing."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

__all__ = ["promtool"]


def promtool(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run promtool, failing (not skipping) with a clear message when it is not installed."""
    binary = shutil.which("promtool")
    if binary is None:
        pytest.fail(
            "promtool is not installed: run `make test`, which installs Debian's prometheus"
        )
    return subprocess.run(
        [binary, *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=120, check=False
    )
