"""A sequence of webhooks captured from a real Alertmanager, for tests that replay them.

`capture_sequence()` starts Alertmanager (tests/alertmanager_fixture.py) on the documented
config (examples/alertmanager/alertmanager.yml, its timings shortened) with the `srekit`
receiver sending to a `WebhookRecorder`, posts srekit-style burn-rate alerts to its
`/api/v2/alerts` the way Prometheus does, and returns the webhook bodies of four steps:

1. two alerts fire in two groups (group_by alertname, srekit_service): checkout's
   availability page alert and payments' latency page alert. Two webhooks, both `firing`.
2. checkout's availability ticket alert fires too. One webhook: checkout's group, both
   alerts `firing`.
3. the ticket alert resolves. One webhook: the group still `firing`, holding the firing page
   alert and the resolved ticket alert.
4. the two page alerts resolve. Two webhooks, both `resolved`: Alertmanager does not send an
   alert again once its resolution was delivered.

Every time is fixed and the external URL is `http://alertmanager:9093`, so a capture gives
the same bytes on every run with the same Alertmanager; within a step the webhooks are
sorted by group key (they arrive in either order). A step adds at most one alert to a group:
an alert that started over a group_wait ago makes Alertmanager send its new group at once,
before a second alert posted with it may have joined. Regenerate the committed copy with

    python -m tests.alertmanager_capture

which writes tests/data/alertmanager_sequence.json (tests/alertmanager/test_webhook_sequence.py
checks that a fresh capture still equals it).
"""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.alertmanager_fixture import (
    ALERTMANAGER_TOKEN,
    AlertmanagerServer,
    WebhookRecorder,
    postable_alert,
)

__all__ = ["EXTERNAL_URL", "SEQUENCE_FILE", "capture_sequence", "load_sequence"]

SEQUENCE_FILE = Path(__file__).resolve().parent / "data" / "alertmanager_sequence.json"
EXTERNAL_URL = "http://alertmanager:9093"

_T0 = datetime(2026, 11, 1, 10, 0, tzinfo=UTC)


def _burn(service: str, slo: str, severity: str, minute: int) -> dict[str, Any]:
    """A firing alert as srekit's burn-rate rules make it (alert name, labels, annotations)."""
    name = f"{service.capitalize()}{slo.capitalize()}ErrorBudgetBurn"
    return postable_alert(
        {
            "alertname": name,
            "srekit_service": service,
            "srekit_slo": slo,
            "severity": severity,
        },
        starts_at=_T0.replace(minute=minute),
        annotations={
            "summary": f"{service}/{slo} is burning its error budget too fast ({severity})",
            "runbook_url": f"https://runbooks.example.com/{service}/{slo}",
        },
        generator_url=f"http://prometheus:9090/graph?g0.expr=ALERTS%7Balertname%3D%22{name}%22%7D",
    )


def _step(
    alertmanager: AlertmanagerServer,
    recorder: WebhookRecorder,
    alerts: list[dict[str, Any]],
    expected: int,
) -> list[dict[str, Any]]:
    before = len(recorder.requests)
    alertmanager.post_alerts(alerts)
    arrived = recorder.wait_for(before + expected)[before:]
    return sorted((r.json() for r in arrived), key=lambda body: str(body["groupKey"]))


def capture_sequence(workdir: Path) -> list[dict[str, Any]]:
    """The six webhook bodies of the four steps above, from a real Alertmanager."""
    recorder = WebhookRecorder.start()
    alertmanager = AlertmanagerServer.start(
        workdir,
        webhook_url=recorder.url_for(),
        bearer_token=ALERTMANAGER_TOKEN,
        external_url=EXTERNAL_URL,
        example=True,
    )
    try:
        page = _burn("checkout", "availability", "page", 0)
        ticket = _burn("checkout", "availability", "ticket", 2)
        payments = _burn("payments", "latency", "page", 5)
        bodies = _step(alertmanager, recorder, [page, payments], 2)
        bodies += _step(alertmanager, recorder, [ticket], 1)
        ticket_resolved = {**ticket, "endsAt": "2026-11-01T11:00:00Z"}
        bodies += _step(alertmanager, recorder, [ticket_resolved], 1)
        page_resolved = {**page, "endsAt": "2026-11-01T11:30:00Z"}
        payments_resolved = {**payments, "endsAt": "2026-11-01T11:15:00Z"}
        bodies += _step(alertmanager, recorder, [page_resolved, payments_resolved], 2)
        if len(recorder.requests) != len(bodies):
            raise RuntimeError(f"expected {len(bodies)} webhooks, got {recorder.bodies()}")
        return bodies
    finally:
        alertmanager.stop()
        recorder.stop()


def load_sequence() -> list[dict[str, Any]]:
    """The committed capture."""
    loaded: list[dict[str, Any]] = json.loads(SEQUENCE_FILE.read_text(encoding="utf-8"))
    return loaded


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="srekit-alertmanager-") as workdir:
        bodies = capture_sequence(Path(workdir))
    SEQUENCE_FILE.parent.mkdir(parents=True, exist_ok=True)
    SEQUENCE_FILE.write_text(json.dumps(bodies, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {len(bodies)} webhooks to {SEQUENCE_FILE}")


if __name__ == "__main__":
    main()
