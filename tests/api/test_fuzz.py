"""Hostile input against every endpoint: never a 500, every refusal a JSON 4xx, and the
connection still usable after it.

The endpoints come from the app's OpenAPI document (built from its routes), so a new endpoint
is fuzzed without touching this file. The bodies and parameters are those an attacker tries
first: NaN, 1e309, -Infinity, 500-deep nesting, a 2 MB string, control characters and NUL,
invalid UTF-8 and wrong content types; each with no token and with an admin token. The
keep-alive part drives a real `srekit serve` over one httpx connection.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import Engine

from srekit.api.deps import AuthFailures
from srekit.store.database import create_store_engine, upgrade
from tests.api.conftest import AVAILABILITY_SPEC, Api, make_tokens
from tests.ports import free_port

DEEP = "[" * 500 + "]" * 500
HUGE = "a" * (2 * 1024 * 1024)
FIELDS = ("name", "role", "team", "spec", "document", "documents", "levels", "metadata")
JSON = "application/json"


def _everywhere(value: str) -> str:
    """A JSON object giving `value` (JSON text) to every field a request body has."""
    return "{" + ", ".join(f'"{field}": {value}' for field in FIELDS) + "}"


# (name, content type, body)
BODIES: list[tuple[str, str | None, bytes]] = [
    ("nan", JSON, _everywhere("NaN").encode()),
    ("1e309", JSON, _everywhere("1e309").encode()),
    ("-infinity", JSON, _everywhere("-Infinity").encode()),
    (
        "nan in a spec",
        JSON,
        json.dumps({"spec": AVAILABILITY_SPEC}).replace("0.999", "NaN").encode(),
    ),
    (
        "1e309 in a policy",
        JSON,
        b'{"levels": [{"state": "x", "floor": 1e309, "decision": "deny"}]}',
    ),
    ("deep", JSON, _everywhere(DEEP).encode()),
    ("deep top level", JSON, DEEP.encode()),
    ("2 MB string", JSON, _everywhere(json.dumps(HUGE)).encode()),
    ("escaped NUL and control", JSON, _everywhere('"a\\u0000b\\u0007\\u001b[31m"').encode()),
    ("raw NUL and control", JSON, _everywhere('"a\x00b\x07"').encode()),
    ("invalid UTF-8", JSON, b'{"name": "\xff\xfe\xc3", "team": "\xed\xa0\x80"}'),
    ("not JSON", JSON, b'{"name": '),
    ("empty", JSON, b""),
    ("text/plain", "text/plain", b'{"name": "x", "role": "viewer"}'),
    ("form", "application/x-www-form-urlencoded", b"name=x&role=viewer"),
    ("multipart", "multipart/form-data; boundary=zz", b"--zz\r\nContent-Disposition: x\r\n\r\n"),
    ("xml", "application/xml", b"<name>x</name>"),
    ("no content type", None, b'{"name": NaN}'),
]
# parameter values as they appear in the URL (percent-encoded): %FF%FE is invalid UTF-8
PARAMETERS = ["NaN", "1e309", "-Infinity", "%00", "%07%1B", "a" * 5000, "%FF%FE", "-1", quote(DEEP)]
REFUSALS = {401, 403, 404, 409, 413, 422}
ANSWERS = {200, 201, 204}


def _endpoints(openapi: dict[str, Any]) -> list[tuple[str, str, list[str], bool]]:
    """(method, path template, query parameter names, takes a body) of every operation."""
    found = []
    for template, operations in openapi["paths"].items():
        for method, operation in operations.items():
            query = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
            found.append((method.upper(), template, query, "requestBody" in operation))
    return found


def _path(template: str, value: str = "x") -> str:
    """The template with every path parameter `value` (percent-encoded already)."""
    return re.sub(r"\{[^}]+\}", value, template)


def _check(response: httpx.Response, what: str) -> None:
    """No 5xx; a refusal is a 4xx we document, with a JSON body."""
    status = response.status_code
    assert status in ANSWERS | REFUSALS, f"{what}: {status} {response.text[:300]}"
    if status in REFUSALS:
        assert response.headers["content-type"].startswith(JSON), what
        assert isinstance(response.json(), dict), what
    assert len(response.content) < 100_000, f"{what}: {len(response.content)} bytes"


@pytest.fixture
def endpoints(lite_api: Api) -> list[tuple[str, str, list[str], bool]]:
    # the fuzz floods the app with failed authentications; the 429 that would answer them
    # after twenty has tests of its own (test_auth.py), here each must reach its route
    state = lite_api.client.app.state.srekit  # type: ignore[attr-defined]
    state.auth_failures = AuthFailures(limit=1_000_000, window_s=60)
    found = _endpoints(lite_api.client.get("/openapi.json").json())
    assert len(found) >= 20  # the document lists the app's routes
    return found


@pytest.mark.parametrize("role", [None, "admin"])
def test_hostile_bodies_on_every_endpoint(
    lite_api: Api, endpoints: list[tuple[str, str, list[str], bool]], role: str | None
) -> None:
    lite_api.put("/api/v1/slos/checkout/availability", json={"spec": AVAILABILITY_SPEC})
    statuses: dict[int, int] = {}
    by_link: dict[int, int] = {}  # the acknowledgement link: its signed token is the credential
    for method, template, _query, _takes_body in endpoints:
        counted = by_link if template.endswith("/ack") else statuses
        for name, content_type, body in BODIES:
            headers = lite_api.headers(role)
            if content_type is not None:
                headers["Content-Type"] = content_type
            response = lite_api.client.request(
                method, _path(template, "checkout"), content=body, headers=headers
            )
            _check(response, f"{method} {template} {name} {role}")
            counted[response.status_code] = counted.get(response.status_code, 0) + 1
    assert by_link.keys() <= {403, 413, 422}, by_link  # never acknowledged without a token
    if role is None:  # only the public endpoints answer an anonymous caller
        assert statuses.keys() <= {200, 401, 413}, statuses
    else:
        assert {413, 422} <= statuses.keys(), statuses


@pytest.mark.parametrize("role", [None, "admin"])
def test_hostile_parameters_on_every_endpoint(
    lite_api: Api, endpoints: list[tuple[str, str, list[str], bool]], role: str | None
) -> None:
    for method, template, query, takes_body in endpoints:
        body = b"{}" if takes_body else b""
        headers = {"Content-Type": JSON, **lite_api.headers(role)}
        for value in PARAMETERS:
            for names in _query_groups(query, len(value)):
                url = _path(template, value)
                if names:
                    url += "?" + "&".join(f"{name}={value}" for name in names)
                response = lite_api.client.request(method, url, content=body, headers=headers)
                _check(response, f"{method} {url[:120]} {role}")


def _query_groups(query: list[str], value_length: int) -> list[list[str]]:
    """The query parameters split into requests whose URLs stay under httpx's 64 KiB limit
    (an endpoint with a dozen parameters would otherwise never be sent the long value)."""
    per_request = max(1, 40_000 // (value_length + 32))
    return [query[start : start + per_request] for start in range(0, len(query), per_request)] or [
        []
    ]


# --- a real server, one keep-alive connection -------------------------------------------


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, dict[str, str], Path]]:
    """`srekit serve` on 127.0.0.1 (SQLite under tmp_path), its tokens, and its log file."""
    engine: Engine = create_store_engine(f"sqlite:///{tmp_path / 'srekit.db'}")
    upgrade(engine)
    tokens = make_tokens(engine)
    engine.dispose()
    port = free_port()
    env = {**os.environ, "SREKIT_HOME": str(tmp_path)}
    env.pop("SREKIT_DATABASE_URL", None)
    env.pop("SREKIT_MAX_BODY_BYTES", None)
    env["SREKIT_AUTH_FAILURE_LIMIT"] = "1000000"  # the flood's 429s are tested in test_auth.py
    script = "import typer; from srekit.cli.serve import serve; typer.run(serve)"
    log = tmp_path / "serve.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-c", script, "--port", str(port), "--no-evaluate"],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{base}/healthz", timeout=1)
                break
            except httpx.HTTPError:
                assert process.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "srekit serve did not start"
                time.sleep(0.1)
        yield base, tokens, log
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)


def _local_port(response: httpx.Response) -> int:
    return int(response.extensions["network_stream"].get_extra_info("client_addr")[1])


def test_a_real_server_keeps_the_connection_after_every_refusal(
    served: tuple[str, dict[str, str], Path],
) -> None:
    base, tokens, log = served
    openapi = httpx.get(f"{base}/openapi.json").json()
    writes = [(m, t) for m, t, _q, takes_body in _endpoints(openapi) if takes_body]
    reads = [(m, t, q) for m, t, q, _b in _endpoints(openapi) if m == "GET" and q]
    assert writes
    assert reads
    refusals = 0
    with httpx.Client(base_url=base, timeout=30) as client:
        port = _local_port(client.get("/healthz"))
        for token in (None, tokens["admin"]):
            auth = {} if token is None else {"Authorization": f"Bearer {token}"}
            requests = [
                (method, _path(template), {"Content-Type": ctype} if ctype else {}, body)
                for method, template in writes
                for _name, ctype, body in BODIES
            ] + [
                (method, _path(template) + f"?{query[0]}={value}", {}, b"")
                for method, template, query in reads
                for value in PARAMETERS
            ]
            for method, url, headers, body in requests:
                what = f"{method} {url[:80]} {body[:40]!r}"
                response = client.request(method, url, content=body, headers={**auth, **headers})
                _check(response, what)
                refusals += response.status_code >= 400
                assert response.headers.get("connection") != "close", what
                after = client.get("/healthz")
                assert after.status_code == 200, what
                assert _local_port(after) == port, f"{what}: the connection was dropped"
    assert refusals > 300
    output = log.read_text()
    assert "Traceback" not in output
    assert "Exception in ASGI application" not in output
    assert len(output) < 200 * refusals * 3  # about a line (or two) per request
