"""srekit/v1 CapacityPlan documents: the documented example, defaults, and every bad input named."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from srekit.errors import SpecError
from srekit.spec.capacity import (
    LimitQuery,
    default_step_s,
    duration_s,
    load_capacity_plans,
)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "capacity.md"

MINIMAL = """
apiVersion: srekit/v1
kind: CapacityPlan
metadata: {name: checkout}
spec:
  service: checkout
  resources:
    - {name: cpu, usage: "sum(rate(cpu[5m]))", unit: cores, limit: 24}
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "plan.yaml"
    path.write_text(text)
    return path


def test_the_documented_example_loads(tmp_path: Path) -> None:
    (block,) = re.findall(r"```yaml\n(.*?)```", DOCS.read_text(), re.DOTALL)[:1]
    (plan,) = load_capacity_plans(_write(tmp_path, block))
    spec = plan.spec
    assert plan.metadata.name == "checkout"
    assert [r.name for r in spec.resources] == ["cpu", "memory", "requests"]
    assert spec.resources[1].limit == LimitQuery(
        query='sum(kube_pod_container_resource_limits{namespace="checkout",resource="memory"})'
    )
    assert spec.resources[2].type == "counter"
    assert (spec.horizon_s, spec.history_s, spec.step_s) == (90 * 86_400, 30 * 86_400, 3_600)
    assert spec.hpa is not None
    assert (spec.hpa.current_replicas, spec.hpa.min_replicas, spec.hpa.max_replicas) == (4, 3, 10)


def test_defaults(tmp_path: Path) -> None:
    (plan,) = load_capacity_plans(_write(tmp_path, MINIMAL))
    spec = plan.spec
    assert (spec.horizon, spec.history, spec.step, spec.step_s) == ("90d", "30d", None, 3_600)
    (cpu,) = spec.resources
    assert (cpu.type, cpu.limit, cpu.headroom, cpu.per_pod_capacity) == ("gauge", 24, 0.7, None)
    assert spec.hpa is None


def test_hpa_defaults(tmp_path: Path) -> None:
    (plan,) = load_capacity_plans(_write(tmp_path, MINIMAL + "  hpa: {}\n"))
    hpa = plan.spec.hpa
    assert hpa is not None
    assert (hpa.min_replicas, hpa.max_replicas, hpa.cpu_utilization) == (3, 10, 70)
    assert (hpa.memory_utilization, hpa.rps_per_pod, hpa.current_replicas) == (80, 50, None)
    assert hpa.behavior.scale_down.stabilization_window == "300s"
    assert (hpa.behavior.scale_up.percent, hpa.behavior.scale_up.pods) == (100, 4)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("90d", 7_776_000), ("30s", 30), ("15m", 900), ("12h", 43_200), ("2w", 1_209_600)],
)
def test_duration(text: str, expected: int) -> None:
    assert duration_s(text) == expected


@pytest.mark.parametrize(
    ("horizon_s", "expected"),
    [
        (7 * 86_400, 300),
        (14 * 86_400, 900),
        (90 * 86_400, 3_600),
        (365 * 86_400, 21_600),
        (10_000 * 86_400, 86_400),
    ],
)
def test_default_step(horizon_s: int, expected: int) -> None:
    # 7d/5m = 2016 ≤ 2200; 14d/5m = 4032 but 14d/15m = 1344; 90d/15m = 8640, 90d/1h = 2160;
    # 365d/1h = 8760, 365d/6h = 1460; 10000d/1d = 10000: the largest step anyway
    assert default_step_s(horizon_s) == expected


def _resource(field: str) -> str:
    return MINIMAL.replace("limit: 24}", f"limit: 24, {field}}}")


