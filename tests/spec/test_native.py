"""srekit/v1 specs: every field parsed, every mistake named by file and field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from srekit.core.slo import BudgetingMethod, EventsRatio, PromLatency, PromRatio
from srekit.core.window import CalendarWindow, RollingWindow
from srekit.errors import SpecError
from srekit.spec.loader import load_specs

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

BASE = """
apiVersion: srekit/v1
kind: SLO
service: api
name: availability
objective: 99.9%
indicator:
  ratio:
    bad: http_requests_total{code=~"5.."}
    total: http_requests_total
"""


def _write(tmp_path: Path, text: str, name: str = "slo.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_examples_parse() -> None:
    specs = load_specs([EXAMPLES / "slos", EXAMPLES / "prometheus"])
    by_id = {slo.id: slo for slo in specs.slos}
    assert set(by_id) == {
        "checkout-availability",
        "checkout-latency",
        "catalog-availability",
        "catalog-good-minutes",
        "api-availability",
        "api-latency",
    }
    assert by_id["api-availability"].objective == 0.999
    assert by_id["catalog-availability"].window == CalendarWindow("week", 1, "Europe/Paris")
    assert by_id["catalog-good-minutes"].budgeting is BudgetingMethod.TIMESLICES
    assert by_id["catalog-good-minutes"].timeslice_s == 300
    assert by_id["api-latency"].indicator == PromLatency(
        "http_request_duration_seconds", 0.3, 'job="api"'
    )
    assert isinstance(by_id["checkout-latency"].indicator, EventsRatio)
    assert specs.policy_for(by_id["checkout-latency"]).name == "payments"
    assert specs.policy_for(by_id["api-latency"]).name == "default"


def test_defaults(tmp_path: Path) -> None:
    (slo,) = load_specs([_write(tmp_path, BASE)]).slos
    assert slo.window == RollingWindow(30 * 86400)
    assert slo.indicator == PromRatio(
        bad='http_requests_total{code=~"5.."}', total="http_requests_total"
    )
    assert slo.budgeting is BudgetingMethod.OCCURRENCES
    assert slo.source_file == str(tmp_path / "slo.yaml")


@pytest.mark.parametrize(
    ("change", "field", "expected"),
    [
        (("objective: 99.9%", "objective: 99.9"), "objective", "fraction strictly between 0 and 1"),
        (("objective: 99.9%", "objective: 100%"), "objective", "percentage below 100"),
        (
            ("name: availability", "name: Avail ability"),
            "name",
            "expected a name of lowercase letters, digits, '-', '_' and '.', starting and ending"
            " with a letter or digit, at most 200 characters; got 'Avail ability', where 'A' is"
            " not allowed",
        ),
        (("kind: SLO", "kind: Thing"), "kind", "expected SLO, Policy or AlertRouting"),
        (("  ratio:", "  ratios:"), "indicator.ratios", "unknown field"),
        (("    bad: ", "    good: x\n    bad: "), "indicator.ratio", "exactly one of good and bad"),
        (("objective: 99.9%", "objective: 99.9%\nwindow: 30 days"), "window", "duration like"),
        (
            ("objective: 99.9%", "objective: 99.9%\nwindow: {calendar: month, time_zone: Mars/X}"),
            "window",
            "unknown time zone",
        ),
        (("objective: 99.9%", "objective: 99.9%\nbudgeting: timeslices"), None, "needs timeslice"),
        (("objective: 99.9%", "objective: 99.9%\npolicy: strict"), "policy", "no spec defines"),
        (("service: api\n", ""), "service", "required field is missing"),
    ],
)
def test_errors_name_file_and_field(
    tmp_path: Path, change: tuple[str, str], field: str | None, expected: str
) -> None:
    path = _write(tmp_path, BASE.replace(*change))
    with pytest.raises(SpecError) as caught:
        load_specs([path])
    assert str(path) in str(caught.value)
    if field:
        assert caught.value.field == field
    assert expected in str(caught.value)


@pytest.mark.parametrize(
    ("objective", "fraction"),
    [("99.9%", 0.999), ("'99.9%'", 0.999), ("0.999", 0.999), ("95%", 0.95), ("99.95%", 0.9995)],
)
def test_objectives_as_fraction_or_percentage(
    tmp_path: Path, objective: str, fraction: float
) -> None:
    path = _write(tmp_path, BASE.replace("objective: 99.9%", f"objective: {objective}"))
    (slo,) = load_specs([path]).slos
    assert slo.objective == fraction  # exactly: 99.95 % is 0.9995, not 0.9995000000000001


@pytest.mark.parametrize(
    "objective",
    [
        "\u0669\u0669%",  # Arabic-Indic digits, which float() and Decimal() read as 99
        "99.9 %",
        " 99.9%",
        "99.9% ",
        "9_9.9%",
        "99,9%",
        "+99.9%",
        "99.9%%",
        "\uff19\uff19%",  # fullwidth digits
    ],
)
def test_objective_percentages_are_ascii_digits_and_the_sign(
    tmp_path: Path, objective: str
) -> None:
    path = _write(tmp_path, BASE.replace("objective: 99.9%", f'objective: "{objective}"'))
    with pytest.raises(SpecError) as caught:
        load_specs([path])
    assert caught.value.field == "objective"
    assert (
        "expected a percentage of ASCII digits with the % sign right after and no spaces,"
        " like '99.9%'"
    ) in caught.value.detail


def test_policy_level_states_are_unique(tmp_path: Path) -> None:
    policy = """
