"""Session fixtures: one backfilled Prometheus for all integration tests, one with rollups, and
one with rollups and srekit's short-window error-ratio recordings."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.alertmanager_fixture import alertmanager, start_alertmanager, webhook_recorder
from tests.integration.prometheus_fixture import (
    TEST_SERVICES,
    Backfilled,
    generate,
    require_binary,
    serve,
    serve_with_recordings,
    serve_with_rollups,
)
from tests.integration.slos import recorded_slos, rollup_slos

__all__ = [
    "alertmanager",
    "prometheus",
    "prometheus_recordings",
    "prometheus_rollups",
    "start_alertmanager",
    "webhook_recorder",
]


def _require_prometheus() -> None:
    for binary in ("prometheus", "promtool"):
        try:
            require_binary(binary)
        except RuntimeError as error:
            pytest.fail(str(error), pytrace=False)


@pytest.fixture(scope="session")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backfilled]:
    """A real Prometheus on 127.0.0.1 serving 30 days of generated history (`.dataset`)."""
    _require_prometheus()
    backfilled = serve(generate(TEST_SERVICES), tmp_path_factory.mktemp("prometheus"))
    yield backfilled
    backfilled.server.stop()


@pytest.fixture(scope="session")
def prometheus_rollups(
    prometheus: Backfilled, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Backfilled]:
    """A second Prometheus on the same history plus srekit's hourly rollups of `rollup_slos()`."""
    workdir = tmp_path_factory.mktemp("prometheus-rollups")
    backfilled = serve_with_rollups(prometheus, rollup_slos(), workdir)
    yield backfilled
    backfilled.server.stop()


@pytest.fixture(scope="session")
def prometheus_recordings(
    prometheus: Backfilled,
    prometheus_rollups: Backfilled,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Backfilled]:
    """The rollup server's blocks plus `recorded_slos()`'s 5m–6h error ratios, last 7 hours.

    The rules are evaluated against the raw server: it compacts nothing while promtool reads.
    """
    workdir = tmp_path_factory.mktemp("prometheus-recordings")
    backfilled = serve_with_recordings(
        prometheus_rollups, recorded_slos(), workdir, rules_url=prometheus.url
    )
    yield backfilled
    backfilled.server.stop()
