"""The HPA manifest: the shape Kubernetes' own schema accepts, and the values asked for."""

from __future__ import annotations

import kubernetes_validate
import pytest
import yaml

from srekit.capacity.hpa import hpa_manifest, hpa_yaml
from srekit.spec.capacity import HpaBehaviorSpec, HpaSpec, ScalingRuleSpec


@pytest.mark.parametrize(
    "hpa",
    [
        HpaSpec(),
        HpaSpec(
            min_replicas=2,
            max_replicas=30,
            cpu_utilization=65.5,
            rps_per_pod=12.5,
            behavior=HpaBehaviorSpec(
                scale_up=ScalingRuleSpec(pods=2, period="30s"),
                scale_down=ScalingRuleSpec(stabilization_window="10m", percent=10, period="1m"),
            ),
        ),
    ],
)
def test_manifest_is_a_valid_hpa(hpa: HpaSpec) -> None:
    document = yaml.safe_load(hpa_yaml(hpa_manifest("checkout", namespace="shop", hpa=hpa)))
    kubernetes_validate.validate(document, kubernetes_validate.latest_version(), strict=True)


def test_manifest_values() -> None:
    manifest = hpa_manifest("checkout", namespace="shop", hpa=HpaSpec(), max_replicas=14)
    spec = manifest["spec"]
    assert (spec["minReplicas"], spec["maxReplicas"]) == (3, 14)
    cpu, memory, rps = spec["metrics"]
    assert cpu["resource"] == {
        "name": "cpu",
        "target": {"type": "Utilization", "averageUtilization": 70},
    }
    assert memory["resource"]["target"]["averageUtilization"] == 80
    assert rps["pods"]["target"] == {"type": "AverageValue", "averageValue": "50"}
    assert spec["behavior"] == {
        "scaleUp": {
            "stabilizationWindowSeconds": 0,
            "selectPolicy": "Max",
            "policies": [
                {"type": "Percent", "value": 100, "periodSeconds": 15},
                {"type": "Pods", "value": 4, "periodSeconds": 15},
            ],
        },
        "scaleDown": {
            "stabilizationWindowSeconds": 300,
            "selectPolicy": "Min",
            "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}],
        },
    }


def test_fractional_rps_is_a_milli_quantity_and_empty_rules_stay_empty() -> None:
    hpa = HpaSpec(
        rps_per_pod=12.5,
        behavior=HpaBehaviorSpec(scale_up=ScalingRuleSpec(), scale_down=ScalingRuleSpec()),
    )
    spec = hpa_manifest("a", namespace="b", hpa=hpa)["spec"]
    assert spec["metrics"][2]["pods"]["target"]["averageValue"] == "12500m"
    assert spec["behavior"] == {"scaleUp": {}, "scaleDown": {}}


def test_invalid_shape_is_caught_by_the_oracle() -> None:
    manifest = hpa_manifest("a", namespace="b", hpa=HpaSpec())
    manifest["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] = "70"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(manifest, kubernetes_validate.latest_version(), strict=True)
