"""Deterministic Prometheus history for tests and benchmarks, and a real Prometheus to serve it.

`generate()` makes per-minute request counts for a few services (steady traffic, 5xx incident
bursts, a counter reset, a service whose series vanish, uneven traffic, histograms whose bucket
bounds are spelled `1` by some services and `1.0` by others). `write_openmetrics()` turns them
into cumulative counters, `promtool tsdb create-blocks-from openmetrics` backfills a TSDB, and
`PrometheusServer` runs Debian's `prometheus` on it, on 127.0.0.1 only.

Tests compute what a query should return from the counts, in plain Python: `Dataset.increase()`
applies Prometheus's own `increase()` rule (samples at both range ends included, extrapolation
towards range ends when the first or last sample is near them). On windows fully covered by
samples that rule reduces to the exact sum of the per-minute counts.
"""

from __future__ import annotations

import math
import random
import shutil
import subprocess
import time
from array import array
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import yaml

from srekit.core import promql
from srekit.core.slo import SLO, PromLatency, PromRatio
from srekit.rules.prometheus import GeneratedRules, generate_rules, render_rules
from tests.ports import free_port

__all__ = [
    "BOUNDS",
    "END",
    "TEST_SERVICES",
    "Backfilled",
    "Dataset",
    "PrometheusServer",
    "Series",
    "ServiceSpec",
    "backfill_openmetrics",
    "backfill_rules",
    "combine_blocks",
    "generate",
    "recording_rules_yaml",
    "require_binary",
    "rollup_rules_yaml",
    "serve",
    "serve_with_recordings",
    "serve_with_rollups",
    "write_openmetrics",
]

END = datetime(2026, 11, 1, tzinfo=UTC)
STEP_S = 60
BOUNDS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
_LATENCY_CDF = {
    "fast": (0.55, 0.8, 0.93, 0.985, 0.997, 0.9995),
    "slow": (0.2, 0.45, 0.7, 0.9, 0.97, 0.99),
}
_MAKE_TEST = "run `make test`, which installs Debian's prometheus package (promtool included)"


@dataclass(frozen=True)
class ServiceSpec:
    """How one service's traffic looks over the generated history."""

    name: str
    rate_per_min: float
    le_style: str = "go"  # "go" spells bounds `1`, "python" `1.0`
    error_ratio: float = 0.001
    incidents: tuple[tuple[float, float, float], ...] = ()  # (start day, hours, 5xx ratio)
    reset_day: float | None = None
    gaps: tuple[tuple[float, float], ...] = ()  # (start day, end day): no samples at all
    diurnal: float = 0.0  # 0 steady; 0.9 means night traffic is 10 % of the day's
    sparse: bool = False
    latency: str = "fast"
    histogram: bool = True


@dataclass
class Series:
    """One counter series: labels, per-minute increments, and which samples exist."""

    metric: str
    labels: dict[str, str]
    increments: array[int]  # increments[i]: events between sample i-1 and sample i
    present: bytearray  # 1 where sample i exists
    reset_index: int | None = None
    _prefix: array[int] = field(default_factory=lambda: array("q"))
    _values: array[int] = field(default_factory=lambda: array("q"))

    def values(self) -> array[int]:
        """Cumulative counter values, restarting from zero at the reset like a restarted process."""
        if not self._values:
            total = 0
            for i, inc in enumerate(self.increments):
                total = inc if i == self.reset_index else total + inc
                self._values.append(total)
        return self._values

    def prefix(self) -> array[int]:
        if not self._prefix:
            running = 0
            self._prefix = array("q", [0])
            for inc in self.increments:
                running += inc
                self._prefix.append(running)
        return self._prefix


