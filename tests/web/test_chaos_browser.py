"""The Chaos page in a real browser: `srekit demo`, three runs stored by `srekit chaos run`
itself (one that holds, one whose steady state deviates, one guarded by an SLO so its budget
consumed is stored), then `srekit serve` and a headless Chromium: every run appears with the
outcome and budget the API serves, in the API's order; the service filter keeps the API's
runs of that service; nothing logs an error, no request leaves 127.0.0.1, and axe-core finds
no serious or critical violation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from playwright.sync_api import ConsoleMessage, Page

from tests.browser import BrowserPage
from tests.cli.conftest import run
from tests.served import srekit_serve
from tests.web.test_browser import ROOT, Served, _axe, _demo, _login

pytestmark = pytest.mark.integration


def _deviating(marker: Path) -> dict[str, Any]:
    """The steady state is a file that exists; the method removes it; the rollback puts it
    back: the steady state after the method deviates."""
    return {
        "title": "the marker file survives",
        "description": "it does not",
        "steady-state-hypothesis": {
            "title": "the marker exists",
            "probes": [
                {
                    "type": "probe",
                    "name": "marker-exists",
                    "tolerance": 0,
                    "provider": {
                        "type": "process",
                        "path": "test",
                        "arguments": ["-e", str(marker)],
                    },
                }
            ],
        },
        "method": [
            {
                "type": "action",
                "name": "remove-marker",
                "provider": {"type": "process", "path": "rm", "arguments": [str(marker)]},
            }
        ],
        "rollbacks": [
            {
                "type": "action",
                "name": "restore-marker",
                "provider": {"type": "process", "path": "touch", "arguments": [str(marker)]},
            }
        ],
        "extensions": [
            {"name": "srekit", "service": "files", "blast_radius": {"allowed_targets": ["local"]}}
        ],
    }


def _guarded() -> dict[str, Any]:
    smoke: dict[str, Any] = yaml.safe_load((ROOT / "examples" / "chaos" / "smoke.yaml").read_text())
    smoke["title"] = "checkout under a guard"
    smoke["extensions"] = [
        {
            "name": "srekit",
            "service": "checkout",
            "blast_radius": {"allowed_targets": ["127.0.0.1"]},
            "slo_guard": {"slos": ["checkout/availability"], "min_remaining": 0},
        }
    ]
    return smoke


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("chaos-home")
    _demo(home)
    env = {"SREKIT_HOME": str(home), "SREKIT_DATABASE_URL": "", "SREKIT_PROMETHEUS_URL": ""}
    marker = home / "marker"
    marker.touch()
    files = {"deviating.yaml": _deviating(marker), "guarded.yaml": _guarded()}
    for name, experiment in files.items():
        (home / name).write_text(yaml.safe_dump(experiment))
    for file, exits in (
        (ROOT / "examples" / "chaos" / "smoke.yaml", 0),
        (home / "deviating.yaml", 1),
        (home / "guarded.yaml", 0),
    ):
        code, _, err = run("chaos", "run", str(file), "--force", env=env)
        assert code == exits, err
    token = (home / "dashboard-admin.token").read_text(encoding="utf-8").strip()
    with srekit_serve(home) as url:
        yield Served(url, token)


def _api_runs(served: Served, query: str = "") -> list[dict[str, Any]]:
    answer = httpx.get(
        f"{served.url}/api/v1/chaos/runs{query}",
        headers={"Authorization": f"Bearer {served.token}"},
        timeout=10,
    )
    assert answer.status_code == 200
    runs: list[dict[str, Any]] = answer.json()
    return runs


def _outcome(run: dict[str, Any]) -> str:
    """What the page says of a run, worked out here from the API's JSON."""
    said = "passed" if run["passed"] else run["status"]
    return f"{said} (deviated)" if run["deviated"] else said


def _shown(page: Page) -> list[tuple[str, str, str]]:
    rows = page.locator("#chaos-table tbody tr")
    return [
        (
            rows.nth(index).get_attribute("data-run") or "",
            rows.nth(index).locator('[data-field="outcome"]').inner_text().strip(),
            rows.nth(index).locator('[data-field="budget"]').inner_text().strip(),
        )
        for index in range(rows.count())
    ]


def _expected(runs: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return [
        (
            str(run["id"]),
            _outcome(run),
            "—" if run["budget_consumed"] is None else f"{run['budget_consumed']:.3%}",
        )
        for run in runs
    ]


def test_stored_runs_appear_with_the_apis_outcomes_and_figures(
    served: Served, browser_page: BrowserPage
) -> None:
    errors: list[str] = []

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    page = browser_page.page
    page.on("console", console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    _login(page, served, "/ui/chaos")
    runs = _api_runs(served)
    assert [run["service"] for run in runs] == ["checkout", "files", "demo"]  # newest first
    assert [_outcome(run) for run in runs] == ["passed", "completed (deviated)", "passed"]
    assert runs[0]["budget_consumed"] is not None  # the guarded run stored what it cost
    assert _shown(page) == _expected(runs)
    deviating = page.locator(f'tr[data-run="{runs[1]["id"]}"]')
    assert deviating.locator("ul.reasons li").all_inner_texts() == runs[1]["deviations"]
    assert runs[1]["deviations"] == ["after: marker-exists"]

    page.select_option("#f-service", "files")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(f"{served.url}/ui/chaos?service=files")
    assert _shown(page) == _expected(_api_runs(served, "?service=files"))

    assert _axe(page) == []
    assert errors == []
    assert browser_page.outside() == []