apiVersion: srekit/v1
kind: Policy
name: twice
levels:
  - {state: ok, above: 0.5, decision: allow}
  - {state: ok, above: 0.2, decision: review}
  - {state: out, decision: deny}
"""
    with pytest.raises(SpecError) as caught:
        load_specs([_write(tmp_path, policy)])
    assert caught.value.field == "levels"
    assert (
        caught.value.detail == "expected each level's state to be unique, got 'ok' more than once"
    )


def test_second_document_is_named(tmp_path: Path) -> None:
    path = _write(tmp_path, BASE + "---\n" + BASE.replace("objective: 99.9%", "objective: 2"))
    with pytest.raises(SpecError, match=r"slo\.yaml#2: objective"):
        load_specs([path])


def test_duplicates_and_unknown_format(tmp_path: Path) -> None:
    _write(tmp_path, BASE, "a.yaml")
    _write(tmp_path, BASE, "b.yaml")
    with pytest.raises(SpecError, match="defined twice"):
        load_specs([tmp_path])
    other = tmp_path / "other"
    other.mkdir()
    with pytest.raises(SpecError, match="apiVersion: expected one of"):
        load_specs([_write(other, "apiVersion: example/v9\nkind: SLO\n")])
    with pytest.raises(SpecError, match="invalid YAML at line 2"):
        load_specs([_write(other, "a: [1,\nb: }\n", "broken.yaml")])
    with pytest.raises(SpecError, match="no such file"):
        load_specs([tmp_path / "missing.yaml"])


def test_policy_documents(tmp_path: Path) -> None:
    bad_policy = """
apiVersion: srekit/v1
kind: Policy
name: broken
levels:
  - {state: a, decision: allow}
  - {state: b, above: 0.5, decision: deny}
"""
    with pytest.raises(SpecError, match="levels"):
        load_specs([_write(tmp_path, bad_policy)])
    wrong_decision = bad_policy.replace("decision: deny", "decision: maybe")
    with pytest.raises(SpecError) as caught:
        load_specs([_write(tmp_path, wrong_decision)])
    assert caught.value.field == "levels[1].decision"


_yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=8,
)


@settings(
    max_examples=150,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(
    document=st.fixed_dictionaries(
        {
            "apiVersion": st.sampled_from(
                ["srekit/v1", "openslo/v1", "prometheus/v1", "openslo/v1alpha", "x"]
            )
        },
        optional={
            "kind": st.sampled_from(["SLO", "Policy", "SLI", "Service", "PrometheusServiceLevel"]),
            "version": st.just("prometheus/v1"),
            "service": _yaml_values,
            "name": _yaml_values,
            "objective": _yaml_values,
            "window": _yaml_values,
            "indicator": _yaml_values,
            "metadata": _yaml_values,
            "spec": _yaml_values,
            "slos": _yaml_values,
            "levels": _yaml_values,
        },
    )
)
def test_no_input_gives_a_traceback(tmp_path: Path, document: dict[str, object]) -> None:
    path = tmp_path / "fuzz.yaml"
    path.write_text(yaml.safe_dump(document))
    error: SpecError | None = None
    try:
        load_specs([path])
    except SpecError as raised:
        error = raised
    assert error is None or str(path) in str(error)