@dataclass
class Dataset:
    """The generated history: sample times, services and every series."""

    start: datetime
    end: datetime
    services: tuple[ServiceSpec, ...]
    series: list[Series]
    step_s: int = STEP_S

    @property
    def start_s(self) -> int:
        return int(self.start.timestamp())

    @property
    def samples(self) -> int:
        return len(self.series[0].increments)

    def select(self, metric: str, **matchers: str | Callable[[str], bool]) -> list[Series]:
        """Series of `metric` whose labels equal (or satisfy) every matcher."""

        def matches(series: Series) -> bool:
            for name, want in matchers.items():
                have = series.labels.get(name)
                if have is None or (have != want if isinstance(want, str) else not want(have)):
                    return False
            return True

        return [s for s in self.series if s.metric == metric and matches(s)]

    def events(self, series: Iterable[Series], start: datetime, end: datetime) -> int:
        """Exact events in (start, end] from the per-minute counts, samples or not."""
        first = self._index_after(start)
        last = self._index_at_or_before(end)
        return sum(s.prefix()[last + 1] - s.prefix()[first] for s in series) if last >= first else 0

    def _index_after(self, at: datetime) -> int:
        return max(0, math.floor((at.timestamp() - self.start_s) / self.step_s) + 1)

    def _index_at_or_before(self, at: datetime) -> int:
        return min(self.samples - 1, math.floor((at.timestamp() - self.start_s) / self.step_s))

    def increase(self, series: Iterable[Series], at: datetime, window_s: int) -> float | None:
        """`sum(increase(<series>[window]))` at `at`, by Prometheus 2.x's rule, None if empty.

        Range [at - window, at] includes both ends (Prometheus 2.x). Per series: the raw
        increase between the first and last sample in range (resets add the pre-reset value),
        scaled to reach a range end when the sample nearest it is within 1.1 average intervals
        of it (else half an interval), never past the counter's extrapolated zero.
        """
        total: float | None = None
        for one in series:
            value = self._series_increase(one, at, window_s)
            if value is not None:
                total = value if total is None else total + value
        return total

    def _series_increase(self, series: Series, at: datetime, window_s: int) -> float | None:
        range_end = at.timestamp()
        range_start = range_end - window_s
        lo = max(0, math.ceil((range_start - self.start_s) / self.step_s))
        hi = min(self.samples - 1, math.floor((range_end - self.start_s) / self.step_s))
        indexes = [i for i in range(lo, hi + 1) if series.present[i]] if lo <= hi else []
        if len(indexes) < 2:
            return None
        first, last = indexes[0], indexes[-1]
        # Between present samples the counter rose by the minutes' counts; a reset makes
        # Prometheus add the pre-reset value, which leaves exactly the post-reset count.
        raw = float(series.prefix()[last + 1] - series.prefix()[first + 1])
        first_value = series.values()[first]
        first_t = self.start_s + first * self.step_s
        last_t = self.start_s + last * self.step_s
        sampled = float(last_t - first_t)
        average = sampled / (len(indexes) - 1)
        to_start = first_t - range_start
        to_end = range_end - last_t
        if raw > 0 and first_value >= 0:
            to_start = min(to_start, sampled * (first_value / raw))
        threshold = average * 1.1
        extended = sampled
        extended += to_start if to_start < threshold else average / 2
        extended += to_end if to_end < threshold else average / 2
        return raw * extended / sampled


TEST_SERVICES = (
    ServiceSpec(
        "checkout",
        rate_per_min=120,
        incidents=((3.5, 2.0, 0.4), (12.25, 0.75, 0.9), (29.98, 0.5, 0.5)),
        reset_day=20.4,
    ),
    ServiceSpec("search", rate_per_min=80, le_style="python", error_ratio=0.002),
    ServiceSpec("payments", rate_per_min=200, diurnal=0.9, latency="slow", error_ratio=0.0005),
    ServiceSpec("batch", rate_per_min=50, le_style="python", gaps=((10.0, 12.0), (29.875, 30.01))),
    ServiceSpec("auth", rate_per_min=1, sparse=True, error_ratio=0.05),
)


def _minute_rate(spec: ServiceSpec, minute_of_day: int, rng: random.Random) -> int:
    shape = 1.0 - spec.diurnal * (0.5 + 0.5 * math.cos(2 * math.pi * minute_of_day / 1440))
    mean = spec.rate_per_min * shape
    if spec.sparse:
        return rng.choice((0, 0, 0, 1, 2, 3)) if rng.random() < 0.5 else 0
    return max(0, round(rng.gauss(mean, math.sqrt(mean) + 1)))


