"""`srekit status-page export` and `srekit badge url` through CliRunner, on a store holding
the example SLOs, three days of snapshots rolled up into hours, and an incident."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from srekit.cli.main import app
from srekit.core.incident import Severity
from srekit.core.status_page import BadgeKind, badge_path, sign_badge_path
from srekit.flows.history import compact_history
from srekit.flows.incidents import declare_incident
from srekit.flows.status_page import badge_secret
from srekit.spec.loader import load_specs
from srekit.store.database import create_store_engine, transaction, upgrade
from srekit.store.repo import apply_specs, record_snapshots
from tests.api.conftest import status_for

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
AT = datetime(2026, 11, 30, 12, tzinfo=UTC)
runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    engine = create_store_engine(f"sqlite:///{tmp_path / 'srekit.db'}")
    upgrade(engine)
    specs = load_specs([EXAMPLES / "slos"])
    with transaction(engine) as session:
        apply_specs(session, specs=specs, actor="test", source_formats=specs.formats)
        for back, left in ((0, 0.6), (1, -0.5), (2, 0.8)):
            moment = AT - timedelta(days=back, minutes=1)
            statuses = [
                status_for("catalog", "availability", left, at=moment),
                status_for("checkout", "availability", left, at=moment),
            ]
            record_snapshots(session, statuses=statuses)
    # the daily bars read the hourly rollups
    compact_history(engine, now=AT, raw_s=86400, hourly_s=400 * 86400, grace_s=0)
    declare_incident(
        engine,
        title="Catalog search slow",
        severity=Severity.P2,
        actor="test",
        now=AT - timedelta(hours=2),
        services=["catalog"],
    )
    engine.dispose()
    return tmp_path


def _env(home: Path, services: str = "catalog") -> dict[str, str]:
    return {
        "SREKIT_HOME": str(home),
        "SREKIT_DATABASE_URL": "",
        "SREKIT_STATUS_PAGE_SERVICES": services,
        "SREKIT_PUBLIC_URL": "https://status.example.org",
    }


def test_export_is_reproducible_and_static(home: Path, tmp_path: Path) -> None:
    at = ["--at", "2026-11-30T12:00:00Z"]
    first = runner.invoke(app, ["status-page", "export", str(tmp_path / "a"), *at], env=_env(home))
    assert first.exit_code == 0, first.output
    second = runner.invoke(app, ["status-page", "export", str(tmp_path / "b"), *at], env=_env(home))
    assert second.exit_code == 0
    for name in ("index.html", "status.css"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    html = (tmp_path / "a" / "index.html").read_text(encoding="utf-8")
    assert '<link rel="stylesheet" href="status.css">' in html
    assert "<script" not in html
    assert "All systems operational" in html  # remaining 0.6 at --at, evaluated 1 min before
    assert "Catalog search slow" in html
    assert "checkout" not in html
    # three days: 0.9998 (met), 0.9985 (missed), 0.9996 (met); the rest without a figure
    assert html.count('class="day-good"') == 2
    assert html.count('class="day-bad"') == 1
    assert html.count('class="day-none"') == 87


def test_export_without_services_publishes_nothing(home: Path, tmp_path: Path) -> None:
    done = runner.invoke(app, ["status-page", "export", str(tmp_path / "x")], env=_env(home, ""))
    assert done.exit_code == 0
    html = (tmp_path / "x" / "index.html").read_text(encoding="utf-8")
    assert "No service publishes its status here." in html
    assert "catalog" not in html


def test_badge_url_signs_private_slos(home: Path) -> None:
    public = runner.invoke(app, ["badge", "url", "catalog/availability", "sli"], env=_env(home))
    assert public.exit_code == 0, public.output
    assert (
        public.stdout.strip() == "https://status.example.org/badge/slo/catalog/availability/sli.svg"
    )
    private = runner.invoke(
        app, ["badge", "url", "checkout/availability", "budget", "--format", "json"], env=_env(home)
    )
    assert private.exit_code == 0, private.output
    engine = create_store_engine(f"sqlite:///{home / 'srekit.db'}")
    path = badge_path("checkout", "availability", BadgeKind.BUDGET)
    expected = sign_badge_path(badge_secret(engine), path)
    engine.dispose()
    assert private.stdout.strip() == f"https://status.example.org{path}.json?sig={expected}"


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        (["checkout/nothing", "sli"], "no SLO checkout/nothing"),
        (["checkout", "sli"], "expected SERVICE/NAME"),
        (["checkout/availability", "NaN"], "expected sli, budget, burn or status"),
        (["checkout/availability", "sli", "--format", "png"], "expected svg or json"),
    ],
)
def test_badge_url_refuses_bad_input(home: Path, arguments: list[str], says: str) -> None:
    done = runner.invoke(app, ["badge", "url", *arguments], env=_env(home))
    assert done.exit_code == 2
    assert says in " ".join(done.output.split())
