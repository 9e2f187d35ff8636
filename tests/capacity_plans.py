"""A CapacityPlan forecast request with its series inline, as the API and the dashboard's
tests record them: one `cpu` resource, 240 hourly samples ending 2026-03-31T00:00:00Z that
grow from 4 cores by `slope` an hour."""

from __future__ import annotations

from typing import Any

__all__ = ["END", "HOUR", "forecast_request"]

END = 1_774_915_200  # 2026-03-31T00:00:00Z
HOUR = 3_600


def forecast_request(
    service: str, at: str, *, slope: float = 0.05, record: bool = True, **resource: Any
) -> dict[str, Any]:
    """The body of `POST /api/v1/capacity/forecast`; `resource` adds to (or replaces) the cpu
    resource's fields (its limit is 24 cores)."""
    return {
        "plan": {
            "apiVersion": "srekit/v1",
            "kind": "CapacityPlan",
            "metadata": {"name": service},
            "spec": {
                "service": service,
                "horizon": "30d",
                "history": "30d",
                "step": "1h",
                "resources": [
                    {"name": "cpu", "usage": "sum(cpu)", "unit": "cores", "limit": 24, **resource}
                ],
            },
        },
        "series": {"cpu": [[END - (240 - k) * HOUR, 4 + slope * k] for k in range(240)]},
        "at": at,
        "record": record,
    }
