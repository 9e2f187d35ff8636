"""The whole incident loop, every part real: a service's counters scraped by Prometheus every
second, srekit's own burn-rate rules firing on them, Alertmanager delivering to a running
`srekit serve`, the gate denying, an acknowledgement silencing the alert, and, once the service
recovers, the silence watch resolving the incident Alertmanager never told srekit about (it
mutes the resolved notification of a silenced alert).

How the page alert fires on a Prometheus with seconds of history: srekit's rules have no `for`,
and page when the error ratio over 1h and 5m both exceed 14.4 × the budget (or over 6h and 30m,
6 ×). A fresh Prometheus holds a few seconds of samples, so every window's `increase()` covers
the same samples: the errors and requests since the counters were first scraped (both series
are scraped together, from zero, so their extrapolations cancel in the ratio). With objective
99 %, 100 errors in 200 requests (0.5 > 0.144) page; a million more good requests bring every
window to 100 / 1,000,200 = 0.0001, under every threshold (the ticket's lowest is 0.01), and
the alert resolves.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from operator import not_
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from prometheus_client import CollectorRegistry, Counter, start_http_server
from typer.testing import CliRunner

from srekit.cli.main import app
from tests.alertmanager_fixture import WEBHOOK_PATH, AlertmanagerServer, StartAlertmanager
from tests.integration.prometheus_fixture import PrometheusServer, require_binary
from tests.served import free_port, srekit_serve

pytestmark = pytest.mark.integration

T = TypeVar("T")

SERVICE = "shop"
SPEC = """\
apiVersion: srekit/v1
kind: SLO
service: shop
name: availability
objective: 99%
window: 30d
indicator:
  ratio:
    bad: e2e_requests_total{code="500"}
    total: e2e_requests_total
