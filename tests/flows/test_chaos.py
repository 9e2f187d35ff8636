"""The minimal chaos runner against a real HTTP service on 127.0.0.1 and real processes."""

from __future__ import annotations

import json
import socket
import ssl
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import trustme

from srekit.core.chaos import ActivityStatus, DryMode, RunStatus, exit_code
from srekit.errors import SpecError
from srekit.flows.chaos import execute_activity, run_experiment
from srekit.spec.chaos import parse_experiment


def answered_ok(value: dict[str, Any]) -> bool:
    """A judging probe for `{type: probe}` tolerances: the HTTP output said all is well."""
    return bool(value["status"] == 200 and value["body"] == {"state": "ok"})


class _Service:
    """A service whose health an experiment breaks (POST /break) and restores (POST /fix)."""

    def __init__(self) -> None:
        self.healthy = True
        self.calls: list[str] = []


@pytest.fixture
def service() -> Iterator[tuple[str, _Service]]:
    state = _Service()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            state.calls.append(f"GET {self.path}")
            if state.healthy:
                self._answer(200, {"state": "ok"})
            else:
                self._answer(503, {"state": "broken"})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            body = self.rfile.read(length).decode()
            state.calls.append(f"POST {self.path} {body}")
            state.healthy = self.path == "/fix"
            self._answer(200, {"done": self.path})

        def log_message(self, format: str, *args: Any) -> None:  # http.server names it so
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", state
    server.shutdown()
    server.server_close()
    thread.join()


def _experiment(base: str, **fields: Any) -> dict[str, Any]:
    experiment: dict[str, Any] = {
        "title": "the service survives being broken",
        "description": "it does not: the steady state deviates",
        "configuration": {"base": base},
        "steady-state-hypothesis": {
            "title": "healthy",
            "probes": [
                {
                    "type": "probe",
                    "name": "health",
                    "tolerance": 200,
                    "provider": {"type": "http", "url": "${base}/health", "timeout": 2},
                }
            ],
        },
        "method": [
            {
                "type": "action",
                "name": "break",
                "provider": {
                    "type": "http",
                    "method": "POST",
                    "url": "${base}/break",
                    "headers": {"Content-Type": "application/json"},
                    "arguments": {"why": "chaos"},
                    "expected_status": 200,
                },
                "pauses": {"before": 0.5, "after": 1.5},
            }
        ],
        "rollbacks": [
            {
                "type": "action",
                "name": "fix",
                "provider": {"type": "http", "method": "POST", "url": "${base}/fix"},
            }
        ],
    }
    experiment.update(fields)
    return experiment


def test_a_deviating_run_against_a_real_service_rolls_back(
    service: tuple[str, _Service],
) -> None:
    base, state = service
    slept: list[float] = []
    experiment = parse_experiment(_experiment(base), file="e.yaml", environ={})
    journal = run_experiment(experiment, sleep=slept.append)
    assert state.calls == [
        "GET /health",
        'POST /break {"why":"chaos"}',
        "GET /health",
        "POST /fix ",
    ]
    assert state.healthy  # rolled back
    assert slept == [0.5, 1.5]
    assert journal["status"] == "completed"
    assert journal["deviated"] is True
    after = journal["steady_states"]["after"]
    assert after["steady_state_met"] is False
    assert after["probes"][0]["output"]["status"] == 503
    assert after["probes"][0]["output"]["body"] == {"state": "broken"}
    assert journal["run"][0]["status"] == "succeeded"
    assert journal["rollbacks"][0]["status"] == "succeeded"
    assert exit_code(RunStatus(journal["status"]), deviated=journal["deviated"]) == 1
    json.dumps(journal)  # JSON-ready


