"""Where the upstream conformance files (Sloth, OpenSLO) live, or skip the test.

They sit next to the repository (`../shared/conformance`), not in it; `SREKIT_CONFORMANCE_DIR`
points elsewhere. Tests that need them skip, with the reason, when neither exists.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

__all__ = ["conformance_dir"]

_REPO_ROOT = Path(__file__).resolve().parents[1]


def conformance_dir() -> Path:
    """The conformance directory (holding `sloth/` and `openslo/`), or pytest.skip."""
    configured = os.environ.get("SREKIT_CONFORMANCE_DIR")
    if configured:
        path = Path(configured)
        if path.is_dir():
            return path
        pytest.skip(f"SREKIT_CONFORMANCE_DIR={configured} is not a directory")
    path = (_REPO_ROOT / ".." / "shared" / "conformance").resolve()
    if path.is_dir():
        return path
    pytest.skip(
        "conformance files not found: set SREKIT_CONFORMANCE_DIR or place them in"
        " ../shared/conformance next to the repository"
    )
