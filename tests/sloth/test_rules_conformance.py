"""srekit's Sloth rules against Sloth's own golden files, byte for byte.

Cases and arguments are those of Sloth's `test/integration/prometheus/generate_test.go` and
`scripts/examplesgen.sh` (see the conformance README).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from srekit.errors import SpecError
from srekit.sloth.gonum import go_format_f, go_format_g
from srekit.sloth.rules import generate_sloth_rules
from srekit.sloth.spec import parse_sloth_documents
from srekit.sloth.windows import (
    GOOGLE_28D,
    GOOGLE_30D,
    load_alert_windows,
    parse_alert_windows,
    prom_duration,
)
from srekit.spec.document import Document, read_documents
from tests.conformance import conformance_dir

pytestmark = pytest.mark.conformance

_PLUGIN_EXAMPLES = {
    # Go SLI plugins, or contrib SLO plugins that change or check the rules in Go code.
    "contrib-denominator-corrected.yaml",
    "contrib-slo-plugins.yml",
    "plugin-getting-started.yml",
    "plugin-k8s-getting-started.yml",
    "victoria-metrics.yml",
}


def _sloth() -> Path:
    return conformance_dir() / "sloth"


def _testdata() -> Path:
    return _sloth() / "test" / "integration" / "prometheus" / "testdata"


def _render_golden(template: str, version: str) -> str:
    """The Go template step of generate_test.go: the version, and escaped `{{...}}` literals."""
    text = template.replace("{{ .version }}", version)
    return re.sub(r'\{\{"(\{\{.*?\}\})"\}\}', r"\1", text)


def _generate(path: Path, **options: Any) -> str:
    return generate_sloth_rules(parse_sloth_documents(read_documents(path)), **options)


GOLDEN_CASES = [
    ("in-base.yaml", "out-base.yaml.tpl", {}),
    ("in-base-k8s.yaml", "out-base-k8s.yaml.tpl", {}),
    ("in-base.yaml", "out-base-no-alerts.yaml.tpl", {"disable_alerts": True}),
    ("in-base.yaml", "out-base-no-recordings.yaml.tpl", {"disable_recordings": True}),
    (
        "in-base.yaml",
        "out-base-extra-labels.yaml.tpl",
        {"extra_labels": {"exk1": "exv1", "exk2": "exv2"}},
    ),
    ("in-multifile.yaml", "out-multifile.yaml.tpl", {}),
    ("in-multifile-k8s.yaml", "out-multifile-k8s.yaml.tpl", {}),
    ("in-openslo.yaml", "out-openslo.yaml.tpl", {}),
    ("in-base.yaml", "out-base-28d.yaml.tpl", {"slo_period_s": 28 * 86400}),
    ("in-base.yaml", "out-base-custom-windows-7d.yaml.tpl", {"slo_period_s": 7 * 86400}),
]


@pytest.mark.parametrize(
    ("source", "golden", "options"),
    [pytest.param(*case, id=case[1].removesuffix(".yaml.tpl")) for case in GOLDEN_CASES],
)
@pytest.mark.parametrize("version", ["dev", "v0.99.0-test"])
def test_integration_golden(
    source: str, golden: str, options: dict[str, Any], version: str
) -> None:
    if "custom-windows" in golden:
        # Upstream passes `./windows`; the conformance copy keeps the catalogs under examples/.
        options = {**options, "window_catalog": _sloth() / "examples" / "windows"}
    expected = _render_golden((_testdata() / golden).read_text(encoding="utf-8"), version)
    assert _generate(_testdata() / source, version=version, **options) == expected


def _examples() -> list[str]:
    try:
        examples = conformance_dir() / "sloth" / "examples"
    except pytest.skip.Exception:
        return []
    return sorted(path.name for path in examples.glob("*.y*ml"))


@pytest.mark.parametrize("name", _examples() or ["(conformance files missing)"])
def test_examples_golden(name: str) -> None:
    source = _sloth() / "examples" / name
    if not source.exists():
        pytest.skip("conformance files missing")
    if name in _PLUGIN_EXAMPLES:
        with pytest.raises(SpecError, match="plugins \\(Go\\) are not supported by srekit"):
            _generate(source, version="dev", extra_labels={"cmd": "examplesgen.sh"})
        return
    expected = (_sloth() / "examples" / "_gen" / name).read_text(encoding="utf-8")
    assert _generate(source, version="dev", extra_labels={"cmd": "examplesgen.sh"}) == expected


@pytest.mark.parametrize(
    ("source", "field"),
    [
        ("in-sli-plugin.yaml", "slos[0].sli.plugin"),
        ("in-slo-plugin.yaml", "slo_plugins.chain[0].id"),
        ("in-slo-plugin-k8s.yaml", "spec.sloPlugins.chain[0].id"),
    ],
)
def test_plugin_cases_fail_clearly(source: str, field: str) -> None:
    with pytest.raises(SpecError, match="not supported by srekit") as caught:
        _generate(_testdata() / source)
    assert caught.value.field == field


def test_invalid_version_fails() -> None:
    with pytest.raises(SpecError, match="prometheus/v999") as caught:
        _generate(_testdata() / "in-invalid-version.yaml")
    assert caught.value.field == "version"


def test_builtin_catalogs_match_sloths() -> None:
    windows = _sloth() / "internal" / "alert" / "windows"
    assert load_alert_windows(windows / "google-30d.yaml") == [GOOGLE_30D]
    assert load_alert_windows(windows / "google-28d.yaml") == [GOOGLE_28D]


def test_custom_catalog_replaces_builtins() -> None:
    catalog = _sloth() / "examples" / "windows" / "7d.yaml"
    with pytest.raises(SpecError, match="no alert windows for the SLO period 30d"):
        _generate(_testdata() / "in-base.yaml", window_catalog=catalog)


def test_unknown_period_names_the_slo() -> None:
    with pytest.raises(SpecError, match="SLO period 1w") as caught:
        _generate(_testdata() / "in-base.yaml", slo_period_s=7 * 86400)
    assert caught.value.field == "slos[0]"


def test_catalog_errors_name_the_field() -> None:
    document = Document(
        data={"apiVersion": "sloth.slok.dev/v1", "kind": "AlertWindows", "spec": {}},
        file="w.yaml",
        index=0,
    )
    with pytest.raises(SpecError) as caught:
        parse_alert_windows([document])
    assert caught.value.field == "spec.sloPeriod"


# Go formatting, hand-checked against Go's documented behaviour.


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.9990000000000001, "0.9990000000000001"),
        (0.0009999999999999432, "0.0009999999999999432"),
        (1.0000000000005117e-05, "1.0000000000005117e-05"),
        (30.0, "30"),
        (14.4, "14.4"),
        (123456.0, "123456"),
        (1e6, "1e+06"),
        (0.0, "0"),
    ],
)
def test_go_format_g(value: float, expected: str) -> None:
    assert go_format_g(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(99.9, "99.9"), (95.0, "95"), (1e-05, "0.00001"), (1e21, "1000000000000000000000")],
)
def test_go_format_f(value: float, expected: str) -> None:
    assert go_format_f(value) == expected


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(300, "5m"), (28 * 86400, "4w"), (30 * 86400, "30d"), (90 * 86400, "90d"), (5400, "1h30m")],
)
def test_prom_duration(seconds: int, expected: str) -> None:
    assert prom_duration(seconds) == expected


_CLI_FLAGS = {
    "out-base-no-alerts.yaml.tpl": ["--disable-alerts"],
    "out-base-no-recordings.yaml.tpl": ["--disable-recordings"],
    "out-base-extra-labels.yaml.tpl": ["-l", "exk1=exv1", "-l", "exk2=exv2"],
    "out-base-28d.yaml.tpl": ["--slo-period", "28d"],
    "out-base-custom-windows-7d.yaml.tpl": ["--slo-period", "7d", "--window-catalog", "WINDOWS"],
}


@pytest.mark.parametrize(
    ("source", "golden"),
    [pytest.param(c[0], c[1], id=c[1].removesuffix(".yaml.tpl")) for c in GOLDEN_CASES],
)
def test_cli_reproduces_goldens_and_promtool_accepts_them(
    source: str, golden: str, tmp_path: Path
) -> None:
    """`srekit rules generate --compat sloth` with Sloth's own flags gives Sloth's bytes."""
    import yaml
    from typer.testing import CliRunner

    from srekit import __version__
    from srekit.cli.main import app
    from tests.rules.promtool import promtool

    flags = [
        str(_sloth() / "test" / "integration" / "prometheus" / "windows") if f == "WINDOWS" else f
        for f in _CLI_FLAGS.get(golden, [])
    ]
    result = CliRunner().invoke(
        app, ["rules", "generate", "--compat", "sloth", "-f", str(_testdata() / source), *flags]
    )
    assert result.exit_code == 0, result.output
    expected = _render_golden((_testdata() / golden).read_text(encoding="utf-8"), __version__)
    assert result.stdout == expected
    for index, document in enumerate(yaml.safe_load_all(result.stdout)):
        crd = document.get("kind") == "PrometheusRule"
        groups = document["spec"]["groups"] if crd else document["groups"]
        rule_file = tmp_path / f"rules-{index}.yml"
        rule_file.write_text(yaml.safe_dump({"groups": groups}))
        checked = promtool("check", "rules", rule_file)
        assert checked.returncode == 0, checked.stdout + checked.stderr
