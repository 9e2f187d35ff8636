"""Specs checked when they are written: an events SLO's predicates pass the sandbox without an
event store, or a SpecError names the SLO, the file and the field."""

from __future__ import annotations

import time

import pytest

from srekit.core.slo import SLO, PromErrorRatio
from srekit.core.window import RollingWindow
from srekit.errors import SpecError
from srekit.flows.validate import check_slos
from srekit.sources.events.predicates import MAX_PREDICATE_CHARS
from tests.sources.events.conftest import make_slo


@pytest.mark.parametrize(
    ("good", "total", "field", "message"),
    [
        ("getenv('HOME') = ''", "true", "indicator.good", "getenv"),
        ("true; DROP TABLE events", "true", "indicator.good", "single expression"),
        ("status < 500 -- no", "true", "indicator.good", "comments"),
        ("status < 500 /* no */", "true", "indicator.good", "comments"),
        ("path IN (SELECT path FROM events)", "true", "indicator.good", "subqueries"),
        ("read_text('/etc/passwd') <> ''", "true", "indicator.good", "read_text"),
        ("status", "true", "indicator.good", "expected a boolean"),
        ("true", "duration_s", "indicator.total", "expected a boolean"),
        ("true", "nope = 1", "indicator.total", "nope"),
        ("(" * 2000 + "true" + ")" * 2000, "true", "indicator.good", "depth"),
        ("status < 500\x00", "true", "indicator.good", "syntax error"),
    ],
)
def test_bad_predicates_are_refused_naming_the_field(
    good: str, total: str, field: str, message: str
) -> None:
    slo = make_slo("api", "availability", good, total)
    with pytest.raises(SpecError, match=message) as caught:
        check_slos([slo])
    assert caught.value.field == field
    assert caught.value.file == "slos.yaml"
    assert "api-availability" in caught.value.detail


def test_good_predicates_and_other_indicators_pass() -> None:
    prometheus = SLO(
        service="api",
        name="raw",
        objective=0.99,
        window=RollingWindow(86400),
        indicator=PromErrorRatio("x"),
    )
    check_slos(
        [
            make_slo("api", "a", "status < 500"),
            make_slo("api", "b", "path <> ';' AND duration_s < 0.3", "method = 'GET'"),
            make_slo("api", "c", "length(repeat(path, 20000)) > 0"),  # costly: the time limit's
            prometheus,
        ]
    )


def test_a_huge_predicate_is_refused_quickly() -> None:
    # 100 000 numbers in an IN list took minutes to tokenize before the length limit
    huge = "status IN (" + ",".join(str(n) for n in range(100_000)) + ")"
    started = time.perf_counter()
    with pytest.raises(SpecError, match=f"at most {MAX_PREDICATE_CHARS} characters"):
        check_slos([make_slo("api", "huge", huge)])
    assert time.perf_counter() - started < 1.0
    # just under the limit is checked, still quickly
    near = "status IN (" + ",".join(str(n) for n in range(1600)) + ")"
    assert len(near) <= MAX_PREDICATE_CHARS
    started = time.perf_counter()
    check_slos([make_slo("api", "near", near)])
    assert time.perf_counter() - started < 2.0


def test_an_empty_stream_is_refused() -> None:
    with pytest.raises(SpecError, match="empty stream") as caught:
        check_slos([make_slo("api", "a", "true", stream=" ")])
    assert caught.value.field == "indicator.stream"
