"""An autoscaling/v2 HorizontalPodAutoscaler manifest for a recommendation."""

from __future__ import annotations

import math
from typing import Any

import yaml

from srekit.spec.capacity import HpaSpec, ScalingRuleSpec, duration_s

__all__ = ["hpa_manifest", "hpa_yaml"]


def _rule(rule: ScalingRuleSpec, *, select: str) -> dict[str, Any]:
    policies: list[dict[str, Any]] = []
    period = duration_s(rule.period)
    if rule.percent is not None:
        policies.append({"type": "Percent", "value": rule.percent, "periodSeconds": period})
    if rule.pods is not None:
        policies.append({"type": "Pods", "value": rule.pods, "periodSeconds": period})
    out: dict[str, Any] = {}
    if rule.stabilization_window is not None:
        window = rule.stabilization_window
        out["stabilizationWindowSeconds"] = 0 if window == "0s" else duration_s(window)
    if policies:
        out["selectPolicy"] = select
        out["policies"] = policies
    return out


def hpa_manifest(
    name: str,
    *,
    namespace: str,
    hpa: HpaSpec,
    max_replicas: int | None = None,
    rps_metric: str = "http_requests_per_second",
) -> dict[str, Any]:
    """The HPA for Deployment `name`: CPU and memory Utilization targets, a Pods metric for
    requests per second (averageValue), scale-up Max and scale-down Min policy selection.

    `max_replicas` overrides the spec's (a recommendation above it); never below min.
    """
    maximum = max(hpa.min_replicas, max_replicas if max_replicas is not None else hpa.max_replicas)
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
            "minReplicas": hpa.min_replicas,
            "maxReplicas": maximum,
            "metrics": [
                _resource("cpu", hpa.cpu_utilization),
                _resource("memory", hpa.memory_utilization),
                {
                    "type": "Pods",
                    "pods": {
                        "metric": {"name": rps_metric},
                        "target": {
                            "type": "AverageValue",
                            "averageValue": _quantity(hpa.rps_per_pod),
                        },
                    },
                },
            ],
            "behavior": {
                "scaleUp": _rule(hpa.behavior.scale_up, select="Max"),
                "scaleDown": _rule(hpa.behavior.scale_down, select="Min"),
            },
        },
    }


def _resource(name: str, percent: float) -> dict[str, Any]:
    return {
        "type": "Resource",
        "resource": {
            "name": name,
            "target": {"type": "Utilization", "averageUtilization": math.ceil(percent)},
        },
    }


def _quantity(value: float) -> str:
    """A Kubernetes quantity: whole numbers as is, else milli-units (`12.5` → `12500m`)."""
    if value == int(value):
        return str(int(value))
    return f"{math.ceil(value * 1000)}m"


def hpa_yaml(manifest: dict[str, Any]) -> str:
    """The manifest as YAML, keys in the order Kubernetes documents them."""
    return yaml.safe_dump(manifest, sort_keys=False)
