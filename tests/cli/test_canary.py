"""`srekit canary analyze` refuses bad input with exit 2 and a message naming the option,
before asking Prometheus anything (its verdicts and exit codes against a real Prometheus
are in tests/integration/test_canary_prometheus.py)."""

from __future__ import annotations

import pytest

from tests.cli.conftest import run

# nothing listens there: a command that got past its checks would fail to connect instead
UNUSED = "http://127.0.0.1:9"
GOOD = ("--canary", 'track="canary"', "--baseline", 'track="stable"', "--prometheus", UNUSED)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--canary", 'track="canary"} or vector(1) or {a="b"'), "--canary: expected label"),
        (("--baseline", "up"), "--baseline: expected label matchers"),
        (("--baseline", 'track="canary"'), "--baseline: expected a selector other than"),
        (("--canary", "a\x00b"), "--canary: expected label matchers"),
        (("--window", "soon"), "--window:"),
        (("--step", "0s"), "--step:"),
        (("--window", "1m", "--step", "5m"), "--window: expected at least the step"),
        (("--window", "30d", "--step", "1s"), "--step: expected at most 10000 intervals"),
        (("--metric", "latency-p50"), "latency-p99, got 'latency-p50'"),
        (("--alpha", "nan"), "--alpha: expected a fraction"),
        (("--alpha", "1.5"), "--alpha: expected a fraction"),
        (("--min-requests", "1e309"), "--min-requests: expected a finite number"),
        (("--min-intervals", "0"), "--min-intervals: expected at least 1"),
        (("--tolerance", "latency-p50=0.1"), "--tolerance: expected one of error-rate,"),
        (("--tolerance", "error-rate=x"), "--tolerance: expected METRIC=RELATIVE:ABSOLUTE"),
        (("--tolerance", "error-rate=nan"), "--tolerance: error-rate: expected finite, got nan"),
        (("--tolerance", "error-rate=-1:0"), "--tolerance: error-rate: expected at least 0"),
        (("--requests-metric", "http requests"), "--requests-metric: expected a Prometheus"),
        (("--errors-matchers", "code=5xx"), "--errors-matchers: expected label matchers"),
        (("--prometheus", "ftp://x"), "--prometheus-url: expected an http:// or https:// URL"),
        (("--at", "2999-01-01T00:00:00Z"), "--at: 2999-01-01T00:00:00Z is in the future"),
        (("--format", "xml"), "expected one of table, json, yaml, got 'xml'"),
    ],
)
def test_bad_input_exits_2(args: tuple[str, ...], message: str) -> None:
    overrides = dict(zip(GOOD[::2], GOOD[1::2], strict=True))
    rest: list[str] = []
    pairs = list(args)
    while pairs:
        option = pairs.pop(0)
        value = pairs.pop(0) if pairs else ""
        if option in overrides:
            overrides[option] = value
        else:
            rest += [option, value]
    line = [word for pair in overrides.items() for word in pair]
    code, stdout, stderr = run("canary", "analyze", *line, *rest)
    assert code == 2, (stdout, stderr)
    assert message in " ".join(stderr.split()), stderr
    assert "Traceback" not in stderr
    assert stdout == ""


def test_a_prometheus_url_is_needed() -> None:
    code, _, stderr = run(
        "canary",
        "analyze",
        *GOOD[:4],
        env={"SREKIT_PROMETHEUS_URL": "", "SREKIT_HOME": "/nonexistent"},
    )
    assert code == 2
    assert "expected a Prometheus URL: --prometheus or SREKIT_PROMETHEUS_URL" in stderr


def test_prometheus_down_is_an_error_not_a_verdict() -> None:
    code, stdout, stderr = run("canary", "analyze", *GOOD)
    assert code == 2
    assert stdout == ""
    assert "connection refused" in stderr
