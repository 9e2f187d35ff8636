"""`srekit dashboards generate`: both dashboards into a directory, one to stdout, bad input 2."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from srekit.cli.main import app
from srekit.dashboards import DASHBOARD_FILES, render_dashboard

runner = CliRunner()


def test_writes_both_dashboards_into_a_directory(tmp_path: Path) -> None:
    out = tmp_path / "grafana" / "dashboards"
    result = runner.invoke(app, ["dashboards", "generate", "--format", "grafana", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == sorted(DASHBOARD_FILES)
    for name, build in DASHBOARD_FILES.items():
        assert (out / name).read_text() == render_dashboard(build())
        assert f"wrote {out / name}" in result.stdout


def test_prints_one_dashboard_without_a_directory() -> None:
    result = runner.invoke(app, ["dashboards", "generate", "--dashboard", "DETAIL"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["uid"] == "srekit-slo-detail"
    default = runner.invoke(app, ["dashboards", "generate"])
    assert json.loads(default.stdout)["uid"] == "srekit-slos-overview"


def test_bad_input_exits_2(tmp_path: Path) -> None:
    wrong = runner.invoke(app, ["dashboards", "generate", "--format", "kibana"])
    assert wrong.exit_code == 2
    assert "grafana" in wrong.output
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = runner.invoke(app, ["dashboards", "generate", "-o", str(blocker / "sub")])
    assert result.exit_code == 2
    assert "--output: cannot write into" in result.output
    assert "Traceback" not in result.output
