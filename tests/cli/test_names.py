"""Hostile names through the CLI's options and spec files: exit 2 naming the option (or the
file and field) and saying what is expected, and nothing stored."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from srekit.cli.main import app
from srekit.core.names import NAME_RULE
from tests.cli.conftest import EXAMPLES
from tests.hostile import HOSTILE_NAMES

runner = CliRunner()


def _run(env: dict[str, str], *args: str | Path) -> tuple[int, str]:
    result = runner.invoke(app, [str(a) for a in args], env=env)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    # Click's error box wraps long messages: read them as one line
    return result.exit_code, re.sub(r"[\s│╭╮╰╯─]+", " ", result.stderr)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"SREKIT_HOME": str(tmp_path / "home"), "SREKIT_DATABASE_URL": "", "SREKIT_ACTOR": "ci"}


def _stored(env: dict[str, str]) -> tuple[object, object, object]:
    def listed(*args: str) -> object:
        result = runner.invoke(app, [*args, "--format", "json"], env=env)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    return listed("token", "list"), listed("slo", "list", "--stored"), listed("audit")


def _expects_a_name(message: str, hostile: str) -> None:
    if len(hostile) > 200:
        assert "at most 200 characters; got 201 characters" in message, message
    else:
        assert NAME_RULE in message, message


@pytest.mark.parametrize("hostile", HOSTILE_NAMES.values(), ids=list(HOSTILE_NAMES))
def test_token_create_refuses_a_hostile_name(env: dict[str, str], hostile: str) -> None:
    before = _stored(env)
    code, message = _run(env, "token", "create", "--role", "viewer", "--name", hostile)
    assert code == 2
    assert "Invalid value for '--name': expected a name of" in message
    _expects_a_name(message, hostile)
    assert _stored(env) == before


@pytest.mark.parametrize("hostile", HOSTILE_NAMES.values(), ids=list(HOSTILE_NAMES))
def test_events_ingest_refuses_a_hostile_service(tmp_path: Path, hostile: str) -> None:
    store = tmp_path / "events"
    log = EXAMPLES / "logs" / "checkout.access.log.gz"
    code, message = _run(
        {}, "events", "ingest", log, "--service", hostile, "--format", "nginx", "--store", store
    )
    assert code == 2
    assert "Invalid value for '--service' / '-s': expected a name of" in message
    _expects_a_name(message, hostile)
    assert not store.exists()


@pytest.mark.parametrize("hostile", HOSTILE_NAMES.values(), ids=list(HOSTILE_NAMES))
def test_gate_refuses_a_hostile_service(env: dict[str, str], hostile: str) -> None:
    code, message = _run(env, "gate", "-f", EXAMPLES / "slos", "--service", hostile)
    assert code == 2
    assert "Invalid value for '--service': expected a name of" in message
    _expects_a_name(message, hostile)


SPECS = {
    "srekit/v1 service": (
        {
            "apiVersion": "srekit/v1",
            "kind": "SLO",
            "service": "{}",
            "name": "availability",
            "objective": "99.9%",
            "indicator": {"events": {"good": "status < 500"}},
        },
        "service",
    ),
    "srekit/v1 owner": (
        {
            "apiVersion": "srekit/v1",
            "kind": "SLO",
            "service": "checkout",
            "name": "availability",
            "objective": "99.9%",
            "owner": "{}",
            "indicator": {"events": {"good": "status < 500"}},
        },
        "owner",
    ),
    "sloth name": (
        {
            "version": "prometheus/v1",
            "service": "checkout",
            "slos": [
                {
                    "name": "{}",
                    "objective": 99.9,
                    "sli": {"raw": {"error_ratio_query": "rate(errors[{{.window}}])"}},
                    "alerting": {
                        "page_alert": {"disable": True},
                        "ticket_alert": {"disable": True},
                    },
                }
            ],
        },
        "slos[0].name",
    ),
}


def _with(data: object, hostile: str) -> object:
    if isinstance(data, dict):
        return {key: _with(value, hostile) for key, value in data.items()}
    if isinstance(data, list):
        return [_with(value, hostile) for value in data]
    return hostile if data == "{}" else data


# NUL and U+202E cannot be written in a YAML file (PyYAML refuses them); the API takes JSON.
WRITABLE = {
    key: value for key, value in HOSTILE_NAMES.items() if key not in ("nul", "rtl override")
}


@pytest.mark.parametrize("hostile", WRITABLE.values(), ids=list(WRITABLE))
@pytest.mark.parametrize("spec", SPECS, ids=list(SPECS))
def test_slo_apply_refuses_hostile_names_in_specs(
    env: dict[str, str], tmp_path: Path, spec: str, hostile: str
) -> None:
    document, field = SPECS[spec]
    path = tmp_path / "slo.yaml"
    path.write_text(yaml.safe_dump(_with(document, hostile), allow_unicode=True))
    before = _stored(env)
    code, message = _run(env, "slo", "apply", "-f", path)
    assert code == 2
    assert f"{path}: {field}: " in message, message
    if spec.startswith("sloth") and hostile not in ("Checkout", "x" * 201):
        # Sloth's own rule refuses these first, in its words (it allows uppercase, any length)
        assert "expected a name that starts and ends with a letter or digit" in message
    else:
        _expects_a_name(message, hostile)
    assert _stored(env) == before
