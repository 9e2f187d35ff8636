"""srekit.chaos.probes against a real event store: the burn rate and the budget left, read as
`srekit status` reads them, checked against figures computed by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from srekit.chaos.probes import error_budget_remaining, slo_burn_rate
from srekit.cli.main import app
from srekit.errors import SourceUnavailable, SpecError

SPECS = str(Path(__file__).resolve().parents[2] / "examples" / "slos" / "checkout.yaml")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SREKIT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SREKIT_PROMETHEUS_URL", "")
    return tmp_path


def _ingest(home: Path, statuses: list[int]) -> None:
    now = datetime.now(UTC)
    lines = []
    for index, status in enumerate(statuses):  # 20 s apart, the last 10 s ago: all within 5m
        at = now - timedelta(seconds=10 + 20 * (len(statuses) - 1 - index))
        stamp = at.strftime("%d/%b/%Y:%H:%M:%S +0000")
        lines.append(f'10.0.0.1 - - [{stamp}] "GET /api/cart HTTP/1.1" {status} 10 "-" "t" 0.010')
    log = home / "access.log"
    log.write_text("\n".join(lines) + "\n")
    result = CliRunner().invoke(
        app, ["events", "ingest", str(log), "--service", "checkout", "--format", "nginx"]
    )
    assert result.exit_code == 0, result.output


def test_burn_rate_and_budget_from_the_event_store(home: Path) -> None:
    _ingest(home, [500] + [200] * 9)
    # 1 bad of 10 against 99.5 %: error ratio 0.1, burn rate 0.1 / 0.005 = 20;
    # the 7d budget allows 0.005 * 10 = 0.05 bad events: 1 is 20 budgets, 1 - 20 = -19 left
    assert slo_burn_rate("checkout/availability", window="5m", specs=SPECS) == pytest.approx(20)
    assert error_budget_remaining("checkout/availability", specs=SPECS) == pytest.approx(-19)
    # the latency SLO: every request took 10 ms, none over 300 ms
    assert slo_burn_rate("checkout/latency", specs=[SPECS]) == 0.0


def test_no_data_and_bad_names_raise(home: Path) -> None:
    with pytest.raises(SpecError, match="no SLO checkout/nothing"):
        slo_burn_rate("checkout/nothing", specs=SPECS)
    _ingest(home, [200])
    with pytest.raises(SpecError, match="expected a window among"):
        slo_burn_rate("checkout/availability", window="7m", specs=SPECS)
    empty = home / "empty-home"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SREKIT_HOME", str(empty))
        with pytest.raises(SourceUnavailable):
            error_budget_remaining("checkout/availability", specs=SPECS)
