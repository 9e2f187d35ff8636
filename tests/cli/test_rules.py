"""`srekit rules generate`: srekit's rules (checked by promtool) and Sloth's, with their flags."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.cli.conftest import EXAMPLES, run
from tests.rules.promtool import promtool


def test_rules_generate_passes_promtool(tmp_path: Path) -> None:
    out = tmp_path / "rules" / "slos.yml"
    specs = [
        arg for folder in ("slos", "prometheus", "srekit") for arg in ("-f", EXAMPLES / folder)
    ]
    code, _, err = run("rules", "generate", *specs, "-o", out, "-l", "env=prod")
    assert code == 0, err
    assert "skipped checkout/availability: reads srekit's event store" in " ".join(err.split())
    document = yaml.safe_load(out.read_text())
    records = {r.get("record") for g in document["groups"] for r in g["rules"]}
    assert "srekit_slo:good_events:increase1h" in records
    assert all(r["labels"]["env"] == "prod" for g in document["groups"] for r in g["rules"])
    result = promtool("check", "rules", out)
    assert result.returncode == 0, result.stdout + result.stderr


def test_rules_generate_sloth_compat_and_mixing_flags() -> None:
    code, out, _ = run("rules", "generate", "-f", EXAMPLES / "sloth", "--compat", "sloth")
    assert code == 0
    assert "sloth_id: myservice-requests-availability" in out
    assert "(14.4 * 0.0009999999999999432)" in out  # Sloth's own float arithmetic, kept
    code, _, err = run("rules", "generate", "-f", EXAMPLES / "prometheus", "--disable-alerts")
    assert code == 2
    assert "--compat sloth" in err
    code, _, err = run("rules", "generate", "-f", EXAMPLES / "prometheus", "--compat", "sloth")
    assert code == 2
    assert "reads Sloth specs" in err
    code, _, err = run(
        "rules", "generate", "-f", EXAMPLES / "sloth", "--compat", "sloth", "--slo-period", "week"
    )
    assert code == 2
    assert "--slo-period" in err
