"""The dashboard's two busiest pages with 1,000 SLOs and their history, on SQLite.

The store is filled by the history benchmark's builder (`bench_history._generate`: 1,000 SLOs,
90 days as the retention policy keeps them, the last 2 days raw); the statuses are the store's
newest snapshots, as `srekit serve` without an evaluator reads them. Measures, through
TestClient logged in with a dashboard session (server time, no network), the Overview `/ui/`
and the SLO list `/ui/slos`: p50/p95 of 30 calls against 50 ms p95; and each page's weight, the
HTML and every static asset it links (stylesheets, scripts, images), uncompressed, against
250 KB. Then the 30-day budget heatmap of every SLO (`/api/v1/history/heatmap`, with the
viewer's API token) against 100 ms p95.

python -m benchmarks.bench_web             # prints figures, writes results/web.json
python -m benchmarks.bench_web --days 30   # a quicker store: fewer days of history
python -m benchmarks.bench_web --store DIR # build the store in DIR once, reuse it after
                                           # (a round of snapshots at now keeps it fresh)
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from benchmarks.bench_history import DAYS, SLO_COUNT, _generate, _percentile
from srekit.store.database import create_store_engine, transaction, upgrade

RESULTS = Path(__file__).resolve().parent / "results"
TARGET_P95_MS = 50.0
TARGET_HEATMAP_P95_MS = 100.0
HEATMAP = "/api/v1/history/heatmap?days=30"
TARGET_WEIGHT_BYTES = 250 * 1024
BASE = "http://testserver"
PAGES = {"overview": "/ui/", "slo_list": "/ui/slos"}
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class _Linked(HTMLParser):
    """The static assets a page makes the browser fetch: link href, script src, img src."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        url = found.get("href") if tag == "link" else found.get("src")
        if tag in ("link", "script", "img") and url and not url.startswith("data:"):
            self.urls.append(url)


def _timed_within(call: Callable[[], Any], *, runs: int, budget_s: float) -> dict[str, Any]:
    """p50/p95 of `runs` calls after a warm one, stopping early (at 3 calls or more) once
    `budget_s` is spent: a page far over its target would otherwise take an hour."""
    started = time.perf_counter()
    call()  # warm: imports, templates, the first query's plan
    took: list[float] = []
    while len(took) < runs and (len(took) < 3 or time.perf_counter() - started < budget_s):
        began = time.perf_counter()
        call()
        took.append(time.perf_counter() - began)
    return {
        "p50_ms": round(statistics.median(took) * 1000, 1),
        "p95_ms": round(_percentile(took, 0.95) * 1000, 1),
        "runs": len(took),
    }


def _weight(client: Any, html: bytes) -> dict[str, Any]:
    """The page's HTML and every asset it links, in bytes as served before any compression."""
    parser = _Linked()
    parser.feed(html.decode())
    assets: dict[str, int] = {}
    for url in dict.fromkeys(parser.urls):
        answer = client.get(url, headers={"Accept-Encoding": "identity"})
        assert answer.status_code == 200, f"{url}: {answer.status_code}"
        assets[url] = len(answer.content)
    total = len(html) + sum(assets.values())
    return {
        "html_bytes": len(html),
        "assets": assets,
        "total_bytes": total,
        "meets_target": total <= TARGET_WEIGHT_BYTES,
    }


