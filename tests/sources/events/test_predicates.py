"""The predicate sandbox: what an SLO's SQL predicate may not be, named by SLO and field."""

from __future__ import annotations

from datetime import timedelta

import pytest

from srekit.core.sli import WindowQuery
from srekit.core.slo import SLO, PromErrorRatio
from srekit.core.window import RollingWindow
from srekit.errors import SpecError
from srekit.sources.events import EventStore
from tests.sources.events.conftest import END, make_slo


@pytest.mark.parametrize(
    ("predicate", "message"),
    [
        ("status <", "syntax error"),
        ("status", "expected a boolean"),
        ("nope = 1", "nope"),
        ("true; DROP TABLE events", "single expression"),
        ("true) FROM events WHERE (true", "single expression"),
        ("status < 500 -- comment", "comments"),
        ("path IN (SELECT path FROM events)", "subqueries"),
        ("getenv('HOME') = ''", "getenv"),
        ("ts > now()", "now"),
        ("count(*) > 0", "aggregate"),
    ],
)
def test_bad_predicates_raise_spec_error_naming_slo_and_field(
    store: EventStore, predicate: str, message: str
) -> None:
    slo = make_slo("api", "availability", predicate)
    with pytest.raises(SpecError, match=message) as caught:
        store.counts([slo], [WindowQuery("1h", END - timedelta(hours=1), END)])
    assert caught.value.field == "indicator.good"
    assert caught.value.file == "slos.yaml"
    assert "api-availability" in str(caught.value)


def test_semicolon_inside_a_string_is_fine(store: EventStore) -> None:
    store.validate(make_slo("api", "odd", "path <> ';'"))


def test_other_indicators_are_refused(store: EventStore) -> None:
    slo = SLO(
        service="api",
        name="raw",
        objective=0.99,
        window=RollingWindow(86400),
        indicator=PromErrorRatio("x"),
    )
    with pytest.raises(SpecError, match="events indicators only"):
        store.validate(slo)