def _binomial(rng: random.Random, trials: int, p: float) -> int:
    """A binomial draw: Poisson for rare events, normal otherwise (exactness is not needed)."""
    mean = trials * p
    if mean < 20:
        limit, draws, product = math.exp(-mean), 0, rng.random()
        while product > limit:
            draws += 1
            product *= rng.random()
        return min(trials, draws)
    return min(trials, max(0, round(rng.gauss(mean, math.sqrt(mean * (1 - p))))))


def _le_label(bound: float, style: str) -> str:
    return repr(bound) if style == "python" else format(bound, "g")


def generate(
    services: Sequence[ServiceSpec],
    *,
    end: datetime = END,
    days: int = 30,
    seed: int = 20261101,
    quiet_head_s: int = 0,
) -> Dataset:
    """Per-minute counts for `days` ending at `end` (aligned to the minute), deterministically.

    Sample i sits at start + i minutes, i = 0 … days × 1440; every counter is 0 at sample 0.
    `quiet_head_s` keeps the first seconds free of events (benchmarks compare with a tool that
    queries slightly later than `end`; a quiet head makes its shifted window hold the same events).
    """
    if end.timestamp() % STEP_S:
        raise ValueError(f"end must be aligned to {STEP_S} s, got {end.isoformat()}")
    start = end - timedelta(days=days)
    samples = days * 1440 + 1
    rng = random.Random(seed)
    series: list[Series] = []
    for spec in services:
        present = bytearray(b"\x01") * samples
        for gap_start, gap_end in spec.gaps:
            lo, hi = round(gap_start * 1440), min(samples, round(gap_end * 1440) + 1)
            present[lo:hi] = bytes(hi - lo)
        reset = None if spec.reset_day is None else round(spec.reset_day * 1440)
        codes = {"200": array("q", bytes(8 * samples)), "500": array("q", bytes(8 * samples))}
        cumulative = [array("q", bytes(8 * samples)) for _ in BOUNDS]
        total = array("q", bytes(8 * samples))
        latency_sum = array("d", bytes(8 * samples))
        cdf = _LATENCY_CDF[spec.latency]
        quiet = quiet_head_s // STEP_S
        for i in range(1, samples):
            if not present[i] or i <= quiet:
                continue  # no traffic while the service is gone (its counters stand still)
            day = i / 1440
            requests = _minute_rate(spec, i % 1440, rng)
            ratio = spec.error_ratio
            for inc_start, hours, inc_ratio in spec.incidents:
                if inc_start <= day < inc_start + hours / 24:
                    ratio = inc_ratio
            errors = _binomial(rng, requests, ratio)
            codes["200"][i] = requests - errors
            codes["500"][i] = errors
            total[i] = requests
            if not spec.histogram:
                continue
            below = 0
            for b, share in enumerate(cdf):
                below = max(
                    below, min(requests, math.floor(requests * share * rng.uniform(0.97, 1.0)))
                )
                cumulative[b][i] = below
            latency_sum[i] = requests * (0.3 if spec.latency == "fast" else 0.9)
        for code, counts in codes.items():
            labels = {"service": spec.name, "code": code}
            series.append(Series("http_requests_total", labels, counts, present, reset))
        if spec.histogram:
            metric = "http_request_duration_seconds"
            for bound, counts in zip(BOUNDS, cumulative, strict=True):
                labels = {"service": spec.name, "le": _le_label(bound, spec.le_style)}
                series.append(Series(f"{metric}_bucket", labels, counts, present, reset))
            inf = {"service": spec.name, "le": "+Inf"}
            series.append(Series(f"{metric}_bucket", inf, total, present, reset))
            series.append(Series(f"{metric}_count", {"service": spec.name}, total, present, reset))
            sums = array("q", (round(v) for v in latency_sum))
            series.append(Series(f"{metric}_sum", {"service": spec.name}, sums, present, reset))
    return Dataset(start=start, end=end, services=tuple(services), series=series)