def _log_in(client: Any, token: str) -> None:
    """Through the form, as a browser does: the session cookie stays on the client."""
    form = client.get("/ui/login")
    found = _CSRF.search(form.text)
    assert found is not None, "no CSRF token on the login page"
    answer = client.post(
        "/ui/login",
        data={"token": token, "csrf_token": found.group(1), "next": "/ui/"},
        headers={"Origin": BASE},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text


def _heatmap(client: Any, token: str, *, runs: int, budget_s: float) -> dict[str, Any]:
    """The 30-day budget heatmap over every SLO, as the API answers it to a viewer's token."""
    answers: list[bytes] = []

    def get() -> None:
        answer = client.get(HEATMAP, headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200, answer.text
        answers.append(answer.content)

    figures = {"path": HEATMAP, **_timed_within(get, runs=runs, budget_s=budget_s)}
    figures["bytes"] = len(answers[-1])
    figures["slos"] = len(json.loads(answers[-1])["slos"])
    figures["meets_target"] = figures["p95_ms"] <= TARGET_HEATMAP_P95_MS
    return figures


def _refresh(engine: Any) -> dict[str, Any]:
    """A store built before: one round of snapshots at now, copies of each SLO's newest, as
    the evaluator writes them, so the statuses are fresh (not stale) again."""
    from srekit.store.repo import latest_snapshots, record_snapshots

    now = datetime.now(UTC)
    with transaction(engine) as session:
        statuses = [row.to_status() for row in latest_snapshots(session).values()]
        written = record_snapshots(session, statuses=statuses, now=now)
    return {"reused_store": True, "fresh_snapshots": written}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--days", type=int, default=DAYS, help="days of history to build")
    parser.add_argument(
        "--budget-s", type=float, default=180.0, help="time per page before fewer runs suffice"
    )
    parser.add_argument(
        "--store", type=Path, default=None, help="a directory to keep the built store in"
    )
    args = parser.parse_args(argv)
    from fastapi.testclient import TestClient

    from srekit.api import create_app
    from srekit.config import Settings
    from srekit.store.repo import create_token

    with tempfile.TemporaryDirectory(prefix="srekit-bench-web-") as scratch:
        home = str(args.store or scratch)
        Path(home).mkdir(parents=True, exist_ok=True)
        database = Path(home) / "srekit.db"
        reused = database.exists()
        engine = create_store_engine(f"sqlite:///{database}")
        upgrade(engine)
        if reused:
            generated = _refresh(engine)
            print(json.dumps(generated), flush=True)
        else:
            print(f"generating {SLO_COUNT} SLOs × {args.days} days of history …", flush=True)
            started = time.perf_counter()
            generated = _generate(engine, now=datetime.now(UTC), days=args.days)
            generated["generated_s"] = round(time.perf_counter() - started, 1)
            print(json.dumps(generated), flush=True)
        with transaction(engine) as session:
            _, token = create_token(
                session, role="viewer", name=f"bench-{time.time_ns()}", actor="bench"
            )
        app = create_app(Settings(home=Path(home)), engine=engine)
        figures: dict[str, Any] = {}
        with TestClient(app, base_url=BASE) as client:
            _log_in(client, token)

            last: dict[str, bytes] = {}

            def get(path: str) -> None:
                answer = client.get(path, headers={"Accept-Encoding": "identity"})
                assert answer.status_code == 200, answer.text
                last[path] = answer.content

            for name, path in PAGES.items():
                figures[name] = {
                    "path": path,
                    **_timed_within(
                        lambda path=path: get(path),  # type: ignore[misc]
                        runs=args.runs,
                        budget_s=args.budget_s,
                    ),
                    "weight": _weight(client, last[path]),
                }
                figures[name]["meets_target"] = figures[name]["p95_ms"] <= TARGET_P95_MS
                print(json.dumps({name: figures[name]}), flush=True)

            figures["heatmap_30d"] = _heatmap(client, token, runs=args.runs, budget_s=args.budget_s)
            print(json.dumps({"heatmap_30d": figures["heatmap_30d"]}), flush=True)
        engine.dispose()
    result = {
        "slos": SLO_COUNT,
        "days": args.days,
        "target_p95_ms": TARGET_P95_MS,
        "target_weight_bytes": TARGET_WEIGHT_BYTES,
        "target_heatmap_p95_ms": TARGET_HEATMAP_P95_MS,
        **generated,
        **figures,
    }
    print(json.dumps(result, indent=2))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "web.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
