"""k6 and Locust results read into one summary, from files written in the tools' documented
shapes; bad files are SpecErrors naming the file and field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from srekit.core.load_gate import DURATION, FAILED, REQUESTS, Threshold
from srekit.errors import SpecError
from srekit.loadresults import (
    FILE_BYTES,
    parse_results,
    read_results,
    summary_document,
    summary_from_document,
)

# k6 --summary-export (the classic shape): figures straight under the metric, thresholds as
# booleans where true means the threshold was CROSSED
K6_EXPORT: dict[str, Any] = {
    "root_group": {"name": "", "path": "", "id": "d41d8cd98f00b204e9800998ecf8427e"},
    "metrics": {
        "http_req_duration": {
            "avg": 41.2,
            "min": 3.1,
            "med": 38.0,
            "max": 512.7,
            "p(90)": 80.4,
            "p(95)": 97.25,
            "thresholds": {"p(95)<500": False, "p(95)<50": True},
        },
        "http_req_duration{expected_response:true}": {
            "avg": 40.0,
            "min": 3.1,
            "med": 37.0,
            "max": 500.0,
            "p(90)": 79.0,
            "p(95)": 96.0,
        },
        "http_reqs": {"count": 1200, "rate": 19.87},
        "http_req_failed": {"passes": 6, "fails": 1194, "value": 0.005},
        "vus": {"value": 10, "min": 10, "max": 10},
    },
}

# handleSummary's data: figures under `values`, thresholds as {"ok": bool}
K6_SUMMARY: dict[str, Any] = {
    "root_group": {"name": "", "path": "", "groups": [], "checks": []},
    "options": {"summaryTrendStats": ["avg", "min", "med", "max", "p(90)", "p(95)", "p(99)"]},
    "state": {"isStdOutTTY": False, "isStdErrTTY": False, "testRunDurationMs": 60012.5},
    "metrics": {
        "http_req_duration": {
            "type": "trend",
            "contains": "time",
            "values": {
                "avg": 41.2,
                "min": 3.1,
                "med": 38.0,
                "max": 512.7,
                "p(90)": 80.4,
                "p(95)": 97.25,
                "p(99)": 201.5,
            },
            "thresholds": {"p(95)<500": {"ok": True}},
        },
        "http_reqs": {
            "type": "counter",
            "contains": "default",
            "values": {"count": 1200, "rate": 20.0},
        },
        "http_req_failed": {
            "type": "rate",
            "contains": "default",
            "values": {"rate": 0.005, "passes": 6, "fails": 1194},
            "thresholds": {"rate<0.001": {"ok": False}},
        },
    },
}

LOCUST_HEADER = (
    "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,"
    "Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,"
    "50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%"
)
LOCUST_STATS = "\n".join(
    [
        LOCUST_HEADER,
        "GET,/,800,8,42,45.31,3.2,1310.5,512,13.33,0.13,42,50,57,62,80,110,160,210,900,1300,1300",
        "POST,/checkout,200,2,150,171.9,20.1,3400.0,128,3.33,0.03,150,170,180,190,230,300,450,"
        "1100,3400,3400,3400",
        "GET,/empty,0,0,0,0,0,0,0,0.0,0.0,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A",
        ",Aggregated,1000,10,46,70.63,3.2,3400.0,435,16.66,0.16,46,55,62,70,120,170,240,"
        "460,1300,3400,3400",
        "",
    ]
)


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


def test_k6_summary_export(tmp_path: Path) -> None:
    summary = read_results(write(tmp_path, "summary.json", json.dumps(K6_EXPORT)))
    assert summary.tool == "k6"
    latency = summary.latency
    assert latency is not None
    assert (latency.avg, latency.med, latency.p90, latency.p95, latency.p99) == (
        41.2,
        38.0,
        80.4,
        97.25,
        None,  # k6 leaves p(99) out unless summaryTrendStats asks for it
    )
    assert latency.rounded is False
    assert summary.requests == 1200
    assert summary.throughput == 19.87
    assert summary.error_rate == 0.005
    failed = summary.metric(FAILED)
    assert failed is not None
    assert failed.count == 1200  # passes + fails
    tagged = summary.metric(DURATION, (("expected_response", "true"),))
    assert tagged is not None
    assert tagged.p95 == 96.0
    # false = held, true = crossed: inverted into ok
    assert summary.thresholds == (
        Threshold(DURATION, "p(95)<500", True),
        Threshold(DURATION, "p(95)<50", False),
    )
    assert summary.duration_s is None


def test_k6_handle_summary(tmp_path: Path) -> None:
    summary = read_results(write(tmp_path, "summary.json", json.dumps(K6_SUMMARY)))
    assert summary.latency is not None
    assert summary.latency.p99 == 201.5
    assert summary.requests == 1200
    assert summary.throughput == 20.0
    assert summary.error_rate == 0.005
    assert summary.duration_s == pytest.approx(60.0125)
    assert summary.thresholds == (
        Threshold(DURATION, "p(95)<500", True),
        Threshold(FAILED, "rate<0.001", False),
    )


def test_k6_rate_without_a_value_is_passes_over_count() -> None:
    data = {"metrics": {"http_req_failed": {"passes": 3, "fails": 297}}}
    summary = parse_results(json.dumps(data).encode(), file="s.json")
    assert summary.error_rate == pytest.approx(3 / 300)
    gauge = {"metrics": {"http_req_failed": {"value": 0.25}}}
    assert parse_results(json.dumps(gauge).encode(), file="s.json").error_rate == 0.25


def test_locust_stats(tmp_path: Path) -> None:
    summary = read_results(write(tmp_path, "run_stats.csv", LOCUST_STATS))
    assert summary.tool == "locust"
    assert summary.requests == 1000
    assert summary.throughput == 16.66
    assert summary.error_rate == pytest.approx(10 / 1000)
    latency = summary.latency
    assert latency is not None
    assert (latency.avg, latency.min, latency.max, latency.med) == (70.63, 3.2, 3400.0, 46.0)
    assert (latency.p90, latency.p95, latency.p99) == (120.0, 170.0, 460.0)
    assert latency.rounded is True
    assert latency.error_ms("p95") == 5.0  # 170 ms: reported in 10 ms buckets
    checkout = summary.metric(DURATION, (("method", "POST"), ("name", "/checkout")))
    assert checkout is not None
    assert checkout.p99 == 1100.0
    failures = summary.metric(FAILED, (("method", "POST"), ("name", "/checkout")))
    assert failures is not None
    assert failures.rate == pytest.approx(2 / 200)
    empty = summary.metric(DURATION, (("method", "GET"), ("name", "/empty")))
    assert empty is not None
    assert (empty.p95, empty.count) == (None, 0.0)
    empty_failed = summary.metric(FAILED, (("method", "GET"), ("name", "/empty")))
    assert empty_failed is not None
    assert empty_failed.rate is None


def test_document_round_trip() -> None:
    for raw in (json.dumps(K6_SUMMARY).encode(), LOCUST_STATS.encode()):
        summary = parse_results(raw, file="x")
        document = summary_document(summary)
        assert json.loads(json.dumps(document)) == document
        assert summary_from_document(document) == summary


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ([], "metrics"),
        ({"metrics": [1]}, "metrics[0]"),
        ({"metrics": [{"name": "x", "tags": {"a": 1}}]}, "metrics[0].tags"),
        ({"metrics": [{"name": "x", "p95": "1"}]}, "metrics[0].p95"),
        ({"metrics": [], "duration_s": float("inf")}, "duration_s"),
    ],
)
def test_bad_document(document: Any, field: str) -> None:
    with pytest.raises(SpecError) as raised:
        summary_from_document(document)
    assert raised.value.field == field


K6_BAD: list[tuple[str, bytes, str | None, str]] = [
    (
        "nan",
        b'{"metrics": {"http_reqs": {"count": NaN}}}',
        None,
        "expected finite numbers, got NaN",
    ),
    ("1e309", b'{"metrics": {"http_reqs": {"count": 1e309}}}', "metrics.http_reqs.count", "finite"),
    ("negative", b'{"metrics": {"http_reqs": {"rate": -1}}}', "metrics.http_reqs.rate", ">= 0"),
    ("string", b'{"metrics": {"http_reqs": {"count": "9"}}}', "metrics.http_reqs.count", "number"),
    ("bool", b'{"metrics": {"http_reqs": {"count": true}}}', "metrics.http_reqs.count", "number"),
    (
        "fraction",
        b'{"metrics": {"http_req_failed": {"passes": 1, "fails": 1, "value": 2}}}',
        "metrics.http_req_failed.rate",
        "fraction",
    ),
    ("no metrics", b'{"root_group": {}}', "metrics", "expected an object with metrics"),
    ("metric list", b'{"metrics": {"x": []}}', "metrics.x", "expected an object"),
    ("values list", b'{"metrics": {"x": {"values": []}}}', "metrics.x.values", "object"),
    ("deep", b'{"metrics": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", None, "nested"),
    ("broken", b'{"metrics": {', None, "invalid JSON at line 1"),
    ("control", b'{"metrics": {"a\\u0000b": {}}}', "metrics", "printable"),
    ("bad tags", b'{"metrics": {"x{name}": {}}}', "metrics.x{name}", "tag:value"),
    ("open brace", b'{"metrics": {"x{name:a": {}}}', "metrics.x{name:a", "name{tag:value"),
    (
        "classic threshold",
        b'{"metrics": {"x": {"thresholds": {"p(95)<1": "no"}}}}',
        "metrics.x.thresholds.p(95)<1",
        "true (crossed) or false (held)",
    ),
    (
        "summary threshold",
        b'{"metrics": {"x": {"values": {}, "thresholds": {"p(95)<1": true}}}}',
        "metrics.x.thresholds.p(95)<1",
        '{"ok": true|false}',
    ),
    (
        "thresholds list",
        b'{"metrics": {"x": {"thresholds": []}}}',
        "metrics.x.thresholds",
        "object",
    ),
    (
        "duration",
        b'{"metrics": {}, "state": {"testRunDurationMs": "long"}}',
        "state.testRunDurationMs",
        "number",
    ),
    ("neither", b"hello", None, "expected k6 JSON"),
    ("not utf-8", b"\xff\xfe{", None, "expected UTF-8"),
]


@pytest.mark.parametrize(("name", "raw", "field", "message"), K6_BAD, ids=[b[0] for b in K6_BAD])
def test_bad_k6(name: str, raw: bytes, field: str | None, message: str) -> None:
    with pytest.raises(SpecError) as raised:
        parse_results(raw, file="run.json")
    assert raised.value.file == "run.json"
    assert raised.value.field == field
    assert message in str(raised.value)


LOCUST_BAD: list[tuple[str, str, str, str]] = [
    ("no columns", "Type,Name\nGET,/\n", "header", "missing Request Count, Failure Count"),
    ("short row", LOCUST_HEADER + "\nGET,/,1\n", "row 2", "expected 22 columns, got 3"),
    (
        "text count",
        LOCUST_HEADER + "\nGET,/,many" + ",0" * 19 + "\n",
        "row 2, column 'Request Count'",
        "expected a number, got 'many'",
    ),
    (
        "nan",
        LOCUST_HEADER + "\nGET,/,1,0,nan" + ",0" * 17 + "\n",
        "row 2, column 'Median Response Time'",
        "finite",
    ),
    (
        "inf",
        LOCUST_HEADER + "\nGET,/,1e309" + ",0" * 19 + "\n",
        "row 2, column 'Request Count'",
        "finite",
    ),
    (
        "more failures",
        LOCUST_HEADER + "\nGET,/,1,2" + ",0" * 18 + "\n",
        "row 2",
        "Failure Count <= Request Count",
    ),
    (
        "control",
        LOCUST_HEADER + "\nGET,/\x01" + ",0" * 20 + "\n",
        "row 2, column 'Name'",
        "printable",
    ),
    ("no aggregate", LOCUST_HEADER + "\nGET,/" + ",0" * 20 + "\n", "Name", "Aggregated"),
]


@pytest.mark.parametrize(
    ("name", "text", "field", "message"), LOCUST_BAD, ids=[b[0] for b in LOCUST_BAD]
)
def test_bad_locust(name: str, text: str, field: str, message: str) -> None:
    with pytest.raises(SpecError) as raised:
        parse_results(text.encode(), file="run_stats.csv")
    assert raised.value.file == "run_stats.csv"
    assert raised.value.field == field
    assert message in str(raised.value)


def test_locust_broken_csv() -> None:
    with pytest.raises(SpecError, match="invalid CSV"):
        parse_results(LOCUST_HEADER.encode() + b'\n"GET\x00,', file="run_stats.csv")


def test_huge_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=f"at most {FILE_BYTES} bytes"):
        parse_results(b" " * (FILE_BYTES + 1), file="big.json")
    with pytest.raises(SpecError, match="cannot read") as raised:
        read_results(tmp_path / "missing.json")
    assert raised.value.file == str(tmp_path / "missing.json")


def test_aggregated_row_is_untagged() -> None:
    summary = parse_results(LOCUST_STATS.encode(), file="s.csv")
    assert summary.metric(REQUESTS) is not None
    untagged = [m for m in summary.metrics if not m.tags]
    assert {m.name for m in untagged} == {DURATION, REQUESTS, FAILED}
