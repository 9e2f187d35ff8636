"""docs/report.md's sample report is what `srekit report monthly` prints for the stored story."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from srekit.store.database import create_store_engine
from tests.cli.conftest import Cli
from tests.report_story import store_story

ROOT = Path(__file__).resolve().parents[2]
_SAMPLE = re.compile(r"<!-- sample of: (srekit [^\n]*?) -->\n````markdown\n(.*?)````", re.DOTALL)


def test_the_docs_sample_is_what_the_command_prints(cli: Cli) -> None:
    found = _SAMPLE.findall((ROOT / "docs" / "report.md").read_text())
    assert len(found) == 1
    command, shown = found[0]
    assert "--at" in command  # pinned in time
    for service in ("checkout", "catalog"):
        code, _, err = cli(
            "events", "ingest", f"{ROOT}/examples/logs/{service}.access.log.gz",
            "--service", service,
        )  # fmt: skip
        assert code == 0, err
    code, _, err = cli("db", "upgrade")
    assert code == 0, err
    engine = create_store_engine(cli.env["SREKIT_DATABASE_URL"])
    try:
        store_story(engine)
    finally:
        engine.dispose()
    code, out, err = cli(*shlex.split(command)[1:])
    assert code == 0, err
    assert out == shown
    assert "| checkout/availability | -20 % | 120 % | spent |" in shown