@pytest.mark.parametrize(
    ("text", "field", "words"),
    [
        (MINIMAL.replace("limit: 24", "limit: .nan"), "spec.resources[0].limit", "finite"),
        (MINIMAL.replace("limit: 24", "limit: 1.0e+309"), "spec.resources[0].limit", "finite"),
        # YAML 1.1 reads 1e309 (no dot) as text
        (MINIMAL.replace("limit: 24", "limit: 1e309"), "spec.resources[0].limit", "number"),
        (MINIMAL.replace("limit: 24", "limit: 0"), "spec.resources[0].limit", "greater than 0"),
        (MINIMAL.replace("limit: 24", "limit: -3"), "spec.resources[0].limit", "greater than 0"),
        (MINIMAL.replace("limit: 24", 'limit: "24"'), "spec.resources[0].limit", "got text"),
        (_resource("headroom: 0"), "spec.resources[0].headroom", "greater than 0"),
        (_resource("headroom: 1.5"), "spec.resources[0].headroom", "less than or equal to 1"),
        (_resource("per_pod_capacity: -1"), "spec.resources[0].per_pod_capacity", "greater"),
        (_resource("type: histogram"), "spec.resources[0].type", "gauge"),
        (_resource("colour: red"), "spec.resources[0].colour", ""),
        (_resource('unit: "co\\x00res"'), "spec.resources[0].unit", "control characters"),
        (
            MINIMAL.replace("sum(rate(cpu[5m]))", "sum(\\trate)"),
            "spec.resources[0].usage",
            "control characters",
        ),
        (MINIMAL + "  horizon: 90 days\n", "spec.horizon", "a duration like 90d"),
        (MINIMAL + "  horizon: 90\n", "spec.horizon", ""),
        (MINIMAL + "  step: 1d\n  history: 1d\n", "spec", "at least two steps"),
        (MINIMAL + "  hpa: {min_replicas: 5, max_replicas: 2}\n", "spec.hpa", "min_replicas"),
        (MINIMAL + "  hpa: {cpu_utilization: 170}\n", "spec.hpa.cpu_utilization", "100"),
        (
            MINIMAL + "  hpa: {behavior: {scale_up: {a: {b: {c: {d: 1}}}}}}\n",
            "spec.hpa.behavior.scale_up.a",
            "",
        ),
        (MINIMAL + "  extra: 1\n", "spec.extra", ""),
        (MINIMAL.replace("resources:", "resources: []\n  unused:"), "spec", ""),
        (
            MINIMAL.replace(
                "limit: 24}", "limit: 24}\n    - {name: cpu, usage: x, unit: u, limit: 1}"
            ),
            "spec",
            "each resource name once",
        ),
    ],
)
def test_bad_input_is_named(tmp_path: Path, text: str, field: str, words: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(SpecError) as raised:
        load_capacity_plans(path)
    assert raised.value.file == str(path)
    assert raised.value.field is not None
    assert raised.value.field.startswith(field)
    assert words in raised.value.detail


def test_other_kinds_and_empty_files_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, MINIMAL.replace("CapacityPlan", "AlertRouting"))
    with pytest.raises(SpecError, match="kind: expected kind CapacityPlan, got 'AlertRouting'"):
        load_capacity_plans(path)
    with pytest.raises(SpecError, match="expected at least one CapacityPlan"):
        load_capacity_plans(_write(tmp_path, "# nothing\n"))


def test_the_spec_loader_validates_capacity_plans_beside_slos(tmp_path: Path) -> None:
    from srekit.spec.loader import load_specs

    examples = Path(__file__).parents[2] / "examples"
    plan = (examples / "capacity" / "checkout.yaml").read_text()
    (tmp_path / "plan.yaml").write_text(plan, encoding="utf-8")
    specs = load_specs([tmp_path, examples / "slos"])
    assert specs.capacity_plans == {"checkout": "checkout"}
    assert len(specs.slos) == 4
    (tmp_path / "again.yaml").write_text(plan, encoding="utf-8")
    with pytest.raises(SpecError, match="CapacityPlan 'checkout' is defined twice"):
        load_specs([tmp_path])
    (tmp_path / "again.yaml").write_text(plan.replace("limit: 24", "limit: -1"), encoding="utf-8")
    with pytest.raises(SpecError, match=r"again.yaml.*spec.resources\[0\].limit"):
        load_specs([tmp_path])


@pytest.mark.parametrize(
    ("resource", "words"),
    [
        ("{name: cpu, unit: cores, limit: 24}", "expected `usage`, a PromQL query"),
        (
            '{name: rps, source: events, usage: "sum(x)", unit: rps, limit: 9}',
            "expected no `usage` with `source: events`",
        ),
        ("{name: rps, source: loki, unit: rps, limit: 9}", "'prometheus' or 'events'"),
    ],
)
def test_usage_follows_the_source(tmp_path: Path, resource: str, words: str) -> None:
    text = MINIMAL.replace(
        '{name: cpu, usage: "sum(rate(cpu[5m]))", unit: cores, limit: 24}', resource
    )
    with pytest.raises(SpecError, match=re.escape(words)) as raised:
        load_capacity_plans(_write(tmp_path, text))
    assert "spec.resources[0]" in str(raised.value)


def test_an_events_resource_needs_no_query(tmp_path: Path) -> None:
    text = MINIMAL.replace(
        '{name: cpu, usage: "sum(rate(cpu[5m]))", unit: cores, limit: 24}',
        "{name: rps, source: events, unit: rps, limit: 900}",
    )
    ((plan,),) = [load_capacity_plans(_write(tmp_path, text))]
    (rps,) = plan.spec.resources
    assert (rps.source, rps.usage) == ("events", None)
