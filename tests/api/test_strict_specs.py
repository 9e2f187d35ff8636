"""Specs through the API are read strictly: an objective is a number, never text Python would
read as one, and a policy's level states are unique."""

from __future__ import annotations

import pytest

from tests.api.conftest import AVAILABILITY_SPEC, Api


def test_policy_level_states_are_unique(lite_api: Api) -> None:
    twice = {
        "levels": [
            {"state": "ok", "floor": 0.5, "decision": "allow"},
            {"state": "ok", "floor": 0.2, "decision": "review"},
            {"state": "out", "decision": "deny"},
        ]
    }
    answer = lite_api.put("/api/v1/policies/twice", json=twice)
    assert answer.status_code == 422
    assert answer.json()["detail"] == [
        {
            "loc": ["body", "levels"],
            "msg": "expected each level's state to be unique, got 'ok' more than once",
            "type": "spec_error",
        }
    ]
    assert lite_api.get("/api/v1/policies").json() == []


@pytest.mark.parametrize("objective", [" 0.999 ", "0.999", "0_999", "\u0660.\u0669"])
def test_an_objective_is_a_number_not_text(lite_api: Api, objective: str) -> None:
    spec = {**AVAILABILITY_SPEC, "objective": objective}
    answer = lite_api.put("/api/v1/slos/checkout/availability", json={"spec": spec})
    assert answer.status_code == 422
    (problem,) = answer.json()["detail"]
    assert (problem["loc"], problem["msg"]) == (
        ["body", "spec", "objective"],
        "Input should be a valid number",
    )
    assert lite_api.get("/api/v1/slos").json() == []


def test_a_spec_document_with_a_text_longer_than_any_spec_has_is_refused(lite_api: Api) -> None:
    """Under the body limit, but a 200 KB description would be kept in every version."""
    document = {
        "apiVersion": "srekit/v1",
        "kind": "SLO",
        "service": "checkout",
        "name": "availability",
        "objective": "99.9%",
        "description": "x" * 200_000,
        "indicator": {"events": {"good": "status < 500"}},
    }
    answer = lite_api.put("/api/v1/slos/checkout/availability", json={"document": document})
    assert answer.status_code == 422
    (problem,) = answer.json()["detail"]
    assert problem["loc"][-1] == "description"
    assert "expected at most 16384 characters, got 200000" in problem["msg"]
    assert lite_api.get("/api/v1/slos").json() == []
