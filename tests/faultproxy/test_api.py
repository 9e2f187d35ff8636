"""Toxiproxy's REST API: paths, status codes, its `{error, status}` shape, hostile input."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from tests.faultproxy.conftest import FaultProxy


def _error(status: int, message: str) -> dict[str, Any]:
    return {"error": message, "status": status}


def test_proxy_lifecycle(fault_proxy: FaultProxy, echo_port: int) -> None:
    upstream = f"127.0.0.1:{echo_port}"
    with fault_proxy.client() as http:
        assert http.get("/proxies").json() == {}
        created = http.post("/proxies", json={"name": "db", "upstream": upstream})
        assert created.status_code == 201
        listen = created.json()["listen"]
        assert listen.startswith("127.0.0.1:")
        assert not listen.endswith(":0")
        expected = {"name": "db", "listen": listen, "upstream": upstream, "enabled": True}
        assert created.json() == expected | {"toxics": []}
        again = http.post("/proxies", json={"name": "db", "upstream": upstream})
        assert (again.status_code, again.json()) == (409, _error(409, "proxy already exists"))
        assert http.get("/proxies").json() == {"db": expected | {"toxics": []}}
        assert http.get("/proxies/db").json() == expected | {"toxics": []}
        toxic = http.post("/proxies/db/toxics", json={"type": "latency"})
        assert toxic.status_code == 200
        assert toxic.json()["name"] == "latency_downstream"
        duplicate = http.post("/proxies/db/toxics", json={"type": "latency"})
        assert duplicate.json() == _error(409, "toxic already exists")
        updated = http.post(
            "/proxies/db/toxics/latency_downstream", json={"attributes": {"latency": 50}}
        )
        assert updated.json()["attributes"] == {"latency": 50, "jitter": 0, "ttl": 0}
        assert http.get("/proxies/db/toxics/latency_downstream").json() == updated.json()
        assert http.get("/proxies/db/toxics").json() == [updated.json()]
        assert http.delete("/proxies/db/toxics/latency_downstream").status_code == 204
        gone = http.get("/proxies/db/toxics/latency_downstream")
        assert (gone.status_code, gone.json()) == (404, _error(404, "toxic not found"))
        assert http.delete("/proxies/db").status_code == 204
        missing = http.get("/proxies/db")
        assert (missing.status_code, missing.json()) == (404, _error(404, "proxy not found"))
        assert http.post("/proxies/db/toxics", json={"type": "latency"}).status_code == 404
        assert http.get("/version").json() == {"version": "2.12.0-srekit"}


def test_populate_creates_keeps_and_replaces(fault_proxy: FaultProxy, echo_port: int) -> None:
    first = [
        {"name": "a", "listen": "127.0.0.1:0", "upstream": f"127.0.0.1:{echo_port}"},
        {"name": "b", "listen": "127.0.0.1:0", "upstream": f"127.0.0.1:{echo_port}"},
    ]
    with fault_proxy.client() as http:
        answer = http.post("/populate", json=first)
        assert answer.status_code == 201
        assert [p["name"] for p in answer.json()["proxies"]] == ["a", "b"]
        kept = http.get("/proxies/a").json()["listen"]
        second = [first[0], first[1] | {"upstream": "127.0.0.1:1"}]
        answer = http.post("/populate", json=second)
        assert http.get("/proxies/a").json()["listen"] == kept
        assert http.get("/proxies/b").json()["upstream"] == "127.0.0.1:1"
        bad = http.post("/populate", json=[first[0], {"name": "c"}])
        assert bad.json() == _error(400, "missing required field: upstream")
        assert "c" not in http.get("/proxies").json()
        assert http.post("/populate", json={"name": "a"}).status_code == 400


def test_reset_enables_all_and_removes_every_toxic(fault_proxy: FaultProxy, echo_port: int) -> None:
    fault_proxy.proxy("a", echo_port)
    fault_proxy.proxy("b", echo_port, enabled=False)
    fault_proxy.toxic("a", type="latency", attributes={"latency": 1000})
    with fault_proxy.client() as http:
        assert http.get("/proxies/b").json()["enabled"] is False
        assert http.post("/reset").status_code == 204
        proxies = http.get("/proxies").json()
    assert [(p["enabled"], p["toxics"]) for p in proxies.values()] == [(True, [])] * 2


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"type": "latency", "attributes": {"latency": NaN}}', "bad request body"),
        (b'{"type": "latency", "attributes": {"latency": 1e309}}', "expected a finite number"),
        (b'{"type": "latency", "attributes": {"latency": -5}}', "expected a number ≥ 0"),
        (b'{"type": "earthquake"}', "type: expected one of"),
        (b'{"type": "latency", "stream": "sideways"}', "stream: expected upstream or"),
        (b"[" * 100_000 + b"]" * 100_000, "bad request body"),
        (b'{"type": "latency", "name": "a\\u0000b"}', "printable characters"),
        (b"\xff\xfe", "bad request body"),
    ],
)
def test_hostile_toxics_get_400(
    fault_proxy: FaultProxy, echo_port: int, body: bytes, message: str
) -> None:
    fault_proxy.proxy("db", echo_port)
    with fault_proxy.client() as http:
        answer = http.post("/proxies/db/toxics", content=body)
        assert answer.status_code == 400
        assert answer.json()["status"] == 400
        assert message in answer.json()["error"]
        assert http.get("/proxies/db/toxics").json() == []


def test_huge_bodies_get_413(fault_proxy: FaultProxy) -> None:
    with fault_proxy.client() as http:
        answer = http.post("/proxies", content=b" " * (2 << 20))
    assert answer.json() == _error(413, "request body larger than 1048576 bytes")


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"name": "x", "upstream": "127.0.0.1:1", "listen": "0.0.0.0:0"}, "not a loopback"),
        ({"name": "x", "upstream": "127.0.0.1:1", "enabled": "yes"}, "enabled: expected"),
        ({"upstream": "127.0.0.1:1"}, "missing required field: name"),
        ({"name": "x\ny", "upstream": "127.0.0.1:1"}, "missing required field: name"),
        ({"name": "x", "upstream": "nowhere"}, "upstream: expected host:port"),
        ([], "proxy: expected a JSON object"),
    ],
)
def test_bad_proxies_get_400(fault_proxy: FaultProxy, document: Any, message: str) -> None:
    with fault_proxy.client() as http:
        answer = http.post("/proxies", json=document)
        assert answer.status_code == 400, answer.text
        assert message in answer.json()["error"]
        assert http.get("/proxies").json() == {}


def test_a_listen_address_in_use_is_refused(fault_proxy: FaultProxy) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with fault_proxy.client() as http:
            answer = http.post(
                "/proxies",
                json={"name": "x", "upstream": "127.0.0.1:1", "listen": f"127.0.0.1:{port}"},
            )
            assert answer.status_code == 500
            assert "address already in use" in answer.json()["error"].lower()
            assert http.get("/proxies").json() == {}


def test_a_toxic_cannot_be_renamed_or_change_type(fault_proxy: FaultProxy, echo_port: int) -> None:
    fault_proxy.proxy("db", echo_port)
    fault_proxy.toxic("db", type="latency", name="slow")
    with fault_proxy.client() as http:
        renamed = http.post("/proxies/db/toxics/slow", json={"name": "fast"})
        assert renamed.json() == _error(400, "name: a toxic cannot be renamed")
        retyped = http.post("/proxies/db/toxics/slow", json={"type": "bandwidth"})
        assert "type cannot change" in retyped.json()["error"]
