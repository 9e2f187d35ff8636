"""`srekit capacity validate|forecast` on the bundled example and on bad input."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
import yaml

from tests.cli.conftest import EXAMPLES, run

PLAN = EXAMPLES / "capacity" / "checkout.yaml"
SERIES = EXAMPLES / "capacity" / "checkout-cpu.csv"
AT = "2026-03-31T00:00:00Z"


def _forecast(*extra: str | Path) -> tuple[int, str, str]:
    return run("capacity", "forecast", "-f", PLAN, "--from-file", SERIES, "--at", AT, *extra)


def test_validate_names_the_plan_and_its_resources() -> None:
    code, out, _ = run("capacity", "validate", "-f", PLAN)
    assert code == 0
    assert "checkout (service checkout: cpu)" in out


def test_validate_refuses_a_bad_field_naming_file_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(PLAN.read_text().replace("limit: 24", "limit: .nan"), encoding="utf-8")
    code, _, err = run("capacity", "validate", "-f", bad)
    assert code == 2
    assert "bad.yaml" in err
    assert "spec.resources[0].limit" in err


def test_json_carries_every_figure_and_agrees_with_the_table() -> None:
    code, out, _ = _forecast("--format", "json")
    assert code == 0
    (plan,) = json.loads(out)
    (cpu,) = plan["resources"]
    values = [float(row["value"]) for row in csv.DictReader(io.StringIO(SERIES.read_text()))]
    assert cpu["utilization"]["current"] == pytest.approx(values[-1] / 24)
    assert cpu["utilization"]["peak"] == pytest.approx(max(values) / 24)
    assert set(cpu["backtest"]) >= {"mase", "mape", "smape"}
    assert set(cpu["forecast"]) == {"at", "median", "lower_80", "upper_80", "lower_95", "upper_95"}
    # 90 days at 1 h
    assert len(cpu["forecast"]["median"]) == 90 * 24
    band = cpu["forecast"]
    assert all(
        lo <= mid <= hi
        for lo, mid, hi in zip(band["lower_95"], band["median"], band["upper_95"], strict=True)
    )
    upper = cpu["recommendation"]["forecast_peak_upper"]
    assert upper == pytest.approx(max(cpu["forecast"]["upper_95"]), rel=1e-9)
    assert cpu["recommendation"]["scale_to"] == pytest.approx(upper / 0.7, rel=1e-9)
    # pods of 2 cores at the HPA's 70 % target
    assert cpu["recommendation"]["replicas"] == -(-round(upper / 1.4, 9) // 1)
    _, table, _ = _forecast()
    assert cpu["model"] in table
    assert f"by {cpu['recommendation']['scale_by'][:10]}" in table
    assert plan["hpa"]["now"]["desired_replicas"] == 7  # ⌈8.81 / 8 / 0.7 × 4⌉ = ⌈6.29⌉


def test_csv_is_one_row_per_resource() -> None:
    code, out, _ = _forecast("--format", "csv")
    assert code == 0
    (row,) = list(csv.DictReader(io.StringIO(out)))
    assert row["resource"] == "cpu"
    assert row["service"] == "checkout"
    assert float(row["current_utilization"]) == pytest.approx(8.81 / 24)


def test_emit_hpa_and_plot(tmp_path: Path) -> None:
    svg = tmp_path / "cpu.svg"
    code, out, _ = _forecast("--format", "json", "--emit", "hpa", tmp_path / "hpa.yaml")
    assert code == 0
    replicas = json.loads(out)[0]["resources"][0]["recommendation"]["replicas"]
    manifest = yaml.safe_load((tmp_path / "hpa.yaml").read_text())
    assert manifest["kind"] == "HorizontalPodAutoscaler"
    # the forecast needs more than the spec's 10: the manifest's maximum is raised to it
    assert manifest["spec"]["maxReplicas"] == max(10, replicas)
    code, out, _ = _forecast("--emit", "hpa", "-", "--plot", svg)
    assert code == 0
    assert "apiVersion: autoscaling/v2" in out
    assert svg.read_text().startswith("<svg")
    assert 'class="band-95"' in svg.read_text()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--plot", "cpu.jpg"), "expected FILE.svg or FILE.png"),
        (("--emit", "deployment", "-"), "expected `hpa FILE`"),
        (("--service", "nope"), "no CapacityPlan for service 'nope'"),
        (("--at", "2999-01-01T00:00:00Z"), "is in the future"),
    ],
)
def test_bad_options_exit_2(extra: tuple[str, ...], message: str) -> None:
    code, _, err = _forecast(*extra)
    assert code == 2
    assert message in err


def test_a_series_file_that_is_not_one_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "cpu.csv"
    bad.write_text("timestamp,value\n2026-03-01T00:00:00Z,lots\n", encoding="utf-8")
    code, _, err = run("capacity", "forecast", "-f", PLAN, "--from-file", bad, "--at", AT)
    assert code == 2
    assert "row 2: expected a number, got 'lots'" in err


def test_no_data_exits_3_naming_the_resource(tmp_path: Path) -> None:
    few = tmp_path / "cpu.csv"
    few.write_text("timestamp,value\n1,1\n2,2\n", encoding="utf-8")
    code, _, err = run("capacity", "forecast", "-f", PLAN, "--from-file", f"cpu={few}", "--at", AT)
    assert code == 3
    assert "checkout/cpu: spec.resources[0]:" in err
    # without a file or Prometheus, the query cannot be read
    code, _, err = run(
        "capacity",
        "forecast",
        "-f",
        PLAN,
        "--at",
        AT,
        env={"SREKIT_PROMETHEUS_URL": "", "SREKIT_HOME": str(tmp_path)},
    )
    assert code == 3
    assert "no Prometheus to query" in err


def test_record_scores_the_last_forecast_on_what_was_observed_since(tmp_path: Path) -> None:
    env = {"SREKIT_HOME": str(tmp_path / "home"), "SREKIT_DATABASE_URL": ""}
    common = ("capacity", "forecast", "-f", PLAN, "--from-file", SERIES, "--record")
    code, out, err = run(*common, "--at", "2026-03-20T00:00:00Z", "--format", "json", env=env)
    assert code == 0, err
    (first,) = json.loads(out)
    assert first["past_forecasts"] == []  # nothing recorded before
    code, out, err = run(*common, "--at", AT, "--format", "json", env=env)
    assert code == 0, err
    (second,) = json.loads(out)
    (past,) = second["past_forecasts"]
    assert past["made_at"] == "2026-03-20T00:00:00Z"
    assert past["model"] == first["resources"][0]["model"]
    # by hand: the first forecast's median against each CSV row observed after 03-20 00:00
    # and before 03-31 00:00 (both on the hour, so no interpolation is needed)
    forecast = first["resources"][0]["forecast"]
    median = dict(zip(forecast["at"], forecast["median"], strict=True))
    rows = list(csv.DictReader(io.StringIO(SERIES.read_text())))
    errors = [median[r["timestamp"]] - float(r["value"]) for r in rows if r["timestamp"] in median]
    assert past["points"] == len(errors) == 10 * 24 + 23
    assert past["mae"] == pytest.approx(sum(abs(e) for e in errors) / len(errors), rel=1e-6)
    assert past["bias"] == pytest.approx(sum(errors) / len(errors), rel=1e-6, abs=1e-9)
    code, out, _ = run(*common, "--at", "2026-03-31T12:00:00Z", env=env)
    assert code == 0
    # the file ends before the forecast of 03-31 00:00 starts: nothing to score it on yet
    assert "cpu: the forecast of 2026-03-31T00:00:00Z (" in out
    assert "nothing observed yet within its horizon" in out


def test_plot_as_png_is_the_svg_rendered(tmp_path: Path) -> None:
    png = tmp_path / "cpu.png"
    code, _, err = _forecast("--plot", png)
    assert code == 0, err
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    # IHDR: width and height, big-endian, the SVG's 640 × 240
    assert int.from_bytes(data[16:20], "big") == 640
    assert int.from_bytes(data[20:24], "big") == 240
