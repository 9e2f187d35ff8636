"""`srekit db upgrade|revision` on both engines."""

from __future__ import annotations

from srekit.store.database import head_revision
from tests.cli.conftest import Cli


def test_db_upgrade_then_revision(cli: Cli) -> None:
    code, out, _ = cli("db", "revision")
    assert code == 1
    assert f"revision none (srekit needs {head_revision()})" in out
    code, out, _ = cli("db", "upgrade")
    assert code == 0
    assert f"upgraded empty → {head_revision()}" in out
    code, out, _ = cli("db", "upgrade")
    assert f"already at revision {head_revision()}" in out
    assert cli("db", "revision")[0] == 0