"""
ALERTNAME = "ShopAvailabilityErrorBudgetBurn"
ROLES = ("viewer", "editor", "deploy", "ingest")


class Exporter:
    """The service: request counters the test moves, served for Prometheus on 127.0.0.1."""

    def __init__(self) -> None:
        registry = CollectorRegistry()
        requests = Counter("e2e_requests", "requests by status", ["code"], registry=registry)
        # both series exist, at zero, from the first scrape: increase() counts from there
        self.good, self.bad = requests.labels("200"), requests.labels("500")
        self.server, self.thread = start_http_server(0, addr="127.0.0.1", registry=registry)

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.server.server_port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


@dataclass
class Srekit:
    """`srekit serve` in a process of its own, and a token per role to talk to it."""

    url: str
    tokens: dict[str, str]
    log: Path

    def get(self, path: str, role: str = "viewer", **params: str) -> Any:
        answer = httpx.get(f"{self.url}{path}", params=params, headers=self._auth(role), timeout=10)
        assert answer.status_code == 200, f"GET {path}: {answer.status_code} {answer.text}"
        return answer.json()

    def post(self, path: str, body: dict[str, Any], role: str = "editor") -> Any:
        answer = httpx.post(f"{self.url}{path}", json=body, headers=self._auth(role), timeout=30)
        assert answer.status_code == 200, f"POST {path}: {answer.status_code} {answer.text}"
        return answer.json()

    def _auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def incidents(self, **params: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.get(
            "/api/v1/incidents", service=SERVICE, state="all", **params
        )
        return found

    def gate(self) -> dict[str, Any]:
        decision: dict[str, Any] = self.get(
            "/api/v1/gate", "deploy", service=SERVICE, change_type="feature"
        )
        return decision


@dataclass
class Loop:
    """The running parts, polled with deadlines; on failure, what each of them holds."""

    prometheus: PrometheusServer
    alertmanager: AlertmanagerServer
    srekit: Srekit

    def poll(
        self,
        what: str,
        read: Callable[[], T],
        accept: Callable[[T], object] = bool,
        *,
        timeout_s: float,
    ) -> T:
        """What `read` returns once `accept` takes it; a failure saying `what` did not happen
        (and what every part holds) after `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        while True:
            found = read()
            if accept(found):
                return found
            if time.monotonic() > deadline:
                pytest.fail(f"{what}: not within {timeout_s:g} s\n{self.state()}", pytrace=False)
            time.sleep(0.2)

    @contextmanager
    def explained(self) -> Iterator[None]:
        """Assertions failing in the block say what every part held then."""
        try:
            yield
        except AssertionError as error:
            pytest.fail(f"{error}\n{self.state()}", pytrace=False)

    def prometheus_query(self, query: str) -> list[dict[str, Any]]:
        answer = httpx.get(f"{self.prometheus.url}/api/v1/query", params={"query": query})
        result: list[dict[str, Any]] = answer.json()["data"]["result"]
        return result

    def firing_page(self) -> list[dict[str, Any]]:
        """Prometheus' page alert for the service, while it fires."""
        alerts = httpx.get(f"{self.prometheus.url}/api/v1/alerts").json()["data"]["alerts"]
        return [
            alert
            for alert in alerts
            if alert["labels"].get("alertname") == ALERTNAME
            and alert["labels"].get("severity") == "page"
            and alert["state"] == "firing"
        ]

    def silence(self, silence_id: str) -> dict[str, Any]:
        found: dict[str, Any] = httpx.get(
            f"{self.alertmanager.url}/api/v2/silence/{silence_id}"
        ).json()
        return found

    def state(self) -> str:
        """Prometheus' alerts and ratios, Alertmanager's alerts and silences, srekit's incidents
        and the end of its log."""
        parts: list[str] = []
        reads: tuple[tuple[str, Callable[[], httpx.Response]], ...] = (
            (
                "Prometheus /api/v1/alerts",
                lambda: httpx.get(f"{self.prometheus.url}/api/v1/alerts"),
            ),
            (
                "Prometheus error ratios",
                lambda: httpx.get(
                    f"{self.prometheus.url}/api/v1/query",
                    params={"query": '{__name__=~"srekit_slo:error_ratio:rate(5m|1h)"}'},
                ),
            ),
            (
                "Alertmanager /api/v2/alerts",
                lambda: httpx.get(f"{self.alertmanager.url}/api/v2/alerts"),
            ),
            (
                "Alertmanager /api/v2/silences",
                lambda: httpx.get(f"{self.alertmanager.url}/api/v2/silences"),
            ),
        )
        for name, read in reads:
            try:
                parts.append(f"--- {name}:\n{json.dumps(read().json(), indent=1)[:6000]}")
            except (httpx.HTTPError, ValueError) as error:
                parts.append(f"--- {name}: unreadable: {error}")
        try:
            details = [
                self.srekit.get(f"/api/v1/incidents/{incident['id']}")
                for incident in self.srekit.incidents()
            ]
            parts.append(f"--- srekit incidents:\n{json.dumps(details, indent=1)[:12000]}")
        except (httpx.HTTPError, AssertionError) as error:
            parts.append(f"--- srekit incidents: unreadable: {error}")
        log = self.srekit.log.read_text(errors="replace") if self.srekit.log.exists() else ""
        parts.append(f"--- srekit serve's log (end):\n{log[-4000:]}")
        parts.append(f"--- Alertmanager's log (end):\n{self.alertmanager.log()[-3000:]}")
        parts.append(f"--- Prometheus' log (end):\n{self.prometheus.log_tail()}")
        return "\n".join(parts)


def _cli(env: dict[str, str], *args: str) -> str:
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exit_code == 0, f"srekit {' '.join(args)}: {result.output}"
    return result.stdout


@contextmanager
def _serve(home: Path, port: int, tokens: dict[str, str], **settings: str) -> Iterator[Srekit]:
    """`srekit serve` with these SREKIT_* settings, ready; stopped (SIGINT) after the block."""
    log = home / "serve.log"
    with srekit_serve(home, "--interval", "5", port=port, log=log, settings=settings) as url:
        yield Srekit(url, tokens, log)


@pytest.fixture
def exporter() -> Iterator[Exporter]:
    served = Exporter()
    yield served
    served.stop()


def test_a_fast_burn_pages_denies_is_silenced_and_resolves_on_recovery(
    tmp_path: Path, exporter: Exporter, start_alertmanager: StartAlertmanager
) -> None:
    try:
        require_binary("prometheus")
    except RuntimeError as error:
        pytest.fail(str(error), pytrace=False)
    home = tmp_path / "srekit"
    spec = tmp_path / "shop.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    env = {"SREKIT_HOME": str(home), "SREKIT_DATABASE_URL": "", "SREKIT_ACTOR": "ci"}
    _cli(env, "slo", "apply", "-f", str(spec))
    tokens = {
        role: _cli(env, "token", "create", "--role", role, "--name", f"{role}-bot").strip()
        for role in ROLES
    }
    rules = tmp_path / "shop.rules.yml"
    _cli(env, "rules", "generate", "-f", str(spec), "-o", str(rules))

    port = free_port()  # srekit's, for Alertmanager's webhook: srekit starts last
    alertmanager = start_alertmanager(
        f"http://127.0.0.1:{port}{WEBHOOK_PATH}",
        bearer_token=tokens["ingest"],
        group_wait="1s",
        group_interval="2s",
    )
    prometheus = PrometheusServer(
        tmp_path / "prometheus" / "data",
        tmp_path / "prometheus",
        scrape_configs=[
            {
                "job_name": SERVICE,
                "scrape_interval": "1s",
                "static_configs": [{"targets": [exporter.target]}],
            }
        ],
        rule_files=[rules],
        global_config={"scrape_interval": "1s", "evaluation_interval": "1s"},
        alertmanagers=[f"127.0.0.1:{alertmanager.port}"],
    )
    prometheus.start()
    try:
        with _serve(
            home,
            port,
            tokens,
            SREKIT_PROMETHEUS_URL=prometheus.url,
            SREKIT_ALERTMANAGER_URL=alertmanager.url,
            SREKIT_SILENCE_WATCH_INTERVAL_S="1",
            SREKIT_ALERTMANAGER_STARTUP_GRACE_S="5",
        ) as srekit:
            _the_loop(Loop(prometheus, alertmanager, srekit), exporter)
    finally:
        prometheus.stop()


def _the_loop(loop: Loop, exporter: Exporter) -> None:
    srekit = loop.srekit
    # two scrapes of the counters at zero, so the errors to come are an increase
    loop.poll(
        "Prometheus scraping the service twice",
        lambda: loop.prometheus_query('count_over_time(e2e_requests_total{code="500"}[1m])'),
        lambda result: any(float(series["value"][1]) >= 2 for series in result),
        timeout_s=20,
    )
    with loop.explained():
        assert loop.firing_page() == []
        assert srekit.incidents() == []

    # a fast burn: half the requests fail
    exporter.bad.inc(100)
    exporter.good.inc(100)
    opened = loop.poll(
        "a P1 incident opened for the service",
        lambda: [i for i in srekit.incidents() if i["severity"] == "P1"],
        timeout_s=45,
    )
    with loop.explained():
        assert len(opened) == 1, opened
        incident = opened[0]
        number = incident["id"]
        assert incident["state"] == "triggered"
        assert incident["slos"] == [f"{SERVICE}/availability"]
        assert (
            incident["title"]
            == f"{SERVICE}/availability is burning its error budget too fast (page)"
        )
        assert loop.firing_page(), "Prometheus' page alert fires"

    denied = loop.poll(
        "the gate denying the service for the incident",
        srekit.gate,
        lambda decision: any(f"#{number} P1" in reason for reason in decision["reasons"]),
        timeout_s=10,
    )
    with loop.explained():
        assert denied["allowed"] is False

        acked = srekit.post(
            f"/api/v1/incidents/{number}/acknowledge", {"silence": True, "note": "on it"}
        )
        silence_id = acked["silence_created"]
        assert (acked["state"], acked["silence_failures"]) == ("acknowledged", [])
        assert acked["silences"] == [silence_id]
        silence = loop.silence(silence_id)
        assert silence["status"]["state"] == "active"
        assert silence["createdBy"] == "editor-bot"
        assert silence["comment"].startswith(f"srekit incident #{number}: ")
        matchers = {m["name"]: m["value"] for m in silence["matchers"]}
        assert matchers["alertname"] == ALERTNAME
        assert (matchers["severity"], matchers["srekit_service"]) == ("page", SERVICE)
    loop.poll(
        "Alertmanager muting the page alert with the silence",
        lambda: [
            a
            for a in loop.alertmanager.alerts(f'alertname="{ALERTNAME}"', 'severity="page"')
            if a["status"]["silencedBy"] == [silence_id]
        ],
        timeout_s=10,
    )

    # recovery: enough good requests that every window's burn falls under every threshold
    exporter.good.inc(1_000_000)
    loop.poll("Prometheus resolving the page alert", loop.firing_page, not_, timeout_s=20)
    resolved = loop.poll(
        "the silenced incident resolving",
        lambda: srekit.get(f"/api/v1/incidents/{number}"),
        lambda shown: shown["state"] == "resolved",
        timeout_s=30,
    )
    with loop.explained():
        assert resolved["resolved_by"] == "alertmanager"  # the intake's rules resolved it
        assert resolved["silences"] == []
        expiry = [e for e in resolved["timeline"] if e["kind"] == "silence"][-1]
        assert (expiry["actor"], expiry["text"]) == (
            "srekit",
            f"silence {silence_id} expired in Alertmanager",
        )
        assert loop.silence(silence_id)["status"]["state"] == "expired"

    loop.poll(
        "the gate no longer naming the incident",
        srekit.gate,
        lambda decision: not any(f"#{number}" in reason for reason in decision["reasons"]),
        timeout_s=10,
    )
    # and once the evaluator has read the recovery, the budget allows the deploy: 100 bad
    # requests of 1,000,200 spend (100 / 1,000,200) / 0.01 of the budget
    allowed = loop.poll(
        "the gate allowing the deploy", srekit.gate, lambda d: d["allowed"], timeout_s=20
    )
    with loop.explained():
        (figures,) = allowed["slos"]
        assert figures["remaining"] == pytest.approx(1 - (100 / 1_000_200) / 0.01, abs=1e-9)
        # one P1 incident over the whole run, however often Alertmanager sent the group
        assert [i["id"] for i in srekit.incidents(severity="P1")] == [number]
        banner = srekit.log.read_text()
        assert f"watching silenced incidents in Alertmanager at {loop.alertmanager.url}" in banner