def write_openmetrics(dataset: Dataset, path: Path) -> None:
    """The dataset as an OpenMetrics text file, one metric family after the other."""
    families = {
        "http_requests": ("counter", ["http_requests_total"]),
        "http_request_duration_seconds": (
            "histogram",
            [f"http_request_duration_seconds_{s}" for s in ("bucket", "count", "sum")],
        ),
    }
    start_s = dataset.start_s
    with path.open("w", encoding="ascii") as out:
        for family, (kind, metrics) in families.items():
            out.write(f"# TYPE {family} {kind}\n")
            for series in dataset.series:
                if series.metric not in metrics:
                    continue
                labels = ",".join(f'{k}="{v}"' for k, v in series.labels.items())
                head = f"{series.metric}{{{labels}}} "
                values = series.values()
                step = dataset.step_s
                out.write(
                    "".join(
                        f"{head}{values[i]} {start_s + i * step}\n"
                        for i in range(len(values))
                        if series.present[i]
                    )
                )
        out.write("# EOF\n")


def require_binary(name: str) -> str:
    """The path of `prometheus` or `promtool`, or an error saying how to install them."""
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(f"`{name}` is not on PATH: {_MAKE_TEST}")
    return path


def _run(command: list[str], what: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        output = (done.stderr or done.stdout)[-2000:]
        raise RuntimeError(f"{what} failed ({' '.join(command)}):\n{output}")


def backfill_openmetrics(source: Path, data_dir: Path) -> None:
    """TSDB blocks from an OpenMetrics file; 800 h blocks keep 30 days fast (~20× faster)."""
    promtool = require_binary("promtool")
    command = [promtool, "tsdb", "create-blocks-from", "openmetrics", "--quiet"]
    command += ["--max-block-duration=800h", str(source), str(data_dir)]
    _run(command, "promtool openmetrics backfill")


def _rollup_exprs(slo: SLO) -> tuple[str, str] | None:
    """(good, total) events of `slo` over one hour, or None for indicators without events."""
    indicator = slo.indicator
    if isinstance(indicator, PromLatency | PromRatio):
        return promql.rollup_exprs(indicator)
    return None


def _with_slo_labels(expr: str, slo: SLO) -> str:
    for name, value in (
        (promql.ROLLUP_SERVICE_LABEL, slo.service),
        (promql.ROLLUP_SLO_LABEL, slo.name),
    ):
        expr = f'label_replace({expr}, "{name}", {promql.escape_string(value)}, "", "")'
    return expr


def rollup_rules_yaml(slos: Sequence[SLO], *, slos_per_rule: int = 1) -> str:
    """srekit's hourly rollup group for these SLOs (ratio and latency ones).

    Written here rather than by srekit's rule generator so the source can be tested against the
    documented series names (`srekit_slo:{good,total}_events:increase1h`) on their own.

    With `slos_per_rule` > 1, one rule records the rollups of many SLOs (joined with `or`,
    labelled with `label_replace`): the same series from fewer rules. The benchmark needs that:
    promtool writes one block per rule and block range, and Prometheus runs out of file
    descriptors opening the 10,000 blocks that 2,000 rules give.
    """
    pairs = [(slo, exprs) for slo in slos if (exprs := _rollup_exprs(slo)) is not None]
    rules: list[dict[str, object]] = []
    if slos_per_rule == 1:
        for slo, (good, total) in pairs:
            labels = {promql.ROLLUP_SERVICE_LABEL: slo.service, promql.ROLLUP_SLO_LABEL: slo.name}
            rules.append({"record": promql.ROLLUP_GOOD_METRIC, "expr": good, "labels": labels})
            rules.append({"record": promql.ROLLUP_TOTAL_METRIC, "expr": total, "labels": labels})
    else:
        for first in range(0, len(pairs), slos_per_rule):
            chunk = pairs[first : first + slos_per_rule]
            for metric, index in ((promql.ROLLUP_GOOD_METRIC, 0), (promql.ROLLUP_TOTAL_METRIC, 1)):
                expr = promql.join_or([_with_slo_labels(e[index], slo) for slo, e in chunk])
                rules.append({"record": metric, "expr": expr})
    group = {"name": "srekit-slo-rollups", "interval": "1h", "rules": rules}
    return yaml.safe_dump({"groups": [group]}, sort_keys=False, width=1_000_000)


def recording_rules_yaml(slos: Sequence[SLO], *, slos_per_rule: int = 1) -> str:
    """The short-window error-ratio recordings of srekit's own rule generator, and no others.

    `generate_rules` + `render_rules` give the rules deployed in production; only their
    `srekit_slo:error_ratio:rate<w>` rules for 5m–6h are kept (the others read rollups or other
    recordings, which promtool's backfill does not evaluate in order). With `slos_per_rule` > 1,
    one rule per window records many SLOs (expressions joined with `or`, the rule's labels set
    with `label_replace`): the same series from fewer rules, so fewer blocks.
    """
    names = {promql.error_ratio_metric(s) for s in promql.RECORDED_RATIO_WINDOWS_S}
    kept = [
        {"name": group["name"], "rules": rules}
        for group in generate_rules(slos).groups
        if (rules := [r for r in group["rules"] if r.get("record") in names])
    ]
    if slos_per_rule > 1:
        by_name: dict[str, list[str]] = {}
        for group in kept:
            for rule in group["rules"]:
                expr = f"({rule['expr']})"
                for label, value in rule["labels"].items():
                    quoted = promql.escape_string(value.replace("$", "$$"))
                    expr = f'label_replace({expr}, "{label}", {quoted}, "", "")'
                by_name.setdefault(rule["record"], []).append(expr)
        kept = [
            {
                "name": f"srekit-recordings-{index}",
                "rules": [
                    {"record": name, "expr": promql.join_or(exprs[first : first + slos_per_rule])}
                    for name, exprs in sorted(by_name.items())
                ],
            }
            for index, first in enumerate(range(0, len(kept), slos_per_rule))
        ]
    return render_rules(GeneratedRules(groups=kept, skipped=[]))


def backfill_rules(
    url: str, rules_file: Path, *, start: datetime, end: datetime, output_dir: Path
) -> None:
    """Blocks of recorded rollups, evaluated by `promtool` against the running Prometheus.

    Evaluations fall on start + k × 1h. Blocks stay under 183 h: promtool asks for at most
    11,000 points per range query, and it sizes queries by the block.
    """
    promtool = require_binary("promtool")
    command = [promtool, "tsdb", "create-blocks-from", "rules", "--quiet"]
    command += ["--max-block-duration=168h", f"--url={url}", f"--output-dir={output_dir}"]
    command += [f"--start={start.isoformat()}", f"--end={end.isoformat()}", str(rules_file)]
    _run(command, "promtool rule backfill")


def combine_blocks(sources: Sequence[Path], target: Path) -> None:
    """A new data directory holding the blocks of every source (copies, not the WAL or locks)."""
    target.mkdir(parents=True, exist_ok=True)
    for source in sources:
        for block in source.iterdir():
            if block.is_dir() and (block / "meta.json").exists():
                shutil.copytree(block, target / block.name)


class PrometheusServer:
    """Debian's `prometheus` on 127.0.0.1, on its own data directory; no scrape targets unless
    `scrape_configs` (entries of `prometheus.yml`'s list) are given, and `rule_files` to load.
    `global_config` is merged over `scrape_interval: 1m`; `alertmanagers` (`host:port`) are
    sent the alerts its rules fire."""

    def __init__(
        self,
        data_dir: Path,
        workdir: Path,
        *,
        scrape_configs: Sequence[dict[str, object]] = (),
        rule_files: Sequence[Path] = (),
        global_config: dict[str, str] | None = None,
        alertmanagers: Sequence[str] = (),
    ) -> None:
        self.data_dir = data_dir
        self.workdir = workdir
        self.scrape_configs = list(scrape_configs)
        self.rule_files = [str(path) for path in rule_files]
        self.global_config = {"scrape_interval": "1m", **(global_config or {})}
        self.alertmanagers = list(alertmanagers)
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, timeout_s: float = 60.0) -> None:
        """Start and wait for `/-/ready`; retention 100 y or Prometheus drops old history."""
        binary = require_binary("prometheus")
        self.workdir.mkdir(parents=True, exist_ok=True)
        config = self.workdir / "prometheus.yml"
        settings: dict[str, object] = {
            "global": self.global_config,
            "scrape_configs": self.scrape_configs,
        }
        if self.rule_files:
            settings["rule_files"] = self.rule_files
        if self.alertmanagers:
            settings["alerting"] = {
                "alertmanagers": [{"static_configs": [{"targets": self.alertmanagers}]}]
            }
        config.write_text(yaml.safe_dump(settings), encoding="utf-8")
        self.port = free_port()
        log = (self.workdir / "prometheus.log").open("wb")
        self._process = subprocess.Popen(
            [
                binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={self.data_dir}",
                "--storage.tsdb.retention.time=100y",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--web.enable-lifecycle",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"prometheus exited early:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/-/ready", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"prometheus not ready after {timeout_s:.0f} s:\n{self.log_tail()}")

    def log_tail(self) -> str:
        path = self.workdir / "prometheus.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None

    def __enter__(self) -> PrometheusServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class Backfilled:
    """A started Prometheus serving a dataset's history.

    `blocks` are the directories whose blocks make up its data, safe to copy while it runs:
    the backfilled originals, which no running server compacts.
    """

    dataset: Dataset
    server: PrometheusServer
    blocks: tuple[Path, ...] = ()

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def data_dir(self) -> Path:
        return self.server.data_dir


def serve(dataset: Dataset, workdir: Path) -> Backfilled:
    """Backfill `dataset` under `workdir` and start a server on it."""
    workdir.mkdir(parents=True, exist_ok=True)
    source = workdir / "history.om"
    write_openmetrics(dataset, source)
    data_dir = workdir / "data"
    backfill_openmetrics(source, data_dir)
    source.unlink()
    server = PrometheusServer(data_dir, workdir / "server")
    server.start()
    return Backfilled(dataset, server, (data_dir,))


def serve_with_rollups(
    backfilled: Backfilled, slos: Sequence[SLO], workdir: Path, *, slos_per_rule: int = 1
) -> Backfilled:
    """A second server on the same history plus srekit's hourly rollups for `slos`.

    The rollups are evaluated by promtool against the first server, over the whole history,
    so the last evaluation falls on the dataset's end.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    rules = workdir / "rollups.yml"
    rules.write_text(rollup_rules_yaml(slos, slos_per_rule=slos_per_rule), encoding="utf-8")
    blocks = workdir / "rollup-blocks"
    dataset = backfilled.dataset
    backfill_rules(backfilled.url, rules, start=dataset.start, end=dataset.end, output_dir=blocks)
    data_dir = workdir / "data"
    sources = (*(backfilled.blocks or (backfilled.data_dir,)), blocks)
    combine_blocks(sources, data_dir)
    server = PrometheusServer(data_dir, workdir / "server")
    server.start()
    return Backfilled(dataset, server, sources)


def serve_with_recordings(
    backfilled: Backfilled,
    slos: Sequence[SLO],
    workdir: Path,
    *,
    hours: int = 7,
    slos_per_rule: int = 1,
    rules_url: str | None = None,
) -> Backfilled:
    """Another server on `backfilled`'s blocks plus srekit's short-window error-ratio recordings.

    promtool evaluates the rules every minute over the last `hours` of the history against
    `rules_url` (default: `backfilled`; any server with the raw series will do). Like a ruler,
    it offsets each group's evaluations within the minute by a hash of the group's name, so
    the last evaluation falls within the minute before the dataset's end.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    rules = workdir / "recordings.yml"
    rules.write_text(recording_rules_yaml(slos, slos_per_rule=slos_per_rule), encoding="utf-8")
    blocks = workdir / "recording-blocks"
    dataset = backfilled.dataset
    start = dataset.end - timedelta(hours=hours)
    url = rules_url or backfilled.url
    backfill_rules(url, rules, start=start, end=dataset.end, output_dir=blocks)
    data_dir = workdir / "data"
    sources = (*(backfilled.blocks or (backfilled.data_dir,)), blocks)
    combine_blocks(sources, data_dir)
    server = PrometheusServer(data_dir, workdir / "server")
    server.start()
    return Backfilled(dataset, server, sources)
