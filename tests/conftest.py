"""Test-wide settings and fixtures: Hypothesis without wall-clock limits, so a busy machine cannot
flake it, and the state store on a SQLite file and on a real PostgreSQL server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import Engine

from srekit.store.database import create_store_engine, upgrade
from tests.postgres_fixture import PostgresServer

# pytest-xdist's workers inherit COLUMNS=80 from it; the CLI would then wrap its messages at 80
# columns in one worker and not in a plain run. The tests see what CI and pipes see: no COLUMNS.
os.environ.pop("COLUMNS", None)

# `browser_page`: a headless Chromium page, for any test of what srekit serves to browsers
pytest_plugins = ("tests.browser",)

settings.register_profile(
    "srekit",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("srekit")


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One PostgreSQL cluster for the session; it fails (never skips) when PostgreSQL is missing."""
    try:
        server = PostgresServer.start()
    except RuntimeError as error:
        pytest.fail(str(error), pytrace=False)
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a new, empty database on each engine."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state' / 'srekit.db'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.create_database()


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    """A migrated SQLite store, for tests that need not run on both engines."""
    engine = create_store_engine(f"sqlite:///{tmp_path / 'state' / 'srekit.db'}")
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def engine(empty_url: str) -> Iterator[Engine]:
    """An engine on a database migrated to head."""
    engine = create_store_engine(empty_url)
    upgrade(engine)
    yield engine
    engine.dispose()
