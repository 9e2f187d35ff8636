"""examples/alertmanager/alertmanager.yml and docs/alertmanager.md: Alertmanager's own `amtool`
accepts the file and routes srekit's alerts as the page says, and the page shows the file and
the captured payload as they are."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.alertmanager_capture import load_sequence
from tests.alertmanager_fixture import EXAMPLE_CONFIG, require_binary

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "alertmanager.md"


def _amtool(*args: str) -> subprocess.CompletedProcess[str]:
    try:
        amtool = require_binary("amtool")
    except RuntimeError as error:
        pytest.fail(str(error), pytrace=False)
    return subprocess.run(
        [str(amtool), *args], capture_output=True, text=True, cwd=ROOT, timeout=60, check=False
    )


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", PAGE.read_text(encoding="utf-8"), re.DOTALL)


def test_amtool_accepts_the_example() -> None:
    checked = _amtool("check-config", str(EXAMPLE_CONFIG))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS" in checked.stdout
    assert " - 4 receivers" in checked.stdout


def test_amtool_refuses_a_broken_copy(tmp_path: Path) -> None:
    """The check above can fail: a route to a receiver the file does not define."""
    broken = tmp_path / "alertmanager.yml"
    text = EXAMPLE_CONFIG.read_text(encoding="utf-8")
    broken.write_text(text.replace("- receiver: srekit", "- receiver: srekit-typo"))
    checked = _amtool("check-config", str(broken))
    assert checked.returncode != 0
    assert 'undefined receiver "srekit-typo"' in checked.stdout + checked.stderr


@pytest.mark.parametrize(
    ("labels", "receivers"),
    [
        (["severity=page", "srekit_service=checkout", "srekit_slo=availability"], "srekit,pager"),
        (["severity=ticket", "service=search"], "srekit,tickets"),
        (["severity=warning", "srekit_service=checkout"], "default"),
        (["alertname=Watchdog"], "default"),
    ],
)
def test_srekits_alerts_reach_srekit_and_the_pager(labels: list[str], receivers: str) -> None:
    routed = _amtool("config", "routes", "test", f"--config.file={EXAMPLE_CONFIG}", *labels)
    assert routed.returncode == 0, routed.stderr
    assert routed.stdout.strip() == receivers


def test_the_srekit_receiver_is_the_one_the_page_describes() -> None:
    config = yaml.safe_load(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    (receiver,) = [r for r in config["receivers"] if r["name"] == "srekit"]
    assert receiver["webhook_configs"] == [
        {
            "url": "http://srekit:8000/api/v1/alertmanager",
            "send_resolved": True,
            "max_alerts": 0,
            "http_config": {
                "authorization": {
                    "type": "Bearer",
                    "credentials_file": "/etc/alertmanager/srekit-token",
                }
            },
        }
    ]
    shown: dict[str, Any] = {}
    for block in _blocks("yaml"):
        shown.update(yaml.safe_load(block))
    assert shown["receivers"] == [receiver]
    assert shown["route"] == config["route"]


def test_the_pages_amtool_commands_print_what_it_shows() -> None:
    commands = 0
    for block in _blocks("console"):
        lines = block.splitlines()
        for index, line in enumerate(lines):
            if not line.startswith("$ amtool "):
                continue
            shown = []
            for following in lines[index + 1 :]:
                if following.startswith("$ "):
                    break
                shown.append(following)
            ran = _amtool(*shlex.split(line[2:])[1:])
            assert ran.returncode == 0, f"{line}: {ran.stdout}{ran.stderr}"
            assert [s for s in shown if s.strip()] == [
                s for s in shown if s.strip() and s in ran.stdout.splitlines()
            ], f"{line} printed:\n{ran.stdout}"
            commands += 1
    assert commands == 2


def test_the_payload_shown_is_the_first_captured_webhook() -> None:
    (payload,) = _blocks("json")
    assert json.loads(payload) == load_sequence()[0]
