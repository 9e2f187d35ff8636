"""Spec documents of every format are bounded: no text, list or map larger than a spec has,
and no YAML alias that repeats one list into millions of values."""

from __future__ import annotations

from pathlib import Path

import pytest

from srekit.errors import SpecError
from srekit.spec.document import DOCUMENT_ENTRIES, DOCUMENT_TEXT_CHARS
from srekit.spec.loader import load_specs

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