def test_unexpected_statuses_timeouts_and_refused_python_fail_the_activity(
    service: tuple[str, _Service],
) -> None:
    base, _ = service
    method: list[dict[str, Any]] = [
        {
            "type": "probe",
            "name": "wrong-status",
            "provider": {"type": "http", "url": f"{base}/x", "expected_status": [201]},
        },
        {
            "type": "action",
            "name": "too-slow",
            "provider": {
                "type": "process",
                "path": sys.executable,
                "arguments": ["-c", "import time; time.sleep(5)"],
                "timeout": 0.3,
            },
        },
        {
            "type": "probe",
            "name": "echo",
            "background": True,
            "provider": {
                "type": "process",
                "path": sys.executable,
                "arguments": "-c 'print(\"hi; echo injected\")'",
            },
        },
        {
            "type": "probe",
            "name": "python",
            "provider": {
                "type": "python",
                "module": "os.path",
                "func": "basename",
                "arguments": {"p": "/a/b"},
            },
        },
        {
            "type": "probe",
            "name": "nowhere",
            "provider": {"type": "http", "url": "http://127.0.0.1:1/", "timeout": 1},
        },
    ]
    data = _experiment(base, method=method, rollbacks=[])
    del data["steady-state-hypothesis"]
    experiment = parse_experiment(data, file="e.yaml", environ={})
    journal = run_experiment(experiment)
    runs = {run["activity"]["name"]: run for run in journal["run"]}
    assert runs["wrong-status"]["status"] == "failed"
    assert "answered 200, expected 201" in runs["wrong-status"]["exception"][0]
    assert runs["too-slow"]["status"] == "failed"
    assert "TimeoutExpired" in runs["too-slow"]["exception"][0]
    assert runs["too-slow"]["duration"] < 3
    assert runs["echo"]["status"] == "succeeded"
    assert runs["echo"]["output"]["stdout"] == "hi; echo injected\n"  # no shell ran it
    assert runs["python"]["status"] == "failed"
    assert "not in the allow-list" in runs["python"]["exception"][0]
    assert runs["nowhere"]["status"] == "failed"
    assert journal["status"] == "completed"  # failed activities do not fail the method
    assert [run["activity"]["name"] for run in journal["run"]] == [item["name"] for item in method]


def test_python_providers_from_the_allow_list_and_probe_tolerances(
    service: tuple[str, _Service],
) -> None:
    base, _ = service
    judge = {
        "type": "probe",
        "name": "judge",
        "provider": {"type": "python", "module": __name__, "func": "answered_ok"},
    }
    probes = [
        {
            "type": "probe",
            "name": "basename",
            "tolerance": "b",
            "provider": {
                "type": "python",
                "module": "os.path",
                "func": "basename",
                "arguments": {"p": "/a/b"},
            },
        },
        {
            "type": "probe",
            "name": "judged",
            "tolerance": judge,
            "provider": {"type": "http", "url": f"{base}/health"},
        },
    ]
    data = _experiment(base, rollbacks=[])
    data["steady-state-hypothesis"]["probes"] = probes
    data["method"] = []
    experiment = parse_experiment(data, file="e.yaml", environ={})
    journal = run_experiment(experiment, python_allowed={"os.path", __name__})
    before = journal["steady_states"]["before"]
    assert before["steady_state_met"] is True
    assert [probe["tolerance_met"] for probe in before["probes"]] == [True, True]
    trusted = execute_activity(experiment.probes[0], trusted=True)
    assert trusted.status is ActivityStatus.SUCCEEDED
    assert trusted.output == "b"


@pytest.fixture
def tls_service() -> Iterator[tuple[str, trustme.CA]]:
    """An HTTPS service on 127.0.0.1 whose certificate a throwaway CA signed: no system trusts
    it, as no system trusts a staging host's own certificate."""
    ca = trustme.CA()
    certificate = ca.issue_cert("127.0.0.1")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    certificate.configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}", ca
    server.shutdown()
    server.server_close()
    thread.join()


def _probe(provider: dict[str, Any]) -> dict[str, Any]:
    """One probe's run, as the journal records it."""
    data = {
        "title": "t",
        "description": "d",
        "method": [{"type": "probe", "name": "p", "provider": provider}],
    }
    journal = run_experiment(parse_experiment(data, file="e.yaml", environ={}))
    run: dict[str, Any] = journal["run"][0]
    return run


