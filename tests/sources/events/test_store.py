"""The store itself: a read-only store that was never created."""

from __future__ import annotations

from pathlib import Path

import pytest

from srekit.errors import SourceUnavailable
from srekit.sources.events import EventStore


def test_read_only_store_that_does_not_exist_is_unavailable(tmp_path: Path) -> None:
    assert not EventStore.exists(tmp_path / "missing")
    with pytest.raises(SourceUnavailable, match="no event store"):
        EventStore(tmp_path / "missing", read_only=True).stats()
