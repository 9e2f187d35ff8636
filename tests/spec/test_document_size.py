"""Spec documents of every format are bounded: no text, list or map larger than a spec has,
and no YAML alias that repeats one list into millions of values."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from srekit.errors import SpecError
from srekit.spec.document import DOCUMENT_ENTRIES, DOCUMENT_TEXT_CHARS
from srekit.spec.loader import load_specs
from srekit.spec.postmortem import parse_sections_text
from srekit.spec.rotation import parse_rotation
from srekit.spec.validation import YAML_DEPTH, SafeYamlLoader

NATIVE = """apiVersion: srekit/v1
kind: SLO
service: api
name: availability
objective: 99.9%
description: {description}
indicator:
  events:
    good: status < 500
"""
OPENSLO = """apiVersion: openslo/v1
kind: SLO
metadata:
  name: availability
  displayName: {description}
spec:
  service: api
  budgetingMethod: Occurrences
  timeWindow:
    - duration: 28d
      isRolling: true
  indicator:
    metadata:
      name: good-requests
    spec:
      ratioMetric:
        counter: true
        good:
          metricSource:
            type: Prometheus
            spec:
              query: sum(rate(http_requests_total{{code!~"5.."}}[1m]))
        total:
          metricSource:
            type: Prometheus
            spec:
              query: sum(rate(http_requests_total[1m]))
  objectives:
    - target: 0.999
"""
SLOTH = """version: prometheus/v1
service: api
slos:
  - name: availability
    objective: 99.9
    description: {description}
    sli:
      events:
        error_query: sum(rate(http_requests_total{{code=~"5.."}}[{{{{.window}}}}]))
        total_query: sum(rate(http_requests_total[{{{{.window}}}}]))
    alerting:
      page_alert:
        disable: true
      ticket_alert:
        disable: true
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("template", [NATIVE, OPENSLO, SLOTH], ids=["srekit", "openslo", "sloth"])
def test_each_format_parses_at_its_size_and_refuses_a_longer_text(
    tmp_path: Path, template: str
) -> None:
    assert len(load_specs([_write(tmp_path, template.format(description="fine"))]).slos) == 1
    huge = "x" * (DOCUMENT_TEXT_CHARS + 1)
    with pytest.raises(SpecError) as refused:
        load_specs([_write(tmp_path, template.format(description=huge))])
    assert refused.value.field in ("description", "metadata.displayName", "slos[0].description")
    assert f"expected at most {DOCUMENT_TEXT_CHARS} characters" in str(refused.value)
    assert huge not in str(refused.value)


def test_a_list_longer_than_any_spec_has_is_refused(tmp_path: Path) -> None:
    labels = "".join(f"\n  l{index}: v" for index in range(DOCUMENT_ENTRIES + 1))
    text = NATIVE.format(description="fine") + f"labels:{labels}\n"
    with pytest.raises(SpecError, match=f"expected at most {DOCUMENT_ENTRIES} entries") as refused:
        load_specs([_write(tmp_path, text)])
    assert refused.value.field == "labels"


def test_yaml_aliases_cannot_multiply_a_document(tmp_path: Path) -> None:
    """Nine levels of ten aliases each would be a billion strings once expanded."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for level in range(1, 10):
        lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 10) + "]")
    text = NATIVE.format(description="fine") + "\n".join(lines) + "\n"
    with pytest.raises(SpecError, match="values in a document"):
        load_specs([_write(tmp_path, text)])


# The document is level 1, so the first node refused is at level 65 (YAML_DEPTH + 1):
# - lists: the 64th `[`, after "deep: " (6 characters): column 6 + 64;
# - maps: the key `a` inside the 63rd `{a: ` (each 4 characters): column 6 + 62 × 4 + 2;
# - block: key k63 (level 63 + 2), on line 63 + 2 and indented 2 × 63: column 127.
@pytest.mark.parametrize(
    ("nesting", "where"),
    [
        ("[" * 100_000 + "]" * 100_000, f"line 1, column {6 + 64}"),
        ("{a: " * 100_000 + "1" + "}" * 100_000, f"line 1, column {6 + 62 * 4 + 2}"),
        (
            "\n"
            + "".join("  " * depth + f"k{depth}:\n" for depth in range(200))
            + "  " * 200
            + "1",
            f"line {63 + 2}, column {2 * 63 + 1}",
        ),
    ],
    ids=["lists", "maps", "block"],
)
def test_nesting_deeper_than_any_spec_is_refused_where_it_starts(
    tmp_path: Path, nesting: str, where: str
) -> None:
    """libyaml's own composer overflowed the C stack on 100,000 `[` and killed the process."""
    file = _write(tmp_path, "deep: " + nesting + "\n")
    with pytest.raises(SpecError) as refused:
        load_specs([file])
    assert refused.value.detail == (
        f"invalid YAML at {where}: expected nesting at most {YAML_DEPTH} levels deep"
    )


def test_every_yaml_reader_bounds_the_nesting() -> None:
    deep = "a: " + "[" * 10_000 + "]" * 10_000
    with pytest.raises(SpecError, match=f"nesting at most {YAML_DEPTH} levels"):
        parse_rotation(deep, source="r.yaml")
    with pytest.raises(SpecError, match=f"nesting at most {YAML_DEPTH} levels"):
        parse_sections_text(deep, file="pm.yaml")
    # as deep as allowed still reads: the document, then 63 lists
    assert yaml.load("a: " + "[" * 63 + "]" * 63, Loader=SafeYamlLoader) == {"a": _nested(63)}


def _nested(depth: int) -> list[object]:
    value: list[object] = []
    for _ in range(depth - 1):
        value = [value]
    return value
