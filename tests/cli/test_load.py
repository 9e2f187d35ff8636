"""`srekit load run` end to end against a local server: exit codes 0, 99, 2 and 1, srekit's
JSON with its histoblobs, k6's summary export, and the spec's errors naming file and field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hdrh.histogram import HdrHistogram

from tests.cli.conftest import EXAMPLES, run
from tests.hostile import HOSTILE_NAMES
from tests.loadgen.target import Target, serve_target

SPEC = """\
apiVersion: srekit/v1
kind: LoadTest
metadata: {{name: smoke}}
spec:
  target: {url}
  timeout: 2s
  warmup: 200ms
  requests:
    - {{name: home, path: /, weight: 3}}
    - {{name: login, method: POST, path: /login, body: '{{"u": 1}}'}}
  load: {load}
  thresholds: {thresholds}
"""
OPEN = "{executor: constant-arrival-rate, rate: 40, duration: 1500ms}"


def _spec(tmp_path: Path, *, url: str, load: str = OPEN, thresholds: str = "{}") -> Path:
    path = tmp_path / "load.yaml"
    path.write_text(SPEC.format(url=url, load=load, thresholds=thresholds))
    return path


def test_passing_thresholds_exit_0_with_json_and_k6_summary(tmp_path: Path) -> None:
    thresholds = (
        "{http_req_duration: ['p(95)<1000'], 'http_req_duration{name:login}': ['max<1000'],"
        " http_req_failed: ['rate<0.01'], http_reqs: ['count>=50']}"
    )
    with serve_target(Target(latency_s=0.005)) as target:
        spec = _spec(tmp_path, url=target.url, thresholds=thresholds)
        code, out, err = run(
            "load", "run", spec, "--workers", "2", "--format", "json",
            "--summary-export", tmp_path / "k6.json",
        )  # fmt: skip
    assert code == 0, err
    document = json.loads(out)
    # 40/s for 1.3 s measured after the 200 ms warm-up: 52 iterations, each one request
    requests = document["metrics"]["http_reqs"]["count"]
    assert requests == pytest.approx(52, abs=1)
    assert document["outcomes"] == {"ok": requests}
    assert document["passed"] is True
    assert [t["passed"] for t in document["thresholds"]] == [True, True, True, True]
    # the histoblobs add up to the reported count and hold the reported maximum
    merged = HdrHistogram(1, 3_600_000_000, 3)
    for series in document["series"]:
        if "http_req_duration" in series["histograms"]:
            merged.decode_and_add(series["histograms"]["http_req_duration"])
    assert merged.get_total_count() == requests
    assert merged.get_max_value() / 1000 == document["metrics"]["http_req_duration"]["max"]
    logins = sum(s["requests"] for s in document["series"] if s["tags"].get("name") == "login")
    assert document["metrics"]["http_req_duration{name:login}"]["count"] == logins
    assert 0 < logins < requests
    k6 = json.loads((tmp_path / "k6.json").read_text())
    trend = k6["metrics"]["http_req_duration"]
    assert set(trend) == {"avg", "min", "med", "max", "p(90)", "p(95)", "thresholds"}
    assert trend["thresholds"] == {"p(95)<1000": False}  # k6 writes whether it failed
    assert k6["metrics"]["http_req_failed"] == {
        "passes": 0, "fails": requests, "value": 0, "thresholds": {"rate<0.01": False}
    }  # fmt: skip
    assert k6["metrics"]["http_reqs"]["count"] == requests


def test_a_failed_threshold_exits_99_and_abort_on_fail_stops_early(tmp_path: Path) -> None:
    thresholds = (
        "{http_req_failed: [{threshold: 'rate<0.5', abortOnFail: true, delayAbortEval: 1s}]}"
    )
    load = "{executor: constant-arrival-rate, rate: 20, duration: 20s}"
    with serve_target(Target(status=500)) as target:
        spec = _spec(tmp_path, url=target.url, load=load, thresholds=thresholds)
        code, out, err = run("load", "run", spec, "--workers", "1", "-o", tmp_path / "r.json")
    assert code == 99, err
    assert "stopped early" in out
    assert "✗ http_req_failed: rate<0.5 (observed 1)" in out
    document = json.loads((tmp_path / "r.json").read_text())
    assert document["aborted"] is True
    assert document["duration_s"] < 10  # not the 20 s asked
    assert document["outcomes"]["status"] > 0


def test_no_request_succeeding_exits_1(tmp_path: Path) -> None:
    spec = _spec(
        tmp_path, url="http://127.0.0.1:9", load="{executor: constant-vus, vus: 1, duration: 1s}"
    )
    code, out, err = run("load", "run", spec, "--workers", "1")
    assert code == 1
    assert "no request succeeded" in err
    assert "first connect error" in out


@pytest.mark.parametrize(
    ("load", "thresholds", "words"),
    [
        (
            OPEN,
            "{http_req_duration: ['p95<200']}",
            "spec.thresholds.http_req_duration[0]: expected an expression",
        ),
        (OPEN, "{http_req_failed: ['p(95)<1']}", "expected one of rate for http_req_failed"),
        (OPEN, "{'http_req_waiting': ['avg<1']}", "expected one of the metrics"),
        ("{executor: constant-arrival-rate, rate: 5}", "{}", "expected duration for executor"),
        ("{executor: constant-vus, vus: 0, duration: 1s}", "{}", "spec.load.vus"),
        ("{executor: constant-arrival-rate, rate: .nan, duration: 1s}", "{}", "spec.load.rate"),
        ("{executor: constant-arrival-rate, rate: 1e309, duration: 1s}", "{}", "spec.load.rate"),
        ("{executor: constant-arrival-rate, rate: 5, duration: 5x}", "{}", "expected a duration"),
        ("{executor: warp, rate: 5}", "{}", "spec.load.executor"),
        ("{executor: constant-vus, vus: 1, duration: 1s, vu: 2}", "{}", "vu"),
    ],
)
def test_bad_specs_exit_2_naming_file_and_field(
    tmp_path: Path, load: str, thresholds: str, words: str
) -> None:
    spec = _spec(tmp_path, url="http://127.0.0.1:9", load=load, thresholds=thresholds)
    code, _, err = run("load", "run", spec, "--dry-run")
    assert code == 2
    assert str(spec) in err.replace("\n", "")
    assert words in " ".join(err.split())
    assert "Traceback" not in err


def test_hostile_files_and_overrides_exit_2(tmp_path: Path) -> None:
    cases = {
        "deep.yaml": "[" * 10_000,
        "control.yaml": SPEC.format(url="http://127.0.0.1:9/\x07", load=OPEN, thresholds="{}"),
        "other-kind.yaml": "apiVersion: srekit/v1\nkind: CapacityPlan\nmetadata: {name: x}\n",
        "two.yaml": SPEC.format(url="http://x", load=OPEN, thresholds="{}")
        + "---\n"
        + SPEC.format(url="http://x", load=OPEN, thresholds="{}"),
        "huge-body.yaml": SPEC.format(url="http://x", load=OPEN, thresholds="{}").replace(
            "body: '{\"u\": 1}'", "body: '" + "x" * 2_000_000 + "'"
        ),
        "file-target.yaml": SPEC.format(url="file:///etc/passwd", load=OPEN, thresholds="{}"),
    }
    for name, text in cases.items():
        path = tmp_path / name
        path.write_text(text)
        code, _, err = run("load", "run", path, "--dry-run")
        assert code == 2, (name, err)
        assert "Traceback" not in err
    for name, value in HOSTILE_NAMES.items():
        text = SPEC.format(url="http://x", load=OPEN, thresholds="{}").replace(
            "name: home", f"name: {json.dumps(value)}"
        )
        (tmp_path / "hostile.yaml").write_text(text)
        code, _, err = run("load", "run", tmp_path / "hostile.yaml", "--dry-run")
        assert code == 2, (name, err)
    spec = _spec(tmp_path, url="http://127.0.0.1:9")
    for args, words in [
        (["--rate", "5", "--vus", "2"], "exclude each other"),
        (["--rate", "nan"], "--rate"),
        (["--rate", "1e309"], "--rate"),
        (["--vus", "0"], "--vus"),
        (["--duration", "10"], "--duration"),
        (["--workers", "0"], "--workers"),
    ]:
        code, _, err = run("load", "run", spec, *args, "--dry-run")
        assert code == 2, (args, err)
        assert words in err


def test_overrides_change_the_model() -> None:
    example = EXAMPLES / "load" / "checkout.yaml"
    code, out, _ = run("load", "run", example, "--vus", "5", "--duration", "10s", "--dry-run")
    assert code == 0
    assert "closed model: 5 VUs for 10 s" in out
    code, out, _ = run("load", "run", example, "--rate", "20", "--duration", "1m30s", "--dry-run")
    assert code == 0
    assert "about 1800 iterations" in out  # 20/s × 90 s
