"""The JSON the store keeps for a spec, pinned byte for byte: a database written by an earlier
srekit must keep comparing equal (`apply` writes nothing for an unchanged spec)."""

from __future__ import annotations

import json
from pathlib import Path

from srekit.core.policy import DEFAULT_POLICY, BudgetPolicy, Decision, PolicyLevel
from srekit.core.slo import (
    SLO,
    Alerting,
    AlertSpec,
    BudgetingMethod,
    EventsRatio,
    PromErrorRatio,
    PromLatency,
    PromRatio,
    PromThreshold,
)
from srekit.core.specs import canonical_json
from srekit.core.window import CalendarWindow, RollingWindow
from srekit.spec.loader import load_specs
from srekit.store.codec import policy_from_dict, policy_to_dict, slo_to_dict

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PINNED = Path(__file__).resolve().parent / "data" / "stored_json.json"

FIXTURES = [
    SLO(
        service="api",
        name="every-field",
        objective=0.995,
        window=CalendarWindow("month", 2, "Europe/Paris"),
        indicator=PromRatio(total="requests_total", good="sum(rate(ok[{{.window}}]))"),
        budgeting=BudgetingMethod.RATIO_TIMESLICES,
        timeslice_s=60,
        timeslice_target=0.9,
        labels={"tier": "1", "team": "é"},
        alerting=Alerting(
            name="ApiEveryField",
            labels={"a": "b"},
            annotations={"summary": "x"},
            page=AlertSpec(disabled=True),
            ticket=AlertSpec(labels={"route": "tickets"}, annotations={"c": "d"}),
        ),
        policy="strict",
        description="all of it",
        owner="payments",
        runbook_url="https://runbooks.example/api",
        source_file="specs/api.yaml",
    ),
    SLO("api", "bad", 0.999, RollingWindow(2592000), PromRatio(total="t", bad="b")),
    SLO("api", "raw", 0.99, RollingWindow(604800), PromErrorRatio(error_ratio="e[{{.window}}]")),
    SLO("api", "latency", 0.9, RollingWindow(86400), PromLatency("h", 1, 'job="a"')),
    SLO(
        "api",
        "threshold",
        0.9,
        CalendarWindow("week"),
        PromThreshold(query="up", op="gte", value=1),
        budgeting=BudgetingMethod.TIMESLICES,
        timeslice_s=300,
        timeslice_target=0.95,
    ),
    SLO("api", "events", 0.999, RollingWindow(2592000), EventsRatio("status < 500")),
    SLO("api", "stream", 0.5, RollingWindow(60), EventsRatio("ok", "path != '/'", "web")),
]
POLICIES = [
    DEFAULT_POLICY,
    BudgetPolicy(
        name="strict",
        levels=(
            PolicyLevel("ok", 0.5, Decision.ALLOW, change_types={"config": Decision.REVIEW}),
            PolicyLevel("no", None, Decision.DENY, ("stop",)),
        ),
        exceptions=(),
    ),
    BudgetPolicy(
        name="idle-ok",
        levels=(PolicyLevel("ok", None, Decision.ALLOW),),
        no_data=Decision.ALLOW,
    ),
]


def _encoded() -> dict[str, str]:
    specs = load_specs([EXAMPLES / "slos", EXAMPLES / "prometheus", EXAMPLES / "sloth"])
    specs_srekit = load_specs([EXAMPLES / "srekit"])
    slos = [*specs.slos, *specs_srekit.slos, *FIXTURES]
    policies = [*specs.policies.values(), *specs_srekit.policies.values(), *POLICIES]
    encoded = {f"slo {slo.id} {slo.source_file}": canonical_json(slo_to_dict(slo)) for slo in slos}
    encoded.update({f"policy {p.name}": canonical_json(policy_to_dict(p)) for p in policies})
    # paths relative to the repository, so the pin holds in any checkout
    here = str(EXAMPLES.parent) + "/"
    return {key.replace(here, ""): text.replace(here, "") for key, text in encoded.items()}


def test_stored_json_is_pinned() -> None:
    pinned = json.loads(PINNED.read_text(encoding="utf-8"))
    encoded = _encoded()
    assert len(encoded) >= 15
    assert encoded.keys() == pinned.keys()
    for key, text in encoded.items():
        assert text == pinned[key], key


def test_policies_stored_before_no_data_existed_deny_on_silence() -> None:
    pinned = json.loads(PINNED.read_text(encoding="utf-8"))
    stored = json.loads(pinned["policy default"])
    assert "no_data" not in stored
    assert policy_from_dict(stored).no_data is Decision.DENY
    idle = json.loads(pinned["policy idle-ok"])
    assert policy_from_dict(idle).no_data is Decision.ALLOW
