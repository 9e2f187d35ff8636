"""Chaos Toolkit experiment files read into srekit's model, and hostile ones refused with the
file, the field and what was expected."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from srekit.core.chaos import (
    ActivityType,
    ExactTolerance,
    HttpProvider,
    HypothesisStrategy,
    ListTolerance,
    ProbeTolerance,
    ProcessProvider,
    PythonProvider,
    RangeTolerance,
    RegexTolerance,
    RollbackStrategy,
    thaw,
    tolerance_met,
)
from srekit.errors import SpecError
from srekit.spec.chaos import FILE_BYTES, MAX_DEPTH, load_experiment, parse_experiment

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "chaos" / "checkout-latency.yaml"
ENVIRON = {"CHECKOUT_TOKEN": "s3cr3t"}


def _minimal(**fields: Any) -> dict[str, Any]:
    experiment: dict[str, Any] = {
        "title": "t",
        "description": "d",
        "method": [
            {
                "type": "action",
                "name": "act",
                "provider": {"type": "http", "url": "http://127.0.0.1:9/x"},
            }
        ],
    }
    experiment.update(fields)
    return experiment


def _parse(data: Any, **options: Any) -> Any:
    return parse_experiment(data, file="e.yaml", environ=options.pop("environ", {}), **options)


def _refused(data: Any, field: str | None, said: str, **options: Any) -> None:
    with pytest.raises(SpecError) as raised:
        _parse(data, **options)
    assert raised.value.file == "e.yaml"
    assert raised.value.field == field
    assert said in raised.value.detail


def test_the_example_experiment_reads_as_written() -> None:
    experiment = load_experiment(EXAMPLE, environ=ENVIRON)
    assert experiment.title == "Checkout survives a slow payments dependency"
    assert experiment.tags == ("checkout", "payments", "latency")
    assert dict(experiment.contributions) == {"reliability": "high", "availability": "medium"}
    assert dict(experiment.configuration) == {
        "checkout_url": "http://127.0.0.1:8080",
        "proxy_api": "http://127.0.0.1:8474",
        "latency_ms": 800,
    }
    up, healthy = experiment.probes
    assert up.tolerance == ListTolerance((200, 204))
    assert up.provider == HttpProvider(
        url="http://127.0.0.1:8080/health",
        headers={"Authorization": "Bearer s3cr3t"},
        timeout_s=3.0,
    )
    # a status, not a JSONPath: Chaos Toolkit reads JSONPath only with an optional package
    assert healthy.provider == HttpProvider(
        url="http://127.0.0.1:8080/health/dependencies/payments", timeout_s=3.0
    )
    assert healthy.tolerance is not None
    assert tolerance_met(healthy.tolerance, {"status": 200, "headers": {}, "body": "degraded"})
    assert not tolerance_met(healthy.tolerance, {"status": 503, "headers": {}, "body": "down"})
    slow, latency, again = experiment.method
    assert slow.type is ActivityType.ACTION
    assert isinstance(slow.provider, HttpProvider)
    assert slow.provider.method == "POST"
    assert thaw(slow.provider.arguments) == {"type": "latency", "attributes": {"latency": 800}}
    assert slow.provider.expected_status == (200, 201)
    assert slow.pauses.after_s == 10.0
    assert latency.tolerance == RangeTolerance(Decimal(0), Decimal("1.5"), target="stdout")
    assert latency.provider == ProcessProvider(
        path="curl",
        arguments=(
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{time_total}",
            "http://127.0.0.1:8080/checkout",
        ),
        timeout_s=5.0,
    )
    assert again is up  # a ref is the activity it names
    assert experiment.rollbacks[0].provider.method == "DELETE"  # type: ignore[union-attr]
    runtime = experiment.runtime
    assert runtime.rollback_strategy is RollbackStrategy.ALWAYS
    assert runtime.hypothesis_strategy is HypothesisStrategy.CONTINUOUSLY
    assert (runtime.frequency_s, runtime.fail_fast, runtime.fail_fast_ratio) == (5.0, True, 50.0)
    assert experiment.srekit.allowed_targets == ("127.0.0.1:8080", "127.0.0.1:8474")
    assert experiment.srekit.slo_guard is not None
    assert experiment.srekit.slo_guard.slos == ("checkout/availability",)
    assert experiment.srekit.slo_guard.min_remaining == 0.25
    # the defaults: no burn-rate limit, 5m, refused from a freeze; stored under the service
    assert experiment.srekit.slo_guard.max_burn_rate is None
    assert experiment.srekit.slo_guard.burn_window == "5m"
    assert experiment.srekit.slo_guard.refuse_from == "feature_freeze"
    assert experiment.srekit.service == "checkout"
    assert experiment.srekit.ttl_s == 900
    # the journal keeps what was written: the secret never reaches it
    document = json.dumps(thaw(experiment.document))
    assert "s3cr3t" not in document
    assert "Bearer ${token}" in document


def test_environment_and_overrides_change_the_values(tmp_path: Path) -> None:
    experiment = load_experiment(
        EXAMPLE,
        environ={**ENVIRON, "LATENCY_MS": "250"},
        variables={"checkout_url": "http://127.0.0.1:9999"},
        secret_variables={"checkout": {"token": "other"}},
    )
    assert experiment.configuration["latency_ms"] == 250
    assert experiment.probes[0].provider == HttpProvider(
        url="http://127.0.0.1:9999/health", headers={"Authorization": "Bearer other"}, timeout_s=3
    )


def test_a_missing_secret_is_named() -> None:
    with pytest.raises(SpecError) as raised:
        load_experiment(EXAMPLE, environ={})
    assert raised.value.field == "secrets.checkout.token"
    assert "CHECKOUT_TOKEN is not set" in str(raised.value)


def test_json_files_read_the_same(tmp_path: Path) -> None:
    path = tmp_path / "e.json"
    path.write_text(json.dumps(_minimal(tags=["x"])))
    experiment = load_experiment(path, environ={})
    assert experiment.tags == ("x",)
    assert experiment.runtime.rollback_strategy is RollbackStrategy.ALWAYS  # srekit's default
    assert experiment.hypothesis is None


def test_every_provider_and_tolerance_kind() -> None:
    probes = [
        {
            "type": "probe",
            "name": "b",
            "tolerance": True,
            "provider": {
                "type": "python",
                "module": "os.path",
                "func": "exists",
                "arguments": {"path": "/"},
            },
        },
        {
            "type": "probe",
            "name": "i",
            "tolerance": 0,
            "provider": {"type": "process", "path": "true", "arguments": "--flag value"},
        },
        {
            "type": "probe",
            "name": "s",
            "tolerance": "up",
            "provider": {
                "type": "process",
                "path": "echo",
                "arguments": {"--a": 1, "--b": None, "--c": True},
            },
        },
        {
            "type": "probe",
            "name": "r",
            "tolerance": {"type": "regex", "pattern": "^ok", "target": "stdout"},
            "provider": {"type": "process", "path": "echo"},
        },
        {
            "type": "probe",
            "name": "p",
            "tolerance": {
                "type": "probe",
                "name": "judge",
                "provider": {"type": "python", "module": "m", "func": "f"},
            },
            "provider": {"type": "http", "url": "https://x.test/", "expected_status": 200},
        },
    ]
    experiment = _parse(_minimal(**{"steady-state-hypothesis": {"title": "h", "probes": probes}}))
    b, i, s, r, p = experiment.probes
    assert b.tolerance == ExactTolerance(True)
    assert b.provider == PythonProvider("os.path", "exists", {"path": "/"})
    assert i.provider == ProcessProvider("true", "--flag value")
    assert s.tolerance == ExactTolerance("up")
    assert s.provider == ProcessProvider("echo", ("--a", "1", "--b", "--c", "True"))
    assert r.tolerance == RegexTolerance("^ok", target="stdout")
    assert isinstance(p.tolerance, ProbeTolerance)
    assert p.tolerance.probe.name == "judge"
    assert p.provider.expected_status == (200,)


@pytest.mark.parametrize(
    ("data", "field", "said"),
    [
        ([], None, "expected a mapping"),
        ({"description": "d", "method": []}, "title", "required field is missing"),
        (_minimal(title=""), "title", "non-empty text"),
        (_minimal(title="a\nb"), "title", "one line"),
        (_minimal(title="bell\x07"), "title", "control characters"),
        (_minimal(description="nul\x00"), "description", "control characters"),
        (_minimal(sauce=1), "sauce", "unknown field; expected one of: version, title"),
        (_minimal(controls=[]), "controls", "not supported by srekit yet"),
        (_minimal(method={}), "method", "expected a list"),
        (
            _minimal(method=[{"type": "action", "name": "x", "provider": {"type": "k8s"}}]),
            "method[0].provider.type",
            "expected one of http, process, python, got 'k8s'",
        ),
        (
            _minimal(method=[{"type": "poke", "name": "x", "provider": {}}]),
            "method[0].type",
            "expected one of probe, action",
        ),
        (
            _minimal(method=[{"type": "probe", "name": "x"}]),
            "method[0].provider",
            "required field is missing",
        ),
        (
            _minimal(method=[{"ref": "nothing"}]),
            "method[0].ref",
            "names no activity defined before it (defined: none)",
        ),
        (
            _minimal(
                method=[
                    {"ref": "later"},
                    {
                        "type": "probe",
                        "name": "later",
                        "provider": {"type": "process", "path": "true"},
                    },
                ]
            ),
            "method[0].ref",
            "names no activity",
        ),
        (_minimal(method=[{"ref": "act", "name": "x"}]), "method[0].name", "unknown field"),
        (_minimal(rollbacks=[{"ref": "gone"}]), "rollbacks[0].ref", "defined: act"),
        (
            _minimal(
                method=[
                    {
                        "type": "action",
                        "name": "x",
                        "provider": {"type": "http", "url": "file:///etc/passwd"},
                    }
                ]
            ),
            "method[0].provider.url",
            "http:// or https:// URL",
        ),
        (
            _minimal(
                method=[
                    {
                        "type": "action",
                        "name": "x",
                        "provider": {
                            "type": "http",
                            "url": "http://a/",
                            "headers": {"X-A": "v\r\nX-B: injected"},
                        },
                    }
                ]
            ),
            "method[0].provider.headers.X-A",
            "expected one line",
        ),
        (
            _minimal(
                method=[
                    {
                        "type": "action",
                        "name": "x",
                        "provider": {
                            "type": "http",
                            "url": "http://a/",
                            "headers": {"Bad Name": "v"},
                        },
                    }
                ]
            ),
            "method[0].provider.headers.Bad Name",
            "expected a header name",
        ),
        (
            _minimal(
                method=[
                    {
                        "type": "action",
                        "name": "x",
                        "provider": {"type": "http", "url": "http://a/", "method": "BREW"},
                    }
                ]
            ),
            "method[0].provider.method",
            "expected one of GET",
        ),
        (
            _minimal(
                method=[
                    {
                        "type": "action",
                        "name": "x",
                        "provider": {"type": "http", "url": "http://a/", "timeout": 0},
                    }
                ]
            ),
            "method[0].provider.timeout",
            "above 0",
        ),
        (
            _minimal(
                method=[
                    {
                        "type": "action",
                        "name": "x",
                        "provider": {"type": "http", "url": "http://a/", "timeout": [1]},
                    }
                ]
            ),
            "method[0].provider.timeout",
            "pair [connect, read]",
        ),
        (
            _minimal(
                method=[
                    {
                        "type": "action",
                        "name": "x",
                        "provider": {"type": "http", "url": "http://a/", "timeout": True},
                    }
                ]
            ),
            "method[0].provider.timeout",
            "expected a number",
        ),
        (
            _minimal(
                method=[
                    {
                        "type": "action",
                        "name": "x",
                        "provider": {"type": "http", "url": "http://a/", "expected_status": [99]},
                    }
                ]
            ),
            "method[0].provider.expected_status[0]",
            "100 to 599",
        ),
        (
            _minimal(
                method=[
                    {
                        "type": "action",
                        "name": "x",
                        "provider": {"type": "http", "url": "http://a/", "expected_status": []},
                    }
                ]
            ),
            "method[0].provider.expected_status",
            "at least one",
        ),
        (
            _minimal(
                method=[
                    {
                        "type": "action",
                        "name": "x",
                        "provider": {"type": "process", "path": "ls", "arguments": [["-l"]]},
                    }
                ]
            ),
            "method[0].provider.arguments[0]",
            "text or a number",
        ),
        (
            _minimal(
                method=[
                    {
                        "type": "action",
                        "name": "x",
                        "provider": {"type": "python", "module": "os;rm", "func": "f"},
                    }
                ]
            ),
            "method[0].provider.module",
            "dotted Python module",
        ),
        (
            _minimal(
                method=[
                    {
                        "type": "action",
                        "name": "x",
                        "provider": {"type": "python", "module": "os", "func": "a.b"},
                    }
                ]
            ),
            "method[0].provider.func",
            "function name",
        ),
        (
            _minimal(
                method=[
                    {
                        "type": "action",
                        "name": "x",
                        "provider": {"type": "process", "path": "ls"},
                        "pauses": {"before": -1},
                    }
                ]
            ),
            "method[0].pauses.before",
            "from 0 to 86400",
        ),
        (
            _minimal(
                method=[
                    {
                        "type": "action",
                        "name": "x",
                        "provider": {"type": "process", "path": "ls"},
                        "background": "yes",
                    }
                ]
            ),
            "method[0].background",
            "true or false",
        ),
        (
            _minimal(
                method=[
                    {
                        "type": "action",
                        "name": "x",
                        "provider": {"type": "process", "path": "ls"},
                        "dry": "actions",
                    }
                ]
            ),
            "method[0].dry",
            "a dry run is asked on the command line: srekit chaos run --dry MODE",
        ),
        (_minimal(tags=["ok", ""]), "tags[1]", "non-empty text"),
        (
            _minimal(contributions={"reliability": "huge"}),
            "contributions.reliability",
            "high, medium, low, none",
        ),
        (
            _minimal(runtime={"rollbacks": {"strategy": "sometimes"}}),
            "runtime.rollbacks.strategy",
            "always, default, never, deviated",
        ),
        (
            _minimal(runtime={"hypothesis": {"strategy": "often"}}),
            "runtime.hypothesis.strategy",
            "continuously",
        ),
        (
            _minimal(runtime={"hypothesis": {"frequency": 0}}),
            "runtime.hypothesis.frequency",
            "above 0",
        ),
        (
            _minimal(runtime={"hypothesis": {"fail_fast_ratio": 150}}),
            "runtime.hypothesis.fail_fast_ratio",
            "from 0 to 100",
        ),
        (_minimal(runtime={"speed": 1}), "runtime.speed", "unknown field"),
        (
            _minimal(configuration={"c": {"type": "probe", "name": "x"}}),
            "configuration.c",
            "not supported yet",
        ),
        (
            _minimal(configuration={"c": {"type": "env", "key": "C", "env_var_type": "date"}}),
            "configuration.c.env_var_type",
            "expected one of str",
        ),
        (
            _minimal(configuration={"c": {"type": "env", "key": "UNSET_FOR_SURE"}}),
            "configuration.c",
            "UNSET_FOR_SURE is not set",
        ),
        (_minimal(configuration={"c": {"type": "env"}}), "configuration.c.key", "non-empty text"),
        (_minimal(secrets={"s": {"k": {"type": "vault", "path": "p"}}}), "secrets.s.k", "Vault"),
        (_minimal(secrets={"s": "flat"}), "secrets.s", "expected a mapping"),
        (
            _minimal(extensions=[{"name": "srekit", "ttl": "soon"}]),
            "extensions[0].ttl",
            "expected a duration",
        ),
        (
            _minimal(extensions=[{"name": "srekit", "ttl": 0}]),
            "extensions[0].ttl",
            "from 1 to 86400",
        ),
        (
            _minimal(extensions=[{"name": "srekit"}, {"name": "srekit"}]),
            "extensions[1]",
            "a second",
        ),
        (
            _minimal(extensions=[{"name": "srekit", "blast": 1}]),
            "extensions[0].blast",
            "unknown field",
        ),
        (
            _minimal(extensions=[{"name": "srekit", "slo_guard": {"slos": ["checkout"]}}]),
            "extensions[0].slo_guard.slos",
            "service/name",
        ),
        (
            _minimal(
                extensions=[{"name": "srekit", "slo_guard": {"slos": ["a/b"], "min_remaining": 2}}]
            ),
            "extensions[0].slo_guard.min_remaining",
            "from 0 to 1",
        ),
        (
            _minimal(
                extensions=[{"name": "srekit", "slo_guard": {"slos": ["a/b"], "burn_window": "4m"}}]
            ),
            "extensions[0].slo_guard.burn_window",
            "5m, 30m, 1h",
        ),
        (
            _minimal(
                extensions=[
                    {"name": "srekit", "slo_guard": {"slos": ["a/b"], "max_burn_rate": ".nan"}}
                ]
            ),
            "extensions[0].slo_guard.max_burn_rate",
            "",
        ),
        (_minimal(extensions=[{"name": "srekit", "service": ""}]), "extensions[0].service", ""),
        (_minimal(version=3), "version", "non-empty text"),
        ({1: "x", "title": "t"}, None, "text field names"),
    ],
)
def test_mistakes_name_the_field_and_what_was_expected(data: Any, field: str, said: str) -> None:
    _refused(data, field, said)


def _hypothesis(tolerance: Any, **probe: Any) -> dict[str, Any]:
    written = {"type": "probe", "name": "p", "tolerance": tolerance}
    written["provider"] = {"type": "process", "path": "true"}
    written.update(probe)
    return _minimal(**{"steady-state-hypothesis": {"title": "h", "probes": [written]}})


H = "steady-state-hypothesis.probes[0]"


@pytest.mark.parametrize(
    ("data", "field", "said"),
    [
        (_hypothesis(0.5), f"{H}.tolerance", "a bool, an integer, text, a list or a mapping"),
        (_hypothesis(""), f"{H}.tolerance", "a bool, an integer, text"),
        (_hypothesis([]), f"{H}.tolerance", "at least one value"),
        (_hypothesis([{"a": 1}]), f"{H}.tolerance[0]", "a number, text or bool"),
        (_hypothesis({"type": "fuzzy"}), f"{H}.tolerance.type", "range, regex, jsonpath, probe"),
        (_hypothesis({"type": "range", "range": [1]}), f"{H}.tolerance.range", "two numbers"),
        (_hypothesis({"type": "range", "range": [5, 1]}), f"{H}.tolerance.range", "lo <= hi"),
        (_hypothesis({"type": "range", "range": ["a", 1]}), f"{H}.tolerance.range[0]", "a number"),
        (
            _hypothesis({"type": "regex", "pattern": "(("}),
            f"{H}.tolerance.pattern",
            "regular expression",
        ),
        (
            _hypothesis({"type": "jsonpath", "path": "a.b"}),
            f"{H}.tolerance.path",
            "starting with '$'",
        ),
        (
            _hypothesis({"type": "jsonpath", "path": "$.a", "count": -1}),
            f"{H}.tolerance.count",
            "whole number",
        ),
        (
            _hypothesis({"type": "jsonpath", "path": "$.a", "target": 3}),
            f"{H}.tolerance.target",
            "non-empty text",
        ),
        (_hypothesis(1, type="action"), f"{H}.type", "expected probe"),
        (
            _minimal(
                **{
                    "steady-state-hypothesis": {
                        "title": "h",
                        "probes": [
                            {
                                "type": "probe",
                                "name": "p",
                                "provider": {"type": "process", "path": "x"},
                            }
                        ],
                    }
                }
            ),
            f"{H}.tolerance",
            "needs a tolerance",
        ),
        (
            _minimal(**{"steady-state-hypothesis": {"title": "h", "probes": [{"ref": "act"}]}}),
            f"{H}.ref",
            "cannot be a reference",
        ),
        (
            _minimal(**{"steady-state-hypothesis": {"probes": []}}),
            "steady-state-hypothesis.title",
            "non-empty text",
        ),
    ],
)
def test_tolerance_mistakes(data: Any, field: str, said: str) -> None:
    _refused(data, field, said)


def test_substituted_values_are_checked_after_substitution() -> None:
    activity = {
        "type": "action",
        "name": "x",
        "provider": {"type": "http", "url": "${url}", "timeout": "${t}"},
    }
    experiment = _parse(
        _minimal(method=[activity], configuration={"url": "http://127.0.0.1:1/", "t": 2.5})
    )
    assert experiment.method[0].provider.timeout_s == 2.5
    _refused(
        _minimal(method=[activity], configuration={"url": "http://127.0.0.1:1/", "t": "slow"}),
        "method[0].provider.timeout",
        "expected a number, got 'slow'",
    )
    _refused(
        _minimal(method=[activity], configuration={"url": "ftp://x/", "t": 1}),
        "method[0].provider.url",
        "http:// or https://",
    )


def test_other_tools_extensions_are_kept_not_read() -> None:
    experiment = _parse(_minimal(extensions=[{"name": "chaosiq", "anything": [1]}]))
    assert experiment.srekit.allowed_targets == ()
    assert thaw(experiment.document)["extensions"] == [{"name": "chaosiq", "anything": [1]}]
    numeric = _parse(_minimal(extensions=[{"name": "srekit", "ttl": 60}]))
    assert numeric.srekit.ttl_s == 60


# --------------------------------------------------------------------------- hostile files


@pytest.mark.parametrize(
    ("name", "text", "said"),
    [
        ("nan.json", '{"title": NaN}', "expected a finite number, got NaN"),
        ("inf.json", '{"title": -Infinity}', "expected a finite number, got -Infinity"),
        (
            "big.json",
            '{"title": "t", "description": "d", "method": [], "tags": [1e309]}',
            "expected a finite number, got inf",
        ),
        (
            "nan.yaml",
            "title: t\ndescription: d\nmethod: []\nversion: .nan\n",
            "expected a finite number",
        ),
        ("bad.json", '{"title": ', "invalid JSON at line 1"),
        ("bad.yaml", "title: [", "invalid YAML"),
        ("two.yaml", "title: a\n---\ntitle: b\n", "expected one experiment in the file, got 2"),
        ("empty.yaml", "", "expected one experiment in the file, got 0"),
        ("bytes.yaml", None, "expected UTF-8 text"),
    ],
)
def test_hostile_files_are_refused_with_a_message(
    tmp_path: Path, name: str, text: str | None, said: str
) -> None:
    path = tmp_path / name
    if text is None:
        path.write_bytes(b"title: \xff\xfe\n")
    else:
        path.write_text(text)
    with pytest.raises(SpecError) as raised:
        load_experiment(path, environ={})
    assert raised.value.file == str(path)
    assert said in str(raised.value)


def test_deep_nesting_is_refused(tmp_path: Path) -> None:
    deep: Any = 1
    for _ in range(MAX_DEPTH + 5):
        deep = {"a": deep}
    _refused(
        _minimal(configuration={"c": deep}),
        "configuration.c" + ".a" * (MAX_DEPTH - 2),
        "levels of nesting",
    )
    very_deep = tmp_path / "deep.json"
    very_deep.write_text('{"title": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(SpecError, match="levels of nesting"):
        load_experiment(very_deep, environ={})
    very_deep_yaml = tmp_path / "deep.yaml"
    very_deep_yaml.write_text("title: " + "[" * 5_000 + "]" * 5_000 + "\n")
    with pytest.raises(SpecError):
        load_experiment(very_deep_yaml, environ={})


def test_huge_files_and_texts_are_refused(tmp_path: Path) -> None:
    huge = tmp_path / "huge.yaml"
    huge.write_text("title: " + "x" * FILE_BYTES + "\n")
    with pytest.raises(SpecError, match=f"at most {FILE_BYTES} bytes"):
        load_experiment(huge, environ={})
    _refused(_minimal(description="x" * 20_000), "description", "at most 16384 characters")
    _refused(_minimal(tags=["t"] * 1001), "tags", "at most 1000 entries")


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="cannot read") as raised:
        load_experiment(tmp_path / "nope.yaml", environ={})
    assert raised.value.file == str(tmp_path / "nope.yaml")


def test_a_tolerance_without_target_judges_the_whole_output() -> None:
    experiment = _parse(_hypothesis({"type": "regex", "pattern": "^ok"}))
    assert experiment.probes[0].tolerance == RegexTolerance("^ok")


def test_the_docs_show_the_example_experiment_as_it_is() -> None:
    page = (EXAMPLE.parents[2] / "docs" / "chaos.md").read_text()
    assert f"```yaml\n{EXAMPLE.read_text()}```" in page


def test_the_extension_names_its_service_and_burn_limits() -> None:
    guard = {"slos": ["checkout/availability"], "max_burn_rate": 14.4, "burn_window": "1h"}
    data = _minimal(
        extensions=[
            {
                "name": "srekit",
                "service": "payments",
                "slo_guard": {**guard, "refuse_from": "all_hands"},
            }
        ]
    )
    extension = parse_experiment(data, file="e.yaml", environ={}).srekit
    assert extension.service == "payments"  # written, it wins over the guarded SLO's service
    assert extension.slo_guard is not None
    assert (
        extension.slo_guard.max_burn_rate,
        extension.slo_guard.burn_window,
        extension.slo_guard.refuse_from,
    ) == (14.4, "1h", "all_hands")
