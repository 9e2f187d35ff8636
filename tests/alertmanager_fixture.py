"""A real Alertmanager for tests, and a local HTTP receiver recording what it sends.

`AlertmanagerServer.start()` runs Debian's `prometheus-alertmanager` on 127.0.0.1 and a free
port, with a config written here: one route to one webhook receiver (the URL the test gives,
`send_resolved: true`, `max_alerts: 0`, the bearer token the test gives in a
`credentials_file`, as docs/alertmanager.md configures it), short timings (group_wait 1s,
group_interval 2s, repeat_interval 1h), clustering off (`--cluster.listen-address=`, else it
listens on 0.0.0.0:9094) and its storage in the test's directory. It waits for `/-/ready`.
With `example=True` the config is examples/alertmanager/alertmanager.yml instead, the
documented routes, its `srekit` receiver sending to the test's URL and its timings shortened.

`WebhookRecorder` is a threaded `http.server` on 127.0.0.1 that records every request (method,
path, headers, body) and answers 200, or what the test queued (`answer_next(500, 500)`).

In a conftest, the pytest fixtures come with one import:

    from tests.alertmanager_fixture import alertmanager, start_alertmanager, webhook_recorder

`webhook_recorder` is a started recorder; `start_alertmanager(webhook_url, bearer_token=...,
example=..., group_wait=...)` starts Alertmanagers sending to any URL (srekit's own server,
say) and stops them after the test; `alertmanager` is one sending to the recorder's
`/api/v1/alertmanager` with `ALERTMANAGER_TOKEN`. None of them skips: a missing binary fails
the test, saying how to install it.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol

import httpx
import pytest
import yaml

from tests.ports import free_port

__all__ = [
    "ALERTMANAGER_TOKEN",
    "DEFAULT_GROUP_BY",
    "EXAMPLE_CONFIG",
    "WEBHOOK_PATH",
    "AlertmanagerServer",
    "RecordedRequest",
    "StartAlertmanager",
    "WebhookRecorder",
    "alertmanager",
    "alertmanager_config",
    "example_config",
    "postable_alert",
    "require_binary",
    "start_alertmanager",
    "webhook_recorder",
]

ALERTMANAGER_TOKEN = "alertmanager-test-token"
WEBHOOK_PATH = "/api/v1/alertmanager"
DEFAULT_GROUP_BY = ("alertname", "srekit_service")
EXAMPLE_CONFIG = Path(__file__).resolve().parents[1] / "examples/alertmanager/alertmanager.yml"
_MAKE_TEST = "run `make test`, which installs Debian's prometheus-alertmanager (make system-deps)"


def require_binary(*names: str) -> Path:
    """The first of `names` on PATH (`prometheus-alertmanager` is Debian's name for
    `alertmanager`), or a RuntimeError saying how to install it."""
    for name in names:
        found = shutil.which(name)
        if found:
            return Path(found)
    raise RuntimeError(f"{' or '.join(names)} is not installed: {_MAKE_TEST}")


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def postable_alert(
    labels: Mapping[str, str],
    *,
    starts_at: datetime,
    ends_at: datetime | None = None,
    annotations: Mapping[str, str] | None = None,
    generator_url: str = "",
) -> dict[str, Any]:
    """An alert as Prometheus posts it to `/api/v2/alerts`; with `ends_at` in the past it is
    resolved (post the same labels, annotations and URL again, as Prometheus does)."""
    alert: dict[str, Any] = {
        "labels": dict(labels),
        "annotations": dict(annotations or {}),
        "startsAt": _rfc3339(starts_at),
    }
    if ends_at is not None:
        alert["endsAt"] = _rfc3339(ends_at)
    if generator_url:
        alert["generatorURL"] = generator_url
    return alert


def alertmanager_config(
    webhook_url: str,
    *,
    credentials_file: Path | None,
    group_by: Sequence[str] = DEFAULT_GROUP_BY,
    group_wait: str = "1s",
    group_interval: str = "2s",
    repeat_interval: str = "1h",
    send_resolved: bool = True,
    receiver: str = "srekit",
) -> str:
    """alertmanager.yml: every alert to one webhook receiver, as docs/alertmanager.md sets it."""
    webhook: dict[str, Any] = {
        "url": webhook_url,
        "send_resolved": send_resolved,
        "max_alerts": 0,
    }
    if credentials_file is not None:
        webhook["http_config"] = {
            "authorization": {"type": "Bearer", "credentials_file": str(credentials_file)}
        }
    config = {
        "route": {
            "receiver": receiver,
            "group_by": list(group_by),
            "group_wait": group_wait,
            "group_interval": group_interval,
            "repeat_interval": repeat_interval,
        },
        "receivers": [{"name": receiver, "webhook_configs": [webhook]}],
    }
    return yaml.safe_dump(config, sort_keys=False)


def example_config(
    webhook_url: str,
    *,
    credentials_file: Path | None,
    group_wait: str = "1s",
    group_interval: str = "2s",
    repeat_interval: str = "1h",
) -> str:
    """examples/alertmanager/alertmanager.yml, as docs/alertmanager.md shows it, with its
    `srekit` receiver sending to `webhook_url` with this credentials file (None: without
    authorization) and the timings of every route shortened to these."""
    config = yaml.safe_load(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    (receiver,) = [r for r in config["receivers"] if r["name"] == "srekit"]
    (webhook,) = receiver["webhook_configs"]
    webhook["url"] = webhook_url
    if credentials_file is None:
        del webhook["http_config"]
    else:
        webhook["http_config"]["authorization"]["credentials_file"] = str(credentials_file)
    timings = {
        "group_wait": group_wait,
        "group_interval": group_interval,
        "repeat_interval": repeat_interval,
    }
    root = config["route"]
    root.update(timings)
    for route in root.get("routes", []):
        route.update({key: value for key, value in timings.items() if key in route})
    return yaml.safe_dump(config, sort_keys=False)


@dataclass
class AlertmanagerServer:
    """A running Alertmanager: its API at `url` (`http://127.0.0.1:PORT`)."""

    url: str
    port: int
    workdir: Path
    config_file: Path
    credentials_file: Path | None  # the bearer token it sends, read again on every request
    process: subprocess.Popen[bytes]

    @classmethod
    def start(
        cls,
        workdir: Path,
        *,
        webhook_url: str,
        bearer_token: str | None = ALERTMANAGER_TOKEN,
        external_url: str | None = None,
        example: bool = False,
        timeout_s: float = 20.0,
        **config: Any,
    ) -> AlertmanagerServer:
        """Alertmanager sending alerts to `webhook_url`, ready to take alerts.

        `bearer_token` goes in a credentials file (None: no Authorization header);
        `external_url` is the URL it puts in webhooks (default: its own). The config is
        `alertmanager_config` (every alert to `webhook_url`), or with `example`
        `example_config` (the documented routes: alerts with a `severity` of `page` or
        `ticket` to `webhook_url`); `config` goes to either (group_wait, group_interval,
        repeat_interval; for the first also group_by, send_resolved, receiver).
        """
        binary = require_binary("prometheus-alertmanager", "alertmanager")
        workdir.mkdir(parents=True, exist_ok=True)
        credentials: Path | None = None
        if bearer_token is not None:
            credentials = workdir / "srekit-token"
            credentials.write_text(bearer_token + "\n", encoding="utf-8")
            credentials.chmod(0o600)
        config_file = workdir / "alertmanager.yml"
        write = example_config if example else alertmanager_config
        config_file.write_text(
            write(webhook_url, credentials_file=credentials, **config), encoding="utf-8"
        )
        failure = ""
        for _ in range(3):  # another process may take the free port before Alertmanager binds
            port = free_port()
            log = workdir / "alertmanager.log"
            with log.open("wb") as output:
                process = subprocess.Popen(
                    [
                        str(binary),
                        f"--config.file={config_file}",
                        f"--storage.path={workdir / 'data'}",
                        f"--web.listen-address=127.0.0.1:{port}",
                        f"--web.external-url={external_url or f'http://127.0.0.1:{port}'}",
                        "--cluster.listen-address=",
                        "--log.level=debug",
                    ],
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    cwd=workdir,
                )
            server = cls(
                url=f"http://127.0.0.1:{port}",
                port=port,
                workdir=workdir,
                config_file=config_file,
                credentials_file=credentials,
                process=process,
            )
            failure = server._wait_ready(timeout_s)
            if not failure:
                return server
            server.stop()
            if "address already in use" not in failure:
                break
        raise RuntimeError(f"Alertmanager did not start: {failure}")

    def _wait_ready(self, timeout_s: float) -> str:
        """'' once `/-/ready` answers 200, else why not."""
        deadline = time.monotonic() + timeout_s
        with httpx.Client(timeout=2.0) as client:
            while True:
                if self.process.poll() is not None:
                    return f"it exited ({self.process.returncode}):\n{self.log()}"
                with contextlib.suppress(httpx.TransportError):
                    if client.get(f"{self.url}/-/ready").status_code == 200:
                        return ""
                if time.monotonic() > deadline:
                    return f"not ready after {timeout_s} s:\n{self.log()}"
                time.sleep(0.05)

    def log(self) -> str:
        """What Alertmanager logged so far."""
        return (self.workdir / "alertmanager.log").read_text(errors="replace")

    def post_alerts(self, alerts: Sequence[Mapping[str, Any]]) -> None:
        """POST alerts to `/api/v2/alerts`, as Prometheus does; fails the test unless 200."""
        response = httpx.post(f"{self.url}/api/v2/alerts", json=list(alerts), timeout=10.0)
        assert response.status_code == 200, f"{response.status_code}: {response.text}"

    def alerts(self, *filters: str) -> list[dict[str, Any]]:
        """`GET /api/v2/alerts`, with matchers such as `service="checkout"`."""
        response = httpx.get(
            f"{self.url}/api/v2/alerts", params=[("filter", f) for f in filters], timeout=10.0
        )
        assert response.status_code == 200, f"{response.status_code}: {response.text}"
        found: list[dict[str, Any]] = response.json()
        return found

    def stop(self) -> None:
        """SIGTERM (it saves its state), then SIGKILL after 10 s."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclass(frozen=True)
