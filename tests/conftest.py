"""Test-wide settings: Hypothesis without wall-clock limits, so a busy machine cannot flake it."""

from __future__ import annotations

from hypothesis import HealthCheck, settings

settings.register_profile(
    "srekit",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("srekit")