def test_verify_tls_false_takes_a_certificate_no_one_trusts(
    tls_service: tuple[str, trustme.CA],
) -> None:
    url, _ = tls_service
    checked = _probe({"type": "http", "url": url, "timeout": 5})
    assert checked["status"] == "failed"
    assert "CERTIFICATE_VERIFY_FAILED" in checked["exception"][0]
    taken = _probe({"type": "http", "url": url, "timeout": 5, "verify_tls": False})
    assert taken["status"] == "succeeded"
    assert (taken["output"]["status"], taken["output"]["body"]) == (200, "ok")


def test_max_retries_tries_a_refused_connection_again() -> None:
    """A service that starts listening 0.2 s after the probe began: refused at first. httpx
    waits 0, 0.5, 1 s ... between tries, so with 3 retries the tries at 0.5 and 1.5 s find it;
    without retries the probe fails on the first refusal."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/"
    refused = _probe({"type": "http", "url": url, "timeout": 5})
    assert refused["status"] == "failed"

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    servers: list[ThreadingHTTPServer] = []

    def listen_later() -> None:
        time.sleep(0.2)
        server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        servers.append(server)
        server.serve_forever()

    threading.Thread(target=listen_later, daemon=True).start()
    try:
        retried = _probe({"type": "http", "url": url, "timeout": 5, "max_retries": 3})
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()
    assert retried["status"] == "succeeded", retried.get("exception")
    assert retried["output"]["status"] == 204
    assert retried["duration"] >= 0.2  # it waited for the service


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("verify_tls", "no", "expected true or false"),
        ("max_retries", -1, "expected 0 to 10 retries, got -1"),
        ("max_retries", 11, "expected 0 to 10 retries, got 11"),
        ("max_retries", 1.5, "expected a whole number of retries"),
        ("max_retries", True, "expected a whole number of retries"),
    ],
)
def test_bad_tls_and_retry_fields_name_the_field(field: str, value: Any, message: str) -> None:
    data = {
        "title": "t",
        "description": "d",
        "method": [
            {
                "type": "probe",
                "name": "p",
                "provider": {"type": "http", "url": "http://127.0.0.1:1/", field: value},
            }
        ],
    }
    with pytest.raises(SpecError) as refused:
        parse_experiment(data, file="e.yaml", environ={})
    assert refused.value.field == f"method[0].provider.{field}"
    assert message in str(refused.value)


def test_a_pause_dry_run_calls_everything_and_sleeps_no_pause(
    service: tuple[str, _Service],
) -> None:
    """`--dry pause` (Chaos Toolkit's) runs every activity, so the service breaks and the
    steady state deviates, but skips the break's 0.5 s and 1.5 s pauses."""
    base, state = service
    experiment = parse_experiment(_experiment(base), file="e.yaml", environ={})
    started = time.monotonic()
    journal = run_experiment(experiment, dry=DryMode.PAUSE)
    took = time.monotonic() - started
    assert (journal["status"], journal["deviated"]) == ("completed", True)
    assert [call.split(" ")[1] for call in state.calls] == ["/health", "/break", "/health", "/fix"]
    assert took < 1.5
    assert journal["extensions"] == [{"name": "srekit", "dry": "pause"}]


def test_a_probes_dry_run_takes_the_steady_state_as_met() -> None:
    """As chaoslib: a probe a dry run skips succeeds with no output and meets its tolerance,
    whatever the tolerance (here one that no output could meet)."""
    data = {
        "title": "t",
        "description": "d",
        "steady-state-hypothesis": {
            "title": "h",
            "probes": [
                {
                    "type": "probe",
                    "name": "never",
                    "tolerance": 418,
                    "provider": {"type": "http", "url": "http://127.0.0.1:1/"},
                }
            ],
        },
        "method": [
            {
                "type": "probe",
                "name": "unreachable",
                "provider": {"type": "http", "url": "http://127.0.0.1:1/"},
            }
        ],
    }
    experiment = parse_experiment(data, file="e.yaml", environ={})
    assert run_experiment(experiment)["status"] == "failed"  # not dry: the steady state fails
    journal = run_experiment(experiment, dry=DryMode.PROBES)
    assert (journal["status"], journal["deviated"]) == ("completed", False)
    probes = journal["steady_states"]["before"]["probes"]
    assert [(p["status"], p["output"], p["tolerance_met"]) for p in probes] == [
        ("succeeded", None, True)
    ]
