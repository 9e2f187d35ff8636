"""`srekit status|gate --server URL`: a running srekit (uvicorn on 127.0.0.1) asked over HTTP
with SREKIT_TOKEN, and `status --watch` redrawing in a terminal."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

from srekit.core.status import DataState
from tests.api.conftest import (
    AVAILABILITY_SPEC,
    status_for,
)
from tests.cli.conftest import EXAMPLES, Served, run
from tests.served import free_port


def test_status_from_a_server_is_what_it_serves(served: Served) -> None:
    served.evaluator.statuses = [status_for("checkout", "availability", 0.8)]
    code, out, err = served.run("status", "--format", "json")
    assert code == 0, err
    assert err.strip() == f"from the server at {served.url}"
    import httpx

    direct = httpx.get(
        f"{served.url}/api/v1/status",
        headers={"Authorization": f"Bearer {served.tokens['viewer']}"},
    ).json()
    assert json.loads(out) == direct
    code, table, _ = served.run("status")
    assert code == 0
    assert "checkout/availability" in table
    assert "80.0%" in table  # the budget left, as the server evaluated it


def test_a_server_whose_figures_could_not_be_read_exits_3(served: Served) -> None:
    served.evaluator.statuses = [status_for("checkout", "availability", None, data=DataState.ERROR)]
    code, _, err = served.run("status")
    assert code == 3
    assert "could not be read" in err


def test_the_gate_from_a_server_is_its_decision(served: Served) -> None:
    served.evaluator.statuses = [status_for("checkout", "availability", 0.8)]
    args = ("gate", "--service", "checkout", "--change-type", "feature")
    code, out, _ = served.run(*args, role="deploy")
    assert code == 0
    assert out.startswith("ALLOWED feature deploy of checkout: state normal")
    served.evaluator.statuses = [status_for("checkout", "availability", -0.2)]
    code, out, _ = served.run(*args, "--format", "json", role="deploy")
    assert code == 1
    assert json.loads(out)["state"] == "emergency"
    code, _, err = served.run(*args, role="viewer")  # the gate wants a deploy token
    assert code == 2
    assert "refused the token in SREKIT_TOKEN" in err


def test_server_mistakes_are_said_in_words(served: Served, tmp_path: Path) -> None:
    code, _, err = served.run("status", role=None)
    assert (code, "--server needs a token: set SREKIT_TOKEN" in err) == (2, True)
    code, _, err = run("status", "--server", served.url, env={"SREKIT_TOKEN": "srk_wrong"})
    assert code == 2
    assert "refused the token" in err
    code, _, err = served.run("status", "--service", "nosuch")
    assert code == 2
    assert "holds no SLO of service 'nosuch'" in err
    code, _, err = run(
        "status", "--server", f"http://127.0.0.1:{free_port()}", env={"SREKIT_TOKEN": "x"}
    )
    assert code == 3
    assert "cannot reach srekit at" in err
    assert "connection refused" in err
    code, _, err = run("status", "--server", "srekit:8000", env={"SREKIT_TOKEN": "x"})
    assert code == 2
    assert "--server: expected an http:// or https:// URL" in err
    code, _, err = served.run("status", "-f", str(EXAMPLES / "slos"))
    assert code == 2
    assert "not both" in err
    code, _, err = run("status", env={"SREKIT_HOME": str(tmp_path / "empty")})
    assert code == 2
    assert "no spec given" in err


def test_watch_redraws_in_place_until_ctrl_c(home: dict[str, str]) -> None:
    """In a terminal (a pty here) the table is redrawn every --every seconds; Ctrl-C ends it."""
    primary, secondary = pty.openpty()
    srekit = str(Path(sys.executable).with_name("srekit"))
    process = subprocess.Popen(
        [
            srekit,
            "status",
            "-f",
            str(EXAMPLES / "slos"),
            "--at",
            "2026-11-19T12:00:00Z",
            "--watch",
            "--every",
            "1",
        ],
        stdout=secondary,
        stderr=secondary,
        env={**os.environ, **home, "COLUMNS": "100"},
    )
    os.close(secondary)
    output = b""
    deadline = time.monotonic() + 30
    while output.count(b"SLO status at") < 3 and time.monotonic() < deadline:
        ready, _, _ = select.select([primary], [], [], 0.5)
        if ready:
            output += os.read(primary, 65536)
    process.send_signal(signal.SIGINT)
    # a terminal keeps reading after Ctrl-C: a full pty buffer would block the last write
    deadline = time.monotonic() + 30
    while process.poll() is None and time.monotonic() < deadline:
        ready, _, _ = select.select([primary], [], [], 0.2)
        if ready:
            try:
                output += os.read(primary, 65536)
            except OSError:  # the child closed its side
                break
    assert process.wait(timeout=10) == 0
    os.close(primary)
    assert output.count(b"SLO status at 2026-11-19 12:00:00Z") >= 3
    assert b"every 1s, Ctrl-C to stop" in output
    assert b"Traceback" not in output


def test_slo_list_show_and_audit_from_a_server(served: Served) -> None:
    code, out, err = served.run("slo", "list", "--format", "json")
    assert code == 0, err
    (row,) = json.loads(out)
    assert (row["service"], row["slo"], row["version"]) == ("checkout", "availability", 1)
    code, out, _ = served.run("slo", "list")
    assert "checkout  availability" in out
    code, out, err = served.run("slo", "show", "checkout/availability")
    assert code == 0, err
    assert "checkout/availability version 1" in out
    assert f"objective: {AVAILABILITY_SPEC['objective'] * 100:g}%" in out  # as written
    code, out, _ = served.run("slo", "show", "checkout/nosuch")
    assert code == 2
    code, out, err = served.run("audit", "--format", "json")
    assert code == 0, err
    actions = [entry["action"] for entry in json.loads(out)]
    assert actions[:2] == ["slo.create", "service.create"]
    code, out, _ = served.run("audit", "--entity", "checkout/availability")
    assert "slo.create" in out
    assert "service.create" not in out