class RecordedRequest:
    """One request the recorder got: header names in lower case, the body as sent, the
    status it was answered, when it arrived (`time.monotonic()`)."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes
    answered: int
    received_s: float

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class WebhookRecorder:
    """An HTTP server on 127.0.0.1 that records every request; see the module's docstring."""

    server: ThreadingHTTPServer
    thread: threading.Thread
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _requests: list[RecordedRequest] = field(default_factory=list)
    _queued: deque[tuple[int, bytes]] = field(default_factory=deque)
    delay_s: float = 0.0  # wait this long before answering (a slow server)

    @classmethod
    def start(cls) -> WebhookRecorder:
        recorder: WebhookRecorder

        class Handler(BaseHTTPRequestHandler):
            def _record(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, answer = recorder._next_answer()
                with recorder._lock:
                    recorder._requests.append(
                        RecordedRequest(
                            method=self.command,
                            path=self.path,
                            headers={k.lower(): v for k, v in self.headers.items()},
                            body=body,
                            answered=status,
                            received_s=time.monotonic(),
                        )
                    )
                if recorder.delay_s:  # recorded all the same: the client did send it
                    time.sleep(recorder.delay_s)
                with contextlib.suppress(OSError):  # a client that gave up waiting
                    self.send_response(status)
                    self.send_header("Content-Type", "text/plain; charset=utf-8")
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)

            # http.server dispatches on these names
            def do_POST(self) -> None:
                self._record()

            def do_PUT(self) -> None:
                self._record()

            def do_GET(self) -> None:
                self._record()

            def do_DELETE(self) -> None:
                self._record()

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the test asserts on `requests`, not on stderr."""

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        recorder = cls(server=server, thread=thread)
        thread.start()
        return recorder

    @property
    def url(self) -> str:
        """`http://127.0.0.1:PORT`; requests may go to any path under it."""
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def url_for(self, path: str = WEBHOOK_PATH) -> str:
        return f"{self.url}{path}"

    def answer_next(self, *answers: int | tuple[int, bytes]) -> None:
        """Answer the next requests with these statuses (and bodies), then 200 again."""
        with self._lock:
            for answer in answers:
                self._queued.append(answer if isinstance(answer, tuple) else (answer, b""))

    def _next_answer(self) -> tuple[int, bytes]:
        with self._lock:
            return self._queued.popleft() if self._queued else (200, b"")

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def bodies(self) -> list[Any]:
        """The JSON bodies received so far, in order."""
        return [request.json() for request in self.requests]

    def wait_for(self, count: int, *, timeout_s: float = 20.0) -> list[RecordedRequest]:
        """The requests once at least `count` have arrived; fails the test after `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        while True:
            got = self.requests
            if len(got) >= count:
                return got
            if time.monotonic() > deadline:
                pytest.fail(
                    f"expected {count} requests within {timeout_s} s, got {len(got)}:"
                    f" {[r.body[:200] for r in got]}",
                    pytrace=False,
                )
            time.sleep(0.02)

    def clear(self) -> None:
        with self._lock:
            self._requests.clear()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


class StartAlertmanager(Protocol):
    """The `start_alertmanager` fixture: `AlertmanagerServer.start` in a fresh directory."""

    def __call__(
        self,
        webhook_url: str,
        *,
        bearer_token: str | None = ALERTMANAGER_TOKEN,
        external_url: str | None = None,
        example: bool = False,
        **config: Any,
    ) -> AlertmanagerServer: ...


@pytest.fixture
def webhook_recorder() -> Iterator[WebhookRecorder]:
    """A started `WebhookRecorder`, stopped after the test."""
    recorder = WebhookRecorder.start()
    yield recorder
    recorder.stop()


@pytest.fixture
def start_alertmanager(tmp_path: Path) -> Iterator[StartAlertmanager]:
    """Starts Alertmanagers sending to a given URL; each is stopped after the test."""
    started: list[AlertmanagerServer] = []

    def start(
        webhook_url: str,
        *,
        bearer_token: str | None = ALERTMANAGER_TOKEN,
        external_url: str | None = None,
        example: bool = False,
        **config: Any,
    ) -> AlertmanagerServer:
        workdir = tmp_path / f"alertmanager-{len(started)}"
        try:
            server = AlertmanagerServer.start(
                workdir,
                webhook_url=webhook_url,
                bearer_token=bearer_token,
                external_url=external_url,
                example=example,
                **config,
            )
        except RuntimeError as error:
            pytest.fail(str(error), pytrace=False)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def alertmanager(
    start_alertmanager: StartAlertmanager, webhook_recorder: WebhookRecorder
) -> AlertmanagerServer:
    """Alertmanager sending to `webhook_recorder`'s `/api/v1/alertmanager` with
    `ALERTMANAGER_TOKEN`, on the default timings."""
    return start_alertmanager(webhook_recorder.url_for())
